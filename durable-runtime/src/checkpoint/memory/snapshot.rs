//! Snapshots of one execution, for stores that persist the service's state (the local service keeps
//! one JSON file per execution) and restore it when a service starts again.

use super::state::StoredExecution;
use super::{ExecutionStatus, MemoryService};
use crate::protocol::{OperationType, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Format version written into every snapshot.
const SNAPSHOT_VERSION: u32 = 1;

/// Everything the service knows about one execution (operations, history, token, invocations,
/// timers), as a serializable value: [`MemoryService::snapshot`] takes one, [`MemoryService::restore`]
/// puts it back, possibly in another service. The JSON form is an implementation detail with a
/// `Version` member; it is not the wire protocol.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionSnapshot {
    version: u32,
    arn: String,
    /// The service's (virtual) time when the snapshot was taken.
    clock: Timestamp,
    execution: StoredExecution,
}

impl fmt::Debug for ExecutionSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionSnapshot")
            .field("arn", &self.arn)
            .field("status", &self.execution.status)
            .field("operations", &self.execution.ops.len())
            .field("events", &self.execution.history.len())
            .finish_non_exhaustive()
    }
}

impl ExecutionSnapshot {
    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The execution's status when the snapshot was taken.
    pub fn status(&self) -> ExecutionStatus {
        self.execution.status
    }

    /// The service's clock when the snapshot was taken.
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// True when an invocation had started and not completed when the snapshot was taken (the
    /// service stopped while the function was running).
    pub fn invocation_in_flight(&self) -> bool {
        self.execution.current.is_some()
    }

    /// True when the snapshot's format version is one this build reads.
    pub fn is_supported(&self) -> bool {
        self.version == SNAPSHOT_VERSION
    }
}

impl MemoryService {
    /// A snapshot of the execution `arn`, `None` for an unknown execution.
    pub fn snapshot(&self, arn: &str) -> Option<ExecutionSnapshot> {
        let inner = self.lock();
        let execution = inner.executions.get(arn)?.clone();
        Some(ExecutionSnapshot { version: SNAPSHOT_VERSION, arn: arn.to_owned(), clock: inner.now(), execution })
    }

    /// Puts a snapshot's execution into this service, replacing any execution with the same ARN, and
    /// routes its callbacks. The clock moves forward (never back) to the snapshot's clock, so timers
    /// armed in skipped time stay consistent. Chained-invoke links are not part of a snapshot.
    pub fn restore(&self, snapshot: ExecutionSnapshot) {
        let ExecutionSnapshot { arn, clock, execution, .. } = snapshot;
        let mut inner = self.lock();
        let now = inner.now();
        inner.skipped += clock.since(now);
        for entry in &execution.ops {
            if entry.op.op_type != OperationType::Callback {
                continue;
            }
            if let Some(id) = entry.op.callback_details.as_ref().and_then(|d| d.callback_id.clone()) {
                inner.callbacks.insert(id, (arn.clone(), entry.op.id.clone()));
            }
        }
        inner.executions.insert(arn, execution);
    }
}
