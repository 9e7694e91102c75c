//! An in-memory durable-execution service: the checkpoint API of the real service (tokens, validation,
//! atomic batches, deltas, paging), its history log, its timers on a virtual clock, and the hooks a
//! test runner needs (start an execution, build invocation envelopes, record invocation outcomes).
//!
//! Used by [`crate::testing::TestRunner`], by tests and by benchmarks. Cloning a [`MemoryService`]
//! gives another handle on the same service.
//!
//! What it reproduces (see the protocol notes):
//!
//! - **Tokens** are single-use: only the most recently issued one is valid. A stale token gets
//!   `InvalidParameterValueException` "Invalid Checkpoint Token…" (HTTP 400), which
//!   [`CheckpointError::classify`] makes retryable.
//! - **Batches** are validated as a whole, then applied atomically and in order; a rejected batch
//!   records nothing and fails with HTTP 400 `InvalidParameterValueException` and the emulators'
//!   message (fatal).
//! - **Deltas**: a checkpoint response carries the operations changed by the request plus those the
//!   service changed since the caller last received a token.
//! - **State pages** leave out the children of a completed CONTEXT whose `ReplayChildren` is not true.
//! - **History**: one event per applied update, `InvocationCompleted` per invocation, then the terminal
//!   execution event.
//! - **Virtual time**: "now" is the wall clock plus the time skipped with [`MemoryService::advance`] /
//!   [`MemoryService::advance_to`]; skipping fires WAIT timers, STEP retry delays and CALLBACK timeouts.

mod apply;
mod service;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_invoke;
mod validate;

pub use crate::protocol::history::ExecutionStatus;
pub use snapshot::ExecutionSnapshot;

use crate::checkpoint::CheckpointError;
use crate::protocol::{ErrorObject, InvocationOutput, OperationUpdate, Timestamp};
use state::Execution;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// After more than this many consecutive failed invocations the execution FAILs with the last error.
pub const MAX_CONSECUTIVE_FAILED_INVOCATIONS: u32 = 5;

/// `ExecutionTimeout` recorded in `ExecutionStarted` (seconds). Not enforced.
pub const DEFAULT_EXECUTION_TIMEOUT_SECONDS: u64 = 86_400;

/// Account id in minted ARNs.
const ACCOUNT: &str = "123456789012";

/// Region in minted ARNs.
const REGION: &str = "us-east-1";

/// `ExecutedVersion` recorded for chained invokes (the service always runs the target's `$LATEST`).
pub const EXECUTED_VERSION: &str = "$LATEST";

/// `ErrorType` recorded when an injected crash killed the invocation.
pub const EXIT_ERROR_TYPE: &str = "Runtime.ExitError";

/// `ErrorType` recorded when the handler answered with an envelope the service rejects.
pub const INVALID_OUTPUT_ERROR_TYPE: &str = "InvalidInvocationOutput";

/// Where an injected crash happens, relative to the matching update (see [`MemoryService::crash_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// The process dies before the matching update reaches the service: the earlier updates of the
    /// request are applied, the matching one and the rest are not.
    BeforeApply,
    /// The process dies right after the matching update was applied (the response is lost): the
    /// updates up to and including it are applied.
    AfterApply,
}

/// One invocation as the service saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InvocationRecord {
    /// The Lambda request id.
    pub request_id: String,
    /// When the envelope was built.
    pub start_timestamp: Timestamp,
    /// When the outcome was recorded.
    pub end_timestamp: Timestamp,
    /// The envelope the handler returned, if it returned one.
    pub output: Option<InvocationOutput>,
    /// Why the invocation counts as failed (an invocation error, a crash, or an envelope the service
    /// rejected); `None` for a valid envelope.
    pub error: Option<ErrorObject>,
}

/// What [`MemoryService::complete_invocation`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletedInvocation {
    /// The execution's status afterwards.
    pub status: ExecutionStatus,
    /// Set when the invocation counts as failed; a RUNNING execution is then re-invoked at once.
    pub invocation_error: Option<ErrorObject>,
}

/// An error of the service's own (non-checkpoint) API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryError {
    /// No execution has this ARN.
    UnknownExecution(String),
    /// The execution has already finished.
    ExecutionComplete(String),
    /// No callback has this id.
    UnknownCallback(String),
    /// The callback has already been answered or timed out.
    CallbackClosed(String),
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownExecution(arn) => write!(f, "no durable execution `{arn}`"),
            Self::ExecutionComplete(arn) => write!(f, "durable execution `{arn}` has already finished"),
            Self::UnknownCallback(id) => write!(f, "no callback `{id}`"),
            Self::CallbackClosed(id) => write!(f, "callback `{id}` is no longer waiting for an answer"),
        }
    }
}

impl std::error::Error for MemoryError {}

/// A chained invoke as the service tracks it: the caller's CHAINED_INVOKE operation and the durable
/// execution the service started for the target (see [`MemoryService::chained_invocations`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainedInvocation {
    /// ARN of the calling execution.
    pub caller_arn: String,
    /// Id of the caller's CHAINED_INVOKE operation.
    pub operation_id: String,
    /// `FunctionName` as the caller sent it (a name or an ARN).
    pub function_name: String,
    /// The function's name (the name part of an ARN).
    pub target_function: String,
    /// ARN of the target's durable execution.
    pub target_arn: String,
    /// The caller's `TenantId`, if any.
    pub tenant_id: Option<String>,
}

