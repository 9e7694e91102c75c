//! Callbacks: the answers (success, failure, heartbeat) that reach a CALLBACK operation by its
//! `CallbackId`, and the routing from an id to its execution.

use super::state::{after, StoredExecution};
use super::{Inner, MemoryError, MemoryService};
use crate::protocol::history::{EventDetails, EventError, EventPayload, EventType};
use crate::protocol::{ErrorObject, Operation, OperationStatus, Payload};

impl MemoryService {
    /// Answers a callback with success; `result` becomes `CallbackDetails.Result` verbatim.
    pub fn callback_success(&self, callback_id: &str, result: Option<String>) -> Result<(), MemoryError> {
        self.answer_callback(callback_id, |op| {
            op.status = OperationStatus::Succeeded;
            op.callback_details.get_or_insert_with(Default::default).result = result.as_deref().map(Payload::new);
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
            op.callback_details.get_or_insert_with(Default::default).error = Some(Box::new(error.clone()));
            (EventType::CallbackFailed, EventDetails { error: Some(EventError::full(error)), ..Default::default() })
        })
    }

    /// Re-arms a callback's heartbeat timeout (no history event).
    pub fn callback_heartbeat(&self, callback_id: &str) -> Result<(), MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let (exec, i) = inner.open_callback(callback_id)?;
        if let Some((seconds, deadline)) = exec.ops[i].heartbeat.as_mut() {
            *deadline = after(now, *seconds);
        }
        exec.journal.ops.insert(i);
        Ok(())
    }

    fn answer_callback(
        &self,
        callback_id: &str,
        f: impl FnOnce(&mut Operation) -> (EventType, EventDetails),
    ) -> Result<(), MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let (exec, i) = inner.open_callback(callback_id)?;
        let entry = &mut exec.ops[i];
        let (event_type, details) = f(&mut entry.op);
        entry.op.end_timestamp = Some(now);
        let op = entry.op.clone();
        exec.push_event(event_type, Some(&op), details, now);
        exec.touch(i);
        exec.updated_ids.push(op.id);
        Ok(())
    }

    /// The ARN of the execution the callback `callback_id` belongs to.
    pub fn callback_execution(&self, callback_id: &str) -> Option<String> {
        self.lock().callbacks.get(callback_id).map(|(arn, _)| arn.clone())
    }
}

impl Inner {
    /// The execution and operation index of the CALLBACK `callback_id`, while it still waits for an
    /// answer (STARTED, in a running execution).
    fn open_callback(&mut self, callback_id: &str) -> Result<(&mut StoredExecution, usize), MemoryError> {
        let unknown = || MemoryError::UnknownCallback(callback_id.to_owned());
        let (arn, op_id) = self.callbacks.get(callback_id).cloned().ok_or_else(unknown)?;
        let exec = self.executions.get_mut(&arn).ok_or_else(|| MemoryError::UnknownExecution(arn.clone()))?;
        let i = exec.index.get(&op_id).copied().filter(|i| *i < exec.ops.len()).ok_or_else(unknown)?;
        if exec.ops[i].op.status != OperationStatus::Started || exec.status.is_terminal() {
            return Err(MemoryError::CallbackClosed(callback_id.to_owned()));
        }
        // Only an answer that is accepted changes the execution.
        self.changed.insert(arn);
        Ok((exec, i))
    }
}
