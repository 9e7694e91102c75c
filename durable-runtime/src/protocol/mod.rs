//! Wire types of the durable-execution service, with the service's exact member names.
//!
//! Everything here is plain serde: the invocation envelope the service sends and the one the handler
//! returns, the `Operation` records of the execution state, the `OperationUpdate`s a checkpoint carries
//! and the `ErrorObject` shared by both. Absent optional members are omitted when serializing, never sent
//! as `null`. Enumerations keep values they do not know in an `Unknown` variant instead of failing, and
//! timestamps are read from epoch milliseconds, epoch seconds or ISO-8601 text.

mod enums;
#[cfg(feature = "testing")]
pub mod history;
pub mod ids;
pub mod limits;
mod payload;
mod timestamp;

pub use enums::{OperationAction, OperationStatus, OperationSubType, OperationType};
pub use payload::Payload;
pub use timestamp::{civil_from_days, Timestamp};

use serde::{Deserialize, Serialize};

/// The event the durable-execution service invokes a durable function with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationInput {
    /// Identity of the execution, used in every control-plane call.
    pub durable_execution_arn: String,
    /// Token for the first checkpoint of this invocation.
    pub checkpoint_token: String,
    /// First page of the execution's operations.
    pub initial_execution_state: ExecutionState,
    /// Ids of operations the service changed since the previous invocation (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_operation_ids: Option<Vec<String>>,
}

/// A page of an execution's operations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionState {
    /// The operations of this page.
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// Marker of the next page; absent or empty when this is the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

impl ExecutionState {
    /// The marker of the next page, if there is one (`""` counts as none).
    pub fn next_page(&self) -> Option<&str> {
        self.next_marker.as_deref().filter(|m| !m.is_empty())
    }
}

/// What the handler returns to the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationOutput {
    /// SUCCEEDED, FAILED or PENDING.
    pub status: InvocationStatus,
    /// The serialized result of a SUCCEEDED execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The error of a FAILED execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl InvocationOutput {
    /// A SUCCEEDED envelope carrying `result`.
    pub fn succeeded(result: String) -> Self {
        Self { status: InvocationStatus::Succeeded, result: Some(result), error: None }
    }

    /// A FAILED envelope carrying `error`.
    pub fn failed(error: ErrorObject) -> Self {
        Self { status: InvocationStatus::Failed, result: None, error: Some(error) }
    }

    /// A PENDING envelope: the execution is suspended until the service re-invokes it.
    pub fn pending() -> Self {
        Self { status: InvocationStatus::Pending, result: None, error: None }
    }
}

/// Status of an invocation envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvocationStatus {
    /// The execution finished with a result.
    Succeeded,
    /// The execution finished with an error.
    Failed,
    /// The execution is suspended; re-invoke it later.
    Pending,
}

/// An operation of the execution state, as the service records it.
///
/// The details are boxed: a record carries at most one of them, and a replaying invocation holds
/// every record of the execution at once, so each record stays small (see `size_of` in the tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Operation {
    /// Operation id, unique in the execution.
    pub id: String,
    /// Id of the enclosing CONTEXT operation; absent at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// User label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Operation type.
    #[serde(rename = "Type")]
    pub op_type: OperationType,
    /// Operation subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<OperationSubType>,
    /// When the operation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Timestamp>,
    /// When the operation ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    /// Current status.
    pub status: OperationStatus,
    /// Details of the EXECUTION operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_details: Option<Box<ExecutionDetails>>,
    /// Details of a CONTEXT operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_details: Option<Box<ContextDetails>>,
    /// Details of a STEP operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_details: Option<Box<StepDetails>>,
    /// Details of a WAIT operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_details: Option<Box<WaitDetails>>,
    /// Details of a CALLBACK operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_details: Option<Box<CallbackDetails>>,
    /// Details of a CHAINED_INVOKE operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke_details: Option<Box<ChainedInvokeDetails>>,
}

impl Operation {
    /// A bare operation record with no details.
    pub fn new(id: impl Into<String>, op_type: OperationType, status: OperationStatus) -> Self {
        Self {
            id: id.into(),
            parent_id: None,
            name: None,
            op_type,
            sub_type: None,
            start_timestamp: None,
            end_timestamp: None,
            status,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        }
    }
}

