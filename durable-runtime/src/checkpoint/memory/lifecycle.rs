//! Ending an execution from outside its code: StopDurableExecution (STOPPED) and the execution
//! timeout (TIMED_OUT).

use super::executions::propagate_to_caller;
use super::invocations::close;
use super::{MemoryError, MemoryService};
use crate::protocol::history::{EventType, ExecutionStatus};
use crate::protocol::{ErrorObject, Timestamp};
use std::time::Duration;

/// `ErrorMessage` of a stop without an error of its own.
pub const STOPPED_MESSAGE: &str = "Execution stopped by user request";

impl MemoryService {
    /// Stops the running execution `arn` (StopDurableExecution): STOPPED with `error` (default
    /// message [`STOPPED_MESSAGE`]) and an `ExecutionStopped` event. Its token stops working, so an
    /// invocation still in flight can checkpoint no more. Returns the stop time.
    pub fn stop_execution(&self, arn: &str, error: Option<ErrorObject>) -> Result<Timestamp, MemoryError> {
        let error = error
            .unwrap_or_else(|| ErrorObject { error_message: Some(STOPPED_MESSAGE.to_owned()), ..Default::default() });
        self.end_execution(arn, ExecutionStatus::Stopped, error)
    }

    /// When the execution `arn` runs out of time: its start plus the `ExecutionTimeout` of its
    /// `ExecutionStarted` event. `None` for an unknown or finished execution.
    pub fn execution_deadline(&self, arn: &str) -> Option<Timestamp> {
        let inner = self.lock();
        let exec = inner.executions.get(arn).filter(|e| !e.status.is_terminal())?;
        let started = exec.history.iter().find(|e| e.event_type == EventType::ExecutionStarted)?;
        let seconds = started.details.execution_timeout?;
        Some(started.event_timestamp.plus(Duration::from_secs(seconds)))
    }

    /// Ends the running execution `arn` as TIMED_OUT ("Execution timed out after N seconds.") with an
    /// `ExecutionTimedOut` event, whatever its deadline.
    pub fn time_out_execution(&self, arn: &str) -> Result<Timestamp, MemoryError> {
        let seconds = {
            let inner = self.lock();
            let exec = inner.executions.get(arn).ok_or_else(|| MemoryError::UnknownExecution(arn.to_owned()))?;
            exec.history
                .iter()
                .find(|e| e.event_type == EventType::ExecutionStarted)
                .and_then(|e| e.details.execution_timeout)
                .unwrap_or_default()
        };
        let error = ErrorObject {
            error_message: Some(format!("Execution timed out after {seconds} seconds.")),
            ..Default::default()
        };
        self.end_execution(arn, ExecutionStatus::TimedOut, error)
    }

    /// The request id of the invocation in flight, if one is.
    pub fn current_request_id(&self, arn: &str) -> Option<String> {
        self.lock().executions.get(arn)?.current.as_ref().map(|c| c.request_id.clone())
    }

    fn end_execution(&self, arn: &str, status: ExecutionStatus, error: ErrorObject) -> Result<Timestamp, MemoryError> {
        let mut inner = self.lock();
        let now = inner.now();
        let exec = inner.execution_mut(arn)?;
        if exec.status.is_terminal() {
            return Err(MemoryError::ExecutionComplete(arn.to_owned()));
        }
        exec.finish(status, None, Some(error), now);
        close(exec, now);
        propagate_to_caller(&mut inner, arn, now);
        Ok(now)
    }
}

impl MemoryService {
    /// Ends the running execution `arn` as FAILED with `error` and an `ExecutionFailed` event, from
    /// outside its code (for example: its function does not exist).
    pub fn fail_execution(&self, arn: &str, error: ErrorObject) -> Result<Timestamp, MemoryError> {
        self.end_execution(arn, ExecutionStatus::Failed, error)
    }
}

impl MemoryService {
    /// The ARNs of the executions still running, in no particular order.
    pub fn running_executions(&self) -> Vec<String> {
        let inner = self.lock();
        inner.executions.iter().filter(|(_, e)| !e.status.is_terminal()).map(|(arn, _)| arn.clone()).collect()
    }
}
