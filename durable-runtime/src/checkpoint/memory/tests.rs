//! Unit tests of the in-memory service, driven with hand-written updates (no engine).

use super::validate::{MAX_ERROR_BYTES, MAX_PAYLOAD_BYTES};
use super::*;
use crate::checkpoint::{CheckpointClient, ErrorClass};
use crate::protocol::{
    CallbackOptions, CheckpointRequest, CheckpointResponse, ContextOptions, InvocationOutput, InvocationStatus,
    Operation, OperationAction as A, OperationStatus as S, OperationSubType, OperationType as T, StepOptions,
    WaitOptions,
};
use serde_json::{json, Value};

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
    assert_eq!(ops[0].execution_details.as_ref().unwrap().input_payload.as_deref(), Some("{}"));
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
fn tokens_are_single_use_and_only_the_latest_is_valid() {
    let mut f = Fixture::new();
    let first = f.token.clone();
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
    assert_ne!(f.token, first);
    let stale = CheckpointRequest { checkpoint_token: first, client_token: None, updates: vec![] };
    let err = f.service.checkpoint_now(&f.arn, stale).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!((err.status(), err.code()), (Some(400), Some("InvalidParameterValueException")));
    assert!(err.message().starts_with("Invalid Checkpoint Token"));
    // An empty poll is legal and rotates the token.
    let before = f.token.clone();
    f.cp(vec![]).unwrap();
    assert_ne!(f.token, before);
    // The service rotating behind the caller's back.
    f.service.expire_token(&f.arn);
    assert!(f.cp(vec![]).unwrap_err().is_retryable());
    // A new invocation's token invalidates the old one.
    let old = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    let new = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.token = old;
    assert!(f.cp(vec![]).unwrap_err().is_retryable());
    f.token = new;
    f.cp(vec![]).unwrap();
}

#[test]
fn unknown_executions_are_not_found() {
    let service = MemoryService::new();
    let request = CheckpointRequest { checkpoint_token: "t".into(), client_token: None, updates: vec![] };
    let err = service.checkpoint_now("arn:nope", request).unwrap_err();
    assert_eq!((err.status(), err.class()), (Some(404), ErrorClass::Fatal));
    assert_eq!(service.invocation_input("arn:nope").unwrap_err(), MemoryError::UnknownExecution("arn:nope".into()));
}

