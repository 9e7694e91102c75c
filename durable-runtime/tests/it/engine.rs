//! Behaviour of the replay engine, driven through the in-process test runner (the same invocation code
//! path Lambda uses) against the in-memory service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::memory::{CrashPoint, MemoryService};
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::ops::StepSemantics;
use durable_runtime::protocol::limits::MAX_REQUEST_BYTES;
use durable_runtime::protocol::{OperationAction, OperationStatus, OperationType};
use durable_runtime::retry::{Jitter, RetryStrategy};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, DurableError, Error, ErrorKind};
use serde_json::{json, Value};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

type Counter = Arc<AtomicUsize>;

fn counter() -> Counter {
    Arc::new(AtomicUsize::new(0))
}

/// Polls every future in the same task until all are done (what a `join_all` does).
async fn join_all<T>(futures: Vec<Pin<Box<dyn Future<Output = T> + Send>>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (slot, result) in futures.iter_mut().zip(out.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(out.iter_mut().filter_map(Option::take).collect())
        }
    })
    .await
}

fn events(history: &[Value], event_type: &str) -> Vec<Value> {
    history.iter().filter(|e| e["EventType"] == event_type).cloned().collect()
}

fn history_json<T: serde::Serialize>(history: &[T]) -> Vec<Value> {
    history.iter().map(|e| serde_json::to_value(e).unwrap()).collect()
}

#[tokio::test]
async fn three_steps_across_three_invocations_run_each_body_once() {
    let counts: Arc<[Counter; 3]> = Arc::new([counter(), counter(), counter()]);
    let c = counts.clone();
    let handler = move |ctx: DurableContext, name: String| {
        let c = c.clone();
        async move {
            let c0 = c[0].clone();
            let a = ctx
                .step(move |_| async move {
                    c0.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(format!("a:{name}"))
                })
                .name("first")
                .await?;
            ctx.wait(Duration::from_secs(5)).await?;
            let c1 = c[1].clone();
            let a2 = a.clone();
            let b = ctx
                .step(move |_| async move {
                    c1.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(format!("{a2}+b"))
                })
                .name("second")
                .await?;
            ctx.wait(Duration::from_secs(5)).await?;
            let c2 = c[2].clone();
            let done = ctx
                .step(move |_| async move {
                    c2.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(format!("{b}+c"))
                })
                .name("third")
                .await?;
            Ok::<_, Error>(done)
        }
    };
    let result = TestRunner::new(handler).run("x".to_owned()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<String>().unwrap(), "a:x+b+c");
    assert_eq!(result.invocation_count(), 3);
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(c.load(Ordering::SeqCst), 1, "body {i} ran more than once");
    }
    let history = history_json(result.history());
    assert_eq!(events(&history, "StepSucceeded").len(), 3);
    assert_eq!(events(&history, "StepStarted").len(), 3, "replay writes nothing");
    let names: Vec<_> = events(&history, "StepSucceeded").iter().map(|e| e["Name"].clone()).collect();
    assert_eq!(names, vec![json!("first"), json!("second"), json!("third")]);
}

