//! Suite `map` (9-x).
//!
//! The serdes requirements of this suite are in `serdes.rs`.

use super::{project, workflow};
use crate::ConformanceHandler;
use durable_runtime::ops::{CompletionConfig, Nesting};
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde_json::Value;
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("9-1", map_basic),
        workflow("9-2", map_items_only),
        workflow("9-3", map_item_and_index),
        workflow("9-4", map_empty),
        workflow("9-5", map_fail_fast),
        workflow("9-6", map_rethrow),
        workflow("9-7", map_min_successful),
        workflow("9-8", map_tolerated_count_within),
        workflow("9-9", map_tolerated_count_exceeded),
        workflow("9-10", map_tolerated_percentage_exceeded),
        workflow("9-11", map_concurrent),
        workflow("9-12", map_flat),
        workflow("9-13", map_item_namer),
        workflow("9-15", map_suspends_in_item),
        workflow("9-16", map_large_aggregate),
        workflow("9-17", map_then_wait),
        workflow("9-18", map_failure_then_wait),
    ]
}

/// `n` placeholder items (`i0`, `i1`, ...) for the requirements whose input is null.
fn items(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("i{i}")).collect()
}

#[durable_step]
async fn greet(name: String) -> Result<String, Error> {
    Ok(format!("Hello, {name}!"))
}

#[durable_step]
async fn echo(value: String) -> Result<String, Error> {
    Ok(value)
}

/// 9-1: map `map` over the input, one step per item (`Hello, <item>!`), one item at a time.
#[durable_workflow]
async fn map_basic(ctx: DurableContext, names: Vec<String>) -> Result<Vec<String>, Error> {
    let batch = ctx.map(names, |_ctx, name, _| async move { greet(name).await }).name("map").max_concurrency(1).await?;
    Ok(batch.into_results()?)
}

/// 9-2: an unnamed map doubling the input numbers directly (no step inside the items).
#[durable_workflow]
async fn map_items_only(ctx: DurableContext, numbers: Vec<i64>) -> Result<Vec<i64>, Error> {
    let batch = ctx.map(numbers, |_ctx, n, _| async move { Ok::<_, Error>(n * 2) }).max_concurrency(1).await?;
    Ok(batch.into_results()?)
}

/// 9-3: map `indexed` returning each item plus its index.
#[durable_workflow]
async fn map_item_and_index(ctx: DurableContext, numbers: Vec<i64>) -> Result<Vec<i64>, Error> {
    let batch = ctx
        .map(numbers, |_ctx, n, index| async move { Ok::<_, Error>(n + i64::try_from(index)?) })
        .name("indexed")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 9-4: map `empty` over an empty list: the Map context is still recorded.
#[durable_workflow]
async fn map_empty(ctx: DurableContext, input: Vec<Value>) -> Result<Vec<Value>, Error> {
    let batch = ctx.map(input, |_ctx, item, _| async move { Ok::<_, Error>(item) }).name("empty").await?;
    Ok(batch.into_results()?)
}

/// An item body: fails for the listed indexes, else returns `ok`.
fn ok_unless(index: usize, failing: &[usize]) -> Result<String, Error> {
    if failing.contains(&index) {
        return Err(format!("item {index} failed").into());
    }
    Ok("ok".to_owned())
}

/// 9-5: fail-fast over three items; item 1 fails, item 2 never starts; returns the projection.
#[durable_workflow]
async fn map_fail_fast(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(3), |_ctx, _item, index| async move { ok_unless(index, &[1]) })
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::fail_fast())
        .await?;
    Ok(project(&batch, &["completionReason", "status", "successCount", "failureCount", "totalCount"]))
}

/// 9-6: fail-fast over two items; item 0 fails; the handler rethrows it, so the execution fails.
#[durable_workflow]
async fn map_rethrow(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(2), |_ctx, _item, index| async move { ok_unless(index, &[0]) })
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::fail_fast())
        .await?;
    batch.require_success()?;
    Ok(Value::Null)
}

/// 9-7: min-successful 2 over four items: items 2 and 3 never start.
#[durable_workflow]
async fn map_min_successful(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(4), |_ctx, _item, index| async move { ok_unless(index, &[]) })
        .name("min-successful")
        .max_concurrency(1)
        .completion(CompletionConfig::all().min_successful(2))
        .await?;
    Ok(project(&batch, &["completionReason", "successCount", "totalCount"]))
}

