//! The handlers, one module per suite. Each module's `all()` lists its handlers by requirement id.
//!
//! Handlers are written with the DSL (`#[durable_workflow]`, `#[durable_step]`) where it fits, and
//! with the `ctx` builders where a body needs what the DSL does not give it (the attempt number, a
//! name computed from the input, the host).

mod callback;
mod child;
mod invoke;
mod map;
mod parallel;
mod plugin;
mod serdes;
mod step;
mod wait;
mod wait_for_callback;
mod wait_for_condition;

use crate::{ConformanceHandler, HandlerFuture, HostRef};
use durable_runtime::ops::BatchResult;
use durable_runtime::{DurableContext, Error, WorkflowCall};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::IntoFuture;

/// Every handler written so far.
pub(crate) fn all() -> Vec<ConformanceHandler> {
    let mut handlers = step::all();
    handlers.extend(wait::all());
    handlers.extend(child::all());
    handlers.extend(parallel::all());
    handlers.extend(map::all());
    handlers.extend(callback::all());
    handlers.extend(invoke::all());
    handlers.extend(wait_for_condition::all());
    handlers.extend(wait_for_callback::all());
    handlers.extend(plugin::all());
    handlers.extend(serdes::all());
    handlers
}

/// A handler written against the `ctx` builders.
fn plain(id: &'static str, run: fn(DurableContext, Value, HostRef) -> HandlerFuture) -> ConformanceHandler {
    ConformanceHandler::new(id, run)
}

/// A handler that is a `#[durable_workflow]` function: the input is deserialized into its input type
/// and its output serialized back to JSON.
fn workflow<I, O, E>(id: &'static str, run: fn(DurableContext, I) -> WorkflowCall<Result<O, E>>) -> ConformanceHandler
where
    I: DeserializeOwned + 'static,
    O: Serialize + DeserializeOwned + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    ConformanceHandler::new(id, move |ctx, input, _host| {
        let input: I = match serde_json::from_value(input) {
            Ok(input) => input,
            Err(e) => return Box::pin(std::future::ready(Err(Error::from(format!("invalid input for {id}: {e}"))))),
        };
        // Turned into a future here, outside any running workflow, so it runs as the root workflow
        // rather than as a sub-workflow.
        let run = run(ctx, input).into_future();
        Box::pin(async move { Ok(serde_json::to_value(run.await?)?) })
    })
}

/// The input as text: a JSON string as is, `null` as empty, anything else as JSON.
fn text(input: &Value) -> String {
    match input {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The `keys` of a batch result's projection, as the map and parallel requirements return it:
/// `completionReason`, `status`, `successCount`, `failureCount`, `totalCount` (unknown keys are
/// left out).
fn project<R>(batch: &BatchResult<R>, keys: &[&str]) -> Value {
    let value = |key: &str| -> Option<Value> {
        Some(match key {
            "completionReason" => serde_json::to_value(batch.completion_reason()).ok()?,
            "status" => serde_json::to_value(batch.status()).ok()?,
            "successCount" => batch.success_count().into(),
            "failureCount" => batch.failure_count().into(),
            "totalCount" => batch.total_count().into(),
            _ => return None,
        })
    };
    Value::Object(keys.iter().filter_map(|k| Some(((*k).to_owned(), value(k)?))).collect())
}
