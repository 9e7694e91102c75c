//! The in-process test runner: runs a handler through the same invocation code path Lambda uses
//! ([`crate::invocation::invoke`]) against an in-memory service, and re-invokes it the way the
//! service would after every suspension.
//!
//! Time is skipped: when an invocation suspends, the service's virtual clock jumps to the next timer
//! (a wait's end, a retry delay), so waits and retry delays complete at once, while the recorded
//! durations and delays stay the real ones.
//!
//! ```
//! use durable_runtime::testing::{ExecutionStatus, TestRunner};
//! use durable_runtime::{DurableContext, Error};
//! use std::time::Duration;
//!
//! async fn greet(ctx: DurableContext, name: String) -> Result<String, Error> {
//!     let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await?;
//!     ctx.wait(Duration::from_secs(3600)).await?;
//!     Ok(greeting)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let result = TestRunner::new(greet).run("Ada").await?;
//! assert_eq!(result.status(), ExecutionStatus::Succeeded);
//! assert_eq!(result.output::<String>()?, "Hello, Ada!");
//! assert_eq!(result.invocation_count(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! The re-invocation loop, per invocation: build the envelope ([`MemoryService::invocation_input`]),
//! invoke, record the outcome ([`MemoryService::complete_invocation`]), then
//! - the execution finished → done;
//! - the invocation failed (an invocation error such as a retryable checkpoint failure, an injected
//!   crash, or an envelope the service rejects) → re-invoke at once (after more than
//!   [`MAX_CONSECUTIVE_FAILED_INVOCATIONS`](crate::checkpoint::memory::MAX_CONSECUTIVE_FAILED_INVOCATIONS)
//!   in a row the service fails the execution);
//! - PENDING → advance the clock to the next timer and re-invoke; with no timer armed (a callback or
//!   chained invoke nobody will answer) the run returns with status RUNNING, and
//!   [`TestRunner::resume`] continues it after, e.g., [`MemoryService::callback_success`].

pub use crate::checkpoint::memory::{CrashPoint, ExecutionStatus, InvocationRecord, MemoryService};
pub use crate::protocol::history::HistoryEvent;

use crate::checkpoint::memory::MemoryError;
use crate::checkpoint::CheckpointClient;
use crate::invocation::{invoke, Handler, InvocationError, Options};
use crate::protocol::{ErrorObject, InvocationOutput, Operation, OperationType};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// Default bound on the invocations of one run.
pub const DEFAULT_MAX_INVOCATIONS: usize = 100;

/// Default function name in the execution ARN.
pub const DEFAULT_FUNCTION_NAME: &str = "test-function";

/// Runs a durable handler in process against a [`MemoryService`] (see the [module docs](self)).
pub struct TestRunner<H, I, O> {
    handler: H,
    service: MemoryService,
    function_name: String,
    max_invocations: usize,
    options: Options,
    types: PhantomData<fn(I) -> O>,
}

impl<H, I, O> fmt::Debug for TestRunner<H, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRunner")
            .field("service", &self.service)
            .field("function_name", &self.function_name)
            .field("max_invocations", &self.max_invocations)
            .finish_non_exhaustive()
    }
}

