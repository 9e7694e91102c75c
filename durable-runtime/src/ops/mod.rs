//! Durable operations. Each is a builder created from a [`DurableContext`](crate::DurableContext);
//! awaiting it (it implements `IntoFuture`) runs the operation, or replays its recorded outcome.
//!
//! Every operation runs in the same shell (`shell.rs`): it declares its kind and what a record means
//! for it, and the shell builds its updates, looks its record up, and replays or hands over to the
//! live run.

pub mod batch;
pub mod callback;
pub mod child;
pub mod combinators;
pub mod deterministic;
pub mod invoke;
pub mod map;
pub mod parallel;
pub mod saga;
pub mod serdes;
pub(crate) mod shell;
pub mod step;
pub mod wait;
pub mod wait_for_condition;
pub mod with_retry;

use crate::error::{DurableError, ErrorKind};
use crate::protocol::ErrorObject;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serdes::Serdes;
use std::fmt::Display;
use std::sync::Arc;

fn decode_error(what: String, error: impl Display) -> DurableError {
    DurableError::new(ErrorKind::Serialization, format!("cannot deserialize the recorded result of {what}: {error}"))
}

fn encode_error(what: String, error: impl Display) -> DurableError {
    DurableError::new(ErrorKind::Serialization, format!("cannot serialize the result of {what}: {error}"))
}

/// Deserializes a recorded JSON payload (absent means JSON `null`), naming the operation only when
/// there is an error (the replay path stays cheap).
pub(crate) fn decode<T: DeserializeOwned>(
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    serde_json::from_str(payload.unwrap_or("null")).map_err(|e| decode_error(what(), e))
}

/// Serializes a result as JSON for recording.
pub(crate) fn encode<T: Serialize>(value: &T, what: impl FnOnce() -> String) -> Result<String, DurableError> {
    serde_json::to_string(value).map_err(|e| encode_error(what(), e))
}

/// Reads a recorded payload through `serdes`.
pub(crate) fn decode_with<T, S: Serdes<T> + ?Sized>(
    serdes: &S,
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    serdes.deserialize(payload).map_err(|e| decode_error(what(), e))
}

/// Writes a result for recording through `serdes`.
pub(crate) fn encode_with<T, S: Serdes<T> + ?Sized>(
    serdes: &S,
    value: &T,
    what: impl FnOnce() -> String,
) -> Result<String, DurableError> {
    serdes.serialize(value).map_err(|e| encode_error(what(), e))
}

/// A serdes an operation may be given; JSON when it was not.
pub(crate) type MaybeSerdes<T> = Option<Arc<dyn Serdes<T>>>;

/// Reads a recorded payload through the operation's serdes, or as JSON.
pub(crate) fn decode_or_json<T: DeserializeOwned + 'static>(
    serdes: &MaybeSerdes<T>,
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    match serdes {
        Some(serdes) => decode_with(serdes.as_ref(), payload, what),
        None => decode(payload, what),
    }
}

/// Writes a value for recording through the operation's serdes, or as JSON.
pub(crate) fn encode_or_json<T: Serialize + 'static>(
    serdes: &MaybeSerdes<T>,
    value: &T,
    what: impl FnOnce() -> String,
) -> Result<String, DurableError> {
    match serdes {
        Some(serdes) => encode_with(serdes.as_ref(), value, what),
        None => encode(value, what),
    }
}

/// The error a recorded failure comes back as: the recorded error object, or, when none was
/// recorded, one of type `error_type` saying `message`.
pub(crate) fn recorded_failure(
    kind: ErrorKind,
    recorded: Option<&ErrorObject>,
    error_type: &str,
    message: impl FnOnce() -> String,
) -> DurableError {
    match recorded {
        Some(object) => DurableError::from_object(kind, object),
        None => DurableError::from_object(
            kind,
            &ErrorObject {
                error_type: Some(error_type.to_owned()),
                error_message: Some(message()),
                ..Default::default()
            },
        ),
    }
}

/// A size limit of the service on a recorded payload.
pub(crate) struct Limit {
    /// What the limit is called in messages.
    name: &'static str,
    bytes: usize,
    /// `bytes` for people.
    readable: &'static str,
}

/// The largest result a step records.
pub(crate) const STEP_RESULT_LIMIT: Limit =
    Limit { name: "step result limit", bytes: crate::protocol::limits::MAX_STEP_RESULT_BYTES, readable: "256 KiB" };

/// The largest input a chained invoke sends.
pub(crate) const INVOKE_PAYLOAD_LIMIT: Limit =
    Limit { name: "chained invoke payload limit", bytes: crate::protocol::limits::MAX_PAYLOAD_BYTES, readable: "1 MB" };

impl Limit {
    /// `payload` when it fits, else a [`ErrorKind::PayloadTooLarge`] error: "the `part` of `what` is
    /// … bytes, over the limit; `advice`".
    pub(crate) fn check(
        &self,
        payload: String,
        part: &str,
        what: impl FnOnce() -> String,
        advice: &str,
    ) -> Result<String, DurableError> {
        if payload.len() <= self.bytes {
            return Ok(payload);
        }
        Err(DurableError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "the {part} of {} is {} bytes, over the {} of {} bytes ({}); {advice}",
                what(),
                payload.len(),
                self.name,
                self.bytes,
                self.readable
            ),
        ))
    }
}
