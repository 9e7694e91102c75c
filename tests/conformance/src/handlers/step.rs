//! Suite `step` (1-x).

use super::{plain, text, workflow};
use crate::{ConformanceHandler, HandlerFuture, HostRef};
use durable_runtime::retry::{Jitter, RetryStrategy};
use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error, StepSemantics};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("1-1", step_basic),
        workflow("1-2", step_named),
        workflow("1-3", dependent_steps),
        workflow("1-4", object_result),
        workflow("1-5", null_result),
        plain("1-7", step_logger),
        workflow("1-8", step_then_wait),
        workflow("1-9", replay_skips_succeeded_step),
        workflow("1-10", replay_rethrows_failed_step),
        plain("1-11", fail_once_then_succeed),
        plain("1-12", retry_exhaustion),
        plain("1-13", default_retry),
        plain("1-14", custom_backoff),
        plain("1-15", retry_only_transient),
        plain("1-16", transient_not_retried),
        plain("1-17", at_most_once_crash),
        plain("1-18", at_most_once_crash_then_retry),
        workflow("1-19", step_failure),
        workflow("1-20", caught_step_failure),
    ]
}

/// The error type the transient-error requirements (1-15, 1-16) classify on.
const TRANSIENT_ERROR: &str = "TransientError";

#[durable_step]
async fn greet(name: String) -> Result<String, Error> {
    Ok(format!("Hello, {name}!"))
}

#[durable_step(name = "custom_step_name")]
async fn greet_named(name: String) -> Result<String, Error> {
    Ok(format!("Hello, {name}!"))
}

/// 1-1: one step returning `Hello, <input>!`.
#[durable_workflow]
async fn step_basic(_ctx: DurableContext, name: String) -> Result<String, Error> {
    Ok(greet(name).await?)
}

/// 1-2: the same step, named `custom_step_name`.
#[durable_workflow]
async fn step_named(_ctx: DurableContext, name: String) -> Result<String, Error> {
    Ok(greet_named(name).await?)
}

#[durable_step]
async fn step_one() -> Result<String, Error> {
    Ok("first".to_owned())
}

#[durable_step]
async fn step_two(first: String) -> Result<String, Error> {
    Ok(format!("{first}_second"))
}

/// 1-3: two steps, the second built from the first's result.
#[durable_workflow]
async fn dependent_steps(_ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let first = step_one().await?;
    Ok(step_two(first).await?)
}

#[durable_step]
async fn build_response(input: Value) -> Result<Value, Error> {
    let tags = input["tags"].clone();
    let count = tags.as_array().map_or(0, Vec::len);
    Ok(json!({ "user": { "name": input["name"], "tags": tags }, "count": count }))
}

/// 1-4: a step returning a nested object built from the input.
#[durable_workflow]
async fn object_result(_ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(build_response(input).await?)
}

#[durable_step]
async fn do_nothing() -> Result<(), Error> {
    Ok(())
}

/// 1-5: a step returning null; the execution's result is null.
#[durable_workflow]
async fn null_result(_ctx: DurableContext, _input: Value) -> Result<(), Error> {
    Ok(do_nothing().await?)
}

/// 1-7: a step that logs its start and its result through `tracing`, which the runtime stamps with
/// the execution and the operation.
fn step_logger(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let name = text(&input);
    Box::pin(async move {
        let greeting = ctx
            .step(move |_| async move {
                tracing::info!("Greeting step started for: {name}");
                let greeting = format!("Hello, {name}!");
                tracing::info!("Greeting step completed with: {greeting}");
                Ok::<_, Error>(greeting)
            })
            .await?;
        Ok(Value::String(greeting))
    })
}

#[durable_step]
async fn cached_value() -> Result<String, Error> {
    Ok("cached_value".to_owned())
}

