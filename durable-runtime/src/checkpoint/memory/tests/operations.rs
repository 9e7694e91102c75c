//! What applying updates records: step attempts and retry timers, waits and their timers, and the
//! history events with their numbering and shapes.

use super::{retry, u, wait, with_error, with_parent, with_payload, Fixture};
use crate::checkpoint::memory::ExecutionStatus;
use crate::protocol::{
    InvocationOutput, InvocationStatus, OperationAction as A, OperationStatus as S, OperationSubType,
    OperationType as T, StepOptions,
};
use serde_json::json;
use std::time::Duration;

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
    assert_eq!(done.step_details.unwrap().result.as_ref().map(|p| p.text()).as_deref(), Some("7"));
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
