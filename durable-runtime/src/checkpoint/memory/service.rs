//! The service's API: executions and invocations (what the runner calls), the checkpoint client
//! (what the function calls), callbacks, and read accessors.

use super::apply::{Applied, TargetExecution};
use super::state::{after, CurrentInvocation, Execution};
use super::validate::validate;
use super::{
    execution_arn, uuid, ChainedInvocation, CompletedInvocation, CrashPoint, Inner, InvocationRecord, MemoryError,
    MemoryService, DEFAULT_EXECUTION_TIMEOUT_SECONDS, EXIT_ERROR_TYPE, INVALID_OUTPUT_ERROR_TYPE,
    MAX_CONSECUTIVE_FAILED_INVOCATIONS,
};
use crate::checkpoint::{BoxFuture, CheckpointClient, CheckpointError, ErrorClass};
use crate::protocol::history::{EventDetails, EventError, EventPayload, EventType, ExecutionStatus, HistoryEvent};
use crate::protocol::{
    ChainedInvokeDetails, CheckpointRequest, CheckpointResponse, ErrorObject, ExecutionDetails, ExecutionState,
    InvocationInput, InvocationOutput, InvocationStatus, Operation, OperationStatus, OperationType, Timestamp,
};
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

fn page_marker(seq: u64, offset: usize) -> String {
    format!("{seq}:{offset}")
}

