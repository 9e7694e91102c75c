//! Ending executions from outside: Stop (STOPPED), the execution timeout (TIMED_OUT), named starts.

use super::Fixture;
use crate::checkpoint::memory::{ExecutionStatus, MemoryError, MemoryService, STOPPED_MESSAGE};
use crate::protocol::ErrorObject;
use std::time::Duration;

fn event_types(service: &MemoryService, arn: &str) -> Vec<String> {
    service
        .history(arn)
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["EventType"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_stopped_execution_takes_no_more_checkpoints() {
    let mut f = Fixture::new();
    f.service.stop_execution(&f.arn, None).unwrap();
    assert_eq!(f.service.execution_status(&f.arn), Some(ExecutionStatus::Stopped));
    assert_eq!(f.service.execution_error(&f.arn).unwrap().error_message.as_deref(), Some(STOPPED_MESSAGE));
    assert_eq!(event_types(&f.service, &f.arn), ["ExecutionStarted", "ExecutionStopped"]);
    // The invocation in flight can no longer record anything.
    let err = f
        .cp(vec![super::u("late", crate::protocol::OperationType::Step, crate::protocol::OperationAction::Start)])
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(f.service.operations(&f.arn).len(), 1);
    // Stopping twice is refused, and records nothing.
    let again = ErrorObject { error_message: Some("again".into()), ..Default::default() };
    assert_eq!(f.service.stop_execution(&f.arn, Some(again)), Err(MemoryError::ExecutionComplete(f.arn.clone())));
    assert_eq!(event_types(&f.service, &f.arn).len(), 2);
}

#[test]
fn the_execution_timeout_is_recorded_and_enforced_on_request() {
    let service = MemoryService::new();
    let (arn, new) = service.start_execution_named("orders", None, Some("{}".into()), 60).unwrap();
    assert!(new);
    let started = service.history(&arn)[0].event_timestamp;
    assert_eq!(service.execution_deadline(&arn), Some(started.plus(Duration::from_secs(60))));
    service.time_out_execution(&arn).unwrap();
    assert_eq!(service.execution_status(&arn), Some(ExecutionStatus::TimedOut));
    assert_eq!(
        service.execution_error(&arn).unwrap().error_message.as_deref(),
        Some("Execution timed out after 60 seconds.")
    );
    assert_eq!(event_types(&service, &arn), ["ExecutionStarted", "ExecutionTimedOut"]);
    assert_eq!(service.execution_deadline(&arn), None);
}

#[test]
fn a_named_start_is_idempotent_for_the_same_input() {
    let service = MemoryService::new();
    let (arn, new) = service.start_execution_named("orders", Some("order-7"), Some("{\"id\":7}".into()), 60).unwrap();
    assert!(new && arn.contains("/durable-execution/order-7/"), "{arn}");
    let (again, new) = service.start_execution_named("orders", Some("order-7"), Some("{\"id\":7}".into()), 60).unwrap();
    assert_eq!((again.as_str(), new), (arn.as_str(), false));
    assert_eq!(
        service.start_execution_named("orders", Some("order-7"), Some("{\"id\":8}".into()), 60),
        Err(MemoryError::NameInUse("order-7".into()))
    );
    // Another function may use the same name.
    assert!(service.start_execution_named("billing", Some("order-7"), None, 60).unwrap().1);
    assert_eq!(
        service.start_execution_named("orders", Some("bad name/"), None, 60),
        Err(MemoryError::InvalidName("bad name/".into()))
    );
    assert_eq!(service.executions().len(), 2);
}

#[test]
fn interrupted_invocations_do_not_use_up_the_retries() {
    let service = MemoryService::new();
    let arn = service.start_execution("orders", None);
    let stopped = ErrorObject { error_type: Some("Local.ServiceStopped".into()), ..Default::default() };
    for _ in 0..10 {
        let token = service.invocation_input(&arn).unwrap().checkpoint_token;
        let completed = service.interrupt_invocation(&arn, stopped.clone()).unwrap();
        // A process of the cut-off invocation that is still alive can no longer checkpoint.
        let late = crate::protocol::CheckpointRequest { checkpoint_token: token, client_token: None, updates: vec![] };
        assert!(service.checkpoint_now(&arn, late).is_err());
        assert_eq!(completed.status, ExecutionStatus::Running);
        assert!(service.needs_invocation(&arn), "an interrupted invocation is retried");
    }
    let recorded = service.invocations(&arn);
    assert_eq!(recorded.len(), 10);
    assert!(recorded.iter().all(|r| r.error.as_ref() == Some(&stopped)));
}