/// `ExecutionDetails` of the EXECUTION operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionDetails {
    /// The user's event, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<Payload>,
}

/// `ContextDetails` of a CONTEXT operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextDetails {
    /// True when the context's children are kept and its body re-runs on replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
    /// Serialized result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Payload>,
    /// Error of a failed context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<ErrorObject>>,
}

/// `StepDetails` of a STEP operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDetails {
    /// Number of attempts already finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// When a PENDING step becomes READY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_timestamp: Option<Timestamp>,
    /// Serialized result (or carried state of a wait-for-condition step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Payload>,
    /// Error of the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<ErrorObject>>,
}

/// `WaitDetails` of a WAIT operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitDetails {
    /// When the wait ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
}

/// `CallbackDetails` of a CALLBACK operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackDetails {
    /// The id minted by the service, handed to the external system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// The bytes the external system sent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Payload>,
    /// The error the external system sent, or a timeout error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<ErrorObject>>,
}

/// `ChainedInvokeDetails` of a CHAINED_INVOKE operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeDetails {
    /// The target's serialized result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Payload>,
    /// The target's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<ErrorObject>>,
}

/// An error as the service records it. Every member is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Machine-readable type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Extra data, usually JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack trace lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

/// One change to one operation, sent in a checkpoint request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationUpdate {
    /// Operation id.
    pub id: String,
    /// Id of the enclosing CONTEXT operation; omitted at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// User label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Operation type.
    #[serde(rename = "Type")]
    pub op_type: OperationType,
    /// Operation subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<OperationSubType>,
    /// What to do.
    pub action: OperationAction,
    /// Result, carried state, chained-invoke input or execution result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Error of a FAIL or RETRY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// Options of a CONTEXT SUCCEED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_options: Option<ContextOptions>,
    /// Options of a STEP RETRY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_options: Option<StepOptions>,
    /// Options of a WAIT START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_options: Option<WaitOptions>,
    /// Options of a CALLBACK START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_options: Option<CallbackOptions>,
    /// Options of a CHAINED_INVOKE START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke_options: Option<ChainedInvokeOptions>,
}

impl OperationUpdate {
    /// An update with only the required members set.
    pub fn new(id: impl Into<String>, op_type: OperationType, action: OperationAction) -> Self {
        Self {
            id: id.into(),
            parent_id: None,
            name: None,
            op_type,
            sub_type: None,
            action,
            payload: None,
            error: None,
            context_options: None,
            step_options: None,
            wait_options: None,
            callback_options: None,
            chained_invoke_options: None,
        }
    }
}

/// `ContextOptions` of a CONTEXT update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextOptions {
    /// Keep the children and re-run the body on replay (results over 256 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
}

/// `StepOptions` of a STEP RETRY.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepOptions {
    /// Whole seconds until the next attempt, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<u64>,
}

/// `WaitOptions` of a WAIT START.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitOptions {
    /// Whole seconds to wait, 1 to 31 622 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<u64>,
}

/// `CallbackOptions` of a CALLBACK START.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackOptions {
    /// Overall timeout in seconds; 0 or absent disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Heartbeat timeout in seconds; 0 or absent disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_seconds: Option<u64>,
}

/// `ChainedInvokeOptions` of a CHAINED_INVOKE START.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeOptions {
    /// Name or ARN of the function to invoke.
    pub function_name: String,
    /// Tenant id passed to the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Trace header passed to the target.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "XAmznTraceId")]
    pub x_amzn_trace_id: Option<String>,
}

/// Body of a `CheckpointDurableExecution` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointRequest {
    /// The current checkpoint token; consumed by a successful call.
    pub checkpoint_token: String,
    /// Idempotency token, reused across retries of this one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// The updates, applied atomically and in order.
    #[serde(default)]
    pub updates: Vec<OperationUpdate>,
}

/// Body of a `CheckpointDurableExecution` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointResponse {
    /// The token for the next call; absent once the execution is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_token: Option<String>,
    /// Operations updated since the last checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_execution_state: Option<ExecutionState>,
}

#[cfg(test)]
mod tests;
