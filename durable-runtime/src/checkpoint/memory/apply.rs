//! Applying one validated update: the service-side bookkeeping of protocol §3.4 and the history event
//! of conformance §2 ("How checkpoint actions appear in history").

use super::executions::{execution_arn, function_name_of, EXECUTED_VERSION};
use super::state::{after, StoredExecution};
use crate::protocol::history::{EventDetails, EventError, EventPayload, EventType, ExecutionStatus, RetryDetails};
use crate::protocol::ids::{random_hex, uuid_v4};
use crate::protocol::{
    CallbackDetails, ContextDetails, Operation, OperationAction, OperationStatus, OperationType, OperationUpdate,
    Payload, StepDetails, Timestamp, WaitDetails,
};

/// What applying an update started that the service must keep track of.
pub(super) enum Applied {
    /// Nothing beyond the operation itself.
    Nothing,
    /// A CALLBACK START minted this CallbackId (to route the answers).
    Callback(String),
    /// A CHAINED_INVOKE START: the target execution to create.
    ChainedInvoke(TargetExecution),
}

/// The durable execution a CHAINED_INVOKE START creates for its target.
pub(super) struct TargetExecution {
    /// `FunctionName` as the caller sent it.
    pub(super) requested: String,
    /// The function's name.
    pub(super) function_name: String,
    pub(super) name: String,
    pub(super) execution_id: String,
    pub(super) arn: String,
    pub(super) input: Option<String>,
    pub(super) tenant_id: Option<String>,
}

impl StoredExecution {
    /// Applies `update` (already validated) at time `now`, and says what it started that the service
    /// must track (a callback to route, a target execution to create).
    pub(super) fn apply(&mut self, update: &OperationUpdate, now: Timestamp) -> Applied {
        match update.op_type {
            OperationType::Execution => {
                match update.action {
                    OperationAction::Succeed => {
                        self.finish(ExecutionStatus::Succeeded, update.payload.clone(), None, now)
                    }
                    _ => {
                        self.finish(ExecutionStatus::Failed, None, Some(update.error.clone().unwrap_or_default()), now)
                    }
                }
                Applied::Nothing
            }
            OperationType::Step => {
                self.apply_step(update, now);
                Applied::Nothing
            }
            OperationType::Context => {
                self.apply_context(update, now);
                Applied::Nothing
            }
            OperationType::Wait => {
                self.apply_wait(update, now);
                Applied::Nothing
            }
            OperationType::Callback => Applied::Callback(self.apply_callback(update, now)),
            OperationType::ChainedInvoke => self.apply_chained_invoke(update, now),
            _ => Applied::Nothing,
        }
    }

    /// The stored operation for `update`, created (STARTED at `now`) when absent.
    fn entry_for(&mut self, update: &OperationUpdate, now: Timestamp) -> usize {
        if let Some(&i) = self.index.get(&update.id) {
            self.touch(i);
            return i;
        }
        let mut op = Operation::new(update.id.clone(), update.op_type.clone(), OperationStatus::Started);
        op.parent_id = update.parent_id.clone();
        op.name = update.name.clone();
        op.sub_type = update.sub_type.clone();
        op.start_timestamp = Some(now);
        self.insert(op)
    }

    /// Runs `f` on operation `i` and appends the event it returns, about the updated record.
    fn update_op(&mut self, i: usize, now: Timestamp, f: impl FnOnce(&mut Operation) -> (EventType, EventDetails)) {
        let Some(entry) = self.ops.get_mut(i) else { return };
        let (event_type, details) = f(&mut entry.op);
        let op = entry.op.clone();
        self.push_event(event_type, Some(&op), details, now);
    }

    fn apply_step(&mut self, update: &OperationUpdate, now: Timestamp) {
        let i = self.entry_for(update, now);
        let delay = update.step_options.and_then(|o| o.next_attempt_delay_seconds);
        if update.action == OperationAction::Retry {
            self.timers.insert(i);
        }
        self.update_op(i, now, |op| {
            let attempt = op.step_details.as_ref().and_then(|d| d.attempt).unwrap_or(0);
            match update.action {
                OperationAction::Start => {
                    op.status = OperationStatus::Started;
                    op.step_details = Some(Box::new(StepDetails { attempt: Some(attempt), ..Default::default() }));
                    (EventType::StepStarted, EventDetails::default())
                }
                OperationAction::Succeed => {
                    let attempt = attempt + 1;
                    op.status = OperationStatus::Succeeded;
                    op.end_timestamp = Some(now);
                    op.step_details = Some(Box::new(StepDetails {
                        attempt: Some(attempt),
                        result: update.payload.as_deref().map(Payload::new),
                        ..Default::default()
                    }));
                    let details = EventDetails {
                        result: update.payload.clone().map(EventPayload::full),
                        retry_details: Some(RetryDetails {
                            current_attempt: Some(attempt),
                            next_attempt_delay_seconds: None,
                        }),
                        ..Default::default()
                    };
                    (EventType::StepSucceeded, details)
                }
                OperationAction::Fail => {
                    let attempt = attempt + 1;
                    op.status = OperationStatus::Failed;
                    op.end_timestamp = Some(now);
                    op.step_details = Some(Box::new(StepDetails {
                        attempt: Some(attempt),
                        error: update.error.clone().map(Box::new),
                        ..Default::default()
                    }));
                    let details = EventDetails {
                        error: update.error.clone().map(EventError::full),
                        retry_details: Some(RetryDetails {
                            current_attempt: Some(attempt),
                            next_attempt_delay_seconds: None,
                        }),
                        ..Default::default()
                    };
                    (EventType::StepFailed, details)
                }
                _ => {
                    let attempt = attempt + 1;
                    let delay = delay.unwrap_or(0);
                    op.status = OperationStatus::Pending;
                    op.step_details = Some(Box::new(StepDetails {
                        attempt: Some(attempt),
                        next_attempt_timestamp: Some(after(now, delay)),
                        result: update.payload.as_deref().map(Payload::new),
                        error: update.error.clone().map(Box::new),
                    }));
                    let retry =
                        Some(RetryDetails { current_attempt: Some(attempt), next_attempt_delay_seconds: Some(delay) });
                    match &update.payload {
                        Some(payload) => (
                            EventType::StepSucceeded,
                            EventDetails {
                                result: Some(EventPayload::full(payload.clone())),
                                retry_details: retry,
                                ..Default::default()
                            },
                        ),
                        None => (
                            EventType::StepFailed,
                            EventDetails {
                                error: update.error.clone().map(EventError::full),
                                retry_details: retry,
                                ..Default::default()
                            },
                        ),
                    }
                }
            }
        });
    }