#[test]
fn each_validation_rule_rejects_with_the_emulator_message() {
    let mut f = Fixture::new();
    f.cp(vec![u("s", T::Step, A::Start), u("c", T::Context, A::Start), wait("w", 5)]).unwrap();
    let cases: Vec<(Vec<OperationUpdate>, &str)> = vec![
        (vec![u("x", T::Step, A::Start), u("x", T::Step, A::Start)], "Cannot update the same operation twice"),
        (vec![wait("y", 1), u("y", T::Wait, A::Cancel)], "Cannot update the same operation twice"),
        (
            vec![u("z", T::Step, A::Start), retry("z", 1), with_payload(u("z", T::Step, A::Succeed), "1")],
            "Cannot update the same operation twice",
        ),
        (vec![with_parent(u("x", T::Step, A::Start), "nope")], "Invalid parent operation id."),
        (vec![with_parent(u("x", T::Step, A::Start), "s")], "Invalid parent operation id."),
        (
            vec![with_parent(u("x", T::Step, A::Start), "c2"), u("c2", T::Context, A::Start)],
            "Invalid parent operation id.",
        ),
        (
            vec![u("e1", T::Execution, A::Succeed), u("x", T::Step, A::Start)],
            "EXECUTION checkpoint must be the last update.",
        ),
        (
            vec![u("e1", T::Execution, A::Succeed), u("e2", T::Execution, A::Succeed)],
            "Cannot checkpoint multiple EXECUTION",
        ),
        (vec![u("e1", T::Execution, A::Start)], "Invalid action START for operation type EXECUTION."),
        (vec![u("x", T::Callback, A::Cancel)], "Invalid action CANCEL for operation type CALLBACK."),
        (vec![u("x", T::Context, A::Retry)], "Invalid action RETRY for operation type CONTEXT."),
        (vec![u("s", T::Step, A::Start)], "Invalid current STEP state to start."),
        (vec![u("s", T::Step, A::Retry)], "Invalid StepOptions for the given action."),
        (vec![with_payload(retry("s", 1), "state")], "Cannot provide both error and payload to RETRY a STEP."),
        (vec![with_payload(u("s", T::Step, A::Fail), "1")], "Cannot provide a Payload for FAIL action."),
        (vec![with_error(u("s", T::Step, A::Succeed), "E")], "Cannot provide an Error for SUCCEED action."),
        (vec![with_payload(u("e", T::Execution, A::Fail), "1")], "Cannot provide a Payload for FAIL action."),
        (vec![u("c", T::Context, A::Start)], "Cannot start a CONTEXT that already exist."),
        (vec![u("w", T::Wait, A::Start)], "Cannot start a WAIT that already exist."),
        (vec![wait("w0", 0)], "Invalid WaitOptions for the given action."),
        (vec![u("x", T::Wait, A::Cancel)], "Invalid current WAIT state to cancel."),
        (vec![u("x", T::ChainedInvoke, A::Start)], "Invalid ChainedInvokeOptions for the given action."),
        (vec![u("s", T::Wait, A::Cancel)], "Inconsistent operation type."),
        (
            vec![{
                let mut x = u("s", T::Step, A::Succeed);
                x.sub_type = Some(OperationSubType::WaitForCondition);
                x
            }],
            "Inconsistent operation subtype.",
        ),
        (
            vec![{
                let mut x = u("s", T::Step, A::Succeed);
                x.name = Some("other".into());
                x
            }],
            "Inconsistent operation name.",
        ),
        (vec![with_parent(u("s", T::Step, A::Succeed), "c")], "Inconsistent parent operation id."),
        (vec![u("x", T::Unknown("TELEPORT".into()), A::Start)], "Invalid operation type"),
    ];
    let history_len = f.service.history(&f.arn).len();
    for (updates, expected) in cases {
        let message = f.reject(updates.clone());
        assert!(message.contains(expected), "{updates:?}: `{message}` should contain `{expected}`");
    }
    assert_eq!(f.service.history(&f.arn).len(), history_len, "rejections record nothing");
    // Closing a closed CONTEXT / WAIT.
    f.cp(vec![with_payload(u("c", T::Context, A::Succeed), "1")]).unwrap();
    assert!(f
        .reject(vec![with_payload(u("c", T::Context, A::Succeed), "1")])
        .contains("Invalid current CONTEXT state to close."));
    f.cp(vec![with_payload(u("s", T::Step, A::Succeed), "1")]).unwrap();
    assert!(f.reject(vec![retry("s", 1)]).contains("Invalid current STEP state to re-attempt."));
    assert!(f.reject(vec![with_parent(u("k", T::Step, A::Start), "s")]).contains("Invalid parent operation id."));
}

#[test]
fn legal_batches_pair_start_with_one_completion_and_parent_in_the_same_batch() {
    let mut f = Fixture::new();
    f.cp(vec![
        u("c", T::Context, A::Start),
        with_parent(u("c-1", T::Step, A::Start), "c"),
        with_payload(with_parent(u("c-1", T::Step, A::Succeed), "c"), "\"x\""),
        with_payload(u("c", T::Context, A::Succeed), "\"x\""),
        with_payload(u("d", T::Context, A::Succeed), "1"), // CONTEXT SUCCEED from absent
        with_payload(u("s", T::Step, A::Succeed), "2"),    // STEP from absent: no state check
    ])
    .unwrap();
    assert_eq!(f.op("c-1").status, S::Succeeded);
    assert_eq!(f.op("d").status, S::Succeeded);
    assert_eq!(f.op("s").step_details.unwrap().attempt, Some(1));
}

#[test]
fn a_rejected_batch_applies_nothing_and_keeps_the_token() {
    let mut f = Fixture::new();
    let before_ops = f.service.operations(&f.arn);
    let before_history = f.service.history(&f.arn);
    let token = f.token.clone();
    f.reject(vec![u("a", T::Step, A::Start), wait("b", 1), u("a", T::Step, A::Start)]);
    assert_eq!(f.service.operations(&f.arn), before_ops);
    assert_eq!(f.service.history(&f.arn), before_history);
    assert_eq!(f.service.next_timer(&f.arn), None);
    assert_eq!(f.token, token);
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
    assert_eq!(f.service.requests(&f.arn).len(), 2, "rejected requests are logged too");
}

