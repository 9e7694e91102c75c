//! Suite `child` (3-x).

use super::{plain, text, workflow};
use crate::{ConformanceHandler, HandlerFuture, HostRef};
use durable_runtime::retry::RetryStrategy;
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        plain("3-1", child_with_step),
        plain("3-2", named_child),
        workflow("3-3", sequential_steps_in_child),
        workflow("3-4", child_failure),
        plain("3-5", child_failure_caught),
        workflow("3-6", nested_children),
        plain("3-7", child_with_step_retry),
        plain("3-8", child_retry_exhaustion),
        plain("3-9", child_cached_on_replay),
        plain("3-10", step_and_wait_in_child),
        plain("3-11", large_child_result).with_options(replay_logging),
        plain("3-12", crash_in_child),
        workflow("3-13", wait_only_child),
        plain("3-15", child_throws_directly),
        plain("3-16", child_returns_null),
        plain("3-17", logging_only_child).with_options(replay_logging),
        workflow("3-18", step_and_wait_around_child),
    ]
}

/// A step returning `value`, in `ctx`.
async fn echo_step(ctx: &DurableContext, value: String) -> Result<String, Error> {
    Ok(ctx.step(move |_| async move { Ok::<_, Error>(value) }).await?)
}

/// 3-1: an unnamed child context running one step that returns the input.
fn child_with_step(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx.run_in_child_context(move |child| async move { echo_step(&child, value).await }).await?;
        Ok(Value::String(result))
    })
}

/// 3-2: a child context named after `input.name`, whose step returns `input.value`.
fn named_child(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let name = text(&input["name"]);
    let value = text(&input["value"]);
    Box::pin(async move {
        let result =
            ctx.run_in_child_context(move |child| async move { echo_step(&child, value).await }).name(name).await?;
        Ok(Value::String(result))
    })
}

#[durable_step(retry = none)]
async fn failing_step() -> Result<String, Error> {
    Err("the step inside the child context failed".into())
}

/// The child context of 3-4 (a sub-workflow, so it is named `failing_child`).
#[durable_workflow]
async fn failing_child(_ctx: DurableContext, _input: Value) -> Result<String, Error> {
    Ok(failing_step().await?)
}

/// 3-4: a named child context whose no-retry step fails; the execution fails.
#[durable_workflow]
async fn child_failure(ctx: DurableContext, input: Value) -> Result<String, Error> {
    Ok(failing_child(ctx.clone(), input).await?)
}

/// 3-5: a child context whose step fails, caught by the parent, then a recovery step returning the
/// input.
fn child_failure_caught(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let failed = ctx
            .run_in_child_context(|child| async move {
                child
                    .step(|_| async move { Err::<String, _>(Error::from("the step inside the child context failed")) })
                    .retry(RetryStrategy::none())
                    .await
            })
            .await;
        let recovered = match failed {
            Ok(value) => value,
            Err(_) => echo_step(&ctx, value).await?,
        };
        Ok(Value::String(recovered))
    })
}

#[durable_step]
async fn echo(value: String) -> Result<String, Error> {
    Ok(value)
}

/// The inner child context of 3-6.
#[durable_workflow]
async fn inner_child(_ctx: DurableContext, input: String) -> Result<String, Error> {
    Ok(echo(input).await?)
}

/// The outer child context of 3-6.
#[durable_workflow]
async fn outer_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    echo(input.clone()).await?;
    Ok(inner_child(ctx.clone(), input).await?)
}

/// 3-6: an outer child context with a step and an inner child context with its own step.
#[durable_workflow]
async fn nested_children(ctx: DurableContext, input: String) -> Result<String, Error> {
    Ok(outer_child(ctx.clone(), input).await?)
}

/// The child context of 3-3: two steps, the second fed the first's result.
#[durable_workflow]
async fn two_steps(_ctx: DurableContext, input: String) -> Result<String, Error> {
    let first = echo(input).await?;
    Ok(echo(first).await?)
}

/// 3-3: a child context with two sequential steps, returning the second's result.
#[durable_workflow]
async fn sequential_steps_in_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    Ok(two_steps(ctx.clone(), input).await?)
}