    fn apply_context(&mut self, update: &OperationUpdate, now: Timestamp) {
        let i = self.entry_for(update, now);
        self.update_op(i, now, |op| match update.action {
            OperationAction::Start => (EventType::ContextStarted, EventDetails::default()),
            OperationAction::Succeed => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                op.context_details = Some(Box::new(ContextDetails {
                    replay_children: update.context_options.and_then(|o| o.replay_children),
                    result: update.payload.as_deref().map(Payload::new),
                    error: None,
                }));
                let details =
                    EventDetails { result: update.payload.clone().map(EventPayload::full), ..Default::default() };
                (EventType::ContextSucceeded, details)
            }
            _ => {
                op.status = OperationStatus::Failed;
                op.end_timestamp = Some(now);
                op.context_details = Some(Box::new(ContextDetails {
                    replay_children: update.context_options.and_then(|o| o.replay_children),
                    result: None,
                    error: update.error.clone().map(Box::new),
                }));
                let details = EventDetails { error: update.error.clone().map(EventError::full), ..Default::default() };
                (EventType::ContextFailed, details)
            }
        });
    }

    fn apply_wait(&mut self, update: &OperationUpdate, now: Timestamp) {
        let i = self.entry_for(update, now);
        if update.action == OperationAction::Start {
            let seconds = update.wait_options.and_then(|o| o.wait_seconds).unwrap_or(0);
            let end = after(now, seconds);
            if let Some(entry) = self.ops.get_mut(i) {
                entry.wait_seconds = Some(seconds);
            }
            self.timers.insert(i);
            self.update_op(i, now, |op| {
                op.wait_details = Some(Box::new(WaitDetails { scheduled_end_timestamp: Some(end) }));
                let details =
                    EventDetails { duration: Some(seconds), scheduled_end_timestamp: Some(end), ..Default::default() };
                (EventType::WaitStarted, details)
            });
        } else {
            self.update_op(i, now, |op| {
                op.status = OperationStatus::Cancelled;
                op.end_timestamp = Some(now);
                let details = EventDetails { error: update.error.clone().map(EventError::full), ..Default::default() };
                (EventType::WaitCancelled, details)
            });
        }
    }

    fn apply_callback(&mut self, update: &OperationUpdate, now: Timestamp) -> String {
        let i = self.entry_for(update, now);
        let callback_id = format!("cb-{}", random_hex(16));
        let timeout = update.callback_options.and_then(|o| o.timeout_seconds).filter(|s| *s > 0);
        let heartbeat = update.callback_options.and_then(|o| o.heartbeat_timeout_seconds).filter(|s| *s > 0);
        if let Some(entry) = self.ops.get_mut(i) {
            entry.callback_deadline = timeout.map(|s| after(now, s));
            entry.heartbeat = heartbeat.map(|s| (s, after(now, s)));
        }
        self.timers.insert(i);
        let id = callback_id.clone();
        self.update_op(i, now, |op| {
            op.callback_details =
                Some(Box::new(CallbackDetails { callback_id: Some(id.clone()), ..Default::default() }));
            let details =
                EventDetails { callback_id: Some(id), timeout, heartbeat_timeout: heartbeat, ..Default::default() };
            (EventType::CallbackStarted, details)
        });
        callback_id
    }

    fn apply_chained_invoke(&mut self, update: &OperationUpdate, now: Timestamp) -> Applied {
        let i = self.entry_for(update, now);
        if update.action != OperationAction::Start {
            self.update_op(i, now, |op| {
                op.status = OperationStatus::Cancelled;
                op.end_timestamp = Some(now);
                let details = EventDetails { error: update.error.clone().map(EventError::full), ..Default::default() };
                (EventType::ChainedInvokeStopped, details)
            });
            return Applied::Nothing;
        }
        let options = update.chained_invoke_options.clone().unwrap_or_default();
        let function_name = function_name_of(&options.function_name);
        let (name, execution_id) = (uuid_v4(), uuid_v4());
        let arn = execution_arn(&function_name, &name, &execution_id);
        let target = TargetExecution {
            requested: options.function_name.clone(),
            function_name,
            name,
            execution_id,
            arn: arn.clone(),
            input: update.payload.clone(),
            tenant_id: options.tenant_id.clone(),
        };
        self.update_op(i, now, |_| {
            let details = EventDetails {
                function_name: Some(options.function_name),
                tenant_id: options.tenant_id,
                input: Some(EventPayload { payload: update.payload.clone(), truncated: false }),
                executed_version: Some(EXECUTED_VERSION.to_owned()),
                durable_execution_arn: Some(arn),
                ..Default::default()
            };
            (EventType::ChainedInvokeStarted, details)
        });
        Applied::ChainedInvoke(target)
    }
}
