//! `map` and `parallel` through the test runner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::ops::{BatchItemStatus, CompletionConfig, CompletionReason, Nesting};
use durable_runtime::protocol::{OperationAction, OperationType};
use durable_runtime::retry::RetryStrategy;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, DurableError, Error, ErrorKind};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn history(result: &durable_runtime::testing::TestResult) -> Vec<Value> {
    result.history().iter().map(|e| serde_json::to_value(e).unwrap()).collect()
}

/// `(EventType, SubType)` of every event between ExecutionStarted and the first InvocationCompleted.
fn shape(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .skip(1)
        .take_while(|e| e["EventType"] != "InvocationCompleted")
        .map(|e| (e["EventType"].as_str().unwrap_or("").to_owned(), e["SubType"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test]
async fn map_runs_items_in_order_as_nested_contexts() {
    let handler = |ctx: DurableContext, names: Vec<String>| async move {
        let batch = ctx
            .map(names, |ctx, name: String, _| async move {
                ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await
            })
            .name("map")
            .max_concurrency(1)
            .await?;
        Ok::<_, Error>(batch.into_results()?)
    };
    let result = TestRunner::new(handler).run(vec!["World", "Kiro"]).await.unwrap();
    assert_eq!(result.output::<Vec<String>>().unwrap(), vec!["Hello, World!", "Hello, Kiro!"]);
    let events = history(&result);
    let pairs: Vec<(&str, &str)> = vec![
        ("ContextStarted", "Map"),
        ("ContextStarted", "MapIteration"),
        ("StepStarted", "Step"),
        ("StepSucceeded", "Step"),
        ("ContextSucceeded", "MapIteration"),
        ("ContextStarted", "MapIteration"),
        ("StepStarted", "Step"),
        ("StepSucceeded", "Step"),
        ("ContextSucceeded", "MapIteration"),
        ("ContextSucceeded", "Map"),
    ];
    let expected: Vec<(String, String)> = pairs.into_iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect();
    assert_eq!(shape(&events), expected);
    let map_id = &events[1]["Id"];
    assert_eq!(events[2]["ParentId"], *map_id);
    assert_eq!(events[3]["ParentId"], events[2]["Id"], "the step binds to its item");
    assert_eq!(events[5]["ContextSucceededDetails"]["Result"]["Payload"], "\"Hello, World!\"");
}

#[tokio::test]
async fn fail_fast_stops_admitting_items_and_the_map_still_succeeds() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let s = s.clone();
        async move {
            let batch = ctx
                .map(vec![0, 1, 2], move |_, item: u32, _| {
                    s.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if item == 1 {
                            return Err(DurableError::with_type("ItemError", "item 1 failed"));
                        }
                        Ok(item)
                    }
                })
                .max_concurrency(1)
                .completion(CompletionConfig::fail_fast())
                .await?;
            Ok::<_, Error>(json!({
                "reason": batch.completion_reason(),
                "status": batch.status(),
                "success": batch.success_count(),
                "failure": batch.failure_count(),
                "total": batch.total_count(),
                "error": batch.errors()[0].error_type(),
            }))
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(
        result.output::<Value>().unwrap(),
        json!({"reason": "FAILURE_TOLERANCE_EXCEEDED", "status": "FAILED", "success": 1, "failure": 1, "total": 2,
               "error": "ItemError"})
    );
    assert_eq!(started.load(Ordering::SeqCst), 2, "item 2 never started");
    let events = history(&result);
    assert!(events.iter().any(|e| e["EventType"] == "ContextFailed" && e["SubType"] == "MapIteration"));
    assert!(events.iter().any(|e| e["EventType"] == "ContextSucceeded" && e["SubType"] == "Map"));
}

#[tokio::test]
async fn min_successful_and_tolerances_complete_early() {
    let handler = |ctx: DurableContext, config: Value| async move {
        let completion = match config["mode"].as_str() {
            Some("min2") => CompletionConfig::all().min_successful(2),
            Some("pct") => CompletionConfig::all().tolerated_failure_percentage(25.0),
            _ => CompletionConfig::all().tolerated_failure_count(3),
        };
        let batch = ctx
            .map(vec![true, false, false, true], |_, ok: bool, i| async move {
                if ok {
                    Ok(i)
                } else {
                    Err(DurableError::with_type("Nope", format!("item {i}")))
                }
            })
            .max_concurrency(1)
            .completion(completion)
            .await?;
        Ok::<_, Error>((batch.completion_reason(), batch.success_count(), batch.failure_count(), batch.total_count()))
    };
    let run = |mode: &'static str| async move {
        TestRunner::new(handler)
            .run(json!({"mode": mode}))
            .await
            .unwrap()
            .output::<(CompletionReason, usize, usize, usize)>()
            .unwrap()
    };
    // min 2 successes: items 0 (ok), 1, 2 (fail), 3 (ok) → reached after item 3.
    assert_eq!(run("min2").await, (CompletionReason::MinSuccessfulReached, 2, 2, 4));
    // 25 % of 4 = 1 failure tolerated: the second failure (item 2) exceeds it.
    assert_eq!(run("pct").await, (CompletionReason::FailureToleranceExceeded, 1, 2, 3));
    // 3 failures tolerated: everything runs.
    assert_eq!(run("all").await, (CompletionReason::AllCompleted, 2, 2, 4));
}

#[tokio::test]
async fn an_item_suspending_on_a_wait_keeps_its_slot_and_items_run_once() {
    let bodies = Arc::new(AtomicUsize::new(0));
    let b = bodies.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let b = b.clone();
        async move {
            let batch = ctx
                .map(vec![1u64, 2, 3], move |ctx, secs: u64, _| {
                    let b = b.clone();
                    async move {
                        ctx.wait(Duration::from_secs(secs)).await?;
                        ctx.step(move |_| async move {
                            b.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Error>(secs * 10)
                        })
                        .await
                    }
                })
                .max_concurrency(2)
                .await?;
            Ok::<_, Error>(batch.into_results()?)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<Vec<u64>>().unwrap(), vec![10, 20, 30]);
    assert_eq!(bodies.load(Ordering::SeqCst), 3, "each step body ran once");
    assert!(result.invocation_count() >= 3);
    // With two slots, item 3 starts only after item 1 finished.
    let events = history(&result);
    let starts: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["EventType"] == "ContextStarted" && e["SubType"] == "MapIteration")
        .map(|(i, _)| i)
        .collect();
    let first_done =
        events.iter().position(|e| e["EventType"] == "ContextSucceeded" && e["SubType"] == "MapIteration").unwrap();
    assert_eq!(starts.len(), 3);
    assert!(starts[1] < first_done && starts[2] > first_done, "{starts:?} vs {first_done}");
}

