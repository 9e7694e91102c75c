//! The reminder under test: it waits until the timestamp from its input (the wait's scheduled end
//! is that timestamp, with time skipped), sends at once when the time is past, and survives the fault
//! matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::reminder::{send_reminder_at, Reminder, Sent};
use durable_runtime::protocol::{OperationType, Timestamp};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use std::time::Duration;

fn reminder(remind_at: Timestamp) -> Reminder {
    Reminder { user: "ada".to_owned(), message: "renew the passport".to_owned(), remind_at }
}

#[tokio::test]
async fn the_reminder_waits_until_the_given_time() {
    let remind_at = Timestamp::now().plus(Duration::from_secs(3 * 24 * 3600));
    // Three days is longer than the default execution timeout (24 h): the function is deployed with
    // a longer one, and the runner is told so.
    let runner = TestRunner::new(send_reminder_at).execution_timeout(Duration::from_secs(7 * 24 * 3600));
    let result = runner.run(reminder(remind_at)).await.unwrap();
    let sent: Sent = result.output().unwrap();
    assert_eq!(sent.user, "ada");
    let wait = result.operations().iter().find(|op| op.op_type == OperationType::Wait).expect("a WAIT");
    let end = wait.wait_details.as_ref().and_then(|d| d.scheduled_end_timestamp).unwrap();
    // The wait is whole seconds, rounded up, from the recorded `now`.
    assert!(end >= remind_at && end <= remind_at.plus(Duration::from_secs(2)), "{end:?} vs {remind_at:?}");
    let send = result.operation("send_reminder").unwrap();
    assert!(send.start_timestamp.unwrap() >= remind_at, "sent only once the time had come");
    assert_eq!(result.invocation_count(), 2, "one invocation to start waiting, one when it is up");
}

#[tokio::test]
async fn a_time_already_past_sends_at_once() {
    // The input's time as RFC 3339 text, as a scheduler would send it.
    let input = serde_json::json!({ "user": "ada", "message": "call back", "remind_at": "2020-01-01T09:00:00Z" });
    let result = TestRunner::new(send_reminder_at).run(input).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let sent: Sent = result.output().unwrap();
    assert_eq!(sent.message_id, "msg-ada-1577869200000");
    assert!(result.operations().iter().all(|op| op.op_type != OperationType::Wait), "no wait");
    assert_eq!(result.invocation_count(), 1);
}

#[tokio::test]
async fn the_reminder_survives_every_fault() {
    let remind_at = Timestamp::now().plus(Duration::from_secs(3600));
    let report = TestRunner::new(send_reminder_at).fault_matrix(reminder(remind_at)).await.unwrap();
    report.assert_ok().unwrap();
}
