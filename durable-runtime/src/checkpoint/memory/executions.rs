//! Executions: starting one (its ARN, its EXECUTION operation, `ExecutionStarted`), and the chained
//! invokes that start one for their target and complete with its outcome.

use super::apply::{Applied, TargetExecution};
use super::state::StoredExecution;
use super::{Inner, MemoryError, MemoryService};
use crate::protocol::history::{EventDetails, EventError, EventPayload, EventType, ExecutionStatus};
use crate::protocol::ids::uuid_v4;
use crate::protocol::{
    ChainedInvokeDetails, ExecutionDetails, Operation, OperationStatus, OperationType, Payload, Timestamp,
};

/// `ExecutionTimeout` recorded in `ExecutionStarted` (seconds) unless the start names another. The
/// service itself does not enforce it; a host that does calls [`MemoryService::time_out_execution`]
/// at [`MemoryService::execution_deadline`].
pub const DEFAULT_EXECUTION_TIMEOUT_SECONDS: u64 = 86_400;

/// Account id in minted ARNs.
const ACCOUNT: &str = "123456789012";

/// Region in minted ARNs.
const REGION: &str = "us-east-1";

/// `ExecutedVersion` recorded for chained invokes (the service always runs the target's `$LATEST`).
pub const EXECUTED_VERSION: &str = "$LATEST";

/// A chained invoke as the service tracks it: the caller's CHAINED_INVOKE operation and the durable
/// execution the service started for the target (see [`MemoryService::chained_invocations`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ChainedInvocation {
    /// ARN of the calling execution.
    pub caller_arn: String,
    /// Id of the caller's CHAINED_INVOKE operation.
    pub operation_id: String,
    /// `FunctionName` as the caller sent it (a name or an ARN).
    pub function_name: String,
    /// The function's name (the name part of an ARN).
    pub target_function: String,
    /// ARN of the target's durable execution.
    pub target_arn: String,
    /// The caller's `TenantId`, if any.
    pub tenant_id: Option<String>,
}

/// The ARN of an execution: `arn:aws:lambda:<region>:<account>:function:<fn>:$LATEST/durable-execution/<name>/<id>`.
pub(super) fn execution_arn(function_name: &str, name: &str, execution_id: &str) -> String {
    format!("{}/durable-execution/{name}/{execution_id}", function_arn(function_name))
}

/// The qualified ARN of a function: `arn:aws:lambda:<region>:<account>:function:<fn>:$LATEST`.
pub fn function_arn(function_name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}:{EXECUTED_VERSION}")
}

/// Execution names as the service accepts them: 1 to 64 ASCII letters, digits, `-` and `_`.
pub fn valid_execution_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The function name in a name or a function / version / alias ARN
/// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`).
pub fn function_name_of(name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        if let Some(name) = name_or_arn.split(':').skip_while(|p| *p != "function").nth(1) {
            return name.to_owned();
        }
    }
    name_or_arn.to_owned()
}

impl MemoryService {
    /// Starts an execution of `function_name` with the user's event `input_payload` (JSON text) and
    /// returns its ARN, `arn:aws:lambda:us-east-1:123456789012:function:<fn>:$LATEST/durable-execution/<name>/<id>`.
    /// Creates the STARTED EXECUTION operation (Id = the ARN's last segment) and records event 1,
    /// `ExecutionStarted`.
    pub fn start_execution(&self, function_name: &str, input_payload: Option<String>) -> String {
        let (name, execution_id) = (uuid_v4(), uuid_v4());
        let mut inner = self.lock();
        let now = inner.now();
        create_execution(
            &mut inner,
            function_name,
            name,
            execution_id,
            input_payload,
            DEFAULT_EXECUTION_TIMEOUT_SECONDS,
            now,
        )
    }

