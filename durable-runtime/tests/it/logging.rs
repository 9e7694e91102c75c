//! Replay-aware logging: records emitted while replaying are suppressed, every record carries the
//! execution ARN and operation id, and lines are single-line JSON with top-level fields.
#![cfg(feature = "json-logs")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, Error, Options};
use serde_json::Value;
use std::time::Duration;

async fn workflow(ctx: DurableContext, name: String) -> Result<String, Error> {
    tracing::info!(who = %name, "before the step");
    let greeting = ctx
        .step(move |_| async move {
            tracing::info!("in the step");
            Ok::<_, Error>(format!("Hello, {name}!"))
        })
        .await?;
    ctx.wait(Duration::from_secs(5)).await?;
    tracing::info!("after the wait");
    Ok(greeting)
}

fn records(lines: &[String]) -> Vec<serde_json::Map<String, Value>> {
    lines
        .iter()
        .map(|line| {
            assert!(!line.contains('\n'), "one line per record: {line}");
            match serde_json::from_str(line) {
                Ok(Value::Object(map)) => map,
                other => panic!("not a JSON object: {line} ({other:?})"),
            }
        })
        .collect()
}

fn with_message<'a>(
    records: &'a [serde_json::Map<String, Value>],
    message: &str,
) -> Vec<&'a serde_json::Map<String, Value>> {
    records.iter().filter(|r| r["message"] == message).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn replayed_records_are_suppressed_and_carry_the_execution() {
    let result = TestRunner::new(workflow).capture_logs().run("Ada").await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.invocation_count(), 2);
    let records = records(result.logs());
    // The second invocation replays up to the wait, so "before the step" is written once.
    assert_eq!(with_message(&records, "before the step").len(), 1, "{records:?}");
    assert_eq!(with_message(&records, "in the step").len(), 1, "{records:?}");
    assert_eq!(with_message(&records, "after the wait").len(), 1, "{records:?}");
    for record in &records {
        assert_eq!(record["durableExecutionArn"], result.execution_arn(), "{record:?}");
        assert_eq!(record["level"], "INFO");
    }
    let before = with_message(&records, "before the step")[0];
    assert_eq!(before["who"], "Ada", "event fields are top-level");
    assert!(before.get("operationId").is_none(), "root code has no enclosing operation");
    let step = with_message(&records, "in the step")[0];
    let step_id = &result.operations()[0].id;
    assert_eq!(step["operationId"], step_id.as_str());
    assert_eq!(step["attempt"], 1);
}

#[tokio::test(flavor = "current_thread")]
async fn log_replay_keeps_replayed_records() {
    let result =
        TestRunner::new(workflow).options(Options::default().log_replay(true)).capture_logs().run("Ada").await.unwrap();
    let records = records(result.logs());
    assert_eq!(with_message(&records, "before the step").len(), 2, "{records:?}");
    assert_eq!(with_message(&records, "in the step").len(), 1, "a step body never runs on replay");
}

async fn child_logs(ctx: DurableContext, _: ()) -> Result<(), Error> {
    ctx.run_in_child_context(|child| async move {
        tracing::info!("child body");
        child.step(|_| async move { Ok::<_, Error>(1) }).await?;
        Ok::<_, Error>(())
    })
    .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn records_in_a_child_carry_the_child_id() {
    let result = TestRunner::new(child_logs).capture_logs().run(()).await.unwrap();
    let records = records(result.logs());
    let child = with_message(&records, "child body");
    assert_eq!(child.len(), 1, "{records:?}");
    let context_id = &result.operations()[0].id;
    assert_eq!(child[0]["operationId"], context_id.as_str());
}

#[test]
fn outside_a_workflow_nothing_is_replaying() {
    assert!(durable_runtime::logging::current().is_none());
    assert!(!durable_runtime::logging::is_replaying());
}
