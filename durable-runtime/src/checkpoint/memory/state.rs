//! The state of one execution: its operations (in creation order, indexed by Id), the history log,
//! the token, the change tracking behind checkpoint deltas, and the service-side timers.

use super::InvocationRecord;
use crate::protocol::history::{EventDetails, EventError, EventType, ExecutionStatus, HistoryEvent};
use crate::protocol::ids::random_hex;
use crate::protocol::{ErrorObject, Operation, OperationStatus, OperationType, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// An operation record plus what the service keeps beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct OpEntry {
    pub(super) op: Operation,
    /// `WaitSeconds` of a WAIT, for `WaitSucceeded{Duration}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) wait_seconds: Option<u64>,
    /// Overall deadline of a CALLBACK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) callback_deadline: Option<Timestamp>,
    /// Heartbeat timeout of a CALLBACK (seconds) and its current deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) heartbeat: Option<(u64, Timestamp)>,
    /// Changed since the caller last received a token (part of the next checkpoint delta). Not
    /// persisted: restoring an execution sets it from [`StoredExecution::dirty`].
    #[serde(skip)]
    pub(super) dirty: bool,
}

impl OpEntry {
    /// When this operation's timer fires, if it has one armed: the end of a STARTED WAIT, the next
    /// attempt of a PENDING STEP, the earlier of a STARTED CALLBACK's deadline and heartbeat.
    pub(super) fn due(&self) -> Option<Timestamp> {
        let op = &self.op;
        match (&op.op_type, &op.status) {
            (OperationType::Wait, OperationStatus::Started) => {
                op.wait_details.as_ref().and_then(|d| d.scheduled_end_timestamp)
            }
            (OperationType::Step, OperationStatus::Pending) => {
                op.step_details.as_ref().and_then(|d| d.next_attempt_timestamp)
            }
            (OperationType::Callback, OperationStatus::Started) => {
                match (self.callback_deadline, self.heartbeat.map(|(_, t)| t)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            _ => None,
        }
    }
}

/// The invocation in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CurrentInvocation {
    pub(super) request_id: String,
    pub(super) start: Timestamp,
}

/// One execution. A store keeps it as rows (see `journal`).
#[derive(Debug, Clone)]
pub(super) struct StoredExecution {
    pub(super) name: String,
    /// Id of the EXECUTION operation (the ARN's last segment).
    pub(super) execution_id: String,
    pub(super) ops: Vec<OpEntry>,
    pub(super) index: HashMap<String, usize>,
    /// Indices of operations with `dirty` set, in the order they were first changed.
    pub(super) dirty: Vec<usize>,
    /// Indices of operations that may have an armed timer.
    pub(super) timers: BTreeSet<usize>,
    pub(super) history: Vec<HistoryEvent>,
    /// The only valid checkpoint token; `None` once the execution is complete.
    pub(super) token: Option<String>,
    pub(super) token_seq: u64,
    pub(super) status: ExecutionStatus,
    pub(super) result: Option<String>,
    pub(super) error: Option<ErrorObject>,
    /// The terminal execution event has been appended.
    pub(super) closed: bool,
    /// Every checkpoint request received, rejected ones included, for tests to inspect. Not
    /// persisted: a store keeps state, not traffic.
    pub(super) requests: Vec<crate::protocol::CheckpointRequest>,
    pub(super) invocations: Vec<InvocationRecord>,
    pub(super) current: Option<CurrentInvocation>,
    pub(super) consecutive_failures: u32,
    /// Ids the service changed since the last invocation started (`UpdatedOperationIds`).
    pub(super) updated_ids: Vec<String>,
    /// An injected crash hit the invocation in flight.
    pub(super) crashed: bool,
    /// The last successful checkpoint, for an idempotent retry of it.
    pub(super) last_response: Option<LastResponse>,
    /// What changed since the execution was last persisted.
    pub(super) journal: Journal,
}

/// The last successful checkpoint of an execution, kept so that a retry of the same request (same
/// `ClientToken` and `CheckpointToken`) gets the same answer instead of a stale-token error.
///
/// The answer is kept as the positions of the operations in its delta, not as copies of them: a
/// retry answers those operations as they are now. Nothing the caller sends can change them in
/// between (any other request needs the new token); only the service's own events can (a timer, a
/// callback answer), and those are in the next delta as well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LastResponse {
    /// The request's `ClientToken`.
    pub(super) client_token: String,
    /// The token the request was sent with.
    pub(super) request_token: String,
    /// The token the answer issued.
    pub(super) next_token: String,
    /// Positions of the operations of the answer's delta, in order.
    pub(super) operations: Vec<usize>,
}

