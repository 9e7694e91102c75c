//! Unit tests of the in-memory service, driven with hand-written updates (no engine), one file per
//! role of the service; this module holds the fixture and the update builders they share.

mod callbacks;
mod chained;
mod client;
mod executions;
mod faults;
mod invocations;
mod journal;
mod lifecycle;
mod operations;
mod validation;

use super::MemoryService;
use crate::checkpoint::{CheckpointError, ErrorClass};
use crate::protocol::{
    CheckpointRequest, CheckpointResponse, ErrorObject, Operation, OperationAction as A, OperationSubType,
    OperationType as T, OperationUpdate, StepOptions, WaitOptions,
};
use serde_json::Value;

struct Fixture {
    service: MemoryService,
    arn: String,
    token: String,
}

impl Fixture {
    fn new() -> Self {
        let service = MemoryService::new();
        let arn = service.start_execution("orders", Some("{\"id\":42}".into()));
        let token = service.invocation_input(&arn).unwrap().checkpoint_token;
        Self { service, arn, token }
    }

    /// Checkpoints with the current token and keeps the next one.
    fn cp(&mut self, updates: Vec<OperationUpdate>) -> Result<CheckpointResponse, CheckpointError> {
        let request = CheckpointRequest { checkpoint_token: self.token.clone(), client_token: None, updates };
        let response = self.service.checkpoint_now(&self.arn, request)?;
        if let Some(token) = &response.checkpoint_token {
            self.token = token.clone();
        }
        Ok(response)
    }

    fn reject(&mut self, updates: Vec<OperationUpdate>) -> String {
        let err = self.cp(updates).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Fatal, "{err}");
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.code(), Some("InvalidParameterValueException"));
        err.message().to_owned()
    }

    fn op(&self, id: &str) -> Operation {
        self.service.operation(&self.arn, id).unwrap()
    }

    fn history(&self) -> Vec<Value> {
        self.service.history(&self.arn).iter().map(|e| serde_json::to_value(e).unwrap()).collect()
    }
}

fn u(id: &str, t: T, a: A) -> OperationUpdate {
    let mut update = OperationUpdate::new(id, t.clone(), a);
    update.sub_type = match t {
        T::Step => Some(OperationSubType::Step),
        T::Wait => Some(OperationSubType::Wait),
        T::Context => Some(OperationSubType::RunInChildContext),
        T::Callback => Some(OperationSubType::Callback),
        _ => None,
    };
    update
}

fn with_payload(mut update: OperationUpdate, payload: &str) -> OperationUpdate {
    update.payload = Some(payload.into());
    update
}

fn with_error(mut update: OperationUpdate, error_type: &str) -> OperationUpdate {
    update.error = Some(ErrorObject { error_type: Some(error_type.into()), ..Default::default() });
    update
}

fn with_parent(mut update: OperationUpdate, parent: &str) -> OperationUpdate {
    update.parent_id = Some(parent.into());
    update
}

fn retry(id: &str, delay: u64) -> OperationUpdate {
    let mut update = with_error(u(id, T::Step, A::Retry), "Flaky");
    update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(delay) });
    update
}

fn wait(id: &str, seconds: u64) -> OperationUpdate {
    let mut update = u(id, T::Wait, A::Start);
    update.wait_options = Some(WaitOptions { wait_seconds: Some(seconds) });
    update
}
