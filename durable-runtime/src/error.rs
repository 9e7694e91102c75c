//! Errors: the user-facing [`Error`] alias, the [`DurableError`] that durable operations yield, and the
//! conversions between them and the wire [`ErrorObject`].

use crate::protocol::ErrorObject;
use std::fmt;

/// The error type of workflows and steps: any `std::error::Error + Send + Sync + 'static` converts into
/// it with `?`.
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `ErrorType` the service records when a callback's overall timeout elapses.
pub const CALLBACK_TIMEOUT_ERROR_TYPE: &str = "Callback.Timeout";

/// `ErrorType` the service records when a callback's heartbeat timeout elapses.
pub const CALLBACK_HEARTBEAT_ERROR_TYPE: &str = "Callback.Heartbeat";

/// What went wrong, coarsely. Match on it with a wildcard arm: new kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A step's body failed and its retry strategy gave up (or the failure was replayed).
    StepFailed,
    /// An at-most-once step attempt was interrupted before its outcome was recorded.
    StepInterrupted,
    /// A child context's body failed.
    ChildFailed,
    /// A wait ended in a state other than SUCCEEDED.
    WaitFailed,
    /// The workflow handler failed.
    HandlerFailed,
    /// A value could not be serialized or deserialized.
    Serialization,
    /// A payload exceeds a size limit of the service.
    PayloadTooLarge,
    /// An argument is out of the range the service accepts.
    InvalidArgument,
    /// The code no longer matches the recorded history.
    NonDeterministic,
    /// A checkpoint call failed in a way that retrying the invocation will not fix.
    CheckpointFailed,
    /// A record of the execution state has a status this version does not know.
    UnknownStatus,
    /// A callback was answered with a failure (the sender's error), or a wait-for-callback failed.
    CallbackFailed,
    /// A callback timed out: its overall timeout (`Callback.Timeout`) or its heartbeat timeout
    /// (`Callback.Heartbeat`) elapsed.
    CallbackTimedOut,
    /// A chained invoke's target failed, timed out or was stopped.
    InvokeFailed,
    /// The check of a wait-for-condition raised an error.
    ConditionCheckFailed,
    /// A wait-for-condition used up its attempts without its condition being met.
    MaxChecksExceeded,
    /// A durable operation was awaited inside the body of a step, where it would be recorded at the
    /// wrong level (and differently on replay, when the step body does not run).
    NestedOperation,
}

impl ErrorKind {
    const ALL: [ErrorKind; 17] = [
        Self::StepFailed,
        Self::StepInterrupted,
        Self::ChildFailed,
        Self::WaitFailed,
        Self::HandlerFailed,
        Self::Serialization,
        Self::PayloadTooLarge,
        Self::InvalidArgument,
        Self::NonDeterministic,
        Self::CheckpointFailed,
        Self::UnknownStatus,
        Self::CallbackFailed,
        Self::CallbackTimedOut,
        Self::InvokeFailed,
        Self::ConditionCheckFailed,
        Self::MaxChecksExceeded,
        Self::NestedOperation,
    ];

    /// The kind whose default error type is `error_type`, for the specific kinds only.
    fn from_default_type(error_type: &str) -> Option<Self> {
        if error_type == CALLBACK_HEARTBEAT_ERROR_TYPE {
            return Some(Self::CallbackTimedOut);
        }
        Self::ALL
            .into_iter()
            .filter(|k| {
                !matches!(
                    k,
                    Self::StepFailed
                        | Self::ChildFailed
                        | Self::HandlerFailed
                        | Self::WaitFailed
                        | Self::CallbackFailed
                        | Self::InvokeFailed
                        | Self::ConditionCheckFailed
                )
            })
            .find(|k| k.default_error_type() == error_type)
    }

    /// The `ErrorType` recorded for errors of this kind that carry no type of their own.
    pub fn default_error_type(self) -> &'static str {
        match self {
            Self::StepFailed => "StepError",
            Self::StepInterrupted => "StepInterruptedError",
            Self::ChildFailed => "ChildContextError",
            Self::WaitFailed => "WaitError",
            Self::HandlerFailed => "HandlerError",
            Self::Serialization => "SerializationError",
            Self::PayloadTooLarge => "PayloadTooLargeError",
            Self::InvalidArgument => "InvalidArgumentError",
            Self::NonDeterministic => "NonDeterministicExecutionError",
            Self::CheckpointFailed => "CheckpointFailedError",
            Self::UnknownStatus => "UnknownStatusError",
            Self::CallbackFailed => "CallbackError",
            Self::CallbackTimedOut => CALLBACK_TIMEOUT_ERROR_TYPE,
            Self::InvokeFailed => "InvokeError",
            Self::ConditionCheckFailed => "WaitForConditionError",
            Self::MaxChecksExceeded => "WaitForCondition.MaxChecksExceeded",
            Self::NestedOperation => "NestedOperationError",
        }
    }
}

/// The error a durable operation yields: a failure recorded in the execution history, or one the
/// runtime detected. Its type, message and data survive replay unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableError {
    kind: ErrorKind,
    error_type: String,
    message: String,
    data: Option<String>,
    stack_trace: Option<Vec<String>>,
}