#[tokio::test]
async fn a_step_failing_twice_records_attempts_and_delays_of_its_strategy() {
    let runs = counter();
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            let value = ctx
                .step(move |step| async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    if step.attempt() < 3 {
                        return Err(DurableError::with_type("FlakyError", format!("attempt {}", step.attempt())));
                    }
                    Ok(step.attempt())
                })
                .name("flaky")
                .retry(
                    RetryStrategy::exponential()
                        .initial_delay(Duration::from_secs(2))
                        .backoff_factor(3.0)
                        .jitter(Jitter::None),
                )
                .await?;
            Ok::<_, Error>(value)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(result.invocation_count(), 3);
    let history = history_json(result.history());
    let failed = events(&history, "StepFailed");
    assert_eq!(failed.len(), 2);
    assert_eq!(
        failed[0]["StepFailedDetails"]["RetryDetails"],
        json!({"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2})
    );
    assert_eq!(
        failed[1]["StepFailedDetails"]["RetryDetails"],
        json!({"CurrentAttempt": 2, "NextAttemptDelaySeconds": 6})
    );
    assert_eq!(failed[0]["StepFailedDetails"]["Error"]["Payload"]["ErrorType"], "FlakyError");
    assert_eq!(failed[1]["StepFailedDetails"]["Error"]["Payload"]["ErrorMessage"], "attempt 2");
    let succeeded = events(&history, "StepSucceeded");
    assert_eq!(succeeded[0]["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"], 3);
    assert_eq!(events(&history, "StepStarted").len(), 3, "each attempt sends START");
}

#[tokio::test]
async fn exhausted_retries_fail_the_execution_with_the_step_error_type() {
    let handler = |ctx: DurableContext, _: Value| async move {
        ctx.step(|_| async { Err::<(), _>(DurableError::with_type("Declined", "card expired")) })
            .name("charge")
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(2))
            .await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Declined"));
    assert_eq!(error.error_message.as_deref(), Some("card expired"));
    assert_eq!(result.invocation_count(), 2);
}

#[tokio::test]
async fn step_errors_keep_type_and_message_across_replay() {
    let seen: Arc<std::sync::Mutex<Vec<(String, String, ErrorKind)>>> = Arc::default();
    let s = seen.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let s = s.clone();
        async move {
            let err = ctx
                .step(|_| async { Err::<(), _>(DurableError::with_type("Declined", "card expired")) })
                .retry(RetryStrategy::none())
                .await
                .unwrap_err();
            s.lock().unwrap().push((err.error_type().to_owned(), err.message().to_owned(), err.kind()));
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "live run, replay, and the replay audit");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, "Declined");
    assert_eq!(seen[0].2, ErrorKind::StepFailed);
}

fn at_most_once_handler(
    runs: Counter,
    crash_service: MemoryService,
    retry: RetryStrategy,
) -> impl Fn(DurableContext, Value) -> Pin<Box<dyn Future<Output = Result<u32, Error>> + Send>> + Send + Sync + 'static
{
    move |ctx: DurableContext, _: Value| {
        let runs = runs.clone();
        let service = crash_service.clone();
        let retry = retry.clone();
        Box::pin(async move {
            let value = ctx
                .step(move |step| async move {
                    let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                    if n == 1 {
                        // The process dies before this attempt's outcome reaches the service.
                        service.crash_on(CrashPoint::BeforeApply, |u| u.action == OperationAction::Succeed);
                    }
                    Ok::<_, Error>(step.attempt())
                })
                .name("charge")
                .semantics(StepSemantics::AtMostOncePerRetry)
                .retry(retry)
                .await?;
            Ok(value)
        })
    }
}

#[tokio::test]
async fn at_most_once_does_not_rerun_an_interrupted_attempt_and_retries_per_strategy() {
    let runs = counter();
    let service = MemoryService::new();
    let handler = at_most_once_handler(runs.clone(), service.clone(), RetryStrategy::fixed(Duration::from_secs(3)));
    let result = TestRunner::new(handler).with_service(service).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<u32>().unwrap(), 2, "the interrupted attempt 1 counts; attempt 2 succeeds");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "attempt 1's body ran once, attempt 2's once");
    let history = history_json(result.history());
    let completed = events(&history, "InvocationCompleted");
    assert_eq!(completed[0]["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"], "Runtime.ExitError");
    let failed = events(&history, "StepFailed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["StepFailedDetails"]["Error"]["Payload"]["ErrorType"], "StepInterruptedError");
    assert_eq!(failed[0]["StepFailedDetails"]["RetryDetails"]["NextAttemptDelaySeconds"], 3);
}

#[tokio::test]
async fn at_most_once_without_retries_fails_after_an_interruption() {
    let runs = counter();
    let service = MemoryService::new();
    let handler = at_most_once_handler(runs.clone(), service.clone(), RetryStrategy::none());
    let result = TestRunner::new(handler).with_service(service).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("StepInterruptedError"));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "never run again");
}