#[test]
fn payload_and_error_limits_name_the_limit() {
    let mut f = Fixture::new();
    let big = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    let message = f.reject(vec![with_payload(u("a", T::Step, A::Succeed), &big)]);
    assert!(message.contains("1048576 bytes"), "{message}");
    let mut update = u("a", T::Step, A::Fail);
    update.error = Some(ErrorObject { error_message: Some("e".repeat(MAX_ERROR_BYTES)), ..Default::default() });
    assert!(f.reject(vec![update]).contains("less than 32768 bytes"));
    // EXECUTION results may exceed 1 MB.
    let response = f.cp(vec![with_payload(u("r", T::Execution, A::Succeed), &big)]).unwrap();
    assert_eq!(response.checkpoint_token, None, "a finished execution issues no token");
    assert_eq!(f.service.execution_status(&f.arn), Some(ExecutionStatus::Succeeded));
    assert_eq!(f.service.execution_result(&f.arn).map(|r| r.len()), Some(big.len()));
}

#[test]
fn step_bookkeeping_and_timers() {
    let mut f = Fixture::new();
    let response = f.cp(vec![u("s", T::Step, A::Start), retry("s", 5)]).unwrap();
    let delta = response.new_execution_state.unwrap().operations;
    assert_eq!(delta.len(), 1);
    let op = &delta[0];
    assert_eq!(op.status, S::Pending);
    let details = op.step_details.clone().unwrap();
    assert_eq!(details.attempt, Some(1));
    assert_eq!(details.error.unwrap().error_type.as_deref(), Some("Flaky"));
    let due = details.next_attempt_timestamp.unwrap();
    assert!(due.since(f.service.now()) > Duration::from_secs(4));
    assert_eq!(f.service.next_timer(&f.arn), Some(due));
    assert_eq!(f.service.advance(Duration::from_secs(1)), 0, "not due yet");
    assert_eq!(f.service.advance_to(&f.arn, due), 1);
    let ready = f.op("s");
    assert_eq!(ready.status, S::Ready);
    assert_eq!(ready.step_details.as_ref().unwrap().next_attempt_timestamp, None);
    assert_eq!(f.service.next_timer(&f.arn), None);
    // The service-side change shows up in the next delta.
    let delta = f.cp(vec![]).unwrap().new_execution_state.unwrap().operations;
    assert_eq!(delta.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec!["s"]);
    assert!(f.cp(vec![]).unwrap().new_execution_state.unwrap().operations.is_empty(), "a delta, not the full state");
    // A new START rebuilds the details without the result/error; the attempt count stays.
    f.cp(vec![u("s", T::Step, A::Start)]).unwrap();
    let started = f.op("s").step_details.unwrap();
    assert_eq!((started.attempt, started.error, started.result), (Some(1), None, None));
    f.cp(vec![with_payload(u("s", T::Step, A::Succeed), "7")]).unwrap();
    let done = f.op("s");
    assert_eq!(done.status, S::Succeeded);
    assert_eq!(done.step_details.as_ref().unwrap().attempt, Some(2));
    assert_eq!(done.step_details.unwrap().result.as_deref(), Some("7"));
}