/// 1-9: a step, then a 1 s wait; the replay returns the recorded value.
#[durable_workflow]
async fn replay_skips_succeeded_step(ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let value = cached_value().await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

#[durable_step]
async fn compute() -> Result<String, Error> {
    Ok("computed".to_owned())
}

/// 1-8: a step, then a 2 s wait; the replay skips the step.
#[durable_workflow]
async fn step_then_wait(ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let value = compute().await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(value)
}

#[durable_step(retry = none)]
async fn fails_permanently() -> Result<String, Error> {
    Err("step failed permanently".into())
}

/// 1-10: a no-retry step that fails, caught, then a 1 s wait; the replay re-throws the recorded error.
#[durable_workflow]
async fn replay_rethrows_failed_step(ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let caught = match fails_permanently().await {
        Ok(value) => value,
        Err(error) => format!("caught: {error}"),
    };
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(caught)
}

/// 1-11: fails on attempt 1, succeeds on attempt 2 (1 s apart).
fn fail_once_then_succeed(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result = ctx
            .step(|step| async move {
                if step.attempt() < 2 {
                    return Err(Error::from("attempt 1 fails"));
                }
                Ok("Operation succeeded".to_owned())
            })
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-12: always fails; 4 attempts, 1 s apart; then the execution fails.
fn retry_exhaustion(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result = ctx
            .step(|step| async move { Err::<String, _>(Error::from(format!("attempt {} fails", step.attempt()))) })
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(4))
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-13: fails twice, then succeeds, with the default retry strategy (6 attempts, 5 s initial
/// delay, x2, capped at 60 s, full jitter).
fn default_retry(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result = ctx
            .step(|step| async move {
                if step.attempt() < 3 {
                    return Err(Error::from(format!("attempt {} fails", step.attempt())));
                }
                Ok(format!("succeeded on attempt {}", step.attempt()))
            })
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-14: fails twice then succeeds; initial delay 2 s, backoff x3, no jitter (2 s, then 6 s).
fn custom_backoff(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let strategy = RetryStrategy::exponential()
            .max_attempts(5)
            .initial_delay(Duration::from_secs(2))
            .backoff_factor(3.0)
            .jitter(Jitter::None);
        let result = ctx
            .step(|step| async move {
                if step.attempt() < 3 {
                    return Err(Error::from(format!("attempt {} fails", step.attempt())));
                }
                Ok(format!("succeeded on attempt {}", step.attempt()))
            })
            .retry(strategy)
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-15: throws a `TransientError` once; the strategy retries only that type.
fn retry_only_transient(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let strategy = RetryStrategy::fixed(Duration::from_secs(1))
            .max_attempts(3)
            .retry_if_error_type(|t| t.ends_with(TRANSIENT_ERROR));
        let result = ctx
            .step(|step| async move {
                if step.attempt() < 2 {
                    return Err(DurableError::with_type(TRANSIENT_ERROR, "temporarily unavailable"));
                }
                Ok("recovered after a transient error".to_owned())
            })
            .retry(strategy)
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-16: throws a `TransientError`; the strategy retries everything but that type.
fn transient_not_retried(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let strategy =
            RetryStrategy::fixed(Duration::from_secs(1)).retry_if_error_type(|t| !t.ends_with(TRANSIENT_ERROR));
        let result =
            ctx.step(|_| async move {
                Err::<String, _>(DurableError::with_type(TRANSIENT_ERROR, "temporarily unavailable"))
            })
            .retry(strategy)
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-17: an at-most-once step without retries whose process crashes during attempt 1; the replay
/// records the interrupted attempt as the step's failure. The step logs the input each time it runs.
fn at_most_once_crash(ctx: DurableContext, input: Value, host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .step(move |_| async move {
                tracing::info!("at-most-once step running for: {value}");
                host.crash_once();
                Ok::<_, Error>(value)
            })
            .name("at_most_once_flaky_step")
            .semantics(StepSemantics::AtMostOncePerRetry)
            .retry(RetryStrategy::none())
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-18: an at-most-once step with retries whose process crashes during attempt 1; the replay
/// records the interrupted attempt as a failed attempt, and attempt 2 succeeds. The step logs the
/// input each time it runs.
fn at_most_once_crash_then_retry(ctx: DurableContext, input: Value, host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .step(move |step| async move {
                tracing::info!("at-most-once step attempt {} for: {value}", step.attempt());
                if step.attempt() < 2 {
                    host.crash_once();
                }
                Ok::<_, Error>("succeeded on second attempt".to_owned())
            })
            .semantics(StepSemantics::AtMostOncePerRetry)
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
            .await?;
        Ok(Value::String(result))
    })
}

/// 1-19: a no-retry step that fails; the execution fails.
#[durable_workflow]
async fn step_failure(_ctx: DurableContext, _input: Value) -> Result<String, Error> {
    Ok(fails_permanently().await?)
}

#[durable_step]
async fn fallback() -> Result<String, Error> {
    Ok("fallback_result".to_owned())
}

/// 1-20: a no-retry step fails, the error is caught, and a fallback step runs.
#[durable_workflow]
async fn caught_step_failure(_ctx: DurableContext, _input: Value) -> Result<String, Error> {
    match fails_permanently().await {
        Ok(value) => Ok(value),
        Err(_) => Ok(fallback().await?),
    }
}
