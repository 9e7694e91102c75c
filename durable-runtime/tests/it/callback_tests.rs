//! Answering a callback by hand in a test: `run_until_callback` stops as soon as the named callback
//! waits for an answer, before time moves on, so its timeout fires only if the test lets time pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::protocol::{OperationStatus, OperationType};
use durable_runtime::testing::{ExecutionStatus, TestError, TestRunner};
use durable_runtime::{DurableContext, Error, CALLBACK_TIMEOUT_ERROR_TYPE};
use std::time::Duration;

/// Sends the callback id out (here: nowhere) and waits up to an hour for the approval.
async fn approval(ctx: DurableContext, order: String) -> Result<String, Error> {
    let decision: String = ctx
        .wait_for_callback(move |_callback_id, _| async move {
            let _ = order; // a real submitter sends the id to the approver
            Ok::<_, Error>(())
        })
        .name("approval")
        .timeout(Duration::from_secs(3600))
        .await?;
    Ok(format!("order {decision}"))
}

fn runner() -> TestRunner<impl durable_runtime::Handler<String, String>, String, String> {
    TestRunner::new(|ctx: DurableContext, order: String| approval(ctx, order))
}

#[tokio::test]
async fn a_callback_is_answered_by_hand_and_the_run_resumes() {
    let runner = runner();
    let pending = runner.run_until_callback("o-1", "approval").await.unwrap();
    assert_eq!(pending.status(), ExecutionStatus::Running);
    let callback = pending.operations().iter().find(|op| op.op_type == OperationType::Callback).unwrap();
    assert_eq!(callback.status, OperationStatus::Started, "the timeout has not fired");
    let id = pending.callback_id("approval").unwrap().to_owned();

    runner.send_callback_success(&id, "approved").unwrap();
    let done = runner.resume(pending.execution_arn()).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Succeeded);
    assert_eq!(done.output::<String>().unwrap(), "order approved");
}

#[tokio::test]
async fn the_timeout_fires_only_when_the_test_lets_time_pass() {
    let runner = runner();
    let pending = runner.run_until_callback("o-2", "approval").await.unwrap();
    // Resuming without an answer lets time pass: the hour elapses and the callback times out.
    let done = runner.resume(pending.execution_arn()).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Failed);
    assert_eq!(done.error().unwrap().error_type.as_deref(), Some(CALLBACK_TIMEOUT_ERROR_TYPE));
}

#[tokio::test]
async fn a_callback_that_never_waits_is_a_clear_error() {
    let err = runner().run_until_callback("o-3", "payment").await.unwrap_err();
    assert!(
        matches!(&err, TestError::CallbackNotPending { name, status: ExecutionStatus::Failed, .. } if name == "payment"),
        "{err}"
    );
}

#[tokio::test]
async fn plain_run_still_skips_past_the_timeout() {
    let result = runner().run("o-4").await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some(CALLBACK_TIMEOUT_ERROR_TYPE));
}

#[tokio::test]
async fn an_answer_that_does_not_deserialize_names_the_callback() {
    let handler = |ctx: DurableContext, _: String| async move {
        let amount: u64 = ctx.wait_for_callback(|_id, _| async { Ok::<_, Error>(()) }).name("amount").await?;
        Ok::<_, Error>(amount.to_string())
    };
    let runner = TestRunner::new(handler);
    let pending = runner.run_until_callback("o-5", "amount").await.unwrap();
    let id = pending.callback_id("amount").unwrap().to_owned();
    runner.send_callback_success(&id, "not a number").unwrap();
    let done = runner.resume(pending.execution_arn()).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Failed);
    let message = done.error().unwrap().error_message.unwrap_or_default();
    assert!(message.contains("wait-for-callback `amount`") && message.contains(&id), "{message}");
}

#[tokio::test]
async fn an_answer_with_no_bytes_is_null() {
    // What `aws lambda send-durable-execution-callback-success` without `--result` sends.
    let handler = |ctx: DurableContext, _: String| async move {
        let note: Option<String> = ctx.wait_for_callback(|_id, _| async { Ok::<_, Error>(()) }).name("note").await?;
        Ok::<_, Error>(format!("{note:?}"))
    };
    let runner = TestRunner::new(handler);
    let pending = runner.run_until_callback("o-6", "note").await.unwrap();
    let id = pending.callback_id("note").unwrap().to_owned();
    runner.service().callback_success(&id, Some(String::new())).unwrap();
    let done = runner.resume(pending.execution_arn()).await.unwrap();
    assert_eq!(done.output::<String>().unwrap(), "None");
}