impl MemoryService {
    /// Starts an execution of `function_name` with the user's event `input_payload` (JSON text) and
    /// returns its ARN, `arn:aws:lambda:us-east-1:123456789012:function:<fn>:$LATEST/durable-execution/<name>/<id>`.
    /// Creates the STARTED EXECUTION operation (Id = the ARN's last segment) and records event 1,
    /// `ExecutionStarted`.
    pub fn start_execution(&self, function_name: &str, input_payload: Option<String>) -> String {
        let (name, execution_id) = (uuid(), uuid());
        let mut inner = self.lock();
        let now = inner.now();
        create_execution(&mut inner, function_name, name, execution_id, input_payload, now)
    }

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
        exec.current = Some(CurrentInvocation { request_id: uuid(), start: now });
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
        let mut inner = self.lock();
        let now = inner.now();
        let exec = inner.execution_mut(arn)?;
        if exec.closed {
            return Err(MemoryError::ExecutionComplete(arn.to_owned()));
        }
        let current = exec.current.take().unwrap_or_else(|| CurrentInvocation { request_id: uuid(), start: now });
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
        let status = exec.status;
        if status.is_terminal() {
            close(exec, now);
            propagate_to_caller(&mut inner, arn, now);
        }
        Ok(CompletedInvocation { status, invocation_error })
    }

    /// Answers a callback with success; `result` becomes `CallbackDetails.Result` verbatim.
    pub fn callback_success(&self, callback_id: &str, result: Option<String>) -> Result<(), MemoryError> {
        self.answer_callback(callback_id, |op| {
            op.status = OperationStatus::Succeeded;
            op.callback_details.get_or_insert_with(Default::default).result = result.clone();
            (
                EventType::CallbackSucceeded,
                EventDetails { result: result.map(EventPayload::full), ..Default::default() },
            )
        })
    }

    /// Answers a callback with failure; `error` becomes `CallbackDetails.Error` verbatim.
    pub fn callback_failure(&self, callback_id: &str, error: ErrorObject) -> Result<(), MemoryError> {
        self.answer_callback(callback_id, |op| {
            op.status = OperationStatus::Failed;
            op.callback_details.get_or_insert_with(Default::default).error = Some(error.clone());
            (EventType::CallbackFailed, EventDetails { error: Some(EventError::full(error)), ..Default::default() })
        })
    }

    /// Re-arms a callback's heartbeat timeout (no history event).
    pub fn callback_heartbeat(&self, callback_id: &str) -> Result<(), MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let (arn, op_id) = inner
            .callbacks
            .get(callback_id)
            .cloned()
            .ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        let exec = inner.execution_mut(&arn)?;
        let i = exec.index.get(&op_id).copied().ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        let entry = exec.ops.get_mut(i).ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        if entry.op.status != OperationStatus::Started || exec.status.is_terminal() {
            return Err(MemoryError::CallbackClosed(callback_id.to_owned()));
        }
        if let Some((seconds, deadline)) = entry.heartbeat.as_mut() {
            *deadline = after(now, *seconds);
        }
        Ok(())
    }

    fn answer_callback(
        &self,
        callback_id: &str,
        f: impl FnOnce(&mut Operation) -> (EventType, EventDetails),
    ) -> Result<(), MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let (arn, op_id) = inner
            .callbacks
            .get(callback_id)
            .cloned()
            .ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        let exec = inner.execution_mut(&arn)?;
        let i = exec.index.get(&op_id).copied().ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        let running = !exec.status.is_terminal();
        let entry = exec.ops.get_mut(i).ok_or_else(|| MemoryError::UnknownCallback(callback_id.to_owned()))?;
        if entry.op.status != OperationStatus::Started || !running {
            return Err(MemoryError::CallbackClosed(callback_id.to_owned()));
        }
        let (event_type, details) = f(&mut entry.op);
        entry.op.end_timestamp = Some(now);
        let op = entry.op.clone();
        exec.push_event(event_type, Some(&op), details, now);
        exec.touch(i);
        exec.updated_ids.push(op_id);
        Ok(())
    }

    /// Every operation of the execution in creation order, including the EXECUTION operation and
    /// children that the state pages leave out. Empty for an unknown execution.
    pub fn operations(&self, arn: &str) -> Vec<Operation> {
        self.lock().executions.get(arn).map(|e| e.ops.iter().map(|o| o.op.clone()).collect()).unwrap_or_default()
    }

    /// One operation by Id.
    pub fn operation(&self, arn: &str, id: &str) -> Option<Operation> {
        self.lock().executions.get(arn).and_then(|e| e.get(id)).map(|e| e.op.clone())
    }

    /// The execution's history events, in order.
    pub fn history(&self, arn: &str) -> Vec<HistoryEvent> {
        self.lock().executions.get(arn).map(|e| e.history.clone()).unwrap_or_default()
    }

    /// The execution's status, `None` for an unknown execution.
    pub fn execution_status(&self, arn: &str) -> Option<ExecutionStatus> {
        self.lock().executions.get(arn).map(|e| e.status)
    }

    /// The result string of a SUCCEEDED execution.
    pub fn execution_result(&self, arn: &str) -> Option<String> {
        self.lock().executions.get(arn).and_then(|e| e.result.clone())
    }

    /// The error of a FAILED execution.
    pub fn execution_error(&self, arn: &str) -> Option<ErrorObject> {
        self.lock().executions.get(arn).and_then(|e| e.error.clone())
    }

    /// The execution's invocations, in order.
    pub fn invocations(&self, arn: &str) -> Vec<InvocationRecord> {
        self.lock().executions.get(arn).map(|e| e.invocations.clone()).unwrap_or_default()
    }

    /// Every checkpoint request received for the execution, in order, including rejected ones.
    pub fn requests(&self, arn: &str) -> Vec<CheckpointRequest> {
        self.lock().executions.get(arn).map(|e| e.requests.clone()).unwrap_or_default()
    }

    /// The ARN of the execution the callback `callback_id` belongs to.
    pub fn callback_execution(&self, callback_id: &str) -> Option<String> {
        self.lock().callbacks.get(callback_id).map(|(arn, _)| arn.clone())
    }

    /// The execution's name (the ARN segment before the EXECUTION operation's Id).
    pub fn execution_name(&self, arn: &str) -> Option<String> {
        self.lock().executions.get(arn).map(|e| e.name.clone())
    }

    /// The chained invokes the execution `arn` started, in order, with the target executions the
    /// service created for them.
    pub fn chained_invocations(&self, arn: &str) -> Vec<ChainedInvocation> {
        let inner = self.lock();
        let Some(exec) = inner.executions.get(arn) else { return Vec::new() };
        let mut out: Vec<(usize, ChainedInvocation)> = inner
            .invokes
            .values()
            .filter(|c| c.caller_arn == arn)
            .map(|c| (exec.index.get(&c.operation_id).copied().unwrap_or(usize::MAX), c.clone()))
            .collect();
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, c)| c).collect()
    }

    /// The chained invoke that started the execution `arn`, if one did.
    pub fn chained_invocation_of(&self, arn: &str) -> Option<ChainedInvocation> {
        self.lock().invokes.get(arn).cloned()
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

    /// The ARNs of every execution started on this service.
    pub fn executions(&self) -> Vec<String> {
        self.lock().executions.keys().cloned().collect()
    }

    /// `CheckpointDurableExecution`, synchronously (the trait method adds the latency).
    pub(super) fn checkpoint_now(
        &self,
        arn: &str,
        request: CheckpointRequest,
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
        // The predicate is user code: run it without holding the lock.
        let crash_at = crash.as_ref().and_then(|(point, predicate)| {
            request.updates.iter().position(|u| predicate(u)).map(|i| (*point, i, predicate.clone()))
        });
        let mut inner = self.lock();
        let now = inner.now();
        let exec = inner.executions.get_mut(arn).ok_or_else(|| not_found(arn))?;
        if let (Some(ct), Some((last_ct, last_token, response))) = (&request.client_token, &exec.last_response) {
            if ct == last_ct && request.checkpoint_token == *last_token {
                return Ok(response.clone());
            }
        }
        if exec.token.as_deref() != Some(request.checkpoint_token.as_str()) {
            return Err(stale_token());
        }
        validate(exec, &request.updates).map_err(invalid_parameter)?;
        let mut started = Vec::new();
        if let Some((point, i, predicate)) = crash_at {
            let armed = inner.crash.as_ref().is_some_and(|(_, p)| std::sync::Arc::ptr_eq(p, &predicate));
            if armed {
                inner.crash = None;
                let exec = inner.executions.get_mut(arn).ok_or_else(|| not_found(arn))?;
                let applied = if point == CrashPoint::AfterApply { i + 1 } else { i };
                for update in request.updates.iter().take(applied) {
                    started.push((exec.apply(update, now), update.id.clone()));
                }
                exec.crashed = true;
                if exec.token.is_some() {
                    exec.rotate_token();
                }
                register(&mut inner, arn, started, now);
                return Err(crash_error());
            }
        }
        let exec = inner.executions.get_mut(arn).ok_or_else(|| not_found(arn))?;
        for update in &request.updates {
            started.push((exec.apply(update, now), update.id.clone()));
        }
        let token = exec.token.is_some().then(|| exec.rotate_token());
        let response = CheckpointResponse {
            checkpoint_token: token.clone(),
            new_execution_state: Some(ExecutionState { operations: exec.take_delta(), next_marker: None }),
        };
        if let (Some(ct), Some(_)) = (&request.client_token, &token) {
            exec.last_response = Some((ct.clone(), request.checkpoint_token.clone(), response.clone()));
        }
        register(&mut inner, arn, started, now);
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

/// Creates a STARTED execution with its EXECUTION operation and event 1, `ExecutionStarted`.
fn create_execution(
    inner: &mut Inner,
    function_name: &str,
    name: String,
    execution_id: String,
    input_payload: Option<String>,
    now: Timestamp,
) -> String {
    let arn = execution_arn(function_name, &name, &execution_id);
    let mut exec = Execution::new(name.clone(), execution_id.clone());
    let mut op = Operation::new(execution_id, OperationType::Execution, OperationStatus::Started);
    op.name = Some(name);
    op.start_timestamp = Some(now);
    op.execution_details = Some(ExecutionDetails { input_payload: input_payload.clone() });
    exec.insert(op.clone());
    let details = EventDetails {
        input: Some(EventPayload { payload: input_payload, truncated: false }),
        execution_timeout: Some(DEFAULT_EXECUTION_TIMEOUT_SECONDS),
        ..Default::default()
    };
    exec.push_event(EventType::ExecutionStarted, Some(&op), details, now);
    inner.executions.insert(arn.clone(), exec);
    arn
}

/// Tracks what a request started: routes the callback ids it minted and creates the target
/// executions of its chained invokes.
fn register(inner: &mut Inner, arn: &str, started: Vec<(Applied, String)>, now: Timestamp) {
    for (applied, op_id) in started {
        match applied {
            Applied::Nothing => {}
            Applied::Callback(callback_id) => {
                inner.callbacks.insert(callback_id, (arn.to_owned(), op_id));
            }
            Applied::ChainedInvoke(target) => {
                let TargetExecution { requested, function_name, name, execution_id, arn: target_arn, input, tenant_id } =
                    target;
                create_execution(inner, &function_name, name, execution_id, input, now);
                inner.invokes.insert(
                    target_arn.clone(),
                    ChainedInvocation {
                        caller_arn: arn.to_owned(),
                        operation_id: op_id,
                        function_name: requested,
                        target_function: function_name,
                        target_arn,
                        tenant_id,
                    },
                );
            }
        }
    }
}

/// Completes the caller's CHAINED_INVOKE operation once the target execution `arn` has finished:
/// SUCCEEDED with the target's result, or FAILED / TIMED_OUT / STOPPED with its error, with the
/// matching `ChainedInvoke*` event in the caller's history.
fn propagate_to_caller(inner: &mut Inner, arn: &str, now: Timestamp) {
    let Some(link) = inner.invokes.get(arn).cloned() else { return };
    let Some(target) = inner.executions.get(arn) else { return };
    let (status, result, error) = (target.status, target.result.clone(), target.error.clone());
    let Some(caller) = inner.executions.get_mut(&link.caller_arn) else { return };
    if caller.status.is_terminal() {
        return;
    }
    let Some(&i) = caller.index.get(&link.operation_id) else { return };
    let Some(entry) = caller.ops.get_mut(i) else { return };
    if entry.op.status != OperationStatus::Started {
        return;
    }
    let error = error.unwrap_or_default();
    let (op_status, event_type, details) = match status {
        ExecutionStatus::Running => return,
        ExecutionStatus::Succeeded => (
            OperationStatus::Succeeded,
            EventType::ChainedInvokeSucceeded,
            EventDetails {
                result: Some(EventPayload { payload: result.clone(), truncated: false }),
                ..Default::default()
            },
        ),
        ExecutionStatus::Failed => (
            OperationStatus::Failed,
            EventType::ChainedInvokeFailed,
            EventDetails { error: Some(EventError::full(error.clone())), ..Default::default() },
        ),
        ExecutionStatus::TimedOut => (
            OperationStatus::TimedOut,
            EventType::ChainedInvokeTimedOut,
            EventDetails { error: Some(EventError::full(error.clone())), ..Default::default() },
        ),
        ExecutionStatus::Stopped => (
            OperationStatus::Stopped,
            EventType::ChainedInvokeStopped,
            EventDetails { error: Some(EventError::full(error.clone())), ..Default::default() },
        ),
    };
    entry.op.status = op_status;
    entry.op.end_timestamp = Some(now);
    entry.op.chained_invoke_details = Some(match status {
        ExecutionStatus::Succeeded => ChainedInvokeDetails { result, error: None },
        _ => ChainedInvokeDetails { result: None, error: Some(error) },
    });
    let op = entry.op.clone();
    caller.push_event(event_type, Some(&op), details, now);
    caller.touch(i);
    caller.updated_ids.push(link.operation_id);
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
fn check_output(exec: &Execution, output: &InvocationOutput) -> Option<ErrorObject> {
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
fn close(exec: &mut Execution, now: Timestamp) {
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

impl CheckpointClient for MemoryService {
    fn checkpoint(
        &self,
        execution_arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>> {
        let service = self.clone();
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let latency = service.latency();
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            service.checkpoint_now(&arn, request)
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
