//! How operation results are written to the history and read back.
//!
//! By default every result is JSON ([`JsonSerdes`]). An operation can take its own [`Serdes`]: the
//! payload recorded for it is whatever the serializer writes (the service never parses payloads), and
//! every replay reads the value back through the deserializer. The value an operation returns on the
//! live run is also read back from the payload it recorded, so a serdes that is not a faithful round
//! trip shows up on the first run, not only on replay.

use crate::error::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::marker::PhantomData;

/// Writes values of `T` to payload text and reads them back.
pub trait Serdes<T>: Send + Sync + 'static {
    /// The payload recorded for `value`.
    fn serialize(&self, value: &T) -> Result<String, Error>;

    /// The value of a recorded payload (`None` when the record has no payload).
    fn deserialize(&self, payload: Option<&str>) -> Result<T, Error>;
}

/// JSON through serde: compact `serde_json` text, an absent or empty payload read as `null` (a
/// callback answered with no bytes has an empty result). The default of every operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct JsonSerdes;

impl<T: Serialize + DeserializeOwned> Serdes<T> for JsonSerdes {
    fn serialize(&self, value: &T) -> Result<String, Error> {
        Ok(serde_json::to_string(value)?)
    }

    fn deserialize(&self, payload: Option<&str>) -> Result<T, Error> {
        Ok(serde_json::from_str(payload.filter(|p| !p.trim().is_empty()).unwrap_or("null"))?)
    }
}

/// A serdes made of two functions; see [`from_fns`].
pub struct FnSerdes<T, S, D> {
    serialize: S,
    deserialize: D,
    value: PhantomData<fn(T) -> T>,
}

impl<T, S, D> fmt::Debug for FnSerdes<T, S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSerdes").finish_non_exhaustive()
    }
}

/// A serdes from a serialize and a deserialize function.
///
/// ```
/// use durable_runtime::ops::serdes::{from_fns, Serdes};
///
/// // Records strings upper-cased, as raw text rather than JSON.
/// let upper = from_fns(
///     |s: &String| Ok(s.to_uppercase()),
///     |payload: Option<&str>| Ok(payload.unwrap_or_default().to_owned()),
/// );
/// assert_eq!(upper.serialize(&"hello".to_owned()).unwrap(), "HELLO");
/// ```
pub fn from_fns<T, S, D>(serialize: S, deserialize: D) -> FnSerdes<T, S, D>
where
    S: Fn(&T) -> Result<String, Error> + Send + Sync + 'static,
    D: Fn(Option<&str>) -> Result<T, Error> + Send + Sync + 'static,
{
    FnSerdes { serialize, deserialize, value: PhantomData }
}

impl<T, S, D> Serdes<T> for FnSerdes<T, S, D>
where
    T: 'static,
    S: Fn(&T) -> Result<String, Error> + Send + Sync + 'static,
    D: Fn(Option<&str>) -> Result<T, Error> + Send + Sync + 'static,
{
    fn serialize(&self, value: &T) -> Result<String, Error> {
        (self.serialize)(value)
    }

    fn deserialize(&self, payload: Option<&str>) -> Result<T, Error> {
        (self.deserialize)(payload)
    }
}

impl<T: 'static> Serdes<T> for std::sync::Arc<dyn Serdes<T>> {
    fn serialize(&self, value: &T) -> Result<String, Error> {
        self.as_ref().serialize(value)
    }

    fn deserialize(&self, payload: Option<&str>) -> Result<T, Error> {
        self.as_ref().deserialize(payload)
    }
}
