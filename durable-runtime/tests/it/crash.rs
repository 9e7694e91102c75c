//! A simulated crash loses what a process exit loses: every update the invocation has not had
//! applied yet, an at-least-once START still queued included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::protocol::history::EventType;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, Error, StepContext};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A workflow whose step crashes the process during its first attempt, optionally after its START
/// was acknowledged.
fn crashing(
    service: MemoryService,
    wait_for_start: bool,
) -> impl Fn(DurableContext, u32) -> durable_runtime::checkpoint::BoxFuture<Result<u32, Error>> + Send + Sync + 'static
{
    let crashed = Arc::new(AtomicBool::new(false));
    move |ctx: DurableContext, n: u32| {
        let (service, crashed) = (service.clone(), crashed.clone());
        Box::pin(async move {
            let arn = ctx.execution_arn().to_owned();
            let value = ctx
                .step(move |step: StepContext| async move {
                    if wait_for_start {
                        step.started().await;
                    }
                    if !crashed.swap(true, Ordering::SeqCst) {
                        service.crash(&arn); // the process dies here
                    }
                    Ok::<_, Error>(n + 1)
                })
                .name("work")
                .await?;
            Ok(value)
        })
    }
}

fn first_invocation(events: &[durable_runtime::testing::HistoryEvent]) -> Vec<EventType> {
    let end = events.iter().position(|e| e.event_type == EventType::InvocationCompleted).unwrap();
    events[1..=end].iter().map(|e| e.event_type.clone()).collect()
}

#[tokio::test]
async fn a_crash_loses_the_start_that_was_still_queued() {
    let service = MemoryService::new();
    let runner = TestRunner::new(crashing(service.clone(), false)).with_service(service);
    let result = runner.run(1).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<u32>().unwrap(), 2);
    // Nothing of the first invocation reached the service: no StepStarted before it died.
    assert_eq!(first_invocation(result.history()), vec![EventType::InvocationCompleted]);
    let completed = &result.history()[1];
    let error = completed.details.error.as_ref().and_then(|e| e.payload.as_ref()).unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Runtime.ExitError"));
    assert_eq!(result.invocation_count(), 2);
}

#[tokio::test]
async fn a_step_that_waits_for_its_start_is_on_record_when_the_process_dies() {
    let service = MemoryService::new();
    let runner = TestRunner::new(crashing(service.clone(), true)).with_service(service);
    let result = runner.run(1).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 2);
    assert_eq!(first_invocation(result.history()), vec![EventType::StepStarted, EventType::InvocationCompleted]);
}
