//! Persistence: what changed in each execution since it was last persisted, as rows a store can
//! write in one transaction ([`MemoryService::take_changes`]), and an execution rebuilt from its
//! rows ([`MemoryService::restore`]). The service stays the engine; a store is its journal.
//!
//! The cost of taking the changes depends on what changed, never on the execution's length: the
//! small state of the execution ([`ExecutionMeta`]), the operations changed since, and the history
//! events and invocation records appended since (both only grow).

use super::state::{CurrentInvocation, Journal, LastResponse, OpEntry, StoredExecution};
use super::{ChainedInvocation, ExecutionStatus, InvocationRecord, MemoryError, MemoryService};
use crate::protocol::history::HistoryEvent;
use crate::protocol::{ErrorObject, OperationStatus, OperationType, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Format version of [`ExecutionMeta`] and [`OperationRow`] written by this build.
///
/// Version 2 keeps the last checkpoint answer as positions of operations instead of copies of them,
/// and leaves out the empty members of an operation row. Rows of version 1 are read as well.
const ROW_VERSION: u32 = 2;

/// The oldest row format this build reads.
const OLDEST_ROW_VERSION: u32 = 1;

/// The small state of one execution: everything but its operations, history and invocations
/// (status, outcome, token, the invocation in flight, the pending checkpoint delta, the service's
/// clock). Serializable; the form is an implementation detail with a `version` member, not the
/// wire protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionMeta {
    version: u32,
    name: String,
    execution_id: String,
    status: ExecutionStatus,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    /// The service's (virtual) time when the changes were taken.
    clock: Timestamp,
    token: Option<String>,
    token_seq: u64,
    result: Option<String>,
    error: Option<ErrorObject>,
    closed: bool,
    current: Option<CurrentInvocation>,
    consecutive_failures: u32,
    updated_ids: Vec<String>,
    crashed: bool,
    last_response: Option<StoredResponse>,
    /// Indices of the operations in the next checkpoint delta, in change order.
    dirty: Vec<usize>,
}

impl ExecutionMeta {
    /// The execution's name (the ARN segment before the EXECUTION operation's Id).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The execution's status.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// When the execution started.
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// When the execution finished.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }

    /// The service's clock when the changes were taken.
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// True when an invocation had started and not completed (the service stopped while the
    /// function was running, if this is the last persisted state).
    pub fn invocation_in_flight(&self) -> bool {
        self.current.is_some() && !self.status.is_terminal()
    }

    /// True when the format version is one this build reads.
    pub fn is_supported(&self) -> bool {
        (OLDEST_ROW_VERSION..=ROW_VERSION).contains(&self.version)
    }
}

/// The last checkpoint answer as stored: what this build writes, or the whole answer (row version 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum StoredResponse {
    Positions(LastResponse),
    Whole(String, String, WholeAnswer),
}

/// What is read of a whole answer of row version 1: its token and the ids of its operations (the
/// operations themselves are in their rows). An untagged member is buffered before it is read, which
/// a raw payload cannot be, so the rest is skipped, not parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WholeAnswer {
    #[serde(default)]
    checkpoint_token: Option<String>,
    #[serde(default)]
    new_execution_state: Option<AnswerState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerState {
    #[serde(default)]
    operations: Vec<AnswerOperation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerOperation {
    id: String,
}

impl StoredResponse {
    /// The answer as the service keeps it; `None` for a version-1 answer that names an operation
    /// the rows do not have or issued no token (a retry of it then gets a stale-token error).
    fn into_last(self, index: &HashMap<String, usize>) -> Option<LastResponse> {
        match self {
            Self::Positions(last) => Some(last),
            Self::Whole(client_token, request_token, answer) => {
                let operations = answer
                    .new_execution_state
                    .map(|state| state.operations)
                    .unwrap_or_default()
                    .iter()
                    .map(|op| index.get(&op.id).copied())
                    .collect::<Option<Vec<usize>>>()?;
                Some(LastResponse { client_token, request_token, next_token: answer.checkpoint_token?, operations })
            }
        }
    }
}

/// One operation of an execution with what the service keeps beside it (timers, callback
/// deadlines), at its position in creation order. Serializable like [`ExecutionMeta`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationRow {
    index: usize,
    entry: OpEntry,
}

impl OperationRow {
    /// The position in creation order (0: the EXECUTION operation).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The operation's Id.
    pub fn id(&self) -> &str {
        &self.entry.op.id
    }

