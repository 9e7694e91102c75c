//! The support agent under test: it looks the order up, waits for a reviewer before refunding, and
//! answers; a rejection or no answer skips the refund; the turn bound stops an agent that never
//! finishes; the transcript is the result; and the loop survives the fault matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::agent::{support_agent, AgentTask, Role, StopReason, Transcript, MAX_TURNS};
use durable_runtime::testing::{CallbackAction, ExecutionStatus, TestResult, TestRunner};
use serde_json::json;

fn refund(max_turns: u32) -> AgentTask {
    AgentTask { ticket_id: "t-5".to_owned(), request: "Please refund order 42".to_owned(), max_turns }
}

fn transcript(result: &TestResult) -> Transcript {
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    result.output().unwrap()
}

fn step_names(result: &TestResult) -> Vec<&str> {
    result.operations().iter().filter_map(|op| op.name.as_deref()).collect()
}

#[tokio::test]
async fn an_approved_refund_runs_after_the_approval_and_is_answered() {
    let runner = TestRunner::new(support_agent)
        .on_callback("approve-tool", CallbackAction::succeed(json!({ "approved": true, "by": "lee" })));
    let result = runner.run(refund(6)).await.unwrap();
    let transcript = transcript(&result);
    assert_eq!(transcript.stop, StopReason::Answered);
    assert_eq!(transcript.turns, 3);
    let roles: Vec<Role> = transcript.messages.iter().map(|m| m.role).collect();
    use Role::*;
    assert_eq!(roles, [User, Assistant, Tool, Assistant, Reviewer, Tool, Assistant]);
    assert!(transcript.messages[6].content.contains("has been refunded"), "{:?}", transcript.messages[6]);
    // The refund ran only after the approval.
    let names = step_names(&result);
    let approval = names.iter().position(|n| *n == "approve-tool").unwrap();
    let refund = names.iter().position(|n| *n == "tool:issue_refund").unwrap();
    assert!(approval < refund, "{names:?}");
}

#[tokio::test]
async fn the_agent_waits_for_approval_before_the_risky_tool() {
    let runner = TestRunner::new(support_agent);
    let waiting = runner.run_until_callback(refund(6), "approve-tool").await.unwrap();
    assert_eq!(waiting.status(), ExecutionStatus::Running);
    assert!(waiting.operation("tool:lookup_order").is_some());
    assert!(waiting.operation("tool:issue_refund").is_none(), "not before a person approved");
    let id = waiting.callback_id("approve-tool").unwrap().to_owned();
    runner.send_callback_success(&id, json!({ "approved": true, "by": "lee" })).unwrap();
    let done = runner.resume(waiting.execution_arn()).await.unwrap();
    assert!(done.operation("tool:issue_refund").is_some());
    assert_eq!(transcript(&done).stop, StopReason::Answered);
}

#[tokio::test]
async fn a_rejected_refund_is_skipped() {
    let answer = json!({ "approved": false, "by": "lee", "note": "order is disputed" });
    let runner = TestRunner::new(support_agent).on_callback("approve-tool", CallbackAction::succeed(answer));
    let result = runner.run(refund(6)).await.unwrap();
    let transcript = transcript(&result);
    assert!(result.operation("tool:issue_refund").is_none(), "the refund never ran");
    assert_eq!(transcript.stop, StopReason::Answered);
    assert!(transcript
        .messages
        .iter()
        .any(|m| m.role == Role::Reviewer && m.content == "rejected by lee: order is disputed"));
    assert!(transcript.messages.last().unwrap().content.starts_with("I cannot refund order 42"));
}

#[tokio::test]
async fn no_answer_in_time_skips_the_refund() {
    let result = TestRunner::new(support_agent).run(refund(6)).await.unwrap();
    let transcript = transcript(&result);
    assert!(result.operation("tool:issue_refund").is_none());
    assert!(transcript.messages.iter().any(|m| m.role == Role::Reviewer && m.content.starts_with("no answer")));
}

#[tokio::test]
async fn the_agent_stops_at_the_turn_bound() {
    let task = AgentTask { ticket_id: "t-6".to_owned(), request: "Why is the sky blue?".to_owned(), max_turns: 4 };
    let result = TestRunner::new(support_agent).run(task).await.unwrap();
    let bounded = transcript(&result);
    assert_eq!((bounded.stop, bounded.turns), (StopReason::TurnLimit, 4));
    assert_eq!(result.operations_named("call_model").len(), 4, "exactly four model calls");
    assert_eq!(bounded.messages.len(), 1 + 4 * 2);

    let greedy = AgentTask { max_turns: 1_000, ..refund(0) };
    let greedy = AgentTask { request: "Tell me everything".to_owned(), ..greedy };
    let result = TestRunner::new(support_agent).run(greedy).await.unwrap();
    assert_eq!(transcript(&result).turns, MAX_TURNS, "the input cannot lift the cap");
}

#[tokio::test]
async fn the_agent_survives_every_fault() {
    let runner = TestRunner::new(support_agent)
        .on_callback("approve-tool", CallbackAction::succeed(json!({ "approved": true, "by": "lee" })));
    let report = runner.fault_matrix(refund(6)).await.unwrap();
    assert!(report.cells() > 20, "{report}");
    report.assert_ok().unwrap();
}