    /// Starts an execution as Invoke does: under the execution name `name` when given (an
    /// execution of the same function with that name and the same input is returned instead of a new
    /// one: `Ok((arn, false))`; with another input the name is [in use](MemoryError::NameInUse)),
    /// recording `execution_timeout_seconds` in `ExecutionStarted`. `Ok((arn, true))` for a new one.
    pub fn start_execution_named(
        &self,
        function_name: &str,
        name: Option<&str>,
        input_payload: Option<String>,
        execution_timeout_seconds: u64,
    ) -> Result<(String, bool), MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let name = match name {
            Some(name) => {
                if !valid_execution_name(name) {
                    return Err(MemoryError::InvalidName(name.to_owned()));
                }
                let prefix = format!("{}/durable-execution/{name}/", function_arn(function_name));
                let existing = inner.executions.iter().find(|(arn, _)| arn.starts_with(&prefix));
                if let Some((arn, exec)) = existing {
                    let input = exec.execution_op().and_then(|op| op.execution_details.as_ref());
                    let recorded = input.and_then(|d| d.input_payload.as_ref()).map(Payload::text);
                    let same = recorded.as_deref() == input_payload.as_deref();
                    return if same { Ok((arn.clone(), false)) } else { Err(MemoryError::NameInUse(name.to_owned())) };
                }
                name.to_owned()
            }
            None => uuid_v4(),
        };
        let arn =
            create_execution(&mut inner, function_name, name, uuid_v4(), input_payload, execution_timeout_seconds, now);
        Ok((arn, true))
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
}

/// Creates a STARTED execution with its EXECUTION operation and event 1, `ExecutionStarted`.
fn create_execution(
    inner: &mut Inner,
    function_name: &str,
    name: String,
    execution_id: String,
    input_payload: Option<String>,
    execution_timeout_seconds: u64,
    now: Timestamp,
) -> String {
    let arn = execution_arn(function_name, &name, &execution_id);
    let mut exec = StoredExecution::new(name.clone(), execution_id.clone());
    let mut op = Operation::new(execution_id, OperationType::Execution, OperationStatus::Started);
    op.name = Some(name);
    op.start_timestamp = Some(now);
    op.execution_details =
        Some(Box::new(ExecutionDetails { input_payload: input_payload.as_deref().map(Payload::new) }));
    exec.insert(op.clone());
    let details = EventDetails {
        input: Some(EventPayload { payload: input_payload, truncated: false }),
        execution_timeout: Some(execution_timeout_seconds),
        ..Default::default()
    };
    exec.push_event(EventType::ExecutionStarted, Some(&op), details, now);
    inner.executions.insert(arn.clone(), exec);
    inner.changed.insert(arn.clone());
    arn
}

/// Tracks what a request started: routes the callback ids it minted and creates the target
/// executions of its chained invokes.
pub(super) fn register(inner: &mut Inner, arn: &str, started: Vec<(Applied, String)>, now: Timestamp) {
    for (applied, op_id) in started {
        match applied {
            Applied::Nothing => {}
            Applied::Callback(callback_id) => {
                inner.callbacks.insert(callback_id, (arn.to_owned(), op_id));
            }
            Applied::ChainedInvoke(target) => {
                let TargetExecution { requested, function_name, name, execution_id, arn: target_arn, input, tenant_id } =
                    target;
                create_execution(
                    inner,
                    &function_name,
                    name,
                    execution_id,
                    input,
                    DEFAULT_EXECUTION_TIMEOUT_SECONDS,
                    now,
                );
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
pub(super) fn propagate_to_caller(inner: &mut Inner, arn: &str, now: Timestamp) {
    let Some(link) = inner.invokes.get(arn).cloned() else { return };
    let Some(target) = inner.executions.get(arn) else { return };
    let (status, result, error) = (target.status, target.result.clone(), target.error.clone());
    let Some(caller) = inner.executions.get_mut(&link.caller_arn) else { return };
    inner.changed.insert(link.caller_arn.clone());
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
    entry.op.chained_invoke_details = Some(Box::new(match status {
        ExecutionStatus::Succeeded => ChainedInvokeDetails { result: result.map(Payload::from), error: None },
        _ => ChainedInvokeDetails { result: None, error: Some(Box::new(error)) },
    }));
    let op = entry.op.clone();
    caller.push_event(event_type, Some(&op), details, now);
    caller.touch(i);
    caller.updated_ids.push(link.operation_id);
}
