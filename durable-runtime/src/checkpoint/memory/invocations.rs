//! Invocations: the envelope that starts one (a fresh token, the first state page), and the outcome
//! that ends it (validated as the service does, counted toward the failed-invocation limit, closing
//! the execution when it finished).

use super::client::page_marker;
use super::executions::propagate_to_caller;
use super::state::{CurrentInvocation, StoredExecution};
use super::{MemoryError, MemoryService};
use crate::protocol::history::{EventDetails, EventError, EventPayload, EventType, ExecutionStatus};
use crate::protocol::ids::uuid_v4;
use crate::protocol::{ErrorObject, ExecutionState, InvocationInput, InvocationOutput, InvocationStatus, Timestamp};

/// After more than this many consecutive failed invocations the execution FAILs with the last error.
pub const MAX_CONSECUTIVE_FAILED_INVOCATIONS: u32 = 5;

/// `ErrorType` recorded when an injected crash killed the invocation.
pub const EXIT_ERROR_TYPE: &str = "Runtime.ExitError";

/// `ErrorType` recorded when the handler answered with an envelope the service rejects.
pub const INVALID_OUTPUT_ERROR_TYPE: &str = "InvalidInvocationOutput";

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

impl MemoryService {
    /// Starts an invocation: mints a fresh checkpoint token (every earlier one becomes stale) and
    /// builds the envelope with the first page of the execution state (`NextMarker` set when more
    /// pages exist) and the ids the service changed since the previous invocation.
    pub fn invocation_input(&self, arn: &str) -> Result<InvocationInput, MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let page_size = inner.page_size;
        let exec = inner.execution_mut(arn)?;
        if exec.status.is_terminal() {
            return Err(MemoryError::ExecutionComplete(arn.to_owned()));
        }
        let token = exec.rotate_token();
        exec.current = Some(CurrentInvocation { request_id: uuid_v4(), start: now });
        exec.crashed = false;
        let (operations, next) = exec.page(0, page_size);
        exec.clear_delta();
        Ok(InvocationInput {
            durable_execution_arn: arn.to_owned(),
            checkpoint_token: token,
            initial_execution_state: ExecutionState {
                operations,
                next_marker: next.map(|offset| page_marker(exec.token_seq, offset)),
            },
            updated_operation_ids: Some(std::mem::take(&mut exec.updated_ids)),
        })
    }

    /// Records the end of the invocation in flight: `Ok(envelope)` when the handler answered, or
    /// `Err(error)` for an invocation error. Appends `InvocationCompleted` and, when the execution
    /// ends, `ExecutionSucceeded` / `ExecutionFailed` right after it.
    ///
    /// The envelope is validated like the service does: PENDING is only accepted while a STEP is
    /// PENDING or a WAIT / CALLBACK / CHAINED_INVOKE is STARTED; FAILED with a `Result` and SUCCEEDED
    /// with an `Error` are rejected. A rejected envelope, an invocation error or an injected crash
    /// count as a failed invocation; after more than [`MAX_CONSECUTIVE_FAILED_INVOCATIONS`] in a row
    /// the execution FAILs with the last error. An execution already finished by an EXECUTION update
    /// keeps that update's result or error.
    pub fn complete_invocation(
        &self,
        arn: &str,
        outcome: Result<InvocationOutput, ErrorObject>,
    ) -> Result<CompletedInvocation, MemoryError> {
        self.end_invocation(arn, outcome, true)
    }

    /// Records that the invocation in flight was cut off by the service itself (it stopped while
    /// the function ran): `InvocationCompleted` with `error`, and the execution is invoked again.
    /// Unlike a failure of the function, it does not count toward
    /// [`MAX_CONSECUTIVE_FAILED_INVOCATIONS`]; the invocation's checkpoint token stops working.
    pub fn interrupt_invocation(&self, arn: &str, error: ErrorObject) -> Result<CompletedInvocation, MemoryError> {
        self.end_invocation(arn, Err(error), false)
    }

    fn end_invocation(
        &self,
        arn: &str,
        outcome: Result<InvocationOutput, ErrorObject>,
        counts: bool,
    ) -> Result<CompletedInvocation, MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let exec = inner.execution_mut(arn)?;
        if exec.closed {
            return Err(MemoryError::ExecutionComplete(arn.to_owned()));
        }
        let current = exec.current.take().unwrap_or_else(|| CurrentInvocation { request_id: uuid_v4(), start: now });
        let crashed = std::mem::take(&mut exec.crashed);
        let (output, invocation_error) = match outcome {
            _ if crashed => (None, Some(exit_error())),
            Err(error) => (None, Some(error)),
            Ok(output) => {
                let problem = if exec.status.is_terminal() { None } else { check_output(exec, &output) };
                (Some(output), problem)
            }
        };
        let details = EventDetails {
            start_timestamp: Some(current.start),
            end_timestamp: Some(now),
            request_id: Some(current.request_id.clone()),
            error: invocation_error.clone().map(EventError::full),
            ..Default::default()
        };
        exec.push_event(EventType::InvocationCompleted, None, details, now);
        exec.invocations.push(InvocationRecord {
            request_id: current.request_id,
            start_timestamp: current.start,
            end_timestamp: now,
            output: output.clone(),
            error: invocation_error.clone(),
        });
        if !exec.status.is_terminal() {
            match (&invocation_error, output) {
                (Some(_), _) if !counts => {}
                (Some(error), _) => {
                    exec.consecutive_failures += 1;
                    if exec.consecutive_failures > MAX_CONSECUTIVE_FAILED_INVOCATIONS {
                        exec.finish(ExecutionStatus::Failed, None, Some(error.clone()), now);
                    }
                }
                (None, Some(output)) => {
                    exec.consecutive_failures = 0;
                    match output.status {
                        InvocationStatus::Succeeded => {
                            exec.finish(ExecutionStatus::Succeeded, output.result, None, now)
                        }
                        InvocationStatus::Failed => {
                            exec.finish(ExecutionStatus::Failed, None, Some(output.error.unwrap_or_default()), now)
                        }
                        InvocationStatus::Pending => {}
                    }
                }
                (None, None) => {}
            }
        }
        if !counts && !exec.status.is_terminal() {
            // The cut-off invocation's process may still be alive: its token must stop working.
            exec.rotate_token();
        }
        let status = exec.status;
        if status.is_terminal() {
            close(exec, now);
            propagate_to_caller(&mut inner, arn, now);
        }
        Ok(CompletedInvocation { status, invocation_error })
    }

    /// True when the service would invoke the execution now: it is running and has never been
    /// invoked, something changed since its last invocation started (a timer fired, a callback was
    /// answered, a chained invoke finished), or its last invocation failed.
    pub fn needs_invocation(&self, arn: &str) -> bool {
        let inner = self.lock();
        let Some(exec) = inner.executions.get(arn) else { return false };
        !exec.status.is_terminal()
            && (exec.invocations.last().is_none_or(|last| last.error.is_some()) || !exec.updated_ids.is_empty())
    }
}

