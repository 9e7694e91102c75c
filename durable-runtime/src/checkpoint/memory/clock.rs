//! Virtual time: the service's clock (wall clock plus skipped time), skipping forward, and the
//! timers that skipping fires.

use super::state::StoredExecution;
use super::{Inner, MemoryService};
use crate::protocol::Timestamp;
use std::time::Duration;

impl Inner {
    pub(super) fn now(&self) -> Timestamp {
        Timestamp::now().plus(self.skipped)
    }

    /// Fires the due timers of every execution.
    fn fire_due(&mut self) -> usize {
        let now = self.now();
        let mut fired = 0;
        for (arn, exec) in &mut self.executions {
            let n = exec.fire_due(now);
            if n > 0 {
                self.changed.insert(arn.clone());
            }
            fired += n;
        }
        fired
    }
}

impl MemoryService {
    /// The service's current (virtual) time.
    pub fn now(&self) -> Timestamp {
        self.lock().now()
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
        self.lock().executions.get(arn).filter(|e| !e.status.is_terminal()).and_then(StoredExecution::next_timer)
    }
}