#[tokio::test]
async fn at_most_once_start_is_durable_before_the_body_runs() {
    let runs = counter();
    let service = MemoryService::new();
    // Die right after START is recorded: the body must not have run in that invocation.
    service.crash_on(CrashPoint::AfterApply, |u| u.action == OperationAction::Start);
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            ctx.step(move |_| async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Error>(())
            })
            .semantics(StepSemantics::AtMostOncePerRetry)
            .retry(RetryStrategy::none())
            .await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).with_service(service).run(Value::Null).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("StepInterruptedError"));
}

#[tokio::test]
async fn at_least_once_reruns_an_interrupted_attempt_without_a_new_start() {
    let runs = counter();
    let service = MemoryService::new();
    let r = runs.clone();
    let s = service.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        let s = s.clone();
        async move {
            let v = ctx
                .step(move |step| async move {
                    if r.fetch_add(1, Ordering::SeqCst) == 0 {
                        s.crash_on(CrashPoint::BeforeApply, |u| u.action == OperationAction::Succeed);
                    }
                    Ok::<_, Error>(step.attempt())
                })
                .await?;
            Ok::<_, Error>(v)
        }
    };
    let result = TestRunner::new(handler).with_service(service).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the body ran again");
    assert_eq!(result.output::<u32>().unwrap(), 1, "still attempt 1");
    let history = history_json(result.history());
    assert_eq!(events(&history, "StepStarted").len(), 1, "no second START for the same attempt");
}

#[tokio::test]
async fn reordered_operations_fail_with_a_nondeterminism_error_naming_both() {
    let flipped = Arc::new(AtomicBool::new(false));
    let f = flipped.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let f = f.clone();
        async move {
            let (first, second) = if f.swap(true, Ordering::SeqCst) { ("ship", "pack") } else { ("pack", "ship") };
            ctx.step(|_| async { Ok::<_, Error>(1) }).name(first).await?;
            ctx.wait(Duration::from_secs(1)).await?;
            ctx.step(|_| async { Ok::<_, Error>(2) }).name(second).await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).replay_audit(false).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("NonDeterministicExecutionError"));
    let message = error.error_message.unwrap();
    assert!(message.contains("`pack`") && message.contains("`ship`"), "{message}");
}

#[tokio::test]
async fn a_swallowed_nondeterminism_error_still_fails_the_execution() {
    let flipped = Arc::new(AtomicBool::new(false));
    let f = flipped.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let f = f.clone();
        async move {
            if f.swap(true, Ordering::SeqCst) {
                // Replay runs a wait where a step was recorded, and ignores every error.
                let _ = ctx.wait(Duration::from_secs(1)).await;
            } else {
                ctx.step(|_| async { Ok::<_, Error>(1) }).await?;
                ctx.wait(Duration::from_secs(1)).await?;
            }
            Ok::<_, Error>("never")
        }
    };
    let result = TestRunner::new(handler).replay_audit(false).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("NonDeterministicExecutionError"));
}

#[tokio::test]
async fn three_hundred_concurrent_updates_go_out_as_two_requests() {
    let service = MemoryService::new();
    let handler = |ctx: DurableContext, _: Value| async move {
        let waits = (0..300)
            .map(|i| {
                Box::pin(ctx.wait(Duration::from_secs(1 + i % 3)).into_future())
                    as Pin<Box<dyn Future<Output = _> + Send>>
            })
            .collect();
        for r in join_all(waits).await {
            r?;
        }
        Ok::<_, Error>(())
    };
    let runner = TestRunner::new(handler).with_service(service.clone());
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let arn = result.execution_arn().to_owned();
    let requests = service.requests(&arn);
    let first: Vec<usize> = requests.iter().take(2).map(|r| r.updates.len()).collect();
    assert_eq!(first, vec![250, 50]);
}