/// 3-7: a named child context whose step fails on attempt 1 and returns the input on attempt 2.
fn child_with_step_retry(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(move |child| async move {
                child
                    .step(move |step| async move {
                        if step.attempt() < 2 {
                            return Err(Error::from("attempt 1 fails"));
                        }
                        Ok(value)
                    })
                    .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
                    .await
            })
            .name("retrying_child")
            .await?;
        Ok(Value::String(result))
    })
}

/// 3-8: a named child context whose step always fails, with 2 attempts; the child and then the
/// execution fail once the retries are exhausted.
fn child_retry_exhaustion(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(|child| async move {
                child
                    .step(|step| async move { Err::<String, _>(Error::from(format!("attempt {} fails", step.attempt()))) })
                    .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(2))
                    .await
            })
            .name("exhausted_child")
            .await?;
        Ok(Value::String(result))
    })
}

/// 3-9: a child context with a step, then a wait; the replay returns the child's recorded result.
fn child_cached_on_replay(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx.run_in_child_context(move |child| async move { echo_step(&child, value).await }).await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(Value::String(result))
    })
}

/// 3-10: a named child context with a step and then a wait inside it.
fn step_and_wait_in_child(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(move |child| async move {
                let value = echo_step(&child, value).await?;
                child.wait(Duration::from_secs(1)).await?;
                Ok::<_, Error>(value)
            })
            .name("step_and_wait")
            .await?;
        Ok(Value::String(result))
    })
}

/// 3-11: a named child context whose step returns a small value and whose own result, built from it,
/// is over 256 KiB (so it is rebuilt on replay from its children), then a wait. The child body logs
/// the input on both runs.
fn large_child_result(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let large = ctx
            .run_in_child_context(move |child| async move {
                tracing::info!("large child context running for: {value}");
                let small = echo_step(&child, value).await?;
                let unit = if small.is_empty() { "x".to_owned() } else { small };
                Ok::<_, Error>(unit.repeat(300 * 1024 / unit.len() + 1))
            })
            .name("large_result")
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(json!({ "length": large.len() }))
    })
}

/// 3-12: a child context whose step's process crashes after the step's START was recorded; the
/// replay runs the step again and records its success without another START. The step waits for
/// its START to be acknowledged before the crash, so the history is the same whether the crash is
/// simulated or a real process exit.
fn crash_in_child(ctx: DurableContext, input: Value, host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(move |child| async move {
                child
                    .step(move |step| async move {
                        step.started().await;
                        host.crash_once();
                        Ok::<_, Error>(value)
                    })
                    .await
            })
            .await?;
        Ok(Value::String(result))
    })
}

/// The child context of 3-13: only a 1 s wait.
#[durable_workflow]
async fn waiting_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(input)
}

/// 3-13: a child context holding only a wait, then a step outside it.
#[durable_workflow]
async fn wait_only_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    let value = waiting_child(ctx.clone(), input).await?;
    Ok(echo(value).await?)
}

/// The child context of 3-18: a step, then a 1 s wait.
#[durable_workflow]
async fn step_then_wait_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    let value = echo(input).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

/// 3-18: a child context with a step and a wait, then a step and a wait at the top level.
#[durable_workflow]
async fn step_and_wait_around_child(ctx: DurableContext, input: String) -> Result<String, Error> {
    let value = step_then_wait_child(ctx.clone(), input).await?;
    let value = echo(value).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

/// 3-15: a named child context that fails without running any operation.
fn child_throws_directly(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(|_child| async move { Err::<String, _>(Error::from("thrown directly in the child")) })
            .name("throwing_child")
            .await?;
        Ok(Value::String(result))
    })
}

/// 3-16: a named child context that returns null without running any operation.
fn child_returns_null(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let result =
            ctx.run_in_child_context(|_child| async move { Ok::<_, Error>(Value::Null) }).name("null_child").await?;
        Ok(result)
    })
}

/// 3-17: a named child context that only logs and returns the input, then a wait; the replay must
/// not run the child's body again (its log line appears once).
fn logging_only_child(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let value = text(&input);
    Box::pin(async move {
        let result = ctx
            .run_in_child_context(move |_child| async move {
                tracing::info!("logging child context running for: {value}");
                Ok::<_, Error>(value)
            })
            .name("logging_child")
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(Value::String(result))
    })
}

/// 3-11, 3-17: replay logging enabled, so a re-execution of the child's body stays observable.
fn replay_logging(_host: HostRef) -> durable_runtime::Options {
    durable_runtime::Options::default().log_replay(true)
}
