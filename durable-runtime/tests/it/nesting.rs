//! A durable operation awaited inside a step body fails the execution with a `NestedOperationError`
//! naming the outer step, before anything is recorded for it: the step body is not replayed, so the
//! operation would otherwise be recorded at the wrong level and missing on replay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::protocol::OperationType;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error, ErrorKind};
use serde_json::Value;

#[durable_step]
async fn lookup(id: u32) -> Result<u32, Error> {
    Ok(id * 2)
}

#[durable_step]
async fn enrich(id: u32) -> Result<u32, Error> {
    // The mistake: a step awaited inside another step's body.
    Ok(lookup(id).await? + 1)
}

#[durable_workflow]
async fn enrich_order(_ctx: DurableContext, id: u32) -> Result<u32, Error> {
    Ok(enrich(id).await?)
}

#[tokio::test]
async fn a_step_awaited_in_a_step_body_fails_the_execution_naming_the_outer_step() {
    let result = TestRunner::new(enrich_order).run(21).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().expect("the execution failed with an error");
    assert_eq!(error.error_type.as_deref(), Some(ErrorKind::NestedOperation.default_error_type()));
    let message = error.error_message.unwrap_or_default();
    assert!(message.contains("step `lookup`") && message.contains("inside the body of step `enrich`"), "{message}");
    // Only the outer step was recorded (started); the inner one never reached the service.
    let steps: Vec<_> = result.operations().iter().filter(|op| op.op_type == OperationType::Step).collect();
    assert_eq!(steps.len(), 1, "{steps:#?}");
    assert_eq!(steps[0].name.as_deref(), Some("enrich"));
}

#[tokio::test]
async fn a_builder_operation_in_a_step_body_is_refused_too() {
    let handler = |ctx: DurableContext, _input: Value| async move {
        let inner = ctx.clone();
        let value = ctx
            .step(move |_| async move { Ok::<_, Error>(inner.wait(std::time::Duration::from_secs(1)).await.is_ok()) })
            .name("outer")
            .await?;
        Ok::<_, Error>(value)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let message = result.error().and_then(|e| e.error_message).unwrap_or_default();
    assert!(message.contains("wait at position") && message.contains("step `outer`"), "{message}");
    assert!(result.operations().iter().all(|op| op.op_type != OperationType::Wait));
}