#[tokio::test]
async fn a_one_mebibyte_batch_is_split_under_the_request_limit() {
    let service = MemoryService::new();
    let handler = |ctx: DurableContext, _: Value| async move {
        let steps = (0..8)
            .map(|i| {
                Box::pin(
                    ctx.step(move |_| async move { Ok::<_, Error>(format!("{i}").repeat(128 * 1024)) }).into_future(),
                ) as Pin<Box<dyn Future<Output = _> + Send>>
            })
            .collect();
        let mut total = 0usize;
        for r in join_all(steps).await {
            let part: String = r?;
            total += part.len();
        }
        Ok::<_, Error>(total)
    };
    let result = TestRunner::new(handler).with_service(service.clone()).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<usize>().unwrap(), 8 * 128 * 1024);
    let requests = service.requests(result.execution_arn());
    assert!(requests.len() >= 2, "{} requests", requests.len());
    let total: usize = requests.iter().map(|r| r.updates.len()).sum();
    assert_eq!(total, 16);
    for r in &requests {
        let size = serde_json::to_vec(r).unwrap().len();
        assert!(size <= MAX_REQUEST_BYTES, "a request of {size} bytes");
    }
}

#[tokio::test]
async fn a_stale_token_fails_the_invocation_for_retry_not_the_execution() {
    let runs = counter();
    let service = MemoryService::new();
    let (r, s) = (runs.clone(), service.clone());
    let handler = move |ctx: DurableContext, _: Value| {
        let (r, s) = (r.clone(), s.clone());
        async move {
            let arn = ctx.execution_arn().to_owned();
            ctx.step(move |_| async move {
                if r.fetch_add(1, Ordering::SeqCst) == 0 {
                    s.expire_token(&arn);
                }
                Ok::<_, Error>("ok".to_owned())
            })
            .await?;
            Ok::<_, Error>("done")
        }
    };
    let result = TestRunner::new(handler).with_service(service).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.invocation_count(), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let history = history_json(result.history());
    assert!(events(&history, "InvocationCompleted")[0]["InvocationCompletedDetails"]["Error"].is_object());
}

#[tokio::test]
async fn child_context_nests_its_operations_and_is_not_rerun_on_replay() {
    let runs = counter();
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            let out = ctx
                .run_in_child_context(move |child| async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    let a = child.step(|_| async { Ok::<_, Error>(20) }).name("inner").await?;
                    Ok::<_, Error>(a + 1)
                })
                .name("group")
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(out)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 21);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let history = history_json(result.history());
    let ctx_started = &events(&history, "ContextStarted")[0];
    assert_eq!(ctx_started["SubType"], "RunInChildContext");
    let step = &events(&history, "StepStarted")[0];
    assert_eq!(step["ParentId"], ctx_started["Id"]);
    let ctx_done = &events(&history, "ContextSucceeded")[0];
    assert_eq!(ctx_done["ContextSucceededDetails"]["Result"]["Payload"], "21");
}

#[tokio::test]
async fn a_large_child_result_uses_replay_children_and_is_rebuilt() {
    let runs = counter();
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            let big = ctx
                .run_in_child_context(move |child| async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    let part = child.step(|_| async { Ok::<_, Error>("y".repeat(200 * 1024)) }).await?;
                    let more = child.step(|_| async { Ok::<_, Error>("z".repeat(100 * 1024)) }).await?;
                    Ok::<_, Error>(part + &more)
                })
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(big.len())
        }
    };
    let service = MemoryService::new();
    let result = TestRunner::new(handler).with_service(service.clone()).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<usize>().unwrap(), 300 * 1024);
    assert_eq!(runs.load(Ordering::SeqCst), 3, "the body re-runs to rebuild the result (and in the replay audit)");
    let requests = service.requests(result.execution_arn());
    let succeed = requests
        .iter()
        .flat_map(|r| &r.updates)
        .find(|u| u.op_type == OperationType::Context && u.action == OperationAction::Succeed)
        .unwrap();
    assert_eq!(succeed.payload, None);
    assert_eq!(succeed.context_options.unwrap().replay_children, Some(true));
    let history = history_json(result.history());
    assert_eq!(events(&history, "StepStarted").len(), 2, "children replay from their records");
}

