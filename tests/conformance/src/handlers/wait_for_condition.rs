//! Suite `wait_for_condition` (6-x).

use super::workflow;
use crate::ConformanceHandler;
use durable_runtime::ops::{WaitDecision, WaitStrategy};
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("6-1", count_to_threshold),
        workflow("6-2", already_satisfied),
        workflow("6-3", named_poll),
        workflow("6-4", count_from_five),
        workflow("6-5", fixed_delay),
        workflow("6-6", max_attempts_exceeded),
        workflow("6-7", check_throws),
        workflow("6-8", check_throws_caught),
        workflow("6-9", object_state),
        workflow("6-10", null_state),
        workflow("6-12", result_feeds_a_step),
        workflow("6-13", two_in_sequence),
    ]
}

/// One more than `n`: the check of the counting requirements.
async fn increment(n: i64) -> Result<i64, Error> {
    Ok(n + 1)
}

/// 6-1: counts from 0 until the input threshold (3), with the default strategy between checks.
#[durable_workflow]
async fn count_to_threshold(ctx: DurableContext, threshold: i64) -> Result<i64, Error> {
    Ok(ctx.wait_for_condition(0, |n, _| increment(n)).until(move |n| *n >= threshold).await?)
}

/// 6-2: starts at 5, the check leaves the state as it is, and the condition (`>= 5`) holds at once.
#[durable_workflow]
async fn already_satisfied(ctx: DurableContext, _input: Value) -> Result<i64, Error> {
    Ok(ctx.wait_for_condition(5, |n: i64, _| async move { Ok::<_, Error>(n) }).until(|n| *n >= 5).await?)
}

/// 6-3: counts from 0 until the input threshold (2), the operation named `poll-status`.
#[durable_workflow]
async fn named_poll(ctx: DurableContext, threshold: i64) -> Result<i64, Error> {
    Ok(ctx.wait_for_condition(0, |n, _| increment(n)).name("poll-status").until(move |n| *n >= threshold).await?)
}

/// 6-4: counts from an initial state of 5 until the input threshold (8).
#[durable_workflow]
async fn count_from_five(ctx: DurableContext, threshold: i64) -> Result<i64, Error> {
    Ok(ctx.wait_for_condition(5, |n, _| increment(n)).until(move |n| *n >= threshold).await?)
}

/// 6-5: counts from 0 until the input threshold (3), a fixed 2 s apart (no backoff, no jitter).
#[durable_workflow]
async fn fixed_delay(ctx: DurableContext, threshold: i64) -> Result<i64, Error> {
    let strategy = WaitStrategy::from_fn(move |n: &i64, _| {
        if *n >= threshold {
            WaitDecision::Done
        } else {
            WaitDecision::Continue(Duration::from_secs(2))
        }
    });
    Ok(ctx.wait_for_condition(0, |n, _| increment(n)).strategy(strategy).await?)
}

/// 6-6: a condition that is never met, a fixed 1 s apart, at most 3 checks: the third check fails
/// the operation and the execution.
#[durable_workflow]
async fn max_attempts_exceeded(ctx: DurableContext, start: i64) -> Result<i64, Error> {
    let strategy = WaitStrategy::from_fn(|_: &i64, _| WaitDecision::Continue(Duration::from_secs(1))).max_attempts(3);
    Ok(ctx.wait_for_condition(start, |n, _| increment(n)).strategy(strategy).await?)
}

/// 6-7: the first check raises; the operation fails at once and the execution fails.
#[durable_workflow]
async fn check_throws(ctx: DurableContext, _input: Value) -> Result<i64, Error> {
    let check = |_: i64, _| async move { Err::<i64, _>(Error::from("the condition check failed")) };
    Ok(ctx.wait_for_condition(0, check).until(|_| true).await?)
}

/// 6-8: the first check raises and the operation fails; the handler catches the error and returns
/// `recovered`.
#[durable_workflow]
async fn check_throws_caught(ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let check = |_: i64, _| async move { Err::<i64, _>(Error::from("the condition check failed")) };
    match ctx.wait_for_condition(0, check).until(|_| true).await {
        Ok(n) => Ok(format!("reached {n}")),
        Err(_) => Ok("recovered".to_owned()),
    }
}

/// The object state of 6-9.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    status: String,
    attempts: u32,
}

/// 6-9: an object state `{status, attempts}`; each check counts an attempt and the second one
/// marks it `DONE`.
#[durable_workflow]
async fn object_state(ctx: DurableContext, _input: Value) -> Result<Job, Error> {
    let initial = Job { status: "PENDING".to_owned(), attempts: 0 };
    let check = |job: Job, _| async move {
        let attempts = job.attempts + 1;
        let status = if attempts >= 2 { "DONE" } else { "PENDING" };
        Ok::<_, Error>(Job { status: status.to_owned(), attempts })
    };
    Ok(ctx.wait_for_condition(initial, check).until(|job: &Job| job.status != "PENDING").await?)
}

/// 6-10: the check returns `null` and the strategy stops on the first check.
#[durable_workflow]
async fn null_state(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let check = |_: Value, _| async move { Ok::<_, Error>(Value::Null) };
    Ok(ctx.wait_for_condition(Value::Null, check).strategy(WaitStrategy::from_fn(|_, _| WaitDecision::Done)).await?)
}

#[durable_step]
async fn times_ten(n: i64) -> Result<i64, Error> {
    Ok(n * 10)
}

/// 6-12: counts from 0 to the input threshold (2), then a step multiplies the result by 10.
#[durable_workflow]
async fn result_feeds_a_step(ctx: DurableContext, threshold: i64) -> Result<i64, Error> {
    let reached = ctx.wait_for_condition(0, |n, _| increment(n)).until(move |n| *n >= threshold).await?;
    Ok(times_ten(reached).await?)
}

/// 6-13: counts from 0 to 2, then a second operation counts on from that result to 4; returns the
/// second result.
#[durable_workflow]
async fn two_in_sequence(ctx: DurableContext, _input: Value) -> Result<i64, Error> {
    let first = ctx.wait_for_condition(0, |n, _| increment(n)).until(|n| *n >= 2).await?;
    Ok(ctx.wait_for_condition(first, |n, _| increment(n)).until(|n| *n >= 4).await?)
}
