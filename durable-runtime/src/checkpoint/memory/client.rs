//! The checkpoint API a function calls: `CheckpointDurableExecution` (tokens, idempotent retries,
//! whole-batch validation, atomic application, deltas, injected failures and crashes) and
//! `GetDurableExecutionState` (pages), as the [`CheckpointClient`] trait and synchronously.

use super::executions::register;
use super::faults::hit_updates;
use super::state::LastResponse;
use super::validate::validate;
use super::{CrashPoint, Fault, FaultHit, Inner, MemoryService};
use crate::checkpoint::{BoxFuture, CheckpointClient, CheckpointError, ErrorClass};
use crate::protocol::Timestamp;
use crate::protocol::{CheckpointRequest, CheckpointResponse, ExecutionState};
use std::sync::Arc;
use std::time::Duration;

fn invalid_parameter(message: impl Into<String>) -> CheckpointError {
    let message = message.into();
    CheckpointError::classify(Some(400), Some("InvalidParameterValueException"), &message)
}

fn stale_token() -> CheckpointError {
    invalid_parameter("Invalid Checkpoint Token: the token was already used, rotated, or never issued")
}

fn not_found(arn: &str) -> CheckpointError {
    CheckpointError::classify(
        Some(404),
        Some("ResourceNotFoundException"),
        &format!("Durable execution not found: {arn}"),
    )
}

fn crash_error() -> CheckpointError {
    CheckpointError::new(
        ErrorClass::Retryable,
        None,
        None,
        "the function process exited while this checkpoint was in flight (injected crash)",
    )
}

fn lost_response_error() -> CheckpointError {
    CheckpointError::new(
        ErrorClass::Retryable,
        None,
        None,
        "the connection closed before the checkpoint response arrived (injected lost response)",
    )
}

fn service_error() -> CheckpointError {
    CheckpointError::classify(Some(500), Some("ServiceException"), "internal service error (injected)")
}

pub(super) fn page_marker(seq: u64, offset: usize) -> String {
    format!("{seq}:{offset}")
}

impl MemoryService {
    /// Counts one checkpoint call: its position, and the positional fault set for it.
    fn next_call(&self) -> (usize, Option<Fault>) {
        let mut inner = self.lock();
        let call = inner.calls;
        inner.calls += 1;
        (call, inner.faults.remove(&call))
    }

    /// `CheckpointDurableExecution`, synchronously (the trait method adds the latency).
    #[cfg(test)]
    pub(super) fn checkpoint_now(
        &self,
        arn: &str,
        request: CheckpointRequest,
    ) -> Result<CheckpointResponse, CheckpointError> {
        let (call, fault) = self.next_call();
        self.checkpoint_call(arn, request, call, fault)
    }

    /// Records that the positional `fault` fired at `call` on `request`.
    fn record_hit(&self, arn: &str, request: &CheckpointRequest, call: usize, fault: &Fault) {
        let mut inner = self.lock();
        let updates = inner.executions.get(arn).map(|e| hit_updates(e, &request.updates)).unwrap_or_default();
        inner.fault_hits.push(FaultHit { call, fault: fault.clone(), execution_arn: arn.to_owned(), updates });
    }

    /// One checkpoint call at position `call`, with the positional `fault` set for it.
    fn checkpoint_call(
        &self,
        arn: &str,
        request: CheckpointRequest,
        call: usize,
        fault: Option<Fault>,
    ) -> Result<CheckpointResponse, CheckpointError> {
        let crash = {
            let mut inner = self.lock();
            let exec = inner.executions.get_mut(arn).ok_or_else(|| not_found(arn))?;
            exec.requests.push(request.clone());
            if let Some((n, error)) = inner.fail_next.as_mut() {
                let error = error.clone();
                *n -= 1;
                if *n == 0 {
                    inner.fail_next = None;
                }
                return Err(error);
            }
            inner.crash.clone()
        };
        if let Some(fault) = &fault {
            self.record_hit(arn, &request, call, fault);
        }
        // Faults that apply nothing fire before the service looks at the request.
        match fault {
            Some(Fault::ServiceError) => return Err(service_error()),
            Some(Fault::StaleToken) => {
                self.expire_token(arn);
                return Err(stale_token());
            }
            Some(Fault::CrashBefore) => {
                self.crash(arn);
                return Err(crash_error());
            }
            _ => {}
        }
        let lose_response = fault == Some(Fault::LostResponse);
        let positional_crash = fault == Some(Fault::CrashAfter);
        // The predicate is user code: run it without holding the lock.
        let crash_at = crash.as_ref().and_then(|(point, predicate)| {
            request.updates.iter().position(|u| predicate(u)).map(|i| (*point, i, predicate.clone()))
        });
        let mut inner = self.lock();
        let now = inner.now();
        let exec = inner.executions.get_mut(arn).ok_or_else(|| not_found(arn))?;
        if let Some(response) =
            request.client_token.as_deref().and_then(|ct| exec.repeat_last(ct, &request.checkpoint_token))
        {
            return Ok(response);
        }
        if exec.token.as_deref() != Some(request.checkpoint_token.as_str()) {
            return Err(stale_token());
        }
        validate(exec, &request.updates).map_err(invalid_parameter)?;
        if positional_crash {
            return Err(crash_mid_request(&mut inner, arn, &request, true, now));
        }
        if let Some((point, _, predicate)) = crash_at {
            let armed = inner.crash.as_ref().is_some_and(|(_, p)| Arc::ptr_eq(p, &predicate));
            if armed {
                inner.crash = None;
                return Err(crash_mid_request(&mut inner, arn, &request, point == CrashPoint::AfterApply, now));
            }
        }
        let mut started = Vec::new();
        let exec = inner.execution_mut(arn).map_err(|_| not_found(arn))?;
        for update in &request.updates {
            started.push((exec.apply(update, now), update.id.clone()));
        }
        let token = exec.token.is_some().then(|| exec.rotate_token());
        let (positions, operations) = exec.take_delta();
        if let (Some(ct), Some(next)) = (&request.client_token, &token) {
            exec.last_response = Some(LastResponse {
                client_token: ct.clone(),
                request_token: request.checkpoint_token.clone(),
                next_token: next.clone(),
                operations: positions,
            });
        }
        let response = CheckpointResponse {
            checkpoint_token: token,
            new_execution_state: Some(ExecutionState { operations, next_marker: None }),
        };
        register(&mut inner, arn, started, now);
        if lose_response {
            return Err(lost_response_error());
        }
        Ok(response)
    }

