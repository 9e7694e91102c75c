//! The approval workflow under test: an answer in time decides; a missed timeout or heartbeat
//! escalates; no answer at all rejects by policy; heartbeats keep a long review open; and the
//! workflow survives the fault matrix on both the direct and the escalated path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::approval::{
    approve_expense, Decision, ExpenseRequest, Outcome, APPROVAL_HEARTBEAT, APPROVAL_TIMEOUT, POLICY_DECIDER,
};
use durable_runtime::protocol::OperationStatus;
use durable_runtime::testing::{CallbackAction, ExecutionStatus, TestResult, TestRunner};
use serde_json::json;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn request() -> ExpenseRequest {
    ExpenseRequest {
        request_id: "exp-7".to_owned(),
        employee: "sam".to_owned(),
        amount_cents: 125_000,
        approver: "maria".to_owned(),
        escalate_to: "cfo".to_owned(),
    }
}

fn outcome(result: &TestResult) -> Outcome {
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    result.output().unwrap()
}

fn status_of(result: &TestResult, name: &str) -> OperationStatus {
    result.operation(name).unwrap_or_else(|| panic!("no operation `{name}`")).status.clone()
}

#[tokio::test]
async fn an_answer_in_time_decides_without_escalation() {
    let runner = TestRunner::new(approve_expense)
        .on_callback("approval", CallbackAction::succeed(json!({ "approved": true, "by": "maria" })).after(HOUR));
    let result = runner.run(request()).await.unwrap();
    let outcome = outcome(&result);
    assert_eq!(outcome.decision, Decision::Approved);
    assert_eq!(outcome.decided_by, "maria");
    assert!(!outcome.escalated);
    assert!(result.operation("escalation").is_none(), "nobody else was asked");
    assert!(result.operation("book_decision").is_some());
}

#[tokio::test]
async fn a_rejection_is_booked_as_rejected() {
    let answer = json!({ "approved": false, "by": "maria", "note": "not a business expense" });
    let runner = TestRunner::new(approve_expense).on_callback("approval", CallbackAction::succeed(answer));
    let outcome = outcome(&runner.run(request()).await.unwrap());
    assert_eq!(outcome.decision, Decision::Rejected);
    assert_eq!(outcome.decided_by, "maria");
}

#[tokio::test]
async fn no_answer_within_the_timeout_escalates() {
    // Heartbeats every 90 minutes keep the approval open, but nobody decides within 8 h.
    let heartbeats = (0..8).fold(CallbackAction::heartbeat().after(HOUR * 3 / 2), |action, _| {
        action.then(CallbackAction::heartbeat().after(HOUR * 3 / 2))
    });
    let runner = TestRunner::new(approve_expense)
        .on_callback("approval", heartbeats)
        .on_callback("escalation", CallbackAction::succeed(json!({ "approved": true, "by": "cfo" })));
    let result = runner.run(request()).await.unwrap();
    let outcome = outcome(&result);
    assert!(outcome.escalated);
    assert_eq!((outcome.decision, outcome.decided_by.as_str()), (Decision::Approved, "cfo"));
    assert_eq!(status_of(&result, "approval"), OperationStatus::Failed, "the approval context failed on its timeout");
    let timeout = result.history().iter().find(|e| e.details.timeout.is_some()).expect("a callback with a timeout");
    assert_eq!(timeout.details.timeout, Some(APPROVAL_TIMEOUT.as_secs()));
    assert!(result.operation("notify_escalation").is_some());
}

#[tokio::test]
async fn a_missed_heartbeat_escalates_before_the_timeout() {
    // The answer would come after 3 h without a heartbeat: the 2 h heartbeat timeout fires first.
    let late = CallbackAction::succeed(json!({ "approved": true, "by": "maria" })).after(3 * HOUR);
    let runner = TestRunner::new(approve_expense)
        .on_callback("approval", late)
        .on_callback("escalation", CallbackAction::succeed(json!({ "approved": false, "by": "cfo" })));
    let result = runner.run(request()).await.unwrap();
    let outcome = outcome(&result);
    assert!(outcome.escalated);
    assert_eq!((outcome.decision, outcome.decided_by.as_str()), (Decision::Rejected, "cfo"));
    let heartbeat = result.history().iter().find_map(|e| e.details.heartbeat_timeout).unwrap();
    assert_eq!(heartbeat, APPROVAL_HEARTBEAT.as_secs());
}

#[tokio::test]
async fn heartbeats_keep_a_long_review_open() {
    // 90 min, heartbeat, 90 min, approve: 3 h in all, never 2 h of silence.
    let reviewing =
        CallbackAction::heartbeat_then_succeed(HOUR * 3 / 2, HOUR * 3 / 2, json!({ "approved": true, "by": "maria" }));
    let runner = TestRunner::new(approve_expense).on_callback("approval", reviewing);
    let outcome = outcome(&runner.run(request()).await.unwrap());
    assert!(!outcome.escalated);
    assert_eq!(outcome.decided_by, "maria");
}

#[tokio::test]
async fn nobody_answering_rejects_by_policy() {
    let result = TestRunner::new(approve_expense).run(request()).await.unwrap();
    let outcome = outcome(&result);
    assert_eq!(outcome.decision, Decision::Rejected);
    assert_eq!(outcome.decided_by, POLICY_DECIDER);
    assert!(outcome.escalated);
    // Silence ends the first wait at the 2 h heartbeat timeout, then the escalation waits 12 h: 14 h,
    // within the local service's default execution timeout (24 h).
    let history = result.history();
    let took = history.last().unwrap().event_timestamp.since(history[0].event_timestamp);
    assert_eq!(took.as_secs() / 60, 14 * 60, "{took:?}");
}

#[tokio::test]
async fn an_approver_can_answer_by_hand() {
    let runner = TestRunner::new(approve_expense);
    let waiting = runner.run_until_callback(request(), "approval").await.unwrap();
    let id = waiting.callback_id("approval").unwrap().to_owned();
    runner.send_callback_success(&id, json!({ "approved": true, "by": "maria" })).unwrap();
    let outcome = outcome(&runner.resume(waiting.execution_arn()).await.unwrap());
    assert_eq!((outcome.decision, outcome.escalated), (Decision::Approved, false));
}

#[tokio::test]
async fn the_approval_workflow_survives_every_fault_on_both_paths() {
    let direct = TestRunner::new(approve_expense)
        .on_callback("approval", CallbackAction::succeed(json!({ "approved": true, "by": "maria" })));
    let report = direct.fault_matrix(request()).await.unwrap();
    assert!(report.cells() > 20, "{report}");
    report.assert_ok().unwrap();

    let escalated = TestRunner::new(approve_expense)
        .on_callback("escalation", CallbackAction::succeed(json!({ "approved": true, "by": "cfo" })));
    escalated.fault_matrix(request()).await.unwrap().assert_ok().unwrap();
}
