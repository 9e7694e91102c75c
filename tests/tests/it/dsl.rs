//! Behaviour of `#[durable_workflow]` and `#[durable_step]` through the in-process test runner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::protocol::{OperationStatus, OperationType};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{durable_step, durable_workflow, unchecked, DurableContext, DurableError, Error};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Receipt {
    order: u32,
    charged: u32,
}

static RESERVE_RUNS: AtomicU32 = AtomicU32::new(0);
static CHARGE_RUNS: AtomicU32 = AtomicU32::new(0);

#[durable_step]
async fn reserve(order: Order) -> Result<u32, Error> {
    RESERVE_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(order.id * 10)
}

#[durable_step(retry = exponential(max_attempts = 5, initial = "1s", max = "1m"), semantics = at_most_once)]
async fn charge(order: Order) -> Result<Receipt, Error> {
    CHARGE_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(Receipt { order: order.id, charged: order.amount })
}

#[durable_workflow]
async fn place_order(ctx: DurableContext, order: Order) -> Result<Receipt, Error> {
    let held = reserve(order.clone()).await?;
    assert_eq!(held, order.id * 10);
    ctx.wait(Duration::from_secs(60)).await?;
    let receipt = charge(order).await?;
    Ok(receipt)
}

#[tokio::test]
async fn derived_names_show_in_the_history_and_replay_runs_no_step_twice() {
    let result = TestRunner::new(place_order).run(Order { id: 7, amount: 30 }).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<Receipt>().unwrap(), Receipt { order: 7, charged: 30 });
    // The wait suspends the first invocation; the second replays `reserve` without running it.
    assert!(result.invocation_count() >= 2, "{}", result.invocation_count());
    assert_eq!(RESERVE_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(CHARGE_RUNS.load(Ordering::SeqCst), 1);
    let names: Vec<&str> = result
        .operations()
        .iter()
        .filter(|op| op.op_type == OperationType::Step)
        .filter_map(|op| op.name.as_deref())
        .collect();
    assert_eq!(names, ["reserve", "charge"]);
    assert!(result.history().iter().any(|e| e.name.as_deref() == Some("charge")));
}

#[durable_step(name = "add-one")]
async fn add_one(x: u32) -> Result<u32, Error> {
    Ok(x + 1)
}

#[durable_workflow]
async fn twice(_ctx: DurableContext, x: u32) -> Result<u32, Error> {
    let a = add_one(x).await?;
    Ok(add_one(a).await?)
}

#[tokio::test]
async fn a_step_called_twice_gives_two_operations_with_one_name() {
    let result = TestRunner::new(twice).run(1u32).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
    let ops = result.operations_named("add-one");
    assert_eq!(ops.len(), 2);
    assert_ne!(ops[0].id, ops[1].id);
}

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);

#[durable_step(retry = fixed(delay = "2s", max_attempts = 3))]
async fn always_fails(x: u32) -> Result<u32, Error> {
    FLAKY_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(format!("attempt failed for {x}").into())
}

#[durable_workflow]
async fn retrying(_ctx: DurableContext, x: u32) -> Result<u32, Error> {
    Ok(always_fails(x).await?)
}

#[tokio::test]
async fn the_retry_attribute_is_honoured() {
    let result = TestRunner::new(retrying).run(5u32).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(FLAKY_RUNS.load(Ordering::SeqCst), 3);
    let op = result.operation("always_fails").unwrap();
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(op.step_details.as_ref().and_then(|d| d.attempt), Some(3));
}

static NO_RETRY_RUNS: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
struct Declined(u32);

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card declined for {}", self.0)
    }
}

impl std::error::Error for Declined {}

#[durable_step(retry = none)]
async fn decline(amount: u32) -> Result<u32, Declined> {
    NO_RETRY_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(Declined(amount))
}

#[durable_workflow]
async fn declining(ctx: DurableContext, amount: u32) -> Result<String, Error> {
    let durable: DurableError = decline(amount).await.err().ok_or("expected a failure")?;
    let seen = format!("{}: {}", durable.error_type(), durable.message());
    // A wait, so that the failure is replayed once from the history.
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(seen)
}

#[tokio::test]
async fn step_errors_keep_their_type_and_message_across_replay() {
    let result = TestRunner::new(declining).run(99u32).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<String>().unwrap(), "Declined: card declined for 99");
    assert_eq!(NO_RETRY_RUNS.load(Ordering::SeqCst), 1);
}

static INNER_RUNS: AtomicU32 = AtomicU32::new(0);

#[durable_step]
async fn inner_step(x: u32) -> Result<u32, Error> {
    INNER_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(x * 2)
}

#[durable_workflow]
async fn inner(ctx: DurableContext, x: u32) -> Result<u32, Error> {
    let doubled = inner_step(x).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(doubled)
}

#[durable_workflow]
async fn outer(ctx: DurableContext, x: u32) -> Result<u32, Error> {
    let a = inner(ctx.clone(), x).await?;
    let b = add_one(a).await?;
    Ok(b)
}