    /// `GetDurableExecutionState`, synchronously.
    pub(super) fn get_state_now(
        &self,
        arn: &str,
        token: &str,
        marker: Option<&str>,
    ) -> Result<ExecutionState, CheckpointError> {
        self.get_state_page(arn, token, marker, None)
    }

    /// `GetDurableExecutionState` with the caller's `MaxItems`: one page of at most `max_items`
    /// operations (and at most the configured page size), starting at `marker`. Does not consume the
    /// token.
    pub fn get_state_page(
        &self,
        arn: &str,
        token: &str,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<ExecutionState, CheckpointError> {
        let inner = self.lock();
        let page_size = match (inner.page_size, max_items) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let exec = inner.executions.get(arn).ok_or_else(|| not_found(arn))?;
        if exec.token.as_deref() != Some(token) {
            return Err(stale_token());
        }
        let offset = match marker.filter(|m| !m.is_empty()) {
            None => 0,
            Some(m) => {
                let parsed = m.split_once(':').and_then(|(seq, offset)| {
                    let seq = seq.parse::<u64>().ok()?;
                    let offset = offset.parse::<usize>().ok()?;
                    (seq == exec.token_seq).then_some(offset)
                });
                parsed.ok_or_else(|| invalid_parameter(format!("Invalid marker: {m}")))?
            }
        };
        let (operations, next) = exec.page(offset, page_size);
        Ok(ExecutionState { operations, next_marker: next.map(|o| page_marker(exec.token_seq, o)) })
    }

    fn latency(&self) -> Duration {
        self.lock().latency
    }
}

impl CheckpointClient for MemoryService {
    fn checkpoint(
        &self,
        execution_arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>> {
        let service = self.clone();
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let (call, fault) = service.next_call();
            let mut latency = service.latency();
            if let Some(Fault::Latency(extra)) = &fault {
                service.record_hit(&arn, &request, call, &Fault::Latency(*extra));
                latency += *extra;
            }
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let fault = fault.filter(|f| !matches!(f, Fault::Latency(_)));
            service.checkpoint_call(&arn, request, call, fault)
        })
    }

    fn get_state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> BoxFuture<Result<ExecutionState, CheckpointError>> {
        let service = self.clone();
        let (arn, token, marker) = (execution_arn.to_owned(), checkpoint_token.to_owned(), marker.map(str::to_owned));
        Box::pin(async move {
            let latency = service.latency();
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            service.get_state_now(&arn, &token, marker.as_deref())
        })
    }
}

/// Kills the invocation in the middle of `request`: the request is applied whole (`applied`) or not
/// at all, the invocation's token stops working, and its caller gets the error of a process exit.
fn crash_mid_request(
    inner: &mut Inner,
    arn: &str,
    request: &CheckpointRequest,
    applied: bool,
    now: Timestamp,
) -> CheckpointError {
    let Ok(exec) = inner.execution_mut(arn) else { return not_found(arn) };
    let mut started = Vec::new();
    if applied {
        for update in &request.updates {
            started.push((exec.apply(update, now), update.id.clone()));
        }
    }
    exec.crashed = true;
    if exec.token.is_some() {
        exec.rotate_token();
    }
    register(inner, arn, started, now);
    crash_error()
}
