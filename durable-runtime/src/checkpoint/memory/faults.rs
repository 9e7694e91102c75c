//! What a test sets on the service to exercise a function: paging, network latency, failed
//! checkpoints, a crash of the function process, a token rotated behind the caller's back.

use super::MemoryService;
use crate::checkpoint::CheckpointError;
use crate::protocol::OperationUpdate;
use std::sync::Arc;
use std::time::Duration;

/// Where an injected crash happens, relative to the request that carries the matching update (see
/// [`MemoryService::crash_on`]). A request is applied whole or not at all, as by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// The process dies before the request reaches the service: none of its updates is applied.
    BeforeApply,
    /// The process dies right after the service applied the request: all of its updates are
    /// applied, and the response is lost.
    AfterApply,
}

/// Which update an injected crash hits.
pub(super) type Predicate = Arc<dyn Fn(&OperationUpdate) -> bool + Send + Sync + 'static>;

impl MemoryService {
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

    /// Simulates the function process dying at the request carrying the first update matching
    /// `predicate` (one-shot), as a process exit would.
    ///
    /// With [`CrashPoint::BeforeApply`] nothing of that request is applied, with
    /// [`CrashPoint::AfterApply`] all of it; the call returns a retryable error and the token is
    /// rotated, so nothing the dead invocation still has queued or sends later is applied.
    /// [`Self::complete_invocation`] then records the invocation's `InvocationCompleted` with
    /// `ErrorType` `Runtime.ExitError`, whatever the invocation returned.
    pub fn crash_on(&self, point: CrashPoint, predicate: impl Fn(&OperationUpdate) -> bool + Send + Sync + 'static) {
        self.lock().crash = Some((point, Arc::new(predicate)));
    }

    /// Simulates the function process of the running invocation of `arn` dying now: every update it
    /// has not had applied yet (queued, or sent later) is lost, exactly as with a process exit, and
    /// [`Self::complete_invocation`] records `Runtime.ExitError`. The code of the invocation may go
    /// on running in this process, but nothing it sends is applied any more.
    pub fn crash(&self, arn: &str) {
        if let Ok(exec) = self.lock().execution_mut(arn) {
            exec.crashed = true;
            if exec.token.is_some() {
                exec.rotate_token();
            }
        }
    }

    /// Rotates the execution's token behind the caller's back: the next checkpoint with the old token
    /// gets the stale-token error. Does nothing for an unknown or finished execution.
    pub fn expire_token(&self, arn: &str) {
        if let Ok(exec) = self.lock().execution_mut(arn) {
            if exec.token.is_some() {
                exec.rotate_token();
            }
        }
    }
}
