//! Checkpoint batching for at-least-once work: fewer round trips than steps, updates sent before
//! anything that needs durability, and a crash in the middle of a batch re-runs only the at-least-once
//! steps whose results were not sent yet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::checkpoint::BoxFuture;
use durable_runtime::protocol::{OperationAction, OperationType};
use durable_runtime::testing::{CallbackAction, ExecutionStatus, Fault, TestRunner};
use durable_runtime::{Batching, DurableContext, Error, Options, StepSemantics};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn batched() -> Options {
    Options::default().batching(Batching::default())
}

async fn hundred_steps(ctx: DurableContext, _: ()) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..100u32 {
        total += ctx.step(move |_| async move { Ok::<_, Error>(i) }).await?;
    }
    Ok(total)
}

#[tokio::test]
async fn a_hundred_batched_steps_take_a_few_requests_and_all_are_recorded() {
    let service = MemoryService::new();
    let runner = TestRunner::new(hundred_steps).with_service(service.clone()).options(batched());
    let result = runner.run(()).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), (0..100).sum::<u32>());
    let requests = service.requests(result.execution_arn());
    eprintln!("100 batched steps: {} checkpoint requests", requests.len());
    assert!(requests.len() <= 10, "{} requests for 100 steps", requests.len());
    let succeeded = requests
        .iter()
        .flat_map(|r| &r.updates)
        .filter(|u| u.op_type == OperationType::Step && u.action == OperationAction::Succeed)
        .count();
    assert_eq!(succeeded, 100, "every step's result is recorded");

    // Off (the default): one request per step.
    let service = MemoryService::new();
    let result = TestRunner::new(hundred_steps).with_service(service.clone()).run(()).await.unwrap();
    assert_eq!(service.requests(result.execution_arn()).len(), 100);
}

/// Counts how often each named step body ran.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashMap<String, u32>>>);

impl Runs {
    fn hit(&self, name: &str) {
        *self.0.lock().unwrap().entry(name.to_owned()).or_default() += 1;
    }

    fn of(&self, name: &str) -> u32 {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// Five at-least-once steps `a0..a4`, the at-most-once step `charge`, five at-least-once steps
/// `b0..b4`. With long batching limits the requests are: the `a` steps with `charge`'s START (sent
/// because the at-most-once START must be durable), `charge`'s SUCCEED, then the `b` steps at the end.
fn mixed(runs: Runs) -> impl Fn(DurableContext, ()) -> BoxFuture<Result<u32, Error>> + Send + Sync + 'static {
    move |ctx: DurableContext, _: ()| {
        let runs = runs.clone();
        Box::pin(async move {
            let mut total = 0;
            for i in 0..5u32 {
                let runs = runs.clone();
                let name = format!("a{i}");
                total += ctx
                    .step(move |s| async move {
                        runs.hit(s.name().unwrap_or_default());
                        Ok::<_, Error>(i)
                    })
                    .name(name)
                    .await?;
            }
            let charged = runs.clone();
            total += ctx
                .step(move |_| async move {
                    charged.hit("charge");
                    Ok::<_, Error>(100)
                })
                .name("charge")
                .semantics(StepSemantics::AtMostOncePerRetry)
                .await?;
            for i in 0..5u32 {
                let runs = runs.clone();
                total += ctx
                    .step(move |s| async move {
                        runs.hit(s.name().unwrap_or_default());
                        Ok::<_, Error>(i)
                    })
                    .name(format!("b{i}"))
                    .await?;
            }
            Ok(total)
        })
    }
}

fn long_batches() -> Options {
    Options::default().batching(Batching::default().max_delay(Duration::from_secs(3600)).max_updates(1000))
}

/// Runs [`mixed`] with long batches on `service`.
async fn run_mixed(runs: &Runs, service: &MemoryService) -> durable_runtime::testing::TestResult {
    TestRunner::new(mixed(runs.clone())).with_service(service.clone()).options(long_batches()).run(()).await.unwrap()
}

#[tokio::test]
async fn a_crash_mid_batch_reruns_only_the_unsent_at_least_once_steps() {
    let runs = Runs::default();
    let service = MemoryService::new();
    let result = run_mixed(&runs, &service).await;
    assert_eq!(result.output::<u32>().unwrap(), 120);
    let requests = service.requests(result.execution_arn());
    let shape: Vec<Vec<String>> = requests
        .iter()
        .map(|r| r.updates.iter().map(|u| format!("{} {:?}", u.name.clone().unwrap_or_default(), u.action)).collect())
        .collect();
    assert_eq!(requests.len(), 3, "{shape:#?}");
    assert_eq!(shape[0].last().map(String::as_str), Some("charge Start"), "{shape:#?}");
    assert_eq!(shape[1], vec!["charge Succeed".to_owned()]);
    assert_eq!(shape[2].len(), 10, "{shape:#?}");

    let names: Vec<String> = (0..5).map(|i| format!("a{i}")).chain((0..5).map(|i| format!("b{i}"))).collect();
    // (call, fault) → which group runs twice, and how often `charge` runs. Calls 0 and 2 are the
    // batches. A crash before `charge`'s SUCCEED (call 1) is not a batch: the interrupted at-most-once
    // attempt counts as failed and a second attempt runs, exactly as without batching.
    let cases = [
        (0, Fault::CrashBefore, "a", 1),
        (1, Fault::CrashBefore, "", 2),
        (2, Fault::CrashBefore, "b", 1),
        (0, Fault::CrashAfter, "", 1),
        (2, Fault::CrashAfter, "", 1),
    ];
    for (call, fault, again, charges) in cases {
        runs.clear();
        let service = MemoryService::new();
        service.fault_at(call, fault.clone());
        let result = run_mixed(&runs, &service).await;
        assert_eq!(result.status(), ExecutionStatus::Succeeded, "{fault} at {call}");
        assert_eq!(result.output::<u32>().unwrap(), 120, "{fault} at {call}");
        assert_eq!(service.fault_hits().len(), 1, "{fault} at {call} fired");
        assert_eq!(runs.of("charge"), charges, "{fault} at {call}: runs of the at-most-once step");
        for name in &names {
            let expected = if !again.is_empty() && name.starts_with(again) { 2 } else { 1 };
            assert_eq!(runs.of(name), expected, "{fault} at {call}: runs of {name}");
        }
    }
}

/// A quick step, then a step whose body takes `slow_ms`.
fn quick_then_slow(
    slow_ms: u64,
) -> impl Fn(DurableContext, ()) -> BoxFuture<Result<u32, Error>> + Send + Sync + 'static {
    move |ctx: DurableContext, _: ()| {
        Box::pin(async move {
            let a = ctx.step(|_| async { Ok::<_, Error>(1) }).name("quick").await?;
            let b = ctx
                .step(move |_| async move {
                    tokio::time::sleep(Duration::from_millis(slow_ms)).await;
                    Ok::<_, Error>(2)
                })
                .name("slow")
                .await?;
            Ok(a + b)
        })
    }
}

