//! Round trips of envelopes and records written after the protocol document.

use super::*;
use serde_json::{json, Value};

fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(value: &Value) -> Value {
    let parsed: T = serde_json::from_value(value.clone()).expect("parses");
    serde_json::to_value(&parsed).expect("serializes")
}

#[test]
fn invocation_input_round_trips_with_millisecond_timestamps() {
    let envelope = json!({
        "DurableExecutionArn": "arn:aws:lambda:us-east-1:111122223333:function:orders:$LATEST/durable-execution/order-42/7c0b1f9e",
        "CheckpointToken": "opaque-token",
        "InitialExecutionState": {
            "Operations": [{
                "Id": "7c0b1f9e",
                "Name": "order-42",
                "Type": "EXECUTION",
                "Status": "STARTED",
                "StartTimestamp": 1767225600000u64,
                "ExecutionDetails": {"InputPayload": "{\"orderId\":\"42\",\"amount\":17}"}
            }],
            "NextMarker": ""
        },
        "UpdatedOperationIds": []
    });
    assert_eq!(round_trip::<InvocationInput>(&envelope), envelope);
    let parsed: InvocationInput = serde_json::from_value(envelope).unwrap();
    assert_eq!(parsed.initial_execution_state.next_page(), None);
    let op = &parsed.initial_execution_state.operations[0];
    assert_eq!(op.op_type, OperationType::Execution);
    assert_eq!(op.start_timestamp, Some(Timestamp::from_millis(1_767_225_600_000)));
}

#[test]
fn operations_with_every_details_object_round_trip() {
    let ops = json!([
        {"Id": "a", "Type": "STEP", "SubType": "Step", "Name": "flaky-call", "Status": "PENDING",
         "StartTimestamp": 1767225600300u64,
         "StepDetails": {"Attempt": 1, "NextAttemptTimestamp": 1767225605300u64,
                         "Error": {"ErrorMessage": "transient", "ErrorType": "Error"}}},
        {"Id": "b", "ParentId": "p", "Type": "CALLBACK", "SubType": "Callback", "Name": "approval",
         "Status": "SUCCEEDED", "StartTimestamp": 1767225600400u64, "EndTimestamp": 1767225900000u64,
         "CallbackDetails": {"CallbackId": "cb-1", "Result": "\"approved\""}},
        {"Id": "c", "Type": "WAIT", "SubType": "Wait", "Status": "STARTED",
         "WaitDetails": {"ScheduledEndTimestamp": 1767225602200u64}},
        {"Id": "d", "Type": "CONTEXT", "SubType": "RunInChildContext", "Status": "SUCCEEDED",
         "ContextDetails": {"ReplayChildren": true}},
        {"Id": "e", "Type": "CHAINED_INVOKE", "SubType": "ChainedInvoke", "Status": "FAILED",
         "ChainedInvokeDetails": {"Error": {"ErrorType": "Boom", "StackTrace": ["at x"]}}}
    ]);
    let parsed: Vec<Operation> = serde_json::from_value(ops.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), ops);
}

#[test]
fn output_envelopes_omit_absent_members() {
    let ok = InvocationOutput::succeeded("{\"receiptId\":\"r-9\"}".into());
    assert_eq!(serde_json::to_value(&ok).unwrap(), json!({"Status": "SUCCEEDED", "Result": "{\"receiptId\":\"r-9\"}"}));
    assert_eq!(serde_json::to_value(InvocationOutput::pending()).unwrap(), json!({"Status": "PENDING"}));
    let failed = InvocationOutput::failed(ErrorObject {
        error_message: Some("card expired".into()),
        error_type: Some("PaymentDeclined".into()),
        error_data: Some("{\"code\":51}".into()),
        stack_trace: Some(vec!["at charge (pay.rs:10)".into()]),
    });
    let expected = json!({"Status": "FAILED", "Error": {"ErrorMessage": "card expired", "ErrorType": "PaymentDeclined",
        "ErrorData": "{\"code\":51}", "StackTrace": ["at charge (pay.rs:10)"]}});
    assert_eq!(serde_json::to_value(&failed).unwrap(), expected);
    assert_eq!(round_trip::<InvocationOutput>(&expected), expected);
}

#[test]
fn checkpoint_request_uses_the_service_member_names() {
    let mut update = OperationUpdate::new("6b86b273", OperationType::Step, OperationAction::Retry);
    update.name = Some("fetch-name".into());
    update.sub_type = Some(OperationSubType::Step);
    update.error = Some(ErrorObject { error_type: Some("Error".into()), ..Default::default() });
    update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(5) });
    let mut wait = OperationUpdate::new("w", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(60) });
    let mut invoke = OperationUpdate::new("i", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.chained_invoke_options = Some(ChainedInvokeOptions {
        function_name: "target".into(),
        tenant_id: Some("t-1".into()),
        x_amzn_trace_id: None,
    });
    let mut callback = OperationUpdate::new("cb", OperationType::Callback, OperationAction::Start);
    callback.callback_options = Some(CallbackOptions { timeout_seconds: Some(5), heartbeat_timeout_seconds: None });
    let mut context = OperationUpdate::new("ctx", OperationType::Context, OperationAction::Succeed);
    context.context_options = Some(ContextOptions { replay_children: Some(true) });
    let request = CheckpointRequest {
        checkpoint_token: "tok-1".into(),
        client_token: Some("5b7f0a3c".into()),
        updates: vec![update, wait, invoke, callback, context],
    };
    let expected = json!({
        "CheckpointToken": "tok-1",
        "ClientToken": "5b7f0a3c",
        "Updates": [
            {"Id": "6b86b273", "Name": "fetch-name", "Type": "STEP", "SubType": "Step", "Action": "RETRY",
             "Error": {"ErrorType": "Error"}, "StepOptions": {"NextAttemptDelaySeconds": 5}},
            {"Id": "w", "Type": "WAIT", "Action": "START", "WaitOptions": {"WaitSeconds": 60}},
            {"Id": "i", "Type": "CHAINED_INVOKE", "Action": "START",
             "ChainedInvokeOptions": {"FunctionName": "target", "TenantId": "t-1"}},
            {"Id": "cb", "Type": "CALLBACK", "Action": "START", "CallbackOptions": {"TimeoutSeconds": 5}},
            {"Id": "ctx", "Type": "CONTEXT", "Action": "SUCCEED", "ContextOptions": {"ReplayChildren": true}}
        ]
    });
    assert_eq!(serde_json::to_value(&request).unwrap(), expected);
    // Member order as aws-sdk-lambda writes it.
    let text = serde_json::to_string(&request).unwrap();
    assert!(
        text.starts_with("{\"CheckpointToken\":\"tok-1\",\"ClientToken\":\"5b7f0a3c\",\"Updates\":[{\"Id\""),
        "{text}"
    );
    assert_eq!(round_trip::<CheckpointRequest>(&expected), expected);
}

