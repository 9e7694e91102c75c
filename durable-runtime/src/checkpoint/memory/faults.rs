//! What a test sets on the service to exercise a function: paging, network latency, failed
//! checkpoints, a crash of the function process, a token rotated behind the caller's back, and
//! positional faults ([`MemoryService::fault_at`]) that hit the k-th checkpoint call.

use super::state::StoredExecution;
use super::MemoryService;
use crate::checkpoint::CheckpointError;
use crate::protocol::{OperationAction, OperationSubType, OperationType, OperationUpdate};
use std::fmt;
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

/// A fault injected at one position: the `call`-th checkpoint call the service receives (see
/// [`MemoryService::fault_at`]). Every fault but [`Fault::Latency`] makes the invocation in flight
/// fail with a retryable error; none of them may change what the execution ends with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The process dies before the request reaches the service: nothing of it is applied, the
    /// invocation ends with `Runtime.ExitError` (as [`CrashPoint::BeforeApply`]).
    CrashBefore,
    /// The process dies right after the service applied the request: all of it is applied, the
    /// response is lost with the process (as [`CrashPoint::AfterApply`]).
    CrashAfter,
    /// The service answers HTTP 500 `ServiceException` without applying anything; the token stays
    /// valid.
    ServiceError,
    /// The token was rotated behind the caller's back: HTTP 400 `InvalidParameterValueException`
    /// "Invalid Checkpoint Token…" (retryable), nothing applied.
    StaleToken,
    /// The service applied the request, but its response never reached the caller, which gets a
    /// retryable network error. A retry with the same `ClientToken` gets the original response.
    LostResponse,
    /// The call takes this much longer (real time, before it reaches the service).
    Latency(Duration),
}

impl Fault {
    /// The faults a fault matrix tries at every position by default: every kind, latency 2 ms.
    pub fn all() -> Vec<Fault> {
        vec![
            Fault::CrashBefore,
            Fault::CrashAfter,
            Fault::ServiceError,
            Fault::StaleToken,
            Fault::LostResponse,
            Fault::Latency(Duration::from_millis(2)),
        ]
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CrashBefore => f.write_str("crash before apply"),
            Self::CrashAfter => f.write_str("crash after apply"),
            Self::ServiceError => f.write_str("service error (500)"),
            Self::StaleToken => f.write_str("stale token"),
            Self::LostResponse => f.write_str("lost response"),
            Self::Latency(d) => write!(f, "latency {d:?}"),
        }
    }
}

/// An operation update a positional fault hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitUpdate {
    /// The operation's Id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its type.
    pub op_type: OperationType,
    /// Its subtype.
    pub sub_type: Option<OperationSubType>,
    /// What the update did.
    pub action: OperationAction,
    /// The names of the enclosing contexts, outermost first (`?` for an unnamed one).
    pub path: Vec<String>,
}

impl fmt::Display for HitUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.sub_type {
            Some(sub) => format!("{}/{}", self.op_type, sub),
            None => self.op_type.to_string(),
        };
        write!(f, "{} {kind} `{}`", self.action, self.name.as_deref().unwrap_or("?"))?;
        if !self.path.is_empty() {
            write!(f, " in `{}`", self.path.join(" > "))?;
        }
        Ok(())
    }
}

/// A positional fault that fired: where, and which request it hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultHit {
    /// The position (0-based checkpoint call of the service).
    pub call: usize,
    /// The fault.
    pub fault: Fault,
    /// The execution that made the call.
    pub execution_arn: String,
    /// The updates of the request, in order (empty for a request with none).
    pub updates: Vec<HitUpdate>,
}

impl MemoryService {
    /// Injects `fault` at the `call`-th checkpoint call this service receives, counting every
    /// `CheckpointDurableExecution` call of every execution **from 0** (the first call is 0). Each
    /// position takes one fault (a later one replaces it); several positions can be set. A fault
    /// fires once; [`Self::fault_hits`] says which request it hit.
    ///
    /// ```
    /// use durable_runtime::checkpoint::memory::{Fault, MemoryService};
    ///
    /// let service = MemoryService::new();
    /// service.fault_at(0, Fault::CrashAfter); // the first checkpoint is applied, then the process dies
    /// service.fault_at(3, Fault::StaleToken);
    /// ```
    pub fn fault_at(&self, call: usize, fault: Fault) {
        self.lock().faults.insert(call, fault);
    }

    /// How many checkpoint calls the service has received (the next call's position).
    pub fn checkpoint_calls(&self) -> usize {
        self.lock().calls
    }

    /// The positional faults that fired, in order.
    pub fn fault_hits(&self) -> Vec<FaultHit> {
        self.lock().fault_hits.clone()
    }
}

/// What the request `updates` of `exec` touch, for a [`FaultHit`].
pub(super) fn hit_updates(exec: &StoredExecution, updates: &[OperationUpdate]) -> Vec<HitUpdate> {
    updates
        .iter()
        .map(|u| {
            let mut path = Vec::new();
            let mut parent = u.parent_id.clone();
            while let Some(id) = parent.take() {
                let Some(entry) = exec.get(&id) else { break };
                path.push(entry.op.name.clone().unwrap_or_else(|| "?".to_owned()));
                parent = entry.op.parent_id.clone();
                if path.len() > 64 {
                    break;
                }
            }
            path.reverse();
            HitUpdate {
                id: u.id.clone(),
                name: u.name.clone(),
                op_type: u.op_type.clone(),
                sub_type: u.sub_type.clone(),
                action: u.action.clone(),
                path,
            }
        })
        .collect()
}