#[tokio::test]
async fn parallel_with_named_branches_and_flat_nesting() {
    let handler = |ctx: DurableContext, flat: bool| async move {
        let batch = ctx
            .parallel::<String>()
            .named_branch("first", |ctx| async move { ctx.step(|_| async { Ok::<_, Error>("fa".to_owned()) }).await })
            .named_branch("second", |ctx| async move { ctx.step(|_| async { Ok::<_, Error>("fb".to_owned()) }).await })
            .name("flat")
            .max_concurrency(1)
            .nesting(if flat { Nesting::Flat } else { Nesting::Nested })
            .await?;
        let names: Vec<Option<String>> = batch.items().iter().map(|i| i.name.clone()).collect();
        assert_eq!(names, vec![Some("first".to_owned()), Some("second".to_owned())]);
        Ok::<_, Error>(batch.into_results()?)
    };
    for flat in [false, true] {
        let result = TestRunner::new(handler).run(flat).await.unwrap();
        assert_eq!(result.output::<Vec<String>>().unwrap(), vec!["fa", "fb"]);
        let events = history(&result);
        let parallel_id = events[1]["Id"].clone();
        assert_eq!(events[1]["SubType"], "Parallel");
        let branch_events = events.iter().filter(|e| e["SubType"] == "ParallelBranch").count();
        let steps: Vec<&Value> = events.iter().filter(|e| e["EventType"] == "StepStarted").collect();
        if flat {
            assert_eq!(branch_events, 0);
            assert!(steps.iter().all(|s| s["ParentId"] == parallel_id), "flat steps report the parallel as parent");
            assert_ne!(steps[0]["Id"], steps[1]["Id"]);
        } else {
            assert_eq!(branch_events, 4);
            let branch = events.iter().find(|e| e["SubType"] == "ParallelBranch").unwrap();
            assert_eq!(branch["Name"], "first");
        }
    }
}

