//! Durable operations. Each is a builder created from a [`DurableContext`](crate::DurableContext);
//! awaiting it (it implements `IntoFuture`) runs the operation, or replays its recorded outcome.

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
pub mod step;
pub mod wait;
pub mod wait_for_condition;
pub mod with_retry;

use crate::error::{DurableError, ErrorKind};
use serde::de::DeserializeOwned;

/// Deserializes a recorded payload (absent means JSON `null`).
pub(crate) fn decode<T: DeserializeOwned>(payload: Option<&str>, what: &str) -> Result<T, DurableError> {
    decode_lazy(payload, || what.to_owned())
}

/// [`decode`], naming the operation only when there is an error (the replay path stays cheap).
pub(crate) fn decode_lazy<T: DeserializeOwned>(
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    serde_json::from_str(payload.unwrap_or("null")).map_err(|e| {
        DurableError::new(
            ErrorKind::Serialization,
            format!("cannot deserialize the recorded result of {}: {e}", what()),
        )
    })
}

/// Reads a recorded payload through `serdes`, naming the operation only when there is an error.
pub(crate) fn decode_with<T, S: serdes::Serdes<T> + ?Sized>(
    serdes: &S,
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    serdes.deserialize(payload).map_err(|e| {
        DurableError::new(
            ErrorKind::Serialization,
            format!("cannot deserialize the recorded result of {}: {e}", what()),
        )
    })
}

/// Writes a result for recording through `serdes`.
pub(crate) fn encode_with<T, S: serdes::Serdes<T> + ?Sized>(
    serdes: &S,
    value: &T,
    what: impl FnOnce() -> String,
) -> Result<String, DurableError> {
    serdes.serialize(value).map_err(|e| {
        DurableError::new(ErrorKind::Serialization, format!("cannot serialize the result of {}: {e}", what()))
    })
}

/// Serializes a result for recording.
pub(crate) fn encode<T: serde::Serialize>(value: &T, what: &str) -> Result<String, DurableError> {
    serde_json::to_string(value)
        .map_err(|e| DurableError::new(ErrorKind::Serialization, format!("cannot serialize the result of {what}: {e}")))
}

/// `step `name`` / `step at position 3` for messages.
pub(crate) fn label(kind: &str, name: Option<&str>, positional: &str) -> String {
    match name {
        Some(name) => format!("{kind} `{name}`"),
        None => format!("{kind} at position {positional}"),
    }
}
