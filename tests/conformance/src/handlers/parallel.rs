//! Suite `parallel` (8-x).
//!
//! The serdes requirements of this suite are in `serdes.rs`.

use super::{project, workflow};
use crate::ConformanceHandler;
use durable_runtime::ops::Parallel;
use durable_runtime::ops::{BatchResult, CompletionConfig, Nesting};
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("8-1", parallel_basic),
        workflow("8-2", parallel_branches_only),
        workflow("8-3", parallel_named_branches),
        workflow("8-4", parallel_mixed_types),
        workflow("8-5", parallel_empty),
        workflow("8-6", parallel_fail_fast),
        workflow("8-7", parallel_rethrow),
        workflow("8-8", parallel_min_successful_reached),
        workflow("8-9", parallel_tolerate_one),
        workflow("8-10", parallel_tolerance_exceeded),
        workflow("8-11", parallel_concurrent),
        workflow("8-12", parallel_flat),
        workflow("8-13", parallel_percentage_exceeded),
        workflow("8-14", parallel_branch_suspends),
        workflow("8-16", parallel_all_fail_within_tolerance),
        workflow("8-17", parallel_min_successful_not_reached),
        workflow("8-18", parallel_combined_completion),
        workflow("8-19", parallel_zero_concurrency),
        workflow("8-20", parallel_accessors),
        workflow("8-21", parallel_nested),
        workflow("8-22", parallel_percentage_at_tolerance),
    ]
}

/// The projection most completion-config requirements return.
const PROJECTION: &[&str] = &["completionReason", "status", "successCount", "failureCount", "totalCount"];

#[durable_step]
async fn constant(value: String) -> Result<String, Error> {
    Ok(value)
}

/// A branch body that returns `ok` or fails.
fn ok_or_fail(index: usize, fails: bool) -> Result<String, Error> {
    if fails {
        return Err(format!("branch {index} failed").into());
    }
    Ok("ok".to_owned())
}

/// Adds one branch per entry of `fails` (`true`: the branch fails, else it returns `ok`).
fn branches(mut parallel: Parallel<String>, fails: &[bool]) -> Parallel<String> {
    for (index, fails) in fails.iter().copied().enumerate() {
        parallel = parallel.branch(move |_ctx| async move { ok_or_fail(index, fails) });
    }
    parallel
}

/// 8-1: parallel `parallel` with two branches, each one step (`task-1`, `task-2`), one at a time.
#[durable_workflow]
async fn parallel_basic(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .branch(|_ctx| async move { constant("task-1".to_owned()).await })
        .branch(|_ctx| async move { constant("task-2".to_owned()).await })
        .name("parallel")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-2: an unnamed parallel whose two branches return `alpha` and `beta` directly.
#[durable_workflow]
async fn parallel_branches_only(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .branch(|_ctx| async move { Ok::<_, Error>("alpha".to_owned()) })
        .branch(|_ctx| async move { Ok::<_, Error>("beta".to_owned()) })
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-3: parallel `named` with two named branches (`first`, `second`) returning `one` and `two`.
#[durable_workflow]
async fn parallel_named_branches(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .named_branch("first", |_ctx| async move { Ok::<_, Error>("one".to_owned()) })
        .named_branch("second", |_ctx| async move { Ok::<_, Error>("two".to_owned()) })
        .name("named")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-4: branches of different types (a string, a number, an object), as JSON values.
#[durable_workflow]
async fn parallel_mixed_types(ctx: DurableContext, _input: Value) -> Result<Vec<Value>, Error> {
    let batch = ctx
        .parallel::<Value>()
        .branch(|_ctx| async move { Ok::<_, Error>(json!("hello")) })
        .branch(|_ctx| async move { Ok::<_, Error>(json!(42)) })
        .branch(|_ctx| async move { Ok::<_, Error>(json!({ "k": "v" })) })
        .name("hetero")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-5: parallel `empty` without branches: the Parallel context is still recorded.
#[durable_workflow]
async fn parallel_empty(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx.parallel::<String>().name("empty").await?;
    Ok(batch.into_results()?)
}

/// 8-6: fail-fast over three branches; branch 1 fails, branch 2 never starts; returns the projection.
#[durable_workflow]
async fn parallel_fail_fast(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx.parallel().name("failfast").max_concurrency(1).completion(CompletionConfig::fail_fast());
    let batch = branches(parallel, &[false, true, false]).await?;
    Ok(project(&batch, PROJECTION))
}

/// 8-7: fail-fast over two branches; branch 0 fails; the handler rethrows it, so the execution fails.
#[durable_workflow]
async fn parallel_rethrow(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx.parallel().name("throwing").max_concurrency(1).completion(CompletionConfig::fail_fast());
    let batch = branches(parallel, &[true, false]).await?;
    batch.require_success()?;
    Ok(Value::Null)
}

/// 8-8: min-successful 2 over four branches, one at a time: branches 2 and 3 never start.
#[durable_workflow]
async fn parallel_min_successful_reached(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel =
        ctx.parallel().name("min-successful").max_concurrency(1).completion(CompletionConfig::all().min_successful(2));
    let batch = branches(parallel, &[false, false, false, false]).await?;
    Ok(project(&batch, &["completionReason", "successCount", "totalCount"]))
}

/// 8-9: one failure tolerated; branch 1 fails; every branch runs, status FAILED.
#[durable_workflow]
async fn parallel_tolerate_one(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1));
    let batch = branches(parallel, &[false, true, false]).await?;
    Ok(project(&batch, PROJECTION))
}

/// 8-10: one failure tolerated; branches 0 and 1 fail, so branch 2 never starts.
#[durable_workflow]
async fn parallel_tolerance_exceeded(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1));
    let batch = branches(parallel, &[true, true, false]).await?;
    Ok(project(&batch, &["completionReason", "successCount", "failureCount", "totalCount"]))
}