    /// The `CallbackId` of a CALLBACK operation.
    pub fn callback_id(&self) -> Option<&str> {
        if self.entry.op.op_type != OperationType::Callback {
            return None;
        }
        self.entry.op.callback_details.as_ref().and_then(|d| d.callback_id.as_deref())
    }

    /// True while a CALLBACK waits for an answer.
    pub fn callback_open(&self) -> bool {
        self.callback_id().is_some() && self.entry.op.status == OperationStatus::Started
    }

    /// When the operation's armed timer fires: a WAIT's end, a STEP's next attempt, a CALLBACK's
    /// timeout or heartbeat deadline.
    pub fn timer(&self) -> Option<Timestamp> {
        self.entry.due()
    }
}

/// The rows of one execution: those changed since it was last persisted
/// ([`MemoryService::take_changes`]), or all of them ([`MemoryService::restore`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecutionChanges {
    /// The execution's ARN.
    pub arn: String,
    /// The execution has never been persisted: every row is new.
    pub created: bool,
    /// The execution's small state (always complete).
    pub meta: ExecutionMeta,
    /// The operations changed (all of them, to restore).
    pub operations: Vec<OperationRow>,
    /// The history events appended, in order (all of them, to restore).
    pub events: Vec<HistoryEvent>,
    /// Position of the first of [`Self::invocations`] among the execution's invocations.
    pub first_invocation: usize,
    /// The invocation records appended, in order (all of them, to restore).
    pub invocations: Vec<InvocationRecord>,
    /// The chained invoke that started this execution, when [`Self::created`] (or to restore).
    pub chained_invocation: Option<ChainedInvocation>,
}

impl ExecutionChanges {
    /// The rows of the execution `arn` read back from a store, to [`restore`](MemoryService::restore).
    pub fn from_rows(
        arn: String,
        meta: ExecutionMeta,
        operations: Vec<OperationRow>,
        events: Vec<HistoryEvent>,
        invocations: Vec<InvocationRecord>,
        chained_invocation: Option<ChainedInvocation>,
    ) -> Self {
        Self { arn, created: false, meta, operations, events, first_invocation: 0, invocations, chained_invocation }
    }

    /// True when nothing but the small state is in these changes.
    pub fn is_meta_only(&self) -> bool {
        self.operations.is_empty() && self.events.is_empty() && self.invocations.is_empty()
    }
}

impl StoredExecution {
    fn meta(&self, clock: Timestamp) -> ExecutionMeta {
        let op = self.execution_op();
        ExecutionMeta {
            version: ROW_VERSION,
            name: self.name.clone(),
            execution_id: self.execution_id.clone(),
            status: self.status,
            start: op.and_then(|o| o.start_timestamp),
            end: op.and_then(|o| o.end_timestamp),
            clock,
            token: self.token.clone(),
            token_seq: self.token_seq,
            result: self.result.clone(),
            error: self.error.clone(),
            closed: self.closed,
            current: self.current.clone(),
            consecutive_failures: self.consecutive_failures,
            updated_ids: self.updated_ids.clone(),
            crashed: self.crashed,
            last_response: self.last_response.clone().map(StoredResponse::Positions),
            dirty: self.dirty.clone(),
        }
    }

    /// The rows changed since the last call, and a fresh journal.
    fn take_changes(&mut self, arn: &str, clock: Timestamp) -> ExecutionChanges {
        let journal = std::mem::take(&mut self.journal);
        let operations = journal
            .ops
            .iter()
            .filter_map(|&index| self.ops.get(index).map(|entry| OperationRow { index, entry: entry.clone() }))
            .collect();
        let events = self.history.get(journal.events..).unwrap_or_default().to_vec();
        let invocations = self.invocations.get(journal.invocations..).unwrap_or_default().to_vec();
        self.journal.events = self.history.len();
        self.journal.invocations = self.invocations.len();
        ExecutionChanges {
            arn: arn.to_owned(),
            created: journal.created,
            meta: self.meta(clock),
            operations,
            events,
            first_invocation: journal.invocations,
            invocations,
            chained_invocation: None,
        }
    }

