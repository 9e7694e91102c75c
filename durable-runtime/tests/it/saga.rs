//! Saga compensation: registered undo steps run last in, first out when the workflow fails, as
//! checkpointed steps, and resume correctly after a crash in the middle of compensating.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::memory::{CrashPoint, MemoryService};
use durable_runtime::protocol::{OperationAction, OperationStatus, OperationType};
use durable_runtime::retry::RetryStrategy;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, DurableError, Error};
use serde_json::Value;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

fn booking(
    log: Log,
    service: Option<MemoryService>,
) -> impl Fn(DurableContext, Value) -> durable_runtime::checkpoint::BoxFuture<Result<String, Error>> + Send + Sync + 'static
{
    move |ctx: DurableContext, _: Value| {
        let log = log.clone();
        let service = service.clone();
        Box::pin(async move {
            let l = log.clone();
            let seat = ctx
                .step(move |_| async move {
                    l.lock().unwrap().push("reserve".into());
                    Ok::<_, Error>("seat-7".to_owned())
                })
                .name("reserve")
                .await?;
            let (l, s) = (log.clone(), seat.clone());
            ctx.compensate("release", move |_| async move {
                l.lock().unwrap().push(format!("release {s}"));
                Ok::<_, Error>(())
            });
            let l = log.clone();
            let payment = ctx
                .step(move |_| async move {
                    l.lock().unwrap().push("charge".into());
                    Ok::<_, Error>("pay-1".to_owned())
                })
                .name("charge")
                .await?;
            let (l, p) = (log.clone(), payment.clone());
            ctx.compensate("refund", move |_| async move {
                let first = {
                    let mut log = l.lock().unwrap();
                    log.push(format!("refund {p}"));
                    log.iter().filter(|e| e.starts_with("refund")).count() == 1
                };
                if first {
                    if let Some(service) = service {
                        // The process dies before the refund's outcome is recorded.
                        service.crash_on(CrashPoint::BeforeApply, |u| {
                            u.action == OperationAction::Succeed && u.name.as_deref() == Some("refund")
                        });
                    }
                }
                Ok::<_, Error>(())
            });
            ctx.step(|_| async { Err::<(), _>(DurableError::with_type("NoSeatsLeft", "the flight is full")) })
                .name("ship")
                .retry(RetryStrategy::none())
                .await?;
            Ok(format!("{seat}/{payment}"))
        })
    }
}

#[tokio::test]
async fn compensations_run_last_in_first_out_and_the_execution_fails_with_the_original_error() {
    let log: Log = Arc::default();
    let result = TestRunner::new(booking(log.clone(), None)).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("NoSeatsLeft"));
    assert_eq!(*log.lock().unwrap(), vec!["reserve", "charge", "refund pay-1", "release seat-7"]);
    let names: Vec<String> = result
        .operations()
        .iter()
        .filter(|o| o.op_type == OperationType::Step)
        .map(|o| format!("{}:{}", o.name.clone().unwrap_or_default(), o.status))
        .collect();
    assert_eq!(
        names,
        vec!["reserve:SUCCEEDED", "charge:SUCCEEDED", "ship:FAILED", "refund:SUCCEEDED", "release:SUCCEEDED"]
    );
}

#[tokio::test]
async fn a_crash_in_the_middle_of_compensating_resumes_without_repeating_finished_work() {
    let log: Log = Arc::default();
    let service = MemoryService::new();
    let result = TestRunner::new(booking(log.clone(), Some(service.clone())))
        .with_service(service)
        .run(Value::Null)
        .await
        .unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("NoSeatsLeft"));
    assert_eq!(result.invocation_count(), 2);
    // The refund was interrupted and ran again (at least once per retry); nothing else repeated.
    assert_eq!(*log.lock().unwrap(), vec!["reserve", "charge", "refund pay-1", "refund pay-1", "release seat-7"]);
    let refund = result.operation("refund").unwrap();
    assert_eq!(refund.status, OperationStatus::Succeeded);
    assert_eq!(result.operation("release").unwrap().status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn a_compensation_registered_in_a_child_context_fails_the_execution_clearly() {
    let handler = |ctx: DurableContext, _: Value| async move {
        ctx.run_in_child_context(|child| async move {
            child.compensate("undo", |_| async { Ok::<_, Error>(()) });
            Ok::<_, Error>(1)
        })
        .await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let message = result.error().unwrap().error_message.unwrap();
    assert!(message.contains("root context"), "{message}");
}

#[tokio::test]
async fn a_successful_workflow_runs_no_compensation() {
    let ran: Log = Arc::default();
    let r = ran.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            ctx.step(|_| async { Ok::<_, Error>(1) }).await?;
            ctx.compensate("undo", move |_| async move {
                r.lock().unwrap().push("undo".into());
                Ok::<_, Error>(())
            });
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert!(ran.lock().unwrap().is_empty());
}