#[test]
fn checkpoint_response_may_omit_the_token() {
    let response: CheckpointResponse = serde_json::from_value(json!({})).unwrap();
    assert_eq!(response.checkpoint_token, None);
    let response: CheckpointResponse = serde_json::from_value(json!({
        "CheckpointToken": "tok-2",
        "NewExecutionState": {"Operations": [{"Id": "x", "Type": "STEP", "SubType": "Step", "Status": "STARTED",
            "StartTimestamp": 1767225600.12, "StepDetails": {"Attempt": 0}}], "NextMarker": "m2"}
    }))
    .unwrap();
    let state = response.new_execution_state.unwrap();
    assert_eq!(state.next_page(), Some("m2"));
    assert_eq!(state.operations[0].start_timestamp, Some(Timestamp::from_millis(1_767_225_600_120)));
}

#[test]
fn enums_ignore_case_and_keep_unknown_values() {
    let op: Operation = serde_json::from_value(json!({"Id": "x", "Type": "Execution", "Status": "Started"})).unwrap();
    assert_eq!(op.op_type, OperationType::Execution);
    assert_eq!(op.status, OperationStatus::Started);
    let op: Operation =
        serde_json::from_value(json!({"Id": "x", "Type": "TELEPORT", "SubType": "Beam", "Status": "WARPING"})).unwrap();
    assert_eq!(op.op_type, OperationType::Unknown("TELEPORT".into()));
    assert_eq!(op.sub_type, Some(OperationSubType::Unknown("Beam".into())));
    assert!(op.status.is_unknown());
    // Unknown values are written back as received.
    assert_eq!(serde_json::to_value(&op).unwrap()["Type"], "TELEPORT");
    assert_eq!(serde_json::to_value(OperationSubType::RunInChildContext).unwrap(), "RunInChildContext");
    assert_eq!(OperationSubType::parse("RUN_IN_CHILD_CONTEXT"), OperationSubType::RunInChildContext);
    assert_eq!(OperationType::parse("chainedinvoke"), OperationType::ChainedInvoke);
}

#[test]
fn timestamps_accept_millis_seconds_and_iso8601() {
    let ts = |v: Value| serde_json::from_value::<Timestamp>(v).unwrap();
    let expected = Timestamp::from_millis(1_767_225_600_000);
    assert_eq!(ts(json!(1767225600000u64)), expected);
    assert_eq!(ts(json!(1767225600)), expected);
    assert_eq!(ts(json!(1767225600.0)), expected);
    assert_eq!(ts(json!(1767225600.25)), Timestamp::from_millis(1_767_225_600_250));
    assert_eq!(ts(json!("2026-01-01T00:00:00Z")), expected);
    assert_eq!(ts(json!("2026-01-01T01:00:00.250+01:00")), Timestamp::from_millis(1_767_225_600_250));
    assert_eq!(ts(json!("2025-12-31T19:00:00-05:00")), expected);
    assert_eq!(ts(json!("1767225600000")), expected);
    for bad in [json!("yesterday"), json!("2026-13-01T00:00:00Z"), json!(true), json!("2026-01-01T00:00:00")] {
        assert!(serde_json::from_value::<Timestamp>(bad.clone()).is_err(), "{bad}");
    }
    assert_eq!(serde_json::to_value(expected).unwrap(), json!(1767225600000u64));
}

#[test]
fn malformed_envelopes_are_rejected_with_the_member_named() {
    let missing = json!({"DurableExecutionArn": "arn", "InitialExecutionState": {"Operations": []}});
    let err = serde_json::from_value::<InvocationInput>(missing).unwrap_err().to_string();
    assert!(err.contains("CheckpointToken"), "{err}");
    let wrong = json!({"DurableExecutionArn": 7, "CheckpointToken": "t", "InitialExecutionState": {}});
    let err = serde_json::from_value::<InvocationInput>(wrong).unwrap_err().to_string();
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn a_record_stays_small_whatever_details_it_could_carry() {
    // A replaying invocation holds every record of the execution at once: the details are boxed so
    // that a record does not carry the space of all six kinds inline.
    assert!(std::mem::size_of::<Operation>() <= 240, "{}", std::mem::size_of::<Operation>());
}