/// What changed in one execution since it was last persisted (see
/// [`MemoryService::take_changes`](super::MemoryService::take_changes)): everything stays O(changes).
#[derive(Debug, Clone, Default)]
pub(super) struct Journal {
    /// Never persisted: every row is new.
    pub(super) created: bool,
    /// Indices of the operations changed since.
    pub(super) ops: BTreeSet<usize>,
    /// History events already persisted (the history only grows).
    pub(super) events: usize,
    /// Invocation records already persisted (they only grow).
    pub(super) invocations: usize,
}

impl StoredExecution {
    pub(super) fn new(name: String, execution_id: String) -> Self {
        Self {
            name,
            execution_id,
            ops: Vec::new(),
            index: HashMap::new(),
            dirty: Vec::new(),
            timers: BTreeSet::new(),
            history: Vec::new(),
            token: None,
            token_seq: 0,
            status: ExecutionStatus::Running,
            result: None,
            error: None,
            closed: false,
            requests: Vec::new(),
            invocations: Vec::new(),
            current: None,
            consecutive_failures: 0,
            updated_ids: Vec::new(),
            crashed: false,
            last_response: None,
            journal: Journal { created: true, ..Journal::default() },
        }
    }

    pub(super) fn get(&self, id: &str) -> Option<&OpEntry> {
        self.index.get(id).and_then(|&i| self.ops.get(i))
    }

    /// Inserts a new operation (or returns the index of the existing one) and marks it changed.
    pub(super) fn insert(&mut self, op: Operation) -> usize {
        if let Some(&i) = self.index.get(&op.id) {
            if let Some(entry) = self.ops.get_mut(i) {
                entry.op = op;
            }
            self.touch(i);
            return i;
        }
        let i = self.ops.len();
        self.index.insert(op.id.clone(), i);
        self.ops.push(OpEntry { op, wait_seconds: None, callback_deadline: None, heartbeat: None, dirty: false });
        self.touch(i);
        i
    }

    /// Marks operation `i` as changed (for the next checkpoint delta and for the journal).
    pub(super) fn touch(&mut self, i: usize) {
        self.journal.ops.insert(i);
        if let Some(entry) = self.ops.get_mut(i) {
            if !entry.dirty {
                entry.dirty = true;
                self.dirty.push(i);
            }
        }
    }