    /// Rebuilds an execution from all of its rows.
    fn from_rows(changes: ExecutionChanges) -> Result<Self, String> {
        let ExecutionChanges { meta, mut operations, events, invocations, .. } = changes;
        operations.sort_by_key(|row| row.index);
        if operations.iter().enumerate().any(|(i, row)| row.index != i) {
            return Err("the operation rows are not numbered 0, 1, 2, …".to_owned());
        }
        if events.iter().enumerate().any(|(i, e)| e.event_id != i as u64 + 1) {
            return Err("the history events are not numbered 1, 2, 3, …".to_owned());
        }
        let mut ops: Vec<OpEntry> = operations.into_iter().map(|row| row.entry).collect();
        let dirty: Vec<usize> = meta.dirty.iter().copied().filter(|&i| i < ops.len()).collect();
        for &i in &dirty {
            if let Some(entry) = ops.get_mut(i) {
                entry.dirty = true;
            }
        }
        let index: HashMap<String, usize> = ops.iter().enumerate().map(|(i, e)| (e.op.id.clone(), i)).collect();
        let timers: BTreeSet<usize> =
            ops.iter().enumerate().filter(|(_, e)| e.due().is_some()).map(|(i, _)| i).collect();
        let last_response = meta.last_response.and_then(|r| r.into_last(&index));
        let journal =
            Journal { created: false, ops: BTreeSet::new(), events: events.len(), invocations: invocations.len() };
        Ok(Self {
            name: meta.name,
            execution_id: meta.execution_id,
            ops,
            index,
            dirty,
            timers,
            history: events,
            token: meta.token,
            token_seq: meta.token_seq,
            status: meta.status,
            result: meta.result,
            error: meta.error,
            closed: meta.closed,
            requests: Vec::new(),
            invocations,
            current: meta.current,
            consecutive_failures: meta.consecutive_failures,
            updated_ids: meta.updated_ids,
            crashed: meta.crashed,
            last_response,
            journal,
        })
    }
}

impl MemoryService {
    /// The rows of every execution changed since its changes were last taken (started, checkpointed,
    /// invoked, answered, timed, …), and marks them taken. A store writes them in one transaction.
    ///
    /// If that write fails, put the service back to what the store holds: [`Self::restore`] each
    /// execution from its stored rows and [`Self::forget`] those never stored (`created`).
    pub fn take_changes(&self) -> Vec<ExecutionChanges> {
        let mut inner = self.lock();
        let clock = inner.now();
        let changed = std::mem::take(&mut inner.changed);
        let mut out = Vec::with_capacity(changed.len());
        for arn in changed {
            let link = inner.invokes.get(&arn).cloned();
            let Some(exec) = inner.executions.get_mut(&arn) else { continue };
            let mut changes = exec.take_changes(&arn, clock);
            if changes.created {
                changes.chained_invocation = link;
            }
            out.push(changes);
        }
        out
    }

    /// Puts an execution rebuilt from all of its rows into this service, replacing any execution
    /// with the same ARN (and the changes not taken yet), and routes its open callbacks. The clock
    /// moves forward (never back) to the rows' clock, so timers armed in skipped time stay
    /// consistent.
    pub fn restore(&self, rows: ExecutionChanges) -> Result<(), MemoryError> {
        let arn = rows.arn.clone();
        let clock = rows.meta.clock;
        let link = rows.chained_invocation.clone();
        let callbacks: Vec<(String, String)> = rows
            .operations
            .iter()
            .filter_map(|row| row.callback_id().map(|id| (id.to_owned(), row.id().to_owned())))
            .collect();
        let execution = StoredExecution::from_rows(rows)
            .map_err(|message| MemoryError::InvalidRows { arn: arn.clone(), message })?;
        let mut inner = self.lock();
        let now = inner.now();
        inner.skipped += clock.since(now);
        if inner.executions.contains_key(&arn) {
            inner.callbacks.retain(|_, (owner, _)| *owner != arn);
            inner.invokes.remove(&arn);
        }
        for (callback_id, op_id) in callbacks {
            inner.callbacks.insert(callback_id, (arn.clone(), op_id));
        }
        if let Some(link) = link {
            inner.invokes.insert(arn.clone(), link);
        }
        inner.changed.remove(&arn);
        inner.executions.insert(arn, execution);
        Ok(())
    }

    /// Removes the execution `arn` (one whose rows were never stored), with its callbacks and the
    /// chained invoke that started it.
    pub fn forget(&self, arn: &str) {
        let mut inner = self.lock();
        if inner.executions.remove(arn).is_some() {
            inner.callbacks.retain(|_, (owner, _)| owner != arn);
            inner.invokes.remove(arn);
        }
        inner.changed.remove(arn);
    }
}
