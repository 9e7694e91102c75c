//! Suite `wait_for_callback` (7-x): `wait_for_callback`, answered by the requirement's
//! `CallbackActions` (all of them match `'*'`) or left to time out.

use super::workflow;
use crate::ConformanceHandler;
use durable_runtime::retry::RetryStrategy;
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error, StepContext};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        workflow("7-1", wait_for_callback_basic),
        workflow("7-2", wait_for_callback_named),
        workflow("7-3", wait_for_callback_anonymous),
        workflow("7-4", wait_for_callback_basic),
        workflow("7-5", wait_for_callback_timeout),
        workflow("7-6", failure_caught),
        workflow("7-7", submitter_keeps_failing),
        workflow("7-8", inside_a_child),
        workflow("7-9", two_in_sequence),
        workflow("7-10", after_a_wait_and_a_step),
        workflow("7-11", json_answer),
        workflow("7-12", heartbeat_timeout),
        workflow("7-13", heartbeat_then_success),
        workflow("7-14", timeout_caught),
        workflow("7-15", wait_for_callback_basic),
    ]
}

/// A submitter that hands the callback id to nobody: the requirements' external system finds the
/// callback through the history.
async fn submit(_callback_id: String, _step: StepContext) -> Result<(), Error> {
    Ok(())
}

/// 7-1, 7-4 and 7-15: a wait-for-callback named after the input, returning the answer (7-1: a
/// success; 7-4: a failure, not caught, so the execution fails; 7-15: a success without a result,
/// which reads as `null`).
#[durable_workflow]
async fn wait_for_callback_basic(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// 7-2: a wait-for-callback named `approval`.
#[durable_workflow]
async fn wait_for_callback_named(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name("approval").await?)
}

/// 7-3: a wait-for-callback with an inline submitter and no name; returns the answer.
#[durable_workflow]
async fn wait_for_callback_anonymous(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(|_callback_id: String, _: StepContext| async { Ok::<_, Error>(()) }).await?)
}

/// 7-5: a 3 s timeout that elapses; not caught, so the execution fails.
#[durable_workflow]
async fn wait_for_callback_timeout(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name(name).timeout(Duration::from_secs(3)).await?)
}

/// 7-6: the sender fails the callback; the error is caught and the handler returns `recovered`.
#[durable_workflow]
async fn failure_caught(ctx: DurableContext, name: String) -> Result<String, Error> {
    match ctx.wait_for_callback::<Value, _, _, _>(submit).name(name).await {
        Ok(value) => Ok(format!("answered: {value}")),
        Err(_) => Ok("recovered".to_owned()),
    }
}

/// 7-7: a submitter that always throws, with 2 attempts 1 s apart; the operation fails before the
/// callback is answered, and the execution fails.
#[durable_workflow]
async fn submitter_keeps_failing(ctx: DurableContext, name: String) -> Result<Value, Error> {
    let submitter = |_: String, _: StepContext| async move { Err::<(), _>(Error::from("the submitter failed")) };
    let retry = RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(2);
    Ok(ctx.wait_for_callback(submitter).name(name).retry(retry).await?)
}

/// The child context of 7-8 (a sub-workflow, so it is named `wrapper`): a wait-for-callback named
/// after the input.
#[durable_workflow]
async fn wrapper(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// 7-8: a wait-for-callback inside the child context `wrapper`; returns the child's result.
#[durable_workflow]
async fn inside_a_child(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(wrapper(ctx.clone(), name).await?)
}

/// 7-9: two wait-for-callbacks, `first` then `second`; returns the second answer.
#[durable_workflow]
async fn two_in_sequence(ctx: DurableContext, _input: Value) -> Result<Value, Error> {
    let _first: Value = ctx.wait_for_callback(submit).name("first").await?;
    Ok(ctx.wait_for_callback(submit).name("second").await?)
}

#[durable_step]
async fn fixed_data() -> Result<String, Error> {
    Ok("fixed-data".to_owned())
}

/// 7-10: a 1 s wait, a step, then a wait-for-callback named after the input.
#[durable_workflow]
async fn after_a_wait_and_a_step(ctx: DurableContext, name: String) -> Result<Value, Error> {
    ctx.wait(Duration::from_secs(1)).await?;
    fixed_data().await?;
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// The JSON answer of 7-11.
#[derive(Debug, Serialize, Deserialize)]
struct Approval {
    status: String,
}

/// 7-11: the answer `{"status": "approved"}` deserialized into a typed object; returns its status.
#[durable_workflow]
async fn json_answer(ctx: DurableContext, name: String) -> Result<String, Error> {
    let approval: Approval = ctx.wait_for_callback(submit).name(name).await?;
    Ok(approval.status)
}

/// 7-12: a 5 s heartbeat timeout that elapses; not caught, so the execution fails.
#[durable_workflow]
async fn heartbeat_timeout(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name(name).heartbeat_timeout(Duration::from_secs(5)).await?)
}

/// 7-13: a 10 s heartbeat timeout kept alive by a heartbeat, then answered.
#[durable_workflow]
async fn heartbeat_then_success(ctx: DurableContext, name: String) -> Result<Value, Error> {
    Ok(ctx.wait_for_callback(submit).name(name).heartbeat_timeout(Duration::from_secs(10)).await?)
}

/// 7-14: a 3 s timeout that elapses; the error is caught and the handler returns
/// `timed-out-handled`.
#[durable_workflow]
async fn timeout_caught(ctx: DurableContext, name: String) -> Result<String, Error> {
    let outcome = ctx.wait_for_callback::<Value, _, _, _>(submit).name(name).timeout(Duration::from_secs(3)).await;
    match outcome {
        Ok(value) => Ok(format!("answered: {value}")),
        Err(_) => Ok("timed-out-handled".to_owned()),
    }
}