#[tokio::test]
async fn an_oversized_step_result_fails_with_the_limit_named_and_is_not_retried() {
    let runs = counter();
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            ctx.step(move |_| async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Error>("x".repeat(300 * 1024))
            })
            .await?;
            Ok::<_, Error>(())
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("PayloadTooLargeError"));
    assert!(error.error_message.unwrap().contains("256 KiB"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn waits_are_validated_and_suspend_the_invocation() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let err = ctx.wait(Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        ctx.wait(Duration::from_millis(1500)).name("pause").await?;
        Ok::<_, Error>(())
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.invocation_count(), 2);
    let history = history_json(result.history());
    let started = &events(&history, "WaitStarted")[0];
    assert_eq!(started["Name"], "pause");
    assert_eq!(started["WaitStartedDetails"]["Duration"], 2);
    let wait = result.operations().iter().find(|o| o.op_type == OperationType::Wait).unwrap();
    assert_eq!(wait.status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn malformed_envelopes_give_clear_errors() {
    let handler = |_: DurableContext, _: Value| async move { Ok::<_, Error>(()) };
    let client: Arc<dyn CheckpointClient> = Arc::new(MemoryService::new());
    let options = durable_runtime::Options::default();
    let cases = [
        (json!({"hello": "world"}), "DurableExecutionArn"),
        (json!({"DurableExecutionArn": "arn", "InitialExecutionState": {"Operations": []}}), "CheckpointToken"),
        (json!({"DurableExecutionArn": 1, "CheckpointToken": "t", "InitialExecutionState": {}}), "invalid type"),
        (
            json!({"DurableExecutionArn": "arn", "CheckpointToken": "t", "InitialExecutionState": {"Operations": [
                {"Id": "e", "Type": "EXECUTION", "Status": "STARTED"},
                {"Id": "x", "Type": "TELEPORT", "Status": "STARTED"}]}}),
            "unknown Type `TELEPORT`",
        ),
        (
            json!({"DurableExecutionArn": "arn", "CheckpointToken": "t", "InitialExecutionState": {"Operations": []}}),
            "no EXECUTION operation",
        ),
    ];
    for (event, expected) in cases {
        let err = durable_runtime::invoke(&handler, event, client.clone(), &options).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "`{text}` should mention `{expected}`");
        assert!(text.starts_with("invalid durable-execution envelope"), "{text}");
    }
}

#[tokio::test]
async fn handler_errors_become_failed_envelopes_with_their_type() {
    #[derive(Debug)]
    struct OutOfStock;
    impl std::fmt::Display for OutOfStock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no widgets left")
        }
    }
    impl std::error::Error for OutOfStock {}
    let handler = |_: DurableContext, _: Value| async move { Err::<(), _>(OutOfStock) };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("OutOfStock"));
    assert_eq!(error.error_message.as_deref(), Some("no widgets left"));
}

#[tokio::test]
async fn a_result_too_large_for_the_response_is_checkpointed_on_the_execution() {
    // 2.5 M quote characters: 5 MB of JSON text, 10 MB once escaped again inside the envelope.
    let handler = |_: DurableContext, _: Value| async move { Ok::<_, Error>("\"".repeat(2_500_000)) };
    let service = MemoryService::new();
    let result = TestRunner::new(handler).with_service(service.clone()).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<String>().unwrap().len(), 2_500_000);
    let requests = service.requests(result.execution_arn());
    let last = requests.last().unwrap();
    assert_eq!(last.updates.len(), 1);
    assert_eq!(last.updates[0].op_type, OperationType::Execution);
    assert_eq!(last.updates[0].action, OperationAction::Succeed);
}

