//! The requirements of every suite that need a custom serdes on the wire: 1-6, 3-14, 5-15, 6-11,
//! 8-15, 9-14, 9-19, 9-20.

use super::workflow;
use crate::targets::ECHO;
use crate::ConformanceHandler;
use durable_runtime::ops::serdes::{from_fns, Serdes};
use durable_runtime::ops::BatchResult;
use durable_runtime::{durable_workflow, DurableContext, Error};
use serde_json::Value;
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("1-6", step_uppercase),
        workflow("3-14", child_uppercase),
        workflow("5-15", invoke_uppercase_payload),
        workflow("6-11", condition_state_serdes),
        workflow("8-15", parallel_wrapped_branches),
        workflow("9-14", map_wrapped_items),
        workflow("9-19", map_result_serdes),
        workflow("9-20", map_result_serdes_replayed),
    ]
}

/// Records a string upper-cased, as raw text, and reads raw text back.
fn uppercase() -> impl Serdes<String> {
    from_fns(|s: &String| Ok(s.to_uppercase()), |payload: Option<&str>| Ok(payload.unwrap_or_default().to_owned()))
}

/// 1-6: a step returning the input, recorded through the upper-casing serdes.
#[durable_workflow]
async fn step_uppercase(ctx: DurableContext, input: String) -> Result<String, Error> {
    Ok(ctx.step(move |_| async move { Ok::<_, Error>(input) }).serdes(uppercase()).await?)
}

/// 3-14: a named child context whose step returns the input; the child's result is recorded
/// through the upper-casing serdes.
#[durable_workflow]
async fn child_uppercase(ctx: DurableContext, input: String) -> Result<String, Error> {
    Ok(ctx
        .run_in_child_context(move |ctx| async move { ctx.step(move |_| async move { Ok::<_, Error>(input) }).await })
        .name("uppercase-child")
        .serdes(uppercase())
        .await?)
}

/// 5-15: invokes the echo target with the input, the payload written as upper-cased JSON text.
#[durable_workflow]
async fn invoke_uppercase_payload(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    let payload = from_fns(
        |v: &Value| Ok(v.to_string().to_uppercase()),
        |payload: Option<&str>| Ok(serde_json::from_str(payload.unwrap_or("null"))?),
    );
    Ok(ctx.invoke::<Value, Value>(ECHO, input).payload_serdes(payload).await?)
}

/// 6-11: the state is a string grown by one `x` per check until it has two characters, carried
/// through a serdes that prefixes it with its length.
#[durable_workflow]
async fn condition_state_serdes(ctx: DurableContext, _input: Value) -> Result<String, Error> {
    let state = from_fns(
        |s: &String| Ok(format!("{}:{s}", s.len())),
        |payload: Option<&str>| {
            let payload = payload.unwrap_or_default();
            let (_, state) = payload.split_once(':').ok_or_else(|| Error::from(format!("bad state `{payload}`")))?;
            Ok(state.to_owned())
        },
    );
    Ok(ctx
        .wait_for_condition(String::new(), |state: String, _| async move { Ok::<_, Error>(state + "x") })
        .until(|state: &String| state.len() >= 2)
        .serdes(state)
        .await?)
}

/// `{"wrapped": v}` and back.
fn wrapped_json() -> impl Serdes<String> {
    from_fns(
        |v: &String| Ok(serde_json::json!({ "wrapped": v }).to_string()),
        |payload: Option<&str>| {
            let value: Value = serde_json::from_str(payload.unwrap_or("null"))?;
            value["wrapped"].as_str().map(str::to_owned).ok_or_else(|| Error::from("not a wrapped value"))
        },
    )
}

/// 8-15: two branches returning `x` and `y`, each recorded as `{"wrapped": v}`.
#[durable_workflow]
async fn parallel_wrapped_branches(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch = ctx
        .parallel::<String>()
        .branch(|_| async { Ok::<_, Error>("x".to_owned()) })
        .branch(|_| async { Ok::<_, Error>("y".to_owned()) })
        .name("serde")
        .max_concurrency(1)
        .item_serdes(wrapped_json())
        .await?;
    Ok(batch.into_results()?)
}

/// 9-14: items `x`, `y` upper-cased, each recorded as `wrapped:<V>`.
#[durable_workflow]
async fn map_wrapped_items(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let item = from_fns(
        |v: &String| Ok(format!("wrapped:{v}")),
        |payload: Option<&str>| {
            let payload = payload.unwrap_or_default();
            payload.strip_prefix("wrapped:").map(str::to_owned).ok_or_else(|| Error::from("not a wrapped value"))
        },
    );
    let batch =
        ctx.map(vec!["x".to_owned(), "y".to_owned()], |_, item: String, _| async move {
            Ok::<_, Error>(item.to_uppercase())
        })
        .name("serdes")
        .max_concurrency(1)
        .item_serdes(item)
        .await?;
    Ok(batch.into_results()?)
}

/// The whole map result as `OPSERDE:` followed by the comma-joined results, and back.
fn opserde() -> impl Serdes<BatchResult<String>> {
    from_fns(
        |batch: &BatchResult<String>| {
            let results: Vec<&str> = batch.results().into_iter().map(String::as_str).collect();
            Ok(format!("OPSERDE:{}", results.join(",")))
        },
        |payload: Option<&str>| {
            let body = payload.and_then(|p| p.strip_prefix("OPSERDE:")).ok_or_else(|| Error::from("not OPSERDE"))?;
            Ok(BatchResult::from_results(body.split(',').filter(|s| !s.is_empty()).map(str::to_owned)))
        },
    )
}

/// 9-19: the map result recorded through the operation-level serdes.
#[durable_workflow]
async fn map_result_serdes(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch =
        ctx.map(vec!["x".to_owned(), "y".to_owned()], |_, item: String, _| async move {
            Ok::<_, Error>(item.to_uppercase())
        })
        .name("op-serde")
        .max_concurrency(1)
        .serdes(opserde())
        .await?;
    Ok(batch.into_results()?)
}

/// 9-20: the same, then a 1 s wait: replay rebuilds the result through the deserializer.
#[durable_workflow]
async fn map_result_serdes_replayed(ctx: DurableContext, _input: Value) -> Result<Vec<String>, Error> {
    let batch =
        ctx.map(vec!["x".to_owned(), "y".to_owned()], |_, item: String, _| async move {
            Ok::<_, Error>(item.to_uppercase())
        })
        .name("op-serde-replay")
        .max_concurrency(1)
        .serdes(opserde())
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(batch.into_results()?)
}
