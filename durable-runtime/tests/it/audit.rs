//! The replay audit: after a run ends, the test runner replays the finished execution once more and
//! fails the test when the replay does not agree with the record. Each test here is a mistake that
//! the replay-time position check lets through (same operation types and names at every position),
//! and that the audit catches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::testing::{ExecutionStatus, TestError, TestRunner};
use durable_runtime::{DurableContext, Error};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn diverged(error: TestError) -> String {
    match error {
        TestError::ReplayDiverged { detail, .. } => detail,
        other => panic!("expected a replay divergence, got: {other}"),
    }
}

/// Ships every item of a `HashMap` with one step each, all named `ship`, and reports which step
/// shipped which item. Hash order changes with every new map, so the replay pairs the recorded
/// results with other items.
async fn ship_all(ctx: DurableContext, orders: HashMap<String, u32>) -> Result<Vec<String>, Error> {
    let mut report = Vec::new();
    for (item, quantity) in orders {
        let label = item.clone();
        let shipped =
            ctx.step(move |_| async move { Ok::<_, Error>(format!("{quantity} x {label}")) }).name("ship").await?;
        report.push(format!("{item} <- {shipped}"));
    }
    Ok(report)
}

#[tokio::test]
async fn hash_order_that_reaches_the_steps_is_caught() {
    let orders: HashMap<String, u32> = (0..8).map(|i| (format!("item-{i}"), i)).collect();
    let error = TestRunner::new(ship_all).run(orders.clone()).await.unwrap_err();
    let detail = diverged(error);
    assert!(detail.contains("the execution returned") && detail.contains("but the replay returned"), "{detail}");

    // With the audit off, the same run "succeeds": this is what the audit is for.
    let result = TestRunner::new(ship_all).replay_audit(false).run(orders).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn state_mutated_in_a_step_and_read_by_the_body_is_caught() {
    let handler = |ctx: DurableContext, _: u32| {
        let charged = Arc::new(AtomicU64::new(0));
        async move {
            let counter = charged.clone();
            ctx.step(move |_| async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Error>(())
            })
            .name("charge")
            .await?;
            // Live, the step body ran and bumped the counter; on replay it does not run.
            Ok::<_, Error>(charged.load(Ordering::SeqCst))
        }
    };
    let detail = diverged(TestRunner::new(handler).run(0).await.unwrap_err());
    assert!(detail.contains("returned `1`, but the replay returned `0`"), "{detail}");
}

/// A helper the macros cannot see into: it reads the clock.
fn stamp() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

#[tokio::test]
async fn a_helper_reading_the_clock_in_the_body_is_caught() {
    let handler = |ctx: DurableContext, _: u32| async move {
        let receipt = ctx.step(|_| async { Ok::<_, Error>("paid".to_owned()) }).name("pay").await?;
        Ok::<_, Error>(format!("{receipt} at {}", stamp()))
    };
    let detail = diverged(TestRunner::new(handler).run(0).await.unwrap_err());
    assert!(detail.contains("returned `\"paid at "), "{detail}");
}

#[tokio::test]
async fn a_replay_that_takes_another_path_names_the_first_missed_operation() {
    let runs = Arc::new(AtomicU64::new(0));
    let handler = move |ctx: DurableContext, _: u32| {
        let first_run = runs.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if first_run {
                ctx.step(|_| async { Ok::<_, Error>(1) }).name("audit-log").await?;
            }
            Ok::<_, Error>(7)
        }
    };
    let detail = diverged(TestRunner::new(handler).run(0).await.unwrap_err());
    assert!(detail.contains("never reached the recorded STEP (Step) `audit-log`"), "{detail}");
}

#[tokio::test]
async fn a_deterministic_workflow_passes_the_audit_without_running_a_step_again() {
    let bodies = Arc::new(AtomicU64::new(0));
    let count = bodies.clone();
    let handler = move |ctx: DurableContext, n: u32| {
        let count = count.clone();
        async move {
            let doubled = ctx
                .step(move |_| async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(n * 2)
                })
                .name("double")
                .await?;
            ctx.wait(std::time::Duration::from_secs(5)).await?;
            Ok::<_, Error>(doubled + 1)
        }
    };
    let result = TestRunner::new(handler).run(20).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 41);
    assert_eq!(bodies.load(Ordering::SeqCst), 1, "neither the replay nor the audit ran the step body");
}
