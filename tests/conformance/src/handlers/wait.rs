//! Suite `wait` (2-x).

use super::workflow;
use crate::ConformanceHandler;
use durable_runtime::{durable_workflow, DurableContext, Error};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("2-1", wait_basic),
        workflow("2-2", wait_named),
        workflow("2-3", sequential_waits),
        workflow("2-4", wait_minutes),
        workflow("2-5", wait_hours),
    ]
}

/// 2-1: a 2 s wait.
#[durable_workflow]
async fn wait_basic(ctx: DurableContext, _input: Value) -> Result<(), Error> {
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(())
}

/// 2-2: a 2 s wait named `custom_wait_name`.
#[durable_workflow]
async fn wait_named(ctx: DurableContext, _input: Value) -> Result<(), Error> {
    ctx.wait(Duration::from_secs(2)).name("custom_wait_name").await?;
    Ok(())
}

/// 2-3: two named 2 s waits, one after the other.
#[durable_workflow]
async fn sequential_waits(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    ctx.wait(Duration::from_secs(2)).name("wait-1").await?;
    ctx.wait(Duration::from_secs(2)).name("wait-2").await?;
    Ok(json!({ "completedWaits": 2 }))
}

/// 2-4: a one-minute wait (recorded as 60 s).
#[durable_workflow]
async fn wait_minutes(ctx: DurableContext, _input: Value) -> Result<(), Error> {
    ctx.wait(Duration::from_secs(60)).await?;
    Ok(())
}

/// 2-5: a one-hour wait (recorded as 3600 s).
#[durable_workflow]
async fn wait_hours(ctx: DurableContext, _input: Value) -> Result<(), Error> {
    ctx.wait(Duration::from_secs(60 * 60)).await?;
    Ok(())
}