    /// The operations changed since the last call, in change order; clears the marks.
    pub(super) fn take_delta(&mut self) -> (Vec<usize>, Vec<Operation>) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.retain(|&i| i < self.ops.len());
        let mut out = Vec::with_capacity(dirty.len());
        for &i in &dirty {
            if let Some(entry) = self.ops.get_mut(i) {
                entry.dirty = false;
                out.push(entry.op.clone());
            }
        }
        (dirty, out)
    }

    /// The answer to a retry of the last successful checkpoint, when `client_token` and `token` are
    /// that request's (see [`LastResponse`]).
    pub(super) fn repeat_last(&self, client_token: &str, token: &str) -> Option<crate::protocol::CheckpointResponse> {
        let last =
            self.last_response.as_ref().filter(|l| l.client_token == client_token && l.request_token == token)?;
        let operations = last.operations.iter().filter_map(|&i| self.ops.get(i).map(|e| e.op.clone())).collect();
        Some(crate::protocol::CheckpointResponse {
            checkpoint_token: Some(last.next_token.clone()),
            new_execution_state: Some(crate::protocol::ExecutionState { operations, next_marker: None }),
        })
    }

    /// Clears the change marks without reading them (the caller got the whole state).
    pub(super) fn clear_delta(&mut self) {
        for i in std::mem::take(&mut self.dirty) {
            if let Some(entry) = self.ops.get_mut(i) {
                entry.dirty = false;
            }
        }
    }

    /// Issues a fresh token; every earlier one becomes stale.
    pub(super) fn rotate_token(&mut self) -> String {
        self.token_seq += 1;
        let token = format!("{}:{}:{}", self.execution_id, self.token_seq, random_hex(8));
        self.token = Some(token.clone());
        self.last_response = None;
        token
    }

    /// Indices of the operations the service shows in the execution state, in order: all except the
    /// children (transitively) of a completed CONTEXT whose `ReplayChildren` is not true.
    pub(super) fn visible(&self) -> Vec<usize> {
        let mut hidden = vec![false; self.ops.len()];
        let mut out = Vec::with_capacity(self.ops.len());
        for (i, entry) in self.ops.iter().enumerate() {
            let hide = entry.op.parent_id.as_deref().and_then(|p| self.index.get(p)).is_some_and(|&p| {
                hidden.get(p).copied().unwrap_or(false)
                    || self.ops.get(p).is_some_and(|parent| prunes_children(&parent.op))
            });
            if let Some(slot) = hidden.get_mut(i) {
                *slot = hide;
            }
            if !hide {
                out.push(i);
            }
        }
        out
    }

    /// One page of the visible operations starting at `offset`, and the offset of the next page.
    pub(super) fn page(&self, offset: usize, page_size: Option<usize>) -> (Vec<Operation>, Option<usize>) {
        let visible = self.visible();
        let end = match page_size {
            Some(n) => offset.saturating_add(n.max(1)).min(visible.len()),
            None => visible.len(),
        };
        let ops = visible
            .get(offset.min(end)..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.ops.get(i).map(|e| e.op.clone()))
            .collect();
        (ops, (end < visible.len()).then_some(end))
    }

    /// True when something can wake the execution: a STEP waiting for its retry delay, or a WAIT,
    /// CALLBACK or CHAINED_INVOKE in progress.
    pub(super) fn has_pending_operations(&self) -> bool {
        self.ops.iter().any(|e| match e.op.op_type {
            OperationType::Step => e.op.status == OperationStatus::Pending,
            OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
                e.op.status == OperationStatus::Started
            }
            _ => false,
        })
    }

    /// When operation `i`'s timer fires, if it has one armed.
    fn due(&self, i: usize) -> Option<Timestamp> {
        self.ops.get(i).and_then(OpEntry::due)
    }

    /// The earliest armed timer.
    pub(super) fn next_timer(&self) -> Option<Timestamp> {
        self.timers.iter().filter_map(|&i| self.due(i)).min()
    }

    /// Fires every timer due at `now`, in due order: WAIT → SUCCEEDED (+ `WaitSucceeded`), PENDING
    /// STEP → READY (no event), CALLBACK → TIMED_OUT (+ `CallbackTimedOut`). Returns how many fired.
    pub(super) fn fire_due(&mut self, now: Timestamp) -> usize {
        if self.status.is_terminal() {
            return 0;
        }
        let mut due: Vec<(Timestamp, usize)> = Vec::new();
        let mut disarmed = Vec::new();
        for &i in &self.timers {
            match self.due(i) {
                Some(t) if t <= now => due.push((t, i)),
                Some(_) => {}
                None => disarmed.push(i),
            }
        }
        for i in disarmed {
            self.timers.remove(&i);
        }
        due.sort_unstable();
        for &(at, i) in &due {
            self.timers.remove(&i);
            self.fire(i, at, now);
        }
        due.len()
    }

    fn fire(&mut self, i: usize, at: Timestamp, now: Timestamp) {
        let Some(entry) = self.ops.get_mut(i) else { return };
        let op = &mut entry.op;
        let event = match op.op_type {
            OperationType::Wait => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                Some((EventType::WaitSucceeded, EventDetails { duration: entry.wait_seconds, ..Default::default() }))
            }
            OperationType::Step => {
                op.status = OperationStatus::Ready;
                if let Some(details) = op.step_details.as_mut() {
                    details.next_attempt_timestamp = None;
                }
                None
            }
            OperationType::Callback => {
                let heartbeat =
                    entry.heartbeat.is_some_and(|(_, t)| t <= at) && entry.callback_deadline.is_none_or(|t| t > at);
                let error = if heartbeat {
                    ErrorObject {
                        error_type: Some("Callback.Heartbeat".into()),
                        error_message: Some("Callback heartbeat timed out".into()),
                        ..Default::default()
                    }
                } else {
                    ErrorObject {
                        error_type: Some("Callback.Timeout".into()),
                        error_message: Some("Callback timed out".into()),
                        ..Default::default()
                    }
                };
                op.status = OperationStatus::TimedOut;
                op.end_timestamp = Some(now);
                op.callback_details.get_or_insert_with(Default::default).error = Some(Box::new(error.clone()));
                Some((
                    EventType::CallbackTimedOut,
                    EventDetails { error: Some(EventError::full(error)), ..Default::default() },
                ))
            }
            _ => None,
        };
        let id = op.id.clone();
        if let Some((event_type, details)) = event {
            let op = op.clone();
            self.push_event(event_type, Some(&op), details, now);
        }
        self.touch(i);
        self.updated_ids.push(id);
    }

    /// Appends an event about `op` (or about the execution when `None`).
    pub(super) fn push_event(
        &mut self,
        event_type: EventType,
        op: Option<&Operation>,
        details: EventDetails,
        now: Timestamp,
    ) {
        let event_id = self.history.len() as u64 + 1;
        self.history.push(HistoryEvent {
            event_type,
            sub_type: op.and_then(|o| o.sub_type.clone()),
            event_id,
            id: op.map(|o| o.id.clone()),
            name: op.and_then(|o| o.name.clone()),
            event_timestamp: now,
            parent_id: op.and_then(|o| o.parent_id.clone()),
            details,
        });
    }

    /// The EXECUTION operation record.
    pub(super) fn execution_op(&self) -> Option<&Operation> {
        self.get(&self.execution_id).map(|e| &e.op)
    }

    /// Marks the execution terminal (from an EXECUTION update or an envelope); events come later.
    pub(super) fn finish(
        &mut self,
        status: ExecutionStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
        now: Timestamp,
    ) {
        self.status = status;
        self.result = result;
        self.error = error;
        self.token = None;
        self.last_response = None;
        if let Some(&i) = self.index.get(&self.execution_id) {
            if let Some(entry) = self.ops.get_mut(i) {
                entry.op.status = match status {
                    ExecutionStatus::Succeeded => OperationStatus::Succeeded,
                    ExecutionStatus::Failed => OperationStatus::Failed,
                    ExecutionStatus::TimedOut => OperationStatus::TimedOut,
                    ExecutionStatus::Stopped => OperationStatus::Stopped,
                    ExecutionStatus::Running => OperationStatus::Started,
                };
                entry.op.end_timestamp = Some(now);
            }
            self.touch(i);
        }
    }
}

/// A completed CONTEXT whose children are dropped from the state.
fn prunes_children(op: &Operation) -> bool {
    op.op_type == OperationType::Context
        && op.status.is_terminal()
        && op.context_details.as_ref().and_then(|d| d.replay_children) != Some(true)
}

/// `now + seconds`.
pub(super) fn after(now: Timestamp, seconds: u64) -> Timestamp {
    now.plus(Duration::from_secs(seconds))
}