/// 9-8: one failure tolerated over three items; item 1 fails, so every item runs and the status is
/// FAILED.
#[durable_workflow]
async fn map_tolerated_count_within(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(3), |_ctx, _item, index| async move { ok_unless(index, &[1]) })
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1))
        .await?;
    Ok(project(&batch, &["completionReason", "status", "successCount", "failureCount", "totalCount"]))
}

/// 9-9: one failure tolerated over three items; items 0 and 1 fail, so item 2 never starts.
#[durable_workflow]
async fn map_tolerated_count_exceeded(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(3), |_ctx, _item, index| async move { ok_unless(index, &[0, 1]) })
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1))
        .await?;
    Ok(project(&batch, &["completionReason", "successCount", "failureCount", "totalCount"]))
}

/// 9-10: 25 % failures tolerated over four items; items 0 and 1 fail (50 %), so 2 and 3 never start.
#[durable_workflow]
async fn map_tolerated_percentage_exceeded(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(4), |_ctx, _item, index| async move { ok_unless(index, &[0, 1]) })
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_percentage(25.0))
        .await?;
    Ok(project(&batch, &["completionReason", "successCount", "failureCount", "totalCount"]))
}

/// 9-11: three items, two at a time, returning `r<index>`; results come back in index order.
#[durable_workflow]
async fn map_concurrent(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .map(items(3), |_ctx, _item, index| async move { Ok::<_, Error>(format!("r{index}")) })
        .name("concurrent")
        .max_concurrency(2)
        .await?;
    Ok(batch.into_results()?)
}

/// 9-12: FLAT nesting: no MapIteration contexts, the items' steps report the Map as their parent.
#[durable_workflow]
async fn map_flat(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let values = vec!["fa".to_owned(), "fb".to_owned()];
    let batch = ctx
        .map(values, |_ctx, value, _| async move { echo(value).await })
        .name("flat")
        .max_concurrency(1)
        .nesting(Nesting::Flat)
        .await?;
    Ok(batch.into_results()?)
}

/// 9-13: map `named-items` multiplying by 10, each item's context named `item-<item>`.
#[durable_workflow]
async fn map_item_namer(ctx: DurableContext, numbers: Vec<i64>) -> Result<Vec<i64>, Error> {
    let batch = ctx
        .map(numbers, |_ctx, n, _| async move { Ok::<_, Error>(n * 10) })
        .name("named-items")
        .item_name(|n, _| format!("item-{n}"))
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 9-15: item 0 runs a step; item 1 waits 1 s (the execution suspends mid-map), then runs a step.
#[durable_workflow]
async fn map_suspends_in_item(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let values = vec!["r0".to_owned(), "r1".to_owned()];
    let batch = ctx
        .map(values, |ctx, value, index| async move {
            if index == 1 {
                ctx.wait(Duration::from_secs(1)).await?;
            }
            echo(value).await
        })
        .name("suspend")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 9-16: four items of ~70 KB each: the aggregate is over 256 KiB, so the Map records a decision
/// record with `ReplayChildren`.
#[durable_workflow]
async fn map_large_aggregate(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let batch = ctx
        .map(items(4), |_ctx, item, _| async move { Ok::<_, Error>(item.repeat(70 * 1024 / item.len())) })
        .name("large")
        .max_concurrency(1)
        .await?;
    Ok(project(&batch, &["successCount", "totalCount"]))
}

/// 9-17: a map uppercasing `a`, `b`, then a 1 s wait; the replay skips the completed map.
#[durable_workflow]
async fn map_then_wait(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let values = vec!["a".to_owned(), "b".to_owned()];
    let batch = ctx
        .map(values, |_ctx, value, _| async move { Ok::<_, Error>(value.to_uppercase()) })
        .name("then-wait")
        .max_concurrency(1)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(batch.into_results()?)
}

/// 9-18: one failure tolerated over `ok`, `fail`; item 1 fails, the handler keeps the result and
/// waits 1 s; the replay skips the completed map.
#[durable_workflow]
async fn map_failure_then_wait(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let values = vec!["ok".to_owned(), "fail".to_owned()];
    let batch = ctx
        .map(values, |_ctx, value, index| async move {
            if value == "fail" {
                return Err(Error::from(format!("item {index} failed")));
            }
            Ok(value)
        })
        .name("fail-then-wait")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1))
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(project(&batch, &["completionReason", "status", "successCount", "failureCount", "totalCount"]))
}
