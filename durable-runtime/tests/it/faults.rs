//! The fault matrix: a correct workflow survives a fault at every checkpoint call, and the two
//! classic mistakes (an effect in the workflow body, a step that is not idempotent) are named by
//! the cells they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::checkpoint::BoxFuture;
use durable_runtime::retry::RetryStrategy;
use durable_runtime::testing::{CallbackAction, Fault, TestError, TestRunner};
use durable_runtime::{DurableContext, Error, StepSemantics};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Steps at-least-once and at-most-once, a wait, a child context, a map, a callback: 10 + 2 ×
/// `items` operations.
fn order(items: u64) -> impl Fn(DurableContext, u64) -> BoxFuture<Result<u64, Error>> + Send + Sync + 'static {
    move |ctx: DurableContext, n: u64| {
        Box::pin(async move {
            let a = ctx.step(move |_| async move { Ok::<_, Error>(n + 1) }).name("reserve").await?;
            let b = ctx
                .step(move |_| async move { Ok::<_, Error>(a * 2) })
                .name("charge")
                .semantics(StepSemantics::AtMostOncePerRetry)
                .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
                .await?;
            ctx.wait(Duration::from_secs(60)).name("cool-off").await?;
            let c = ctx
                .run_in_child_context(move |ctx| async move {
                    let x = ctx.step(move |_| async move { Ok::<_, Error>(b + 3) }).name("pack").await?;
                    ctx.step(move |_| async move { Ok::<_, Error>(x + 4) }).name("label").await
                })
                .name("shipping")
                .await?;
            let lines = ctx
                .map((1..=items).collect::<Vec<u64>>(), |ctx, item: u64, _| async move {
                    ctx.step(move |_| async move { Ok::<_, Error>(item * 10) }).name("line").await
                })
                .name("lines")
                .await?
                .into_results()?;
            let callback = ctx.create_callback::<u64>().name("approval").await?;
            let approved = callback.result().await?;
            let total = c + lines.iter().sum::<u64>() + approved;
            Ok(ctx.step(move |_| async move { Ok::<_, Error>(total) }).name("notify").await?)
        })
    }
}

#[tokio::test]
async fn a_correct_workflow_passes_every_cell() {
    let runner = TestRunner::new(order(3)).on_callback("*", CallbackAction::succeed(7));
    let report = runner.fault_matrix(1).await.unwrap();
    assert!(report.checkpoint_calls() >= 10, "{report}");
    assert_eq!(report.cells(), report.checkpoint_calls() * Fault::all().len());
    report.assert_ok().unwrap();
}

#[tokio::test]
async fn the_matrix_of_a_twenty_operation_workflow_is_quick() {
    let runner = TestRunner::new(order(5)).on_callback("*", CallbackAction::succeed(7));
    let report = runner.fault_matrix(1).await.unwrap();
    eprintln!("{report}");
    report.assert_ok().unwrap();
}

#[tokio::test]
async fn an_effect_in_the_workflow_body_fails_the_cells_that_replay_it() {
    let sent = Arc::new(AtomicU64::new(0));
    let emails = sent.clone();
    let handler = move |ctx: DurableContext, n: u64| -> BoxFuture<Result<u64, Error>> {
        let emails = emails.clone();
        Box::pin(async move {
            let a = ctx.step(move |_| async move { Ok::<_, Error>(n) }).name("reserve").await?;
            ctx.wait(Duration::from_secs(60)).name("cool-off").await?;
            // The mistake: an effect outside any step runs again on every replay.
            let count = emails.fetch_add(1, Ordering::SeqCst) + 1;
            let b = ctx.step(move |_| async move { Ok::<_, Error>(a + 1) }).name("confirm").await?;
            Ok(b * 100 + count)
        })
    };
    let reset = sent.clone();
    let runner = TestRunner::new(handler).before_each_run(move || reset.store(0, Ordering::SeqCst));
    let report = runner.fault_matrix(1).await.unwrap();
    eprintln!("{report}");
    assert!(!report.is_ok());
    for cell in report.failures() {
        assert!(!matches!(cell.fault, Fault::Latency(_)), "latency replays nothing: {report}");
        assert!(!cell.hit.iter().any(|u| u.name.as_deref() == Some("reserve")), "before the effect: {report}");
        assert!(cell.differences.iter().any(|d| d.starts_with("result 202 instead of 201")), "{report}");
    }
    assert!(report.failures().iter().any(|c| c.fault == Fault::CrashBefore));
    let message = report.clone().assert_ok().unwrap_err().to_string();
    assert!(message.contains("crash before apply") && message.contains("result 202 instead of 201"), "{message}");
    assert!(matches!(report.assert_ok(), Err(TestError::FaultMatrix(_))));
}

#[tokio::test]
async fn a_step_that_is_not_idempotent_fails_the_cells_that_rerun_it() {
    let charges = Arc::new(AtomicU64::new(0));
    let card = charges.clone();
    let handler = move |ctx: DurableContext, n: u64| -> BoxFuture<Result<u64, Error>> {
        let card = card.clone();
        Box::pin(async move {
            let a = ctx.step(move |_| async move { Ok::<_, Error>(n) }).name("reserve").await?;
            // The mistake: an at-least-once step whose effect is not idempotent.
            let charged = ctx
                .step(move |_| async move { Ok::<_, Error>(card.fetch_add(1, Ordering::SeqCst) + 1) })
                .name("charge")
                .await?;
            let b = ctx.step(move |_| async move { Ok::<_, Error>(a + charged) }).name("receipt").await?;
            Ok(b)
        })
    };
    let reset = charges.clone();
    let runner = TestRunner::new(handler).before_each_run(move || reset.store(0, Ordering::SeqCst));
    let report = runner.fault_matrix(10).await.unwrap();
    eprintln!("{report}");
    assert!(!report.is_ok());
    for cell in report.failures() {
        assert!(!matches!(cell.fault, Fault::Latency(_)), "{report}");
        assert!(cell.hit.iter().any(|u| u.name.as_deref() == Some("charge")), "the cell names the step: {report}");
        assert!(cell.differences.iter().any(|d| d.starts_with("result 12 instead of 11")), "{report}");
    }
    assert!(report.failures().iter().any(|c| c.fault == Fault::CrashBefore));
}

#[tokio::test]
async fn a_workflow_that_needs_no_checkpoint_has_an_empty_matrix() {
    let runner = TestRunner::new(|_ctx: DurableContext, n: u64| async move { Ok::<_, Error>(n) });
    let report = runner.fault_matrix(3).await.unwrap();
    assert_eq!(report.cells(), report.checkpoint_calls() * Fault::all().len());
    report.assert_ok().unwrap();
}