#[tokio::test]
async fn a_sub_workflow_runs_as_a_named_child_context() {
    let result = TestRunner::new(outer).run(4u32).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<u32>().unwrap(), 9);
    let context = result.operation("inner").unwrap();
    assert_eq!(context.op_type, OperationType::Context);
    let step = result.operation("inner_step").unwrap();
    assert_eq!(step.parent_id.as_deref(), Some(context.id.as_str()));
    let after = result.operation("add-one").unwrap();
    assert_eq!(after.parent_id, None);
    assert_eq!(INNER_RUNS.load(Ordering::SeqCst), 1);
}

#[durable_workflow]
async fn in_child_context(ctx: DurableContext, x: u32) -> Result<u32, Error> {
    ctx.run_in_child_context(move |_child| async move { add_one(x).await }).name("child").await.map_err(Into::into)
}

#[tokio::test]
async fn a_step_binds_to_the_child_context_it_is_awaited_in() {
    let result = TestRunner::new(in_child_context).run(1u32).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 2);
    let child = result.operation("child").unwrap();
    let step = result.operation("add-one").unwrap();
    assert_eq!(step.parent_id.as_deref(), Some(child.id.as_str()));
}

async fn noop() {}

#[durable_workflow]
async fn with_opt_out(_ctx: DurableContext, x: u32) -> Result<u32, Error> {
    unchecked(noop()).await;
    Ok(x)
}

#[tokio::test]
async fn unchecked_runs_its_future() {
    let result = TestRunner::new(with_opt_out).run(3u32).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
}

#[tokio::test]
async fn a_step_outside_a_workflow_is_a_clear_error_and_its_body_is_testable() {
    let durable: DurableError = add_one(1).await.unwrap_err();
    assert_eq!(durable.error_type(), durable_runtime::NOT_IN_WORKFLOW_ERROR);
    assert!(durable.message().contains("`add-one`"), "{}", durable.message());
    assert_eq!(add_one(1).run_body().await.unwrap(), 2);
}

#[durable_step]
async fn square(x: u32) -> Result<u32, Error> {
    let attempt = durable_runtime::StepContext::current().map_or(0, |s| s.attempt());
    assert_eq!(attempt, 1, "a step body sees its attempt");
    Ok(x * x)
}

#[durable_workflow]
async fn squares(ctx: DurableContext, xs: Vec<u32>) -> Result<Vec<u32>, Error> {
    let mapped = ctx.map(xs, |_ctx, x, _| async move { square(x).await }).max_concurrency(2).await?;
    let branches = ctx
        .parallel::<u32>()
        .branch(|_ctx| async move { square(10).await })
        .branch(|_ctx| async move { square(11).await })
        .await?;
    let mut out = mapped.into_results()?;
    out.extend(branches.into_results()?);
    Ok(out)
}

#[tokio::test]
async fn steps_bind_to_map_items_and_parallel_branches() {
    let result = TestRunner::new(squares).run(vec![2u32, 3]).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<Vec<u32>>().unwrap(), vec![4, 9, 100, 121]);
    let ops = result.operations();
    let parent_of = |id: &str| ops.iter().find(|o| o.id == id).map(|o| (o.sub_type.clone(), o.parent_id.clone()));
    for step in ops.iter().filter(|o| o.op_type == OperationType::Step) {
        assert_eq!(step.name.as_deref(), Some("square"));
        let (sub_type, _) = parent_of(step.parent_id.as_deref().unwrap()).unwrap();
        let sub_type = sub_type.unwrap();
        assert!(
            sub_type.as_str() == "MapIteration" || sub_type.as_str() == "ParallelBranch",
            "a step's parent is its item, not {sub_type}"
        );
    }
}

static REFUNDS: AtomicU32 = AtomicU32::new(0);

#[durable_step]
async fn refund_payment(payment: String) -> Result<String, Error> {
    REFUNDS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("refunded {payment}"))
}

#[durable_step(compensate = refund_payment)]
async fn take_payment(amount: u32) -> Result<String, Error> {
    Ok(format!("payment-{amount}"))
}

#[durable_step(retry = none)]
async fn ship_order(_amount: u32) -> Result<(), Error> {
    Err(DurableError::with_type("OutOfStock", "nothing to ship").into())
}

#[durable_workflow]
async fn saga_order(ctx: DurableContext, amount: u32) -> Result<(), Error> {
    take_payment(amount).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(ship_order(amount).await?)
}

#[tokio::test]
async fn a_step_compensate_attribute_undoes_it_when_the_workflow_fails() {
    let result = TestRunner::new(saga_order).run(7u32).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("OutOfStock"));
    assert_eq!(REFUNDS.load(Ordering::SeqCst), 1, "registered on replay too, but run once");
    let refund = result.operation("refund_payment").unwrap();
    assert_eq!(refund.status, OperationStatus::Succeeded);
    assert_eq!(
        refund.step_details.as_ref().and_then(|d| d.result.as_ref()).map(|p| p.text()).as_deref(),
        Some("\"refunded payment-7\"")
    );
}
