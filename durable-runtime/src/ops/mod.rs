//! Durable operations. Each is a builder created from a [`DurableContext`](crate::DurableContext);
//! awaiting it (it implements `IntoFuture`) runs the operation, or replays its recorded outcome.
//!
//! Every operation runs in the same shell (`shell.rs`): it declares its kind and what a record means
//! for it, and the shell builds its updates, looks its record up, and replays or hands over to the
//! live run.

pub(crate) mod batch;
pub(crate) mod callback;
pub(crate) mod child;
pub(crate) mod combinators;
pub(crate) mod deterministic;
pub(crate) mod invoke;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod saga;
pub mod serdes;
pub(crate) mod shell;
pub(crate) mod step;
pub(crate) mod wait;
pub(crate) mod wait_for_condition;
pub(crate) mod with_retry;

pub use batch::{BatchItem, BatchItemStatus, BatchResult, CompletionConfig, CompletionReason, Nesting};
pub use callback::{Callback, CallbackResult, CreateCallback, WaitForCallback};
pub use child::ChildContext;
pub use combinators::{
    Combinator, Constituents, ErasedFuture, OneOf2, OneOf3, OneOf4, OneOf5, Settled, ALL_FAILED_ERROR_TYPE,
};
pub use deterministic::{Recorded, WaitUntil};
pub use invoke::Invoke;
pub use map::Map;
pub use parallel::Parallel;
pub use step::{Step, StepContext, StepSemantics};
pub use wait::Wait;
pub use wait_for_condition::{CheckContext, NoWaitStrategy, WaitDecision, WaitForCondition, WaitOutcome, WaitStrategy};
pub use with_retry::WithRetry;

use crate::error::{DurableError, ErrorKind};
use crate::protocol::ErrorObject;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serdes::Serdes;
use std::fmt::Display;
use std::sync::Arc;

/// The text of a recorded payload (unescaped only now, when an operation reads it).
pub(crate) fn text(payload: Option<&crate::protocol::Payload>) -> Option<std::borrow::Cow<'_, str>> {
    payload.map(crate::protocol::Payload::text)
}

fn decode_error(what: String, error: impl Display) -> DurableError {
    DurableError::new(ErrorKind::Serialization, format!("cannot deserialize the recorded result of {what}: {error}"))
}

fn encode_error(what: String, error: impl Display) -> DurableError {
    DurableError::new(ErrorKind::Serialization, format!("cannot serialize the result of {what}: {error}"))
}

/// Deserializes a recorded JSON payload (absent or empty means JSON `null`), naming the operation only when
/// there is an error (the replay path stays cheap).
pub(crate) fn decode<T: DeserializeOwned>(
    payload: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<T, DurableError> {
    serde_json::from_str(payload.filter(|p| !p.trim().is_empty()).unwrap_or("null"))
        .map_err(|e| decode_error(what(), e))
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
