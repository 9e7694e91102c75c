//! What a run produced: [`TestResult`], and the [`TestError`] of a run that could not complete.

use crate::checkpoint::memory::{ExecutionStatus, InvocationRecord, MemoryError, MemoryService};
use crate::protocol::history::HistoryEvent;
use crate::protocol::{ErrorObject, Operation, OperationSubType, OperationType};
use serde::de::DeserializeOwned;
use std::fmt;

/// The outcome of a run: final status, output or error, operations, invocations and history.
///
/// Both runners return it: [`TestRunner`](super::TestRunner) in process, and the local service's
/// runner over HTTP (`durable_local::LocalRunner`). [`Self::operations`] leaves out the EXECUTION
/// operation, which [`Self::execution_operation`] returns.
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
    logs: Vec<String>,
}

impl TestResult {
    /// The JSON log lines the run wrote through `tracing` (one per record, replayed records
    /// suppressed as in production), when the runner was built with
    /// [`TestRunner::capture_logs`](super::TestRunner::capture_logs); empty otherwise.
    pub fn logs(&self) -> &[String] {
        &self.logs
    }

    #[cfg_attr(not(feature = "json-logs"), allow(dead_code))]
    pub(super) fn with_logs(mut self, logs: Vec<String>) -> Self {
        self.logs = logs;
        self
    }

    /// The state of the execution `arn` on `service` now (status RUNNING and nothing else for an
    /// unknown execution), for runners that drive executions themselves.
    pub fn collect(service: &MemoryService, arn: &str) -> Self {
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
            logs: Vec::new(),
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

    /// The `CallbackId` of the callback named `name`: a CALLBACK operation with that name, or the
    /// callback inside the wait-for-callback named `name`.
    pub fn callback_id(&self, name: &str) -> Option<&str> {
        find_callback(&self.operations, name)?.callback_details.as_ref()?.callback_id.as_deref()
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
    /// The replay audit found that replaying the finished execution does not agree with its record:
    /// the workflow is not deterministic (see [`TestRunner::replay_audit`](super::TestRunner::replay_audit)).
    ReplayDiverged {
        /// The execution.
        arn: String,
        /// The first divergence.
        detail: String,
    },
    /// The run ended (finished, or suspended with nothing left to wake it) without the callback it
    /// was to stop at ever waiting for an answer.
    CallbackNotPending {
        /// The callback's name.
        name: String,
        /// The execution.
        arn: String,
        /// Its status when the run ended.
        status: ExecutionStatus,
    },
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
    /// A fault matrix found cells that did not behave like the fault-free run
    /// ([`FaultReport::assert_ok`](super::FaultReport::assert_ok)); the message is its table.
    FaultMatrix(Box<super::FaultReport>),
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(e) => write!(f, "cannot serialize the execution input: {e}"),
            Self::ReplayDiverged { arn, detail } => {
                write!(f, "replaying the finished execution `{arn}` diverged from its record: {detail}")
            }
            Self::CallbackNotPending { name, arn, status } => {
                write!(f, "execution `{arn}` ended {status:?} without a callback named `{name}` waiting for an answer")
            }
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
            Self::FaultMatrix(report) => write!(f, "the workflow does not survive every fault:\n{report}"),
        }
    }
}

impl std::error::Error for TestError {}

impl From<MemoryError> for TestError {
    fn from(error: MemoryError) -> Self {
        Self::Service(error)
    }
}

/// The CALLBACK operation named `name` in `operations`: a callback with that name, or the callback
/// inside the wait-for-callback named `name`.
pub(crate) fn find_callback<'a>(operations: &'a [Operation], name: &str) -> Option<&'a Operation> {
    let is_callback = |op: &&Operation| op.op_type == OperationType::Callback;
    let named = operations.iter().filter(is_callback).find(|op| op.name.as_deref() == Some(name));
    named.or_else(|| {
        let wrapper = operations
            .iter()
            .find(|op| op.sub_type == Some(OperationSubType::WaitForCallback) && op.name.as_deref() == Some(name))?;
        operations.iter().filter(is_callback).find(|op| op.parent_id.as_deref() == Some(wrapper.id.as_str()))
    })
}
