//! Starting executions: the minted ARN, the EXECUTION operation, `ExecutionStarted`; unknown ARNs.

use crate::checkpoint::memory::{MemoryError, MemoryService};
use crate::checkpoint::ErrorClass;
use crate::protocol::{CheckpointRequest, OperationStatus as S, OperationType as T};
use serde_json::json;

#[test]
fn start_execution_mints_an_arn_and_the_execution_operation() {
    let service = MemoryService::new();
    let arn = service.start_execution("orders", Some("{}".into()));
    assert!(
        arn.starts_with("arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/"),
        "{arn}"
    );
    let id = arn.rsplit('/').next().unwrap();
    let input = service.invocation_input(&arn).unwrap();
    assert_eq!(input.durable_execution_arn, arn);
    assert_eq!(input.updated_operation_ids, Some(vec![]));
    let ops = &input.initial_execution_state.operations;
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].id.as_str(), &ops[0].op_type, &ops[0].status), (id, &T::Execution, &S::Started));
    assert_eq!(
        ops[0].execution_details.as_ref().unwrap().input_payload.as_ref().map(|p| p.text()).as_deref(),
        Some("{}")
    );
    assert!(input.initial_execution_state.next_marker.is_none());
    let history = service.history(&arn);
    assert_eq!(history.len(), 1);
    let event = serde_json::to_value(&history[0]).unwrap();
    assert_eq!(event["EventType"], "ExecutionStarted");
    assert_eq!(event["EventId"], 1);
    assert_eq!(event["Id"], id);
    assert_eq!(event["ExecutionStartedDetails"]["Input"], json!({"Payload": "{}", "Truncated": false}));
    // Envelope timestamps are epoch milliseconds.
    let envelope = serde_json::to_value(&input).unwrap();
    assert!(envelope["InitialExecutionState"]["Operations"][0]["StartTimestamp"].as_i64().unwrap() > 1_000_000_000_000);
}

#[test]
fn unknown_executions_are_not_found() {
    let service = MemoryService::new();
    let request = CheckpointRequest { checkpoint_token: "t".into(), client_token: None, updates: vec![] };
    let err = service.checkpoint_now("arn:nope", request).unwrap_err();
    assert_eq!((err.status(), err.class()), (Some(404), ErrorClass::Fatal));
    assert_eq!(service.invocation_input("arn:nope").unwrap_err(), MemoryError::UnknownExecution("arn:nope".into()));
}