/// A random id in UUID v4 form.
pub(super) fn uuid() -> String {
    let (hi, lo) = (fastrand::u64(..), fastrand::u64(..));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// The ARN of an execution: `arn:aws:lambda:<region>:<account>:function:<fn>:$LATEST/durable-execution/<name>/<id>`.
pub(super) fn execution_arn(function_name: &str, name: &str, execution_id: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}:{EXECUTED_VERSION}/durable-execution/{name}/{execution_id}")
}

/// The function name in a name or a function / version / alias ARN
/// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`).
pub fn function_name_of(name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        if let Some(name) = name_or_arn.split(':').skip_while(|p| *p != "function").nth(1) {
            return name.to_owned();
        }
    }
    name_or_arn.to_owned()
}

type Predicate = Arc<dyn Fn(&OperationUpdate) -> bool + Send + Sync + 'static>;

/// The service's shared state.
struct Inner {
    executions: HashMap<String, Execution>,
    /// CallbackId → (ARN, operation id).
    callbacks: HashMap<String, (String, String)>,
    /// Target execution ARN → the chained invoke that started it.
    invokes: HashMap<String, ChainedInvocation>,
    /// Virtual time skipped so far.
    skipped: Duration,
    page_size: Option<usize>,
    latency: Duration,
    fail_next: Option<(usize, CheckpointError)>,
    crash: Option<(CrashPoint, Predicate)>,
}

impl Inner {
    fn now(&self) -> Timestamp {
        Timestamp::now().plus(self.skipped)
    }

    fn execution_mut(&mut self, arn: &str) -> Result<&mut Execution, MemoryError> {
        self.executions.get_mut(arn).ok_or_else(|| MemoryError::UnknownExecution(arn.to_owned()))
    }

    /// Fires the due timers of every execution.
    fn fire_due(&mut self) -> usize {
        let now = self.now();
        self.executions.values_mut().map(|e| e.fire_due(now)).sum()
    }
}

/// An in-memory durable-execution service (see the [module docs](self)).
#[derive(Clone)]
pub struct MemoryService {
    inner: Arc<Mutex<Inner>>,
}

impl Default for MemoryService {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryService")
            .field("executions", &inner.executions.len())
            .field("skipped", &inner.skipped)
            .field("page_size", &inner.page_size)
            .field("latency", &inner.latency)
            .finish_non_exhaustive()
    }
}

impl MemoryService {
    /// An empty service whose clock starts at the current wall-clock time.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                executions: HashMap::new(),
                callbacks: HashMap::new(),
                invokes: HashMap::new(),
                skipped: Duration::ZERO,
                page_size: None,
                latency: Duration::ZERO,
                fail_next: None,
                crash: None,
            })),
        }
    }

    /// Locks the state. A panic while locked cannot leave it half-updated (updates are applied after
    /// validation, without user code), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The service's current (virtual) time.
    pub fn now(&self) -> Timestamp {
        self.lock().now()
    }

    /// Operations per page of the invocation envelope and of `GetDurableExecutionState` (at least 1).
    /// By default everything fits in one page.
    pub fn set_page_size(&self, operations: usize) {
        self.lock().page_size = Some(operations.max(1));
    }

    /// Added to every checkpoint and state call (with `tokio::time::sleep`), to model the network.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Makes the next `n` checkpoint calls fail with `error`, without touching any state (the token
    /// is not consumed). The requests are still logged.
    pub fn fail_next_checkpoints(&self, n: usize, error: CheckpointError) {
        self.lock().fail_next = (n > 0).then_some((n, error));
    }

    /// Simulates the function process dying at the first update matching `predicate` (one-shot).
    ///
    /// The request's updates before the matching one (and, with [`CrashPoint::AfterApply`], the
    /// matching one) are applied; the call returns a retryable error and the token is rotated so the
    /// dead invocation cannot write any more. [`Self::complete_invocation`] then records the
    /// invocation's `InvocationCompleted` with `ErrorType` `Runtime.ExitError`, whatever the
    /// invocation returned.
    pub fn crash_on(&self, point: CrashPoint, predicate: impl Fn(&OperationUpdate) -> bool + Send + Sync + 'static) {
        self.lock().crash = Some((point, Arc::new(predicate)));
    }

    /// Rotates the execution's token behind the caller's back: the next checkpoint with the old token
    /// gets the stale-token error. Does nothing for an unknown or finished execution.
    pub fn expire_token(&self, arn: &str) {
        if let Some(exec) = self.lock().executions.get_mut(arn) {
            if exec.token.is_some() {
                exec.rotate_token();
            }
        }
    }

    /// Moves the clock forward by `by` and fires the timers that became due. Returns how many fired.
    pub fn advance(&self, by: Duration) -> usize {
        let mut inner = self.lock();
        inner.skipped += by;
        inner.fire_due()
    }

    /// Moves the clock to `to` (never backwards) and fires the timers due by then, in the execution
    /// `arn` and any other. Returns how many fired.
    pub fn advance_to(&self, arn: &str, to: Timestamp) -> usize {
        let _ = arn;
        let mut inner = self.lock();
        let now = inner.now();
        inner.skipped += to.since(now);
        inner.fire_due()
    }

    /// The earliest armed timer of the execution: a WAIT's `ScheduledEndTimestamp`, a PENDING STEP's
    /// `NextAttemptTimestamp`, or a CALLBACK timeout.
    pub fn next_timer(&self, arn: &str) -> Option<Timestamp> {
        self.lock().executions.get(arn).filter(|e| !e.status.is_terminal()).and_then(Execution::next_timer)
    }
}
