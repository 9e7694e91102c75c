//! Read accessors: what the service holds about an execution (operations, history, outcome,
//! invocations, requests) and which executions it holds.

use super::{InvocationRecord, MemoryService};
use crate::protocol::history::{ExecutionStatus, HistoryEvent};
use crate::protocol::{CheckpointRequest, ErrorObject, Operation, OperationStatus};

impl MemoryService {
    /// Every operation of the execution in creation order, including the EXECUTION operation and
    /// children that the state pages leave out. Empty for an unknown execution.
    pub fn operations(&self, arn: &str) -> Vec<Operation> {
        self.lock().executions.get(arn).map(|e| e.ops.iter().map(|o| o.op.clone()).collect()).unwrap_or_default()
    }

    /// One operation by Id.
    pub fn operation(&self, arn: &str, id: &str) -> Option<Operation> {
        self.lock().executions.get(arn).and_then(|e| e.get(id)).map(|e| e.op.clone())
    }

    /// The `CallbackId` of the callback named `name` (a CALLBACK of that name, or the callback of
    /// the wait-for-callback of that name) while it waits for an answer; `None` otherwise.
    pub fn pending_callback(&self, arn: &str, name: &str) -> Option<String> {
        let operations = self.operations(arn);
        let callback = crate::testing::find_callback(&operations, name)?;
        if callback.status != OperationStatus::Started {
            return None;
        }
        callback.callback_details.as_ref()?.callback_id.clone()
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

    /// The execution's name (the ARN segment before the EXECUTION operation's Id).
    pub fn execution_name(&self, arn: &str) -> Option<String> {
        self.lock().executions.get(arn).map(|e| e.name.clone())
    }

    /// The ARNs of every execution started on this service.
    pub fn executions(&self) -> Vec<String> {
        self.lock().executions.keys().cloned().collect()
    }
}
