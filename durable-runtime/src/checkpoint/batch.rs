//! The checkpoint queue: updates wait here until the invocation's driver sends them, and are cut into
//! requests that the service accepts.
//!
//! A request carries at most `MAX_UPDATES_PER_REQUEST` updates and at most `MAX_REQUEST_BYTES` of
//! JSON; updates keep their order; an operation appears at most once per request, except that a STEP
//! or CONTEXT may carry its START followed by one other action; an EXECUTION update ends its request.

use crate::protocol::{OperationAction, OperationType, OperationUpdate};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::protocol::limits::{MAX_REQUEST_BYTES, MAX_UPDATES_PER_REQUEST};

/// Room kept for the request's own members (tokens, brackets).
const REQUEST_OVERHEAD: usize = 1024;

struct Queued {
    update: OperationUpdate,
    size: usize,
    /// When it was queued, for the batching delay.
    at: Instant,
}

/// Updates waiting to be sent, numbered in order.
#[derive(Default)]
pub(crate) struct Queue {
    items: VecDeque<Queued>,
    /// Sequence number of the first item in `items`.
    head_seq: u64,
}

/// One request's worth of updates.
pub(crate) struct Batch {
    pub(crate) updates: Vec<OperationUpdate>,
    /// Sequence number just past the last update of the batch.
    pub(crate) end_seq: u64,
}

impl Queue {
    /// Appends an update and returns its sequence number.
    pub(crate) fn push(&mut self, update: OperationUpdate) -> u64 {
        let size = serde_json::to_vec(&update).map(|v| v.len()).unwrap_or(MAX_REQUEST_BYTES) + 1;
        self.items.push_back(Queued { update, size, at: Instant::now() });
        self.head_seq + self.items.len() as u64 - 1
    }

    /// How many updates wait.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Sequence number of the oldest waiting update (the next one a batch would take).
    pub(crate) fn head_seq(&self) -> u64 {
        self.head_seq
    }

    /// When the oldest waiting update was queued.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.items.front().map(|q| q.at)
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Takes the longest prefix of the queue that forms a valid request (at least one update).
    pub(crate) fn take_batch(&mut self) -> Option<Batch> {
        let mut bytes = REQUEST_OVERHEAD;
        let mut count = 0;
        let mut seen: HashMap<&str, (usize, bool)> = HashMap::new();
        for queued in &self.items {
            if count == MAX_UPDATES_PER_REQUEST || (count > 0 && bytes + queued.size > MAX_REQUEST_BYTES) {
                break;
            }
            let update = &queued.update;
            let allowed = match seen.get(update.id.as_str()) {
                None => true,
                Some(&(times, first_was_start)) => {
                    times == 1
                        && first_was_start
                        && update.action != OperationAction::Start
                        && matches!(update.op_type, OperationType::Step | OperationType::Context)
                }
            };
            if !allowed {
                break;
            }
            let entry = seen.entry(update.id.as_str()).or_insert((0, update.action == OperationAction::Start));
            entry.0 += 1;
            bytes += queued.size;
            count += 1;
            if update.op_type == OperationType::Execution {
                break;
            }
        }
        if count == 0 {
            return None;
        }
        let updates: Vec<OperationUpdate> = self.items.drain(..count).map(|q| q.update).collect();
        self.head_seq += count as u64;
        Some(Batch { updates, end_seq: self.head_seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, action: OperationAction) -> OperationUpdate {
        OperationUpdate::new(id, OperationType::Step, action)
    }

    #[test]
    fn splits_by_count() {
        let mut q = Queue::default();
        for i in 0..300 {
            q.push(step(&format!("s{i}"), OperationAction::Start));
        }
        let a = q.take_batch().unwrap();
        let b = q.take_batch().unwrap();
        assert_eq!((a.updates.len(), a.end_seq), (250, 250));
        assert_eq!((b.updates.len(), b.end_seq), (50, 300));
        assert!(q.take_batch().is_none());
    }

    #[test]
    fn splits_by_size_under_the_cap() {
        let mut q = Queue::default();
        for i in 0..16 {
            let mut u = step(&format!("s{i}"), OperationAction::Succeed);
            u.payload = Some("x".repeat(64 * 1024));
            q.push(u);
        }
        let mut total = 0;
        while let Some(batch) = q.take_batch() {
            let size = serde_json::to_vec(&batch.updates).unwrap().len();
            assert!(size + 200 < MAX_REQUEST_BYTES, "{size}");
            total += batch.updates.len();
        }
        assert_eq!(total, 16);
    }

    #[test]
    fn start_and_one_completion_share_a_request_but_nothing_more() {
        let mut q = Queue::default();
        q.push(step("a", OperationAction::Start));
        q.push(step("a", OperationAction::Succeed));
        q.push(step("a", OperationAction::Start));
        let first = q.take_batch().unwrap();
        assert_eq!(first.updates.len(), 2);
        let mut q = Queue::default();
        let mut w = OperationUpdate::new("w", OperationType::Wait, OperationAction::Start);
        q.push(w.clone());
        w.action = OperationAction::Cancel;
        q.push(w);
        assert_eq!(q.take_batch().unwrap().updates.len(), 1);
    }

    #[test]
    fn execution_update_ends_its_request() {
        let mut q = Queue::default();
        q.push(OperationUpdate::new("e", OperationType::Execution, OperationAction::Succeed));
        q.push(step("b", OperationAction::Start));
        assert_eq!(q.take_batch().unwrap().updates.len(), 1);
        assert_eq!(q.take_batch().unwrap().updates.len(), 1);
    }
}