/// 8-11: three branches, two at a time, returning `r<index>`; results come back in branch order.
#[durable_workflow]
async fn parallel_concurrent(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let mut parallel = ctx.parallel::<String>().name("concurrent").max_concurrency(2);
    for index in 0..3 {
        parallel = parallel.branch(move |_ctx| async move { Ok::<_, Error>(format!("r{index}")) });
    }
    let batch = parallel.await?;
    Ok(batch.into_results()?)
}

/// 8-12: FLAT nesting: no ParallelBranch contexts, the branches' steps report the Parallel as parent.
#[durable_workflow]
async fn parallel_flat(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .branch(|_ctx| async move { constant("fa".to_owned()).await })
        .branch(|_ctx| async move { constant("fb".to_owned()).await })
        .name("flat")
        .max_concurrency(1)
        .nesting(Nesting::Flat)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-13: 25 % failures tolerated; branches 0 and 1 of 4 fail (50 %), so 2 and 3 never start.
#[durable_workflow]
async fn parallel_percentage_exceeded(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_percentage(25.0));
    let batch = branches(parallel, &[true, true, false, false]).await?;
    Ok(project(&batch, &["completionReason", "successCount", "failureCount", "totalCount"]))
}

/// 8-14: branch 0 runs a step; branch 1 waits 2 s (the execution suspends), then returns `b1`.
#[durable_workflow]
async fn parallel_branch_suspends(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .branch(|_ctx| async move { constant("b0".to_owned()).await })
        .branch(|ctx| async move {
            ctx.wait(Duration::from_secs(2)).await?;
            Ok::<_, Error>("b1".to_owned())
        })
        .name("replay")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-16: three failures tolerated; all three branches fail: ALL_COMPLETED, status FAILED.
#[durable_workflow]
async fn parallel_all_fail_within_tolerance(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("all-fail")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(3));
    let batch = branches(parallel, &[true, true, true]).await?;
    Ok(project(&batch, PROJECTION))
}

/// 8-17: min-successful 3 without a failure tolerance; branch 1 fails, so it is never reached and
/// every branch runs.
#[durable_workflow]
async fn parallel_min_successful_not_reached(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel =
        ctx.parallel().name("min-not-reached").max_concurrency(1).completion(CompletionConfig::all().min_successful(3));
    let batch = branches(parallel, &[false, true, false]).await?;
    Ok(project(&batch, PROJECTION))
}

/// 8-18: min-successful 3 and one failure tolerated; branches 0 and 1 fail, so the tolerance is
/// exceeded first and branches 2 and 3 never start.
#[durable_workflow]
async fn parallel_combined_completion(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("combined")
        .max_concurrency(1)
        .completion(CompletionConfig::all().min_successful(3).tolerated_failure_count(1));
    let batch = branches(parallel, &[true, true, false, false]).await?;
    Ok(project(&batch, &["completionReason", "successCount", "failureCount", "totalCount"]))
}

/// 8-19: `max_concurrency(0)` is rejected before anything is recorded; the execution fails.
#[durable_workflow]
async fn parallel_zero_concurrency(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx.parallel().name("bad-concurrency").max_concurrency(0);
    let batch: BatchResult<String> = branches(parallel, &[false, false]).await?;
    Ok(project(&batch, PROJECTION))
}

/// 8-20: the accessors of a batch result (one failure tolerated; branch 1 fails).
#[durable_workflow]
async fn parallel_accessors(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("accessors")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_count(1));
    let batch = branches(parallel, &[false, true, false]).await?;
    Ok(json!({
        "hasFailure": batch.has_failure(),
        "successCount": batch.succeeded().len(),
        "failureCount": batch.failed().len(),
        "errorCount": batch.errors().len(),
    }))
}

/// 8-21: an outer parallel whose single branch runs an inner parallel of two steps (`i1`, `i2`).
#[durable_workflow]
async fn parallel_nested(ctx: DurableContext, _input: Value) -> Result<Vec<Vec<String>>, Error> {
    let batch = ctx
        .parallel::<Vec<String>>()
        .branch(|ctx| async move {
            let inner = ctx
                .parallel::<String>()
                .branch(|_ctx| async move { constant("i1".to_owned()).await })
                .branch(|_ctx| async move { constant("i2".to_owned()).await })
                .name("inner")
                .max_concurrency(1)
                .await?;
            Ok::<_, Error>(inner.into_results()?)
        })
        .name("outer")
        .max_concurrency(1)
        .await?;
    Ok(batch.into_results()?)
}

/// 8-22: 25 % failures tolerated; branch 0 of 4 fails (exactly 25 %, not more): every branch runs.
#[durable_workflow]
async fn parallel_percentage_at_tolerance(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let parallel = ctx
        .parallel()
        .name("pct-boundary")
        .max_concurrency(1)
        .completion(CompletionConfig::all().tolerated_failure_percentage(25.0));
    let batch = branches(parallel, &[true, false, false, false]).await?;
    Ok(project(&batch, PROJECTION))
}