#[test]
fn wait_timers_fire_with_an_event_and_are_reported_to_the_next_invocation() {
    let mut f = Fixture::new();
    f.cp(vec![wait("w", 60)]).unwrap();
    let op = f.op("w");
    assert_eq!(op.status, S::Started);
    let end = op.wait_details.unwrap().scheduled_end_timestamp.unwrap();
    assert_eq!(f.service.next_timer(&f.arn), Some(end));
    let out = InvocationOutput::pending();
    assert_eq!(f.service.complete_invocation(&f.arn, Ok(out)).unwrap().invocation_error, None);
    f.service.advance_to(&f.arn, end);
    assert_eq!(f.op("w").status, S::Succeeded);
    let input = f.service.invocation_input(&f.arn).unwrap();
    assert_eq!(input.updated_operation_ids, Some(vec!["w".to_owned()]));
    let types: Vec<_> = f.history().iter().map(|e| e["EventType"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types, ["ExecutionStarted", "WaitStarted", "InvocationCompleted", "WaitSucceeded"]);
    assert_eq!(f.history()[3]["WaitSucceededDetails"], json!({"Duration": 60}));
}

#[test]
fn a_wait_can_be_cancelled() {
    let mut f = Fixture::new();
    f.cp(vec![wait("w", 10)]).unwrap();
    f.cp(vec![u("w", T::Wait, A::Cancel)]).unwrap();
    assert_eq!(f.op("w").status, S::Cancelled);
    assert_eq!(f.service.next_timer(&f.arn), None);
    assert_eq!(f.history().last().unwrap()["EventType"], "WaitCancelled");
}

#[test]
fn invocation_input_and_get_state_page_the_state() {
    let mut f = Fixture::new();
    f.cp((1..=4).map(|i| u(&format!("s{i}"), T::Step, A::Start)).collect()).unwrap();
    f.service.set_page_size(2);
    let input = f.service.invocation_input(&f.arn).unwrap();
    let token = input.checkpoint_token.clone();
    let mut ids: Vec<String> = input.initial_execution_state.operations.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids.len(), 2);
    let mut marker = input.initial_execution_state.next_marker.clone();
    let mut pages = 1;
    while let Some(m) = marker {
        let page = f.service.get_state_now(&f.arn, &token, Some(&m)).unwrap();
        ids.extend(page.operations.iter().map(|o| o.id.clone()));
        marker = page.next_page().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(&ids[1..], ["s1", "s2", "s3", "s4"]);
    // The first page again, without a marker; paging does not consume the token.
    assert_eq!(f.service.get_state_now(&f.arn, &token, None).unwrap().operations.len(), 2);
    f.token = token.clone();
    f.cp(vec![]).unwrap();
    let err = f.service.get_state_now(&f.arn, &token, None).unwrap_err();
    assert!(err.is_retryable(), "a stale token: {err}");
    assert!(f
        .service
        .get_state_now(&f.arn, &f.token, Some("garbage"))
        .unwrap_err()
        .message()
        .contains("Invalid marker"));
}

#[test]
fn children_of_completed_contexts_are_pruned_unless_replay_children() {
    let mut f = Fixture::new();
    f.cp(vec![
        u("c", T::Context, A::Start),
        with_parent(u("c-1", T::Context, A::Start), "c"),
        with_parent(u("c-1-1", T::Step, A::Start), "c-1"),
        u("r", T::Context, A::Start),
        with_parent(u("r-1", T::Step, A::Start), "r"),
    ])
    .unwrap();
    let visible = |f: &Fixture| -> Vec<String> {
        let input = f.service.invocation_input(&f.arn).unwrap();
        input.initial_execution_state.operations.into_iter().skip(1).map(|o| o.id).collect()
    };
    assert_eq!(visible(&f), ["c", "c-1", "c-1-1", "r", "r-1"]);
    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    let mut replay = u("r", T::Context, A::Succeed);
    replay.context_options = Some(ContextOptions { replay_children: Some(true) });
    f.cp(vec![with_payload(u("c", T::Context, A::Succeed), "1"), replay]).unwrap();
    assert_eq!(visible(&f), ["c", "r", "r-1"], "grandchildren go too; ReplayChildren keeps them");
    assert_eq!(f.op("r").context_details.unwrap().replay_children, Some(true));
    assert_eq!(f.service.operations(&f.arn).len(), 6, "the records are kept");
}

#[test]
fn history_numbering_and_shapes_follow_the_service() {
    let mut f = Fixture::new();
    let mut named = u("s", T::Step, A::Start);
    named.name = Some("charge".into());
    f.cp(vec![named, retry("s", 2)]).unwrap();
    f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending())).unwrap();
    f.service.advance(Duration::from_secs(2));
    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.cp(vec![u("s", T::Step, A::Start), with_payload(u("s", T::Step, A::Succeed), "\"ok\"")]).unwrap();
    let mut poll = u("p", T::Step, A::Start);
    poll.sub_type = Some(OperationSubType::WaitForCondition);
    let mut carry = with_payload(u("p", T::Step, A::Retry), "{\"n\":1}");
    carry.sub_type = Some(OperationSubType::WaitForCondition);
    carry.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(3) });
    f.cp(vec![u("c", T::Context, A::Start), with_parent(poll, "c"), with_parent(carry, "c")]).unwrap();
    f.cp(vec![with_error(u("c", T::Context, A::Fail), "Boom")]).unwrap();
    f.cp(vec![with_error(u("x", T::Execution, A::Fail), "Boom")]).unwrap();
    f.service
        .complete_invocation(
            &f.arn,
            Ok(InvocationOutput { status: InvocationStatus::Failed, result: None, error: None }),
        )
        .unwrap();

    let history = f.history();
    let ids: Vec<u64> = history.iter().map(|e| e["EventId"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=history.len() as u64).collect::<Vec<_>>(), "gapless, 1-based");
    let types: Vec<&str> = history.iter().map(|e| e["EventType"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "StepStarted",
            "StepFailed",
            "InvocationCompleted",
            "StepStarted",
            "StepSucceeded",
            "ContextStarted",
            "StepStarted",
            "StepSucceeded",
            "ContextFailed",
            "InvocationCompleted",
            "ExecutionFailed",
        ]
    );
    assert_eq!(history[1]["StepStartedDetails"], json!({}));
    assert_eq!(
        (&history[1]["Name"], &history[1]["SubType"], &history[1]["Id"]),
        (&json!("charge"), &json!("Step"), &json!("s"))
    );
    assert_eq!(history[2]["Name"], "charge", "later events carry the stored name");
    assert_eq!(
        history[2]["StepFailedDetails"],
        json!({"Error": {"Payload": {"ErrorType": "Flaky"}, "Truncated": false},
               "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2}})
    );
    let completed = &history[3]["InvocationCompletedDetails"];
    assert!(
        completed["StartTimestamp"].is_i64()
            && completed["EndTimestamp"].is_i64()
            && completed["RequestId"].is_string()
    );
    assert!(completed.get("Error").is_none());
    assert!(history[3].get("Id").is_none());
    assert_eq!(
        history[5]["StepSucceededDetails"],
        json!({"Result": {"Payload": "\"ok\"", "Truncated": false}, "RetryDetails": {"CurrentAttempt": 2}})
    );
    assert_eq!(history[6]["ContextStartedDetails"], json!({}));
    assert_eq!(history[7]["ParentId"], "c");
    assert_eq!(history[8]["SubType"], "WaitForCondition");
    assert_eq!(
        history[8]["StepSucceededDetails"],
        json!({"Result": {"Payload": "{\"n\":1}", "Truncated": false},
               "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 3}})
    );
    assert_eq!(history[9]["ContextFailedDetails"]["Error"]["Payload"]["ErrorType"], "Boom");
    assert_eq!(
        history[11]["ExecutionFailedDetails"]["Error"]["Payload"]["ErrorType"], "Boom",
        "the EXECUTION update's error"
    );
    assert_eq!(f.service.execution_status(&f.arn), Some(ExecutionStatus::Failed));
    assert!(f.service.invocation_input(&f.arn).is_err());
}

#[test]
fn complete_invocation_validates_envelopes_and_fails_after_repeated_failures() {
    let f = Fixture::new();
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending())).unwrap();
    assert_eq!(done.status, ExecutionStatus::Running);
    let error = done.invocation_error.unwrap();
    assert_eq!(error.error_message.as_deref(), Some("Cannot return PENDING status with no pending operations."));
    let both = InvocationOutput { status: InvocationStatus::Failed, result: Some("1".into()), error: None };
    assert!(f.service.complete_invocation(&f.arn, Ok(both)).unwrap().invocation_error.is_some());
    let mut last = None;
    for i in 0..4 {
        f.service.invocation_input(&f.arn).unwrap();
        let error = ErrorObject { error_type: Some(format!("E{i}")), ..Default::default() };
        last = Some(f.service.complete_invocation(&f.arn, Err(error)).unwrap());
    }
    let last = last.unwrap();
    assert_eq!(last.status, ExecutionStatus::Failed, "the sixth consecutive failure fails the execution");
    assert_eq!(f.service.execution_error(&f.arn).unwrap().error_type.as_deref(), Some("E3"));
    assert_eq!(f.service.invocations(&f.arn).len(), 6);
    let history = f.history();
    assert_eq!(history.last().unwrap()["EventType"], "ExecutionFailed");
    assert_eq!(history.iter().filter(|e| e["EventType"] == "InvocationCompleted").count(), 6);
    let again = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending()));
    assert!(matches!(again, Err(MemoryError::ExecutionComplete(_))));
}