impl<H, I, O> TestRunner<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    /// A runner for `handler` on a fresh [`MemoryService`].
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            service: MemoryService::new(),
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            max_invocations: DEFAULT_MAX_INVOCATIONS,
            options: Options::default(),
            types: PhantomData,
        }
    }

    /// Runs against `service` instead (keep a clone to inject faults or inspect requests).
    #[must_use]
    pub fn with_service(mut self, service: MemoryService) -> Self {
        self.service = service;
        self
    }

    /// The function name in the execution ARN (default [`DEFAULT_FUNCTION_NAME`]).
    #[must_use]
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = name.into();
        self
    }

    /// Gives up with [`TestError::MaxInvocations`] after `n` invocations (default
    /// [`DEFAULT_MAX_INVOCATIONS`]).
    #[must_use]
    pub fn max_invocations(mut self, n: usize) -> Self {
        self.max_invocations = n;
        self
    }

    /// The runtime options every invocation uses.
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The service, for fault injection and inspection.
    pub fn service(&self) -> &MemoryService {
        &self.service
    }

    /// Starts an execution with `input` (serialized to JSON) and runs it until it finishes, or
    /// suspends with nothing that time can wake.
    pub async fn run<T: Serialize>(&self, input: T) -> Result<TestResult, TestError> {
        let payload = serde_json::to_string(&input).map_err(|e| TestError::Input(e.to_string()))?;
        self.run_payload(Some(payload)).await
    }

    /// Like [`Self::run`] with the raw `InputPayload` text (`None` leaves it out of the envelope).
    pub async fn run_payload(&self, payload: Option<String>) -> Result<TestResult, TestError> {
        let arn = self.service.start_execution(&self.function_name, payload);
        self.resume(&arn).await
    }

    /// Continues the execution `arn` (for example after answering a callback) until it finishes or
    /// suspends with nothing that time can wake. The invocation bound counts this call's invocations.
    pub async fn resume(&self, arn: &str) -> Result<TestResult, TestError> {
        let client: Arc<dyn CheckpointClient> = Arc::new(self.service.clone());
        let mut invocations = 0;
        loop {
            let status =
                self.service.execution_status(arn).ok_or_else(|| MemoryError::UnknownExecution(arn.to_owned()))?;
            if status.is_terminal() {
                break;
            }
            if invocations >= self.max_invocations {
                return Err(TestError::MaxInvocations { limit: self.max_invocations, arn: arn.to_owned() });
            }
            invocations += 1;
            let envelope = self.service.invocation_input(arn)?;
            let event = serde_json::to_value(&envelope).map_err(|e| TestError::Input(e.to_string()))?;
            let outcome = match invoke::<H, I, O>(&self.handler, event, client.clone(), &self.options).await {
                Ok(value) => serde_json::from_value::<InvocationOutput>(value).map_err(|e| ErrorObject {
                    error_type: Some("Durable.InvalidOutput".to_owned()),
                    error_message: Some(format!("the handler's output is not a durable-execution envelope: {e}")),
                    ..Default::default()
                }),
                Err(error) => Err(invocation_error_object(&error)),
            };
            let completed = self.service.complete_invocation(arn, outcome)?;
            if completed.status.is_terminal() {
                break;
            }
            if completed.invocation_error.is_some() {
                continue;
            }
            match self.service.next_timer(arn) {
                Some(due) => {
                    self.service.advance_to(arn, due);
                }
                None => break,
            }
        }
        Ok(TestResult::collect(&self.service, arn))
    }
}

/// The error object recorded for an invocation that ended with an [`InvocationError`] (the same
/// error types the Lambda entry point reports).
fn invocation_error_object(error: &InvocationError) -> ErrorObject {
    #[allow(unreachable_patterns)] // `InvocationError` is non-exhaustive for users of the crate.
    let error_type = match error {
        InvocationError::Envelope(_) => "Durable.InvalidEnvelope",
        InvocationError::Checkpoint(_) => "Durable.CheckpointError",
        _ => "Durable.InvocationError",
    };
    ErrorObject {
        error_type: Some(error_type.to_owned()),
        error_message: Some(error.to_string()),
        ..Default::default()
    }
}

/// The outcome of a run: final status, output or error, operations, invocations and history.
#[derive(Debug, Clone)]
pub struct TestResult {
    arn: String,
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
    operations: Vec<Operation>,
    execution: Option<Operation>,
    history: Vec<HistoryEvent>,
    invocations: Vec<InvocationRecord>,
}

impl TestResult {
    fn collect(service: &MemoryService, arn: &str) -> Self {
        let (execution, operations): (Vec<_>, Vec<_>) =
            service.operations(arn).into_iter().partition(|op| op.op_type == OperationType::Execution);
        Self {
            arn: arn.to_owned(),
            status: service.execution_status(arn).unwrap_or(ExecutionStatus::Running),
            result: service.execution_result(arn),
            error: service.execution_error(arn),
            operations,
            execution: execution.into_iter().next(),
            history: service.history(arn),
            invocations: service.invocations(arn),
        }
    }

