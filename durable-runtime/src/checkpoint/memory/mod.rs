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
//!
//! One file per role: `executions` (starting one; chained invokes), `invocations` (the envelope in,
//! the outcome out), `client` (the checkpoint and state API), `callbacks` (answers), `clock`
//! (virtual time), `faults` (what a test injects), `inspect` (read accessors) and `journal`
//! (what changed since an execution was last persisted, and restoring one from its rows); beneath them `state` (one execution), `validate` and `apply` (one
//! batch of updates).

mod apply;
mod callbacks;
mod client;
mod clock;
mod executions;
mod faults;
mod inspect;
mod invocations;
mod journal;
mod lifecycle;
mod state;
#[cfg(test)]
mod tests;
mod validate;

pub use crate::protocol::history::ExecutionStatus;
pub use executions::{
    function_arn, function_name_of, valid_execution_name, ChainedInvocation, DEFAULT_EXECUTION_TIMEOUT_SECONDS,
    EXECUTED_VERSION,
};
pub use faults::{CrashPoint, Fault, FaultHit, HitUpdate};
pub use invocations::{
    CompletedInvocation, InvocationRecord, EXIT_ERROR_TYPE, INVALID_OUTPUT_ERROR_TYPE,
    MAX_CONSECUTIVE_FAILED_INVOCATIONS,
};
pub use journal::{ExecutionChanges, ExecutionMeta, OperationRow};
pub use lifecycle::STOPPED_MESSAGE;

use crate::checkpoint::CheckpointError;
use state::StoredExecution;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
    /// An execution of the function already has this name, with another input.
    NameInUse(String),
    /// The execution name has characters or a length the service does not accept.
    InvalidName(String),
    /// Stored rows do not make an execution (see [`MemoryService::restore`]).
    InvalidRows {
        /// The execution.
        arn: String,
        /// What is wrong with the rows.
        message: String,
    },
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownExecution(arn) => write!(f, "no durable execution `{arn}`"),
            Self::ExecutionComplete(arn) => write!(f, "durable execution `{arn}` has already finished"),
            Self::UnknownCallback(id) => write!(f, "no callback `{id}`"),
            Self::CallbackClosed(id) => write!(f, "callback `{id}` is no longer waiting for an answer"),
            Self::NameInUse(name) => {
                write!(f, "an execution named `{name}` already exists with another input; pick another name")
            }
            Self::InvalidName(name) => {
                write!(f, "execution name `{name}` is invalid: use 1 to 64 letters, digits, `-` or `_`")
            }
            Self::InvalidRows { arn, message } => {
                write!(f, "the stored rows of `{arn}` do not make an execution: {message}")
            }
        }
    }
}

impl std::error::Error for MemoryError {}

/// The service's shared state.
struct Inner {
    executions: HashMap<String, StoredExecution>,
    /// CallbackId → (ARN, operation id).
    callbacks: HashMap<String, (String, String)>,
    /// Target execution ARN → the chained invoke that started it.
    invokes: HashMap<String, ChainedInvocation>,
    /// Executions changed since they were last persisted (see [`MemoryService::take_changes`]).
    changed: BTreeSet<String>,
    /// Virtual time skipped so far.
    skipped: Duration,
    page_size: Option<usize>,
    latency: Duration,
    fail_next: Option<(usize, CheckpointError)>,
    crash: Option<(CrashPoint, faults::Predicate)>,
    /// Checkpoint calls received so far.
    calls: usize,
    /// Positional faults not yet fired, by call.
    faults: std::collections::BTreeMap<usize, Fault>,
    fault_hits: Vec<FaultHit>,
}

impl Inner {
    /// The execution `arn`, to change it: it is marked for the next [`MemoryService::take_changes`].
    fn execution_mut(&mut self, arn: &str) -> Result<&mut StoredExecution, MemoryError> {
        let exec = self.executions.get_mut(arn).ok_or_else(|| MemoryError::UnknownExecution(arn.to_owned()))?;
        self.changed.insert(arn.to_owned());
        Ok(exec)
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
                changed: BTreeSet::new(),
                skipped: Duration::ZERO,
                page_size: None,
                latency: Duration::ZERO,
                fail_next: None,
                crash: None,
                calls: 0,
                faults: std::collections::BTreeMap::new(),
                fault_hits: Vec::new(),
            })),
        }
    }

    /// Locks the state. A panic while locked cannot leave it half-updated (updates are applied after
    /// validation, without user code), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