#[test]
fn a_successful_envelope_finishes_the_execution() {
    let f = Fixture::new();
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::succeeded("\"hi\"".into()))).unwrap();
    assert_eq!((done.status, done.invocation_error), (ExecutionStatus::Succeeded, None));
    let history = f.history();
    assert_eq!(history.last().unwrap()["ExecutionSucceededDetails"]["Result"]["Payload"], "\"hi\"");
    assert_eq!(f.service.operations(&f.arn)[0].status, S::Succeeded);
}

#[test]
fn injected_failures_and_crashes() {
    let mut f = Fixture::new();
    f.service.fail_next_checkpoints(2, CheckpointError::classify(Some(503), Some("ServiceException"), "down"));
    assert!(f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err().is_retryable());
    assert!(f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err().is_retryable());
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();

    f.service.crash_on(CrashPoint::BeforeApply, |u| u.action == A::Succeed);
    let err = f.cp(vec![u("b", T::Step, A::Start), with_payload(u("b", T::Step, A::Succeed), "1")]).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(f.op("b").status, S::Started, "updates before the crash point are applied");
    assert!(
        f.cp(vec![]).unwrap_err().message().starts_with("Invalid Checkpoint Token"),
        "the dead invocation's token is gone"
    );
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending())).unwrap();
    assert_eq!(done.invocation_error.unwrap().error_type.as_deref(), Some("Runtime.ExitError"));

    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.service.crash_on(CrashPoint::AfterApply, |u| u.id == "c");
    assert!(f.cp(vec![u("c", T::Step, A::Start), u("d", T::Step, A::Start)]).is_err());
    assert!(f.service.operation(&f.arn, "c").is_some());
    assert!(f.service.operation(&f.arn, "d").is_none());
    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.cp(vec![u("d", T::Step, A::Start)]).unwrap(); // one-shot
}