/// The error of an invocation killed by an injected crash.
fn exit_error() -> ErrorObject {
    ErrorObject {
        error_type: Some(EXIT_ERROR_TYPE.to_owned()),
        error_message: Some("RequestId: the function process exited before completing the request".to_owned()),
        ..Default::default()
    }
}

/// Why the service rejects `output`, if it does (protocol §1.2).
fn check_output(exec: &StoredExecution, output: &InvocationOutput) -> Option<ErrorObject> {
    let message = match output.status {
        InvocationStatus::Succeeded if output.error.is_some() => "Cannot provide an Error for SUCCEEDED status.",
        InvocationStatus::Failed if output.result.is_some() => "Cannot provide a Result for FAILED status.",
        InvocationStatus::Pending if !exec.has_pending_operations() => {
            "Cannot return PENDING status with no pending operations."
        }
        _ => return None,
    };
    Some(ErrorObject {
        error_type: Some(INVALID_OUTPUT_ERROR_TYPE.to_owned()),
        error_message: Some(message.to_owned()),
        ..Default::default()
    })
}

/// Appends the terminal execution event of a finished execution (once).
pub(super) fn close(exec: &mut StoredExecution, now: Timestamp) {
    if exec.closed {
        return;
    }
    exec.closed = true;
    let op = exec.execution_op().cloned();
    let (event_type, details) = match exec.status {
        ExecutionStatus::Succeeded => (
            EventType::ExecutionSucceeded,
            EventDetails {
                result: Some(EventPayload { payload: exec.result.clone(), truncated: false }),
                ..Default::default()
            },
        ),
        status => {
            let event_type = match status {
                ExecutionStatus::TimedOut => EventType::ExecutionTimedOut,
                ExecutionStatus::Stopped => EventType::ExecutionStopped,
                _ => EventType::ExecutionFailed,
            };
            let error = exec.error.clone().unwrap_or_default();
            (event_type, EventDetails { error: Some(EventError::full(error)), ..Default::default() })
        }
    };
    exec.push_event(event_type, op.as_ref(), details, now);
}