impl DurableError {
    /// An error of `kind` with the kind's default error type.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            error_type: kind.default_error_type().to_owned(),
            message: message.into(),
            data: None,
            stack_trace: None,
        }
    }

    /// An error with an explicit `ErrorType`, for a step body that wants its failures classified
    /// (retry filters match on it).
    pub fn with_type(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::StepFailed,
            error_type: error_type.into(),
            message: message.into(),
            data: None,
            stack_trace: None,
        }
    }

    /// Attaches `ErrorData` (usually JSON text).
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Rebuilds an error from a recorded `ErrorObject`.
    ///
    /// `kind` is where the error was recorded; an `ErrorType` that is the default type of a more
    /// specific kind (such as `PayloadTooLargeError`) restores that kind, so a replayed error reports
    /// the same kind as the live one did.
    pub fn from_object(kind: ErrorKind, object: &ErrorObject) -> Self {
        let kind = object.error_type.as_deref().and_then(ErrorKind::from_default_type).unwrap_or(kind);
        Self {
            kind,
            error_type: object.error_type.clone().unwrap_or_else(|| kind.default_error_type().to_owned()),
            message: object.error_message.clone().unwrap_or_default(),
            data: object.error_data.clone(),
            stack_trace: object.stack_trace.clone(),
        }
    }

    /// The coarse kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The recorded `ErrorType`.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The recorded `ErrorMessage`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The recorded `ErrorData`.
    pub fn error_data(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// The recorded `StackTrace`.
    pub fn stack_trace(&self) -> Option<&[String]> {
        self.stack_trace.as_deref()
    }

    /// The wire form, bounded to the service's error size limit.
    pub fn to_object(&self) -> ErrorObject {
        bound_error_object(ErrorObject {
            error_message: Some(self.message.clone()),
            error_type: Some(self.error_type.clone()),
            error_data: self.data.clone(),
            stack_trace: self.stack_trace.clone(),
        })
    }
}

impl fmt::Display for DurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for DurableError {}

use crate::protocol::limits::MAX_ERROR_OBJECT_BYTES;

/// Shrinks an error object until its JSON form is below [`MAX_ERROR_OBJECT_BYTES`]: the stack trace
/// goes first, then the data, then the message is cut (on a character boundary).
pub(crate) fn bound_error_object(mut object: ErrorObject) -> ErrorObject {
    let size = |o: &ErrorObject| serde_json::to_vec(o).map(|v| v.len()).unwrap_or(usize::MAX);
    if size(&object) < MAX_ERROR_OBJECT_BYTES {
        return object;
    }
    object.stack_trace = None;
    if size(&object) < MAX_ERROR_OBJECT_BYTES {
        return object;
    }
    object.error_data = None;
    while size(&object) >= MAX_ERROR_OBJECT_BYTES {
        let Some(message) = object.error_message.as_mut() else { break };
        let mut cut = message.len().saturating_sub(message.len() / 4 + 1);
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
        if cut == 0 {
            break;
        }
    }
    object
}

/// Turns any error into the object recorded for it. A [`DurableError`] (directly or boxed) keeps its
/// own type; any other error is recorded with `E`'s short type name, or `fallback` when `E` is a boxed
/// trait object whose concrete type is unknown. The message is the error's source chain joined by `": "`.
pub(crate) fn error_object_of<E>(error: E, fallback: &str) -> ErrorObject
where
    E: Into<Error>,
{
    let type_name = short_type_name::<E>();
    let boxed: Error = error.into();
    if let Some(durable) = boxed.downcast_ref::<DurableError>() {
        return durable.to_object();
    }
    let mut message = boxed.to_string();
    let mut source = boxed.source();
    let mut depth = 0;
    while let Some(cause) = source {
        if depth == 10 {
            break;
        }
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
        depth += 1;
    }
    bound_error_object(ErrorObject {
        error_message: Some(message),
        error_type: Some(type_name.unwrap_or(fallback).to_owned()),
        error_data: None,
        stack_trace: None,
    })
}

/// Turns any error into the [`DurableError`] that replay would rebuild from its record.
pub(crate) fn into_recorded<E: Into<Error>>(error: E, kind: ErrorKind) -> DurableError {
    DurableError::from_object(kind, &error_object_of(error, kind.default_error_type()))
}

/// `my_crate::errors::Declined<T>` → `Declined`; `None` for boxed trait objects, strings and other
/// types whose name says nothing about the failure.
fn short_type_name<E>() -> Option<&'static str> {
    let full = std::any::type_name::<E>();
    if full.starts_with("alloc::boxed::Box<") || full.starts_with("dyn ") || full.starts_with('&') {
        return None;
    }
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    match short {
        "" | "String" | "str" => None,
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct PaymentDeclined;
    impl fmt::Display for PaymentDeclined {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("card expired")
        }
    }
    impl std::error::Error for PaymentDeclined {}

    #[test]
    fn concrete_errors_are_recorded_with_their_type_name() {
        let object = error_object_of(PaymentDeclined, "Error");
        assert_eq!(object.error_type.as_deref(), Some("PaymentDeclined"));
        assert_eq!(object.error_message.as_deref(), Some("card expired"));
    }

    #[test]
    fn boxed_errors_fall_back_but_durable_errors_keep_their_type() {
        let boxed: Error = "plain".into();
        let object = error_object_of(boxed, "Error");
        assert_eq!(object.error_type.as_deref(), Some("Error"));
        let boxed: Error = Box::new(DurableError::with_type("TransientError", "try again"));
        let object = error_object_of(boxed, "Error");
        assert_eq!(object.error_type.as_deref(), Some("TransientError"));
        assert_eq!(object.error_message.as_deref(), Some("try again"));
    }

    #[test]
    fn oversized_error_objects_are_cut_below_the_limit() {
        let huge = DurableError::new(ErrorKind::StepFailed, "x".repeat(100_000)).data("d".repeat(50_000));
        let object = huge.to_object();
        assert!(serde_json::to_vec(&object).map(|v| v.len()).unwrap_or(usize::MAX) < MAX_ERROR_OBJECT_BYTES);
        assert!(object.error_data.is_none());
        assert_eq!(object.error_type.as_deref(), Some("StepError"));
    }
}