/// Every JSON pointer below `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn corrupting_any_member_of_an_envelope_gives_an_answer_never_a_panic() {
    let envelope = json!({
        "DurableExecutionArn": "arn:aws:lambda:us-east-1:1:function:f:$LATEST/durable-execution/n/i",
        "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": [
            {"Id": "i", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600000u64,
             "ExecutionDetails": {"InputPayload": "\"x\""}},
            {"Id": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", "Type": "STEP",
             "SubType": "Step", "Name": "s", "Status": "SUCCEEDED", "StepDetails": {"Attempt": 1, "Result": "\"r\""}},
            {"Id": "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35", "Type": "WAIT",
             "SubType": "Wait", "Status": "SUCCEEDED", "WaitDetails": {"ScheduledEndTimestamp": 1767225601000u64}}
        ], "NextMarker": ""}
    });
    let handler = |ctx: DurableContext, input: String| async move {
        let r: String = ctx.step(|_| async { Ok::<_, Error>("r".to_owned()) }).name("s").await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok::<_, Error>(format!("{input}{r}"))
    };
    let client: Arc<dyn CheckpointClient> = Arc::new(MemoryService::new());
    let options = durable_runtime::Options::default();
    let baseline = durable_runtime::invoke(&handler, envelope.clone(), client.clone(), &options).await;
    assert_eq!(baseline.unwrap()["Status"], "SUCCEEDED", "the uncorrupted envelope replays to the end");
    let mut paths = Vec::new();
    pointers(&envelope, String::new(), &mut paths);
    let replacements = [json!(null), json!(7), json!(-1.5), json!("garbage"), json!([1]), json!({"x": 1})];
    let mut answers = 0;
    for path in &paths {
        for replacement in &replacements {
            let mut corrupted = envelope.clone();
            if let Some(slot) = corrupted.pointer_mut(path) {
                *slot = replacement.clone();
            }
            // Each outcome is an envelope (maybe FAILED or PENDING) or a typed invocation error.
            match durable_runtime::invoke(&handler, corrupted, client.clone(), &options).await {
                Ok(out) => assert!(out["Status"].is_string(), "{path} = {replacement}: {out}"),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            answers += 1;
        }
    }
    assert!(answers > 150, "{answers} corruptions tried");
}

#[tokio::test]
async fn a_map_replayed_over_another_number_of_items_is_nondeterministic() {
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = move |ctx: DurableContext, _: Value| {
        // One more item on every invocation: the recorded map no longer matches the code.
        let items: Vec<u32> = (0..3 + runs.fetch_add(1, Ordering::SeqCst) as u32).collect();
        async move {
            let batch = ctx.map(items, |_ctx, n, _| async move { Ok::<_, Error>(n * 2) }).name("double").await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(batch.into_results()?)
        }
    };
    let result = TestRunner::new(handler).replay_audit(false).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("NonDeterministicExecutionError"));
    let message = error.error_message.unwrap_or_default();
    assert!(message.contains("recorded with 3 item(s)") && message.contains("now has 4"), "{message}");
}

#[tokio::test]
async fn the_test_runner_times_an_execution_out_at_its_execution_timeout() {
    use durable_runtime::testing::{ExecutionStatus, TestRunner};
    async fn waits_two_days(ctx: durable_runtime::DurableContext, _: ()) -> Result<u32, durable_runtime::Error> {
        ctx.wait(std::time::Duration::from_secs(2 * 24 * 3600)).name("two-days").await?;
        Ok(1)
    }
    // The default (24 h, as `durable serve`): the wait outlives the execution.
    let result = TestRunner::new(waits_two_days).run(()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::TimedOut);
    assert_eq!(result.error().unwrap().error_message.as_deref(), Some("Execution timed out after 86400 seconds."));
    // Deployed with three days, it finishes.
    let result = TestRunner::new(waits_two_days)
        .execution_timeout(std::time::Duration::from_secs(3 * 24 * 3600))
        .run(())
        .await
        .unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
}