#[test]
fn a_retried_request_with_the_same_client_token_gets_the_original_response() {
    let mut f = Fixture::new();
    let request = CheckpointRequest {
        checkpoint_token: f.token.clone(),
        client_token: Some("ct-1".into()),
        updates: vec![u("a", T::Step, A::Start)],
    };
    let first = f.service.checkpoint_now(&f.arn, request.clone()).unwrap();
    let again = f.service.checkpoint_now(&f.arn, request).unwrap();
    assert_eq!(first, again);
    assert_eq!(f.service.history(&f.arn).len(), 2, "applied once");
    f.token = first.checkpoint_token.unwrap();
    f.cp(vec![]).unwrap();
}

#[test]
fn callbacks_get_ids_answers_and_timeouts() {
    let mut f = Fixture::new();
    let mut start = u("cb", T::Callback, A::Start);
    start.callback_options = Some(CallbackOptions { timeout_seconds: Some(30), heartbeat_timeout_seconds: Some(10) });
    let mut other = u("cb2", T::Callback, A::Start);
    other.callback_options = Some(CallbackOptions { timeout_seconds: Some(5), heartbeat_timeout_seconds: None });
    let delta = f.cp(vec![start, other]).unwrap().new_execution_state.unwrap().operations;
    let id = delta[0].callback_details.as_ref().unwrap().callback_id.clone().unwrap();
    f.service.advance(Duration::from_secs(6));
    assert_eq!(f.op("cb2").status, S::TimedOut);
    assert_eq!(f.op("cb2").callback_details.unwrap().error.unwrap().error_type.as_deref(), Some("Callback.Timeout"));
    f.service.callback_heartbeat(&id).unwrap();
    f.service.advance(Duration::from_secs(6));
    assert_eq!(f.op("cb").status, S::Started, "the heartbeat re-armed the timeout");
    f.service.callback_success(&id, Some("\"yes\"".into())).unwrap();
    assert_eq!(f.op("cb").callback_details.unwrap().result.as_deref(), Some("\"yes\""));
    assert_eq!(f.service.callback_success(&id, None), Err(MemoryError::CallbackClosed(id.clone())));
    let types: Vec<_> = f.history().iter().map(|e| e["EventType"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        types,
        ["ExecutionStarted", "CallbackStarted", "CallbackStarted", "CallbackTimedOut", "CallbackSucceeded"]
    );
    assert_eq!(f.history()[1]["CallbackStartedDetails"]["Timeout"], 30);
    assert_eq!(f.history()[1]["CallbackStartedDetails"]["HeartbeatTimeout"], 10);
}

#[tokio::test]
async fn the_client_trait_goes_through_the_same_service() {
    let f = Fixture::new();
    f.service.set_latency(Duration::from_millis(5));
    let client: std::sync::Arc<dyn CheckpointClient> = std::sync::Arc::new(f.service.clone());
    let request =
        CheckpointRequest { checkpoint_token: f.token.clone(), client_token: None, updates: vec![wait("w", 1)] };
    let started = std::time::Instant::now();
    let response = client.checkpoint(&f.arn, request).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(5));
    let token = response.checkpoint_token.unwrap();
    let state = client.get_state(&f.arn, &token, None).await.unwrap();
    assert_eq!(state.operations.len(), 2);
}
