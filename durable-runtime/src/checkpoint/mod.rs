//! The boundary to the durable-execution service: one trait, [`CheckpointClient`], with an
//! implementation over `aws-sdk-lambda` (feature `aws`) and an in-memory service for tests
//! (`memory::MemoryService`, feature `testing`).

#[cfg(feature = "aws")]
pub mod aws;
pub(crate) mod batch;
#[cfg(feature = "testing")]
pub mod memory;

use crate::protocol::{CheckpointRequest, CheckpointResponse, ExecutionState};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future, as the client trait returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The two calls a durable function makes to the service during an invocation.
///
/// Implementations must be cheap to call concurrently from several invocations; the runtime itself
/// serializes the calls of one invocation (a checkpoint token is single-use).
pub trait CheckpointClient: Send + Sync + 'static {
    /// `CheckpointDurableExecution`: applies `request.updates` atomically, consumes
    /// `request.checkpoint_token` and returns the next token plus the operations that changed.
    /// `request.client_token` must be sent unchanged on every transport retry of this call.
    fn checkpoint(
        &self,
        execution_arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>>;

    /// `GetDurableExecutionState`: one page of the execution's operations, starting at `marker`
    /// (`None` for the first page). Does not consume the token.
    fn get_state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> BoxFuture<Result<ExecutionState, CheckpointError>>;
}

/// Checkpoint batching for at-least-once work (see [`Options::batching`](crate::Options::batching)).
///
/// With batching on, the START and SUCCEED updates of an at-least-once step do not hold the workflow
/// back: the step returns its value at once, and its updates ride with later ones. Queued updates are
/// sent when the oldest has waited [`max_delay`](Self::max_delay), when [`max_updates`](Self::max_updates)
/// are waiting, and always before anything that needs durability: an update of any other kind (an
/// at-most-once START, a failure, a retry, a wait, a callback, an invoke, a child context), code that
/// waits for an update to be durable ([`StepContext::started`](crate::StepContext::started)), a
/// suspension, the end of the invocation, and the Lambda deadline.
///
/// A crash loses the results that were not sent yet; those steps run again on the next invocation, as
/// the at-least-once contract allows. At-most-once steps are never affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    max_delay: std::time::Duration,
    max_updates: usize,
}

impl Default for Batching {
    /// At most 50 ms of delay and 200 waiting updates.
    fn default() -> Self {
        Self { max_delay: std::time::Duration::from_millis(50), max_updates: 200 }
    }
}

impl Batching {
    /// How long the oldest queued update may wait before the queue is sent (default 50 ms). This
    /// bounds the work a crash can lose.
    #[must_use]
    pub fn max_delay(mut self, delay: std::time::Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How many updates may wait before the queue is sent (default 200, at least 1).
    #[must_use]
    pub fn max_updates(mut self, updates: usize) -> Self {
        self.max_updates = updates.max(1);
        self
    }

    /// The delay bound.
    pub fn delay(&self) -> std::time::Duration {
        self.max_delay
    }

    /// The count bound.
    pub fn updates(&self) -> usize {
        self.max_updates
    }
}

/// How a failed service call is handled (see the protocol's error classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retrying the invocation can succeed (stale token, throttling, 5xx, network): the invocation
    /// fails with a Lambda error and the service invokes it again. Nothing recorded is lost.
    Retryable,
    /// Retrying cannot help (invalid request, KMS errors): the execution fails.
    Fatal,
}

/// A failed `CheckpointDurableExecution` or `GetDurableExecutionState` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointError {
    class: ErrorClass,
    code: Option<String>,
    status: Option<u16>,
    message: String,
}

impl CheckpointError {
    /// An error of the given class.
    pub fn new(class: ErrorClass, code: Option<String>, status: Option<u16>, message: impl Into<String>) -> Self {
        Self { class, code, status, message: message.into() }
    }

    /// Classifies a service error from its HTTP status, error code and message:
    ///
    /// - `InvalidParameterValueException` whose message starts with "Invalid Checkpoint Token" (any
    ///   case) is a stale token: retryable;
    /// - 429 / throttling, 5xx and errors with no status (network, timeout) are retryable;
    /// - KMS errors are fatal;
    /// - any other 4xx is fatal;
    /// - anything else is retryable.
    pub fn classify(status: Option<u16>, code: Option<&str>, message: &str) -> Self {
        let code_owned = code.map(str::to_owned);
        let stale = message.trim_start().to_ascii_lowercase().starts_with("invalid checkpoint token");
        let class = if stale {
            ErrorClass::Retryable
        } else if code.is_some_and(|c| c.starts_with("KMS")) {
            ErrorClass::Fatal
        } else if code.is_some_and(|c| c.contains("TooManyRequests") || c.contains("Throttl")) {
            ErrorClass::Retryable
        } else {
            match status {
                Some(429) => ErrorClass::Retryable,
                Some(s) if (400..500).contains(&s) => ErrorClass::Fatal,
                Some(s) if s >= 500 => ErrorClass::Retryable,
                _ if code == Some("InvalidParameterValueException") => ErrorClass::Fatal,
                _ => ErrorClass::Retryable,
            }
        };
        Self { class, code: code_owned, status, message: message.to_owned() }
    }

    /// Retryable or fatal.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// True when retrying the invocation can succeed.
    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Retryable
    }

    /// The service's error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The service's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            ErrorClass::Retryable => "retryable",
            ErrorClass::Fatal => "fatal",
        };
        match (&self.code, self.status) {
            (Some(code), Some(status)) => {
                write!(f, "{class} checkpoint error {code} (HTTP {status}): {}", self.message)
            }
            (Some(code), None) => write!(f, "{class} checkpoint error {code}: {}", self.message),
            (None, Some(status)) => write!(f, "{class} checkpoint error (HTTP {status}): {}", self.message),
            (None, None) => write!(f, "{class} checkpoint error: {}", self.message),
        }
    }
}

impl std::error::Error for CheckpointError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_protocol() {
        let c = |status, code, msg| CheckpointError::classify(status, code, msg).class();
        assert_eq!(
            c(Some(400), Some("InvalidParameterValueException"), "Invalid Checkpoint Token: stale"),
            ErrorClass::Retryable
        );
        assert_eq!(c(Some(400), None, "Invalid checkpoint token"), ErrorClass::Retryable);
        assert_eq!(
            c(Some(400), Some("InvalidParameterValueException"), "Invalid parent operation id."),
            ErrorClass::Fatal
        );
        assert_eq!(c(Some(429), Some("TooManyRequestsException"), "slow down"), ErrorClass::Retryable);
        assert_eq!(c(Some(503), Some("ServiceException"), "oops"), ErrorClass::Retryable);
        assert_eq!(c(Some(502), Some("KMSAccessDeniedException"), "denied"), ErrorClass::Fatal);
        assert_eq!(c(None, None, "connection reset"), ErrorClass::Retryable);
        assert_eq!(c(Some(413), None, "payload too large"), ErrorClass::Fatal);
    }
}