/// Asserts that the first request carried the quick step's result and not the slow one's.
fn quick_result_went_out_first(service: &MemoryService, arn: &str) {
    let requests = service.requests(arn);
    let first: Vec<_> =
        requests[0].updates.iter().map(|u| (u.name.clone().unwrap_or_default(), u.action.clone())).collect();
    assert!(first.contains(&("quick".to_owned(), OperationAction::Succeed)), "{first:?}");
    assert!(!first.iter().any(|(name, action)| name == "slow" && *action == OperationAction::Succeed), "{first:?}");
}

#[tokio::test]
async fn a_slow_step_does_not_hold_back_the_result_before_it() {
    let service = MemoryService::new();
    let options = Options::default().batching(Batching::default().max_delay(Duration::from_millis(20)));
    let result =
        TestRunner::new(quick_then_slow(300)).with_service(service.clone()).options(options).run(()).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
    // The quick step's result went out after the delay, while the slow one ran.
    quick_result_went_out_first(&service, result.execution_arn());
}

#[tokio::test]
async fn waits_and_callbacks_flush_the_batch_before_suspending() {
    let service = MemoryService::new();
    let handler = |ctx: DurableContext, _: ()| async move {
        let a = ctx.step(|_| async { Ok::<_, Error>(1) }).name("before").await?;
        ctx.wait(Duration::from_secs(30)).name("pause").await?;
        let callback = ctx.create_callback::<u32>().name("approval").await?;
        let b = callback.result().await?;
        Ok::<_, Error>(a + b)
    };
    let result = TestRunner::new(handler)
        .with_service(service.clone())
        .options(long_batches())
        .on_callback("approval", CallbackAction::succeed(41))
        .run(())
        .await
        .unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 42);
    let first = &service.requests(result.execution_arn())[0];
    let names: Vec<_> = first.updates.iter().map(|u| (u.name.clone().unwrap_or_default(), u.action.clone())).collect();
    assert_eq!(
        names,
        vec![
            ("before".to_owned(), OperationAction::Start),
            ("before".to_owned(), OperationAction::Succeed),
            ("pause".to_owned(), OperationAction::Start)
        ]
    );
}

#[tokio::test]
async fn the_fault_matrix_passes_with_batching_on() {
    let handler = |ctx: DurableContext, n: u64| async move {
        let a = ctx.step(move |_| async move { Ok::<_, Error>(n + 1) }).name("reserve").await?;
        let b = ctx
            .step(move |_| async move { Ok::<_, Error>(a * 2) })
            .name("charge")
            .semantics(StepSemantics::AtMostOncePerRetry)
            .await?;
        let lines = ctx
            .map(vec![1u64, 2, 3], |ctx, item: u64, _| async move {
                ctx.step(move |_| async move { Ok::<_, Error>(item * 10) }).name("line").await
            })
            .name("lines")
            .await?
            .into_results()?;
        ctx.wait(Duration::from_secs(5)).name("cool-off").await?;
        let c = ctx.step(move |_| async move { Ok::<_, Error>(b + 1) }).name("notify").await?;
        Ok::<_, Error>(c + lines.iter().sum::<u64>())
    };
    let report = TestRunner::new(handler).options(batched()).fault_matrix(1u64).await.unwrap();
    eprintln!("{report}");
    report.assert_ok().unwrap();
}

#[tokio::test]
async fn batched_results_go_out_before_the_lambda_deadline() {
    let service = MemoryService::new();
    // The delay bound alone would hold the quick step's result for an hour; the deadline (2 s of
    // margin are kept before it) makes it go out after about 100 ms, while the slow step runs.
    let deadline = std::time::SystemTime::now() + Duration::from_millis(2100);
    let options = long_batches().deadline(Some(deadline));
    let result =
        TestRunner::new(quick_then_slow(400)).with_service(service.clone()).options(options).run(()).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
    quick_result_went_out_first(&service, result.execution_arn());
}