#[tokio::test]
async fn zero_concurrency_is_rejected_before_any_checkpoint() {
    let service = MemoryService::new();
    let handler = |ctx: DurableContext, _: Value| async move {
        let err = ctx.parallel::<u32>().branch(|_| async { Ok::<_, Error>(1) }).max_concurrency(0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        Err::<(), _>(err)
    };
    let result = TestRunner::new(handler).with_service(service.clone()).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert!(service.requests(result.execution_arn()).is_empty());
    assert!(result.error().unwrap().error_message.unwrap().contains("max_concurrency"));
}

#[tokio::test]
async fn a_large_aggregate_uses_replay_children_and_items_are_not_rerun() {
    let bodies = Arc::new(AtomicUsize::new(0));
    let b = bodies.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let b = b.clone();
        async move {
            let batch = ctx
                .map(vec!['a', 'b', 'c', 'd'], move |ctx, c: char, _| {
                    let b = b.clone();
                    async move {
                        ctx.step(move |_| async move {
                            b.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Error>(c.to_string().repeat(70 * 1024))
                        })
                        .await
                    }
                })
                .max_concurrency(1)
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            let results = batch.into_results()?;
            Ok::<_, Error>(results.iter().map(String::len).sum::<usize>())
        }
    };
    let service = MemoryService::new();
    let result = TestRunner::new(handler).with_service(service.clone()).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<usize>().unwrap(), 4 * 70 * 1024);
    assert_eq!(bodies.load(Ordering::SeqCst), 4);
    let succeed = service
        .requests(result.execution_arn())
        .into_iter()
        .flat_map(|r| r.updates)
        .find(|u| {
            u.op_type == OperationType::Context
                && u.action == OperationAction::Succeed
                && u.sub_type.as_ref().map(|s| s.as_str()) == Some("Map")
        })
        .unwrap();
    assert_eq!(succeed.context_options.unwrap().replay_children, Some(true));
    assert!(succeed.payload.unwrap().len() < 1024, "a decision record, not the results");
}

#[tokio::test]
async fn a_completed_map_replays_its_summary_without_running_items() {
    let bodies = Arc::new(AtomicUsize::new(0));
    let b = bodies.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let b = b.clone();
        async move {
            let batch = ctx
                .map(vec![1, 2, 3], move |_, n: i32, _| {
                    b.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n == 2 {
                            Err(DurableError::with_type("Two", "no twos"))
                        } else {
                            Ok(n * 2)
                        }
                    }
                })
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            let items: Vec<(usize, BatchItemStatus, Option<i32>, Option<String>)> = batch
                .items()
                .iter()
                .map(|i| (i.index, i.status, i.result, i.error.as_ref().map(|e| e.error_type().to_owned())))
                .collect();
            Ok::<_, Error>(items)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(bodies.load(Ordering::SeqCst), 3, "items are not re-run on replay");
    assert_eq!(
        result.output::<Vec<(usize, BatchItemStatus, Option<i32>, Option<String>)>>().unwrap(),
        vec![
            (0, BatchItemStatus::Succeeded, Some(2), None),
            (1, BatchItemStatus::Failed, None, Some("Two".to_owned())),
            (2, BatchItemStatus::Succeeded, Some(6), None),
        ]
    );
}

#[tokio::test]
async fn items_retry_their_steps_independently() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let batch = ctx
            .map(vec![1u32, 2], |ctx, n, _| async move {
                ctx.step(move |step| async move {
                    if step.attempt() < n {
                        return Err(DurableError::with_type("Flaky", "again"));
                    }
                    Ok(step.attempt())
                })
                .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
                .await
            })
            .await?;
        Ok::<_, Error>(batch.into_results()?)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<Vec<u32>>().unwrap(), vec![1, 2]);
    assert_eq!(result.invocation_count(), 2);
}