    /// The execution's ARN.
    pub fn execution_arn(&self) -> &str {
        &self.arn
    }

    /// The final status (RUNNING when the run stopped on a suspension nothing can wake).
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The handler's output, deserialized from the SUCCEEDED result string (an absent or empty result
    /// reads as JSON `null`).
    pub fn output<T: DeserializeOwned>(&self) -> Result<T, TestError> {
        if self.status != ExecutionStatus::Succeeded {
            return Err(TestError::NotSucceeded { status: self.status, error: self.error.clone() });
        }
        let text = self.result.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or("null");
        serde_json::from_str(text).map_err(|e| TestError::Output(e.to_string()))
    }

    /// The raw result string of a SUCCEEDED execution.
    pub fn raw_output(&self) -> Option<&str> {
        self.result.as_deref()
    }

    /// The error of a FAILED execution.
    pub fn error(&self) -> Option<ErrorObject> {
        self.error.clone()
    }

    /// Every operation but the EXECUTION one, in creation order (including children of completed
    /// contexts that the service's state pages leave out).
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The EXECUTION operation.
    pub fn execution_operation(&self) -> Option<&Operation> {
        self.execution.as_ref()
    }

    /// The first operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.name.as_deref() == Some(name))
    }

    /// The `index`-th (0-based, creation order) operation named `name`.
    pub fn operation_at(&self, name: &str, index: usize) -> Option<&Operation> {
        self.operations.iter().filter(|op| op.name.as_deref() == Some(name)).nth(index)
    }

    /// Every operation named `name`, in creation order.
    pub fn operations_named(&self, name: &str) -> Vec<&Operation> {
        self.operations.iter().filter(|op| op.name.as_deref() == Some(name)).collect()
    }

    /// The operation with Id `id`.
    pub fn operation_by_id(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// How many times the handler was invoked.
    pub fn invocation_count(&self) -> usize {
        self.invocations.len()
    }

    /// The invocations, in order.
    pub fn invocations(&self) -> &[InvocationRecord] {
        &self.invocations
    }

    /// The execution's history as service-style events, in order (serialize them for JSON).
    pub fn history(&self) -> &[HistoryEvent] {
        &self.history
    }
}

/// Why a run, or reading its result, failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TestError {
    /// The input could not be serialized.
    Input(String),
    /// The service refused a call (unknown or finished execution).
    Service(MemoryError),
    /// The execution was still running after the invocation limit.
    MaxInvocations {
        /// The limit.
        limit: usize,
        /// The execution.
        arn: String,
    },
    /// [`TestResult::output`] on an execution that did not succeed.
    NotSucceeded {
        /// Its status.
        status: ExecutionStatus,
        /// Its error, when it failed.
        error: Option<ErrorObject>,
    },
    /// The result string does not deserialize into the requested type.
    Output(String),
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(e) => write!(f, "cannot serialize the execution input: {e}"),
            Self::Service(e) => write!(f, "{e}"),
            Self::MaxInvocations { limit, arn } => {
                write!(f, "execution `{arn}` still running after {limit} invocations (raise `max_invocations`?)")
            }
            Self::NotSucceeded { status, error: Some(error) } => write!(
                f,
                "the execution is {status}, not SUCCEEDED: {}: {}",
                error.error_type.as_deref().unwrap_or("Error"),
                error.error_message.as_deref().unwrap_or("")
            ),
            Self::NotSucceeded { status, error: None } => write!(f, "the execution is {status}, not SUCCEEDED"),
            Self::Output(e) => write!(f, "cannot deserialize the execution result: {e}"),
        }
    }
}

impl std::error::Error for TestError {}

impl From<MemoryError> for TestError {
    fn from(error: MemoryError) -> Self {
        Self::Service(error)
    }
}
