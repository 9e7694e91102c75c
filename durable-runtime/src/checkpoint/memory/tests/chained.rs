//! Unit tests of chained invokes in the in-memory service: the target execution a START creates, and
//! how the target's outcome completes the caller's operation.

use crate::checkpoint::memory::{function_name_of, ExecutionStatus, MemoryService};
use crate::protocol::{
    ChainedInvokeOptions, CheckpointRequest, ErrorObject, InvocationOutput, OperationAction, OperationStatus,
    OperationSubType, OperationType, OperationUpdate,
};
use serde_json::Value;

fn start_invoke(service: &MemoryService, arn: &str, function_name: &str) -> String {
    let token = service.invocation_input(arn).unwrap().checkpoint_token;
    let mut update = OperationUpdate::new("inv", OperationType::ChainedInvoke, OperationAction::Start);
    update.sub_type = Some(OperationSubType::ChainedInvoke);
    update.payload = Some("{\"n\":1}".into());
    update.chained_invoke_options = Some(ChainedInvokeOptions {
        function_name: function_name.into(),
        tenant_id: Some("t-1".into()),
        x_amzn_trace_id: None,
    });
    let request = CheckpointRequest { checkpoint_token: token, client_token: None, updates: vec![update] };
    service.checkpoint_now(arn, request).unwrap();
    service.complete_invocation(arn, Ok(InvocationOutput::pending())).unwrap();
    service.chained_invocations(arn)[0].target_arn.clone()
}

#[test]
fn a_chained_invoke_start_creates_the_target_execution() {
    let service = MemoryService::new();
    let caller = service.start_execution("caller", None);
    let target = start_invoke(&service, &caller, "arn:aws:lambda:us-east-1:123456789012:function:echo:live");
    assert!(target.contains(":function:echo:$LATEST/durable-execution/"), "{target}");
    assert_eq!(service.execution_status(&target), Some(ExecutionStatus::Running));
    assert!(service.needs_invocation(&target), "never invoked");
    assert!(!service.needs_invocation(&caller), "nothing changed for the caller");
    let link = service.chained_invocation_of(&target).unwrap();
    assert_eq!((link.target_function.as_str(), link.operation_id.as_str()), ("echo", "inv"));
    assert_eq!(link.tenant_id.as_deref(), Some("t-1"));
    let input = service.invocation_input(&target).unwrap();
    let execution = &input.initial_execution_state.operations[0];
    assert_eq!(
        execution.execution_details.as_ref().unwrap().input_payload.as_ref().map(|p| p.text()).as_deref(),
        Some("{\"n\":1}")
    );
    let started: Value = serde_json::to_value(&service.history(&caller)[1]).unwrap();
    let details = &started["ChainedInvokeStartedDetails"];
    assert_eq!(details["DurableExecutionArn"], target.as_str());
    assert_eq!(details["ExecutedVersion"], "$LATEST");
    assert_eq!(details["TenantId"], "t-1");
    assert_eq!(details["Input"]["Payload"], "{\"n\":1}");
}

#[test]
fn the_targets_outcome_completes_the_callers_operation() {
    let service = MemoryService::new();
    let caller = service.start_execution("caller", None);
    let ok = start_invoke(&service, &caller, "echo");
    service.invocation_input(&ok).unwrap();
    service.complete_invocation(&ok, Ok(InvocationOutput::succeeded("\"done\"".into()))).unwrap();
    let op = service.operation(&caller, "inv").unwrap();
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.chained_invoke_details.unwrap().result.as_ref().map(|p| p.text()).as_deref(), Some("\"done\""));
    assert!(service.needs_invocation(&caller), "the completion re-invokes the caller");
    let last: Value = serde_json::to_value(service.history(&caller).last().unwrap()).unwrap();
    assert_eq!(last["EventType"], "ChainedInvokeSucceeded");
    assert_eq!(last["ChainedInvokeSucceededDetails"]["Result"]["Payload"], "\"done\"");

    let caller = service.start_execution("caller", None);
    let failing = start_invoke(&service, &caller, "boom");
    service.invocation_input(&failing).unwrap();
    let error = ErrorObject { error_type: Some("Kaboom".into()), ..Default::default() };
    service.complete_invocation(&failing, Ok(InvocationOutput::failed(error.clone()))).unwrap();
    let op = service.operation(&caller, "inv").unwrap();
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(op.chained_invoke_details.unwrap().error, Some(Box::new(error)));
    let last: Value = serde_json::to_value(service.history(&caller).last().unwrap()).unwrap();
    assert_eq!(last["EventType"], "ChainedInvokeFailed");
}

#[test]
fn function_names_come_out_of_arns() {
    assert_eq!(function_name_of("echo"), "echo");
    assert_eq!(function_name_of("arn:aws:lambda:us-east-1:1:function:echo"), "echo");
    assert_eq!(function_name_of("arn:aws:lambda:us-east-1:1:function:echo:$LATEST"), "echo");
}
