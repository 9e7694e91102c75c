//! Suite `invoke` (5-x): chained invokes of the targets in [`crate::targets`], named by constant
//! (the requirement inputs carry no function names).

use super::{plain, workflow};
use crate::targets::{ECHO, FAIL, TENANT_ECHO};
use crate::{ConformanceHandler, HandlerFuture, HostRef};
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("5-1", invoke_echo),
        workflow("5-2", invoke_named),
        workflow("5-3", invoke_echo),
        workflow("5-4", invoke_null),
        workflow("5-5", invoke_failing_target),
        workflow("5-6", invoke_failure_caught),
        plain("5-7", invoke_large_payload),
        workflow("5-8", invoke_with_tenant),
        workflow("5-9", invoke_then_wait),
        workflow("5-10", caught_invoke_failure_then_wait),
        workflow("5-11", step_then_invoke),
        workflow("5-12", invoke_then_step),
        workflow("5-13", invoke_in_child),
        workflow("5-14", two_invokes),
        workflow("5-16", invoke_with_result_serdes),
    ]
}

/// What a caught target failure is replaced with (5-6).
const FALLBACK: &str = "fallback";

/// 5-1 and 5-3: invokes the echo target with the input (a string in 5-1, a nested object in 5-3)
/// and returns its result.
#[durable_workflow]
async fn invoke_echo(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(ECHO, input).await?)
}

/// The input of 5-2.
#[derive(Debug, Deserialize)]
struct Named {
    name: String,
    payload: Value,
}

/// 5-2: invokes the echo target with `input.payload`, the operation named `input.name`.
#[durable_workflow]
async fn invoke_named(ctx: DurableContext, input: Named) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(ECHO, input.payload).name(input.name).await?)
}

/// 5-4: invokes the echo target with `null`; returns `null`.
#[durable_workflow]
async fn invoke_null(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(ECHO, Value::Null).await?)
}

/// 5-5: invokes the throwing target; the error is not caught, so the execution fails.
#[durable_workflow]
async fn invoke_failing_target(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(FAIL, input).await?)
}

/// 5-6: invokes the throwing target and catches its error; returns a fallback value.
#[durable_workflow]
async fn invoke_failure_caught(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    match ctx.invoke::<_, Value>(FAIL, input).await {
        Ok(value) => Ok(value),
        Err(_) => Ok(Value::String(FALLBACK.to_owned())),
    }
}

/// The size of 5-7's payload text: near the 256 KiB limit of an asynchronous Lambda invocation
/// (the echo target returns it, so its result is as large).
const LARGE_PAYLOAD_CHARS: usize = 250_000;

/// 5-7: invokes the echo target with a ~250 KB payload; returns the size of what came back.
fn invoke_large_payload(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let payload = json!({ "data": "x".repeat(LARGE_PAYLOAD_CHARS) });
        let echoed = ctx.invoke::<_, Value>(ECHO, payload).await?;
        let length = echoed["data"].as_str().map_or(0, str::len);
        Ok(json!({ "length": length }))
    })
}

/// The input of 5-8.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ForTenant {
    tenant_id: String,
    payload: Value,
}

/// 5-8: invokes the tenant echo with `input.payload` for the tenant `input.tenantId`.
#[durable_workflow]
async fn invoke_with_tenant(ctx: DurableContext, input: ForTenant) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(TENANT_ECHO, input.payload).tenant_id(input.tenant_id).await?)
}

/// 5-9: invokes the echo target, then waits 1 s; replay returns the recorded result.
#[durable_workflow]
async fn invoke_then_wait(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    let result = ctx.invoke::<_, Value>(ECHO, input).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(result)
}

/// 5-10: invokes the throwing target and catches the error, then waits 1 s; replay re-throws the
/// recorded error, caught again.
#[durable_workflow]
async fn caught_invoke_failure_then_wait(ctx: DurableContext, input: Value) -> Result<String, Error> {
    let outcome = match ctx.invoke::<_, Value>(FAIL, input).await {
        Ok(value) => format!("answered: {value}"),
        Err(error) => format!("caught: {}", error.message()),
    };
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(outcome)
}

#[durable_step]
async fn produce_payload() -> Result<String, Error> {
    Ok("step-result".to_owned())
}

/// 5-11: a step, then an invoke of the echo target with the step's result.
#[durable_workflow]
async fn step_then_invoke(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let payload = produce_payload().await?;
    Ok(ctx.invoke::<_, Value>(ECHO, payload).await?)
}

#[durable_step]
async fn process_result(result: Value) -> Result<Value, Error> {
    Ok(json!({ "processed": result }))
}

/// 5-12: an invoke of the echo target, then a step that processes its result.
#[durable_workflow]
async fn invoke_then_step(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    let result = ctx.invoke::<_, Value>(ECHO, input).await?;
    Ok(process_result(result).await?)
}

/// The child context of 5-13 (a sub-workflow): invokes the echo target with its input and returns
/// the result.
#[durable_workflow]
async fn invoke_echo_in_child(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(ctx.invoke::<_, Value>(ECHO, input).await?)
}

/// 5-13: a child context that invokes the echo target; returns the child's result.
#[durable_workflow]
async fn invoke_in_child(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    Ok(invoke_echo_in_child(ctx.clone(), input).await?)
}

/// 5-14: two invokes of the echo target in sequence.
#[durable_workflow]
async fn two_invokes(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    let first = ctx.invoke::<_, Value>(ECHO, input).await?;
    let second = ctx.invoke::<_, Value>(ECHO, first.clone()).await?;
    Ok(json!([first, second]))
}

/// A result deserialized by 5-16's custom deserializer: the result's JSON text, uppercased, kept as
/// a string.
#[derive(Debug)]
struct Shouted(String);

impl<'de> Deserialize<'de> for Shouted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(Self(value.to_string().to_uppercase()))
    }
}

/// 5-16: invokes the echo target with the input (`hello`) and deserializes the result with a custom
/// deserializer that uppercases the result's text (`"hello"` → `"HELLO"`, quotes included).
///
/// The deserializer is the result type's serde impl, run on the recorded result; it re-serializes
/// the decoded JSON, which is the recorded text for the compact JSON the echo target returns. Nothing
/// custom goes on the wire, so the history is the requirement's.
#[durable_workflow]
async fn invoke_with_result_serdes(ctx: DurableContext, input: Value) -> Result<String, Error> {
    let Shouted(result) = ctx.invoke::<_, Shouted>(ECHO, input).await?;
    Ok(result)
}
