//! Suite `plugin` (10-x): lifecycle hooks, observed through the records a conformance plugin
//! writes through the [`Host`](crate::Host) (`{"plugin": "CONFPLUGIN", "hook": ..., "durableExecutionArn": ...}`).
//!
//! One plugin, [`ConfPlugin`], serves every requirement: each record is a canonical dump of the
//! hook's own info (the camelCase field names of the shape requirements 10-19..10-22), plus the
//! short aliases the other requirements read (`op`, `parent`, `first`, `n`, `outcome`, `terminal`,
//! `in_full_map`, `replay`, and `pending`: the info's status is absent or not terminal).
//! Unset fields are omitted, as the shape requirements ask; only 10-14 wants `result`/`error` as
//! the literal `NONE` when absent ([`Style::none_sentinels`]). Each requirement's filter (step-,
//! wait-, branch- or context-type operations) is a [`Filter`].

use super::{plain, text};
use crate::{ConformanceHandler, HandlerFuture, HostRef};
use durable_runtime::logging::iso8601;
use durable_runtime::plugin::{
    AttemptInfo, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin, PluginResult,
    UserFunctionInfo,
};
use durable_runtime::protocol::{InvocationStatus, OperationSubType, OperationType, Timestamp};
use durable_runtime::retry::RetryStrategy;
use durable_runtime::{DurableContext, Error, Options};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(super) fn all() -> Vec<ConformanceHandler> {
    vec![
        plain("10-1", greet_logging).with_options(|h| one(h, Filter::All)),
        plain("10-2", greet).with_options(|h| one(h, Filter::Steps)),
        plain("10-3", succeeds_on_second_attempt).with_options(|h| one(h, Filter::Steps)),
        plain("10-4", greet).with_options(|h| Options::default().plugin(ConfPlugin::faulty(h))),
        plain("10-5", greet).with_options(|h| {
            Options::default()
                .plugin(Arc::new(ConfPlugin::new(h.clone(), "CONFPLUGIN-A", Filter::All)))
                .plugin(Arc::new(ConfPlugin::new(h, "CONFPLUGIN-B", Filter::All)))
        }),
        plain("10-6", wait_two_seconds).with_options(|h| one(h, Filter::All)),
        plain("10-7", failing_step).with_options(|h| one(h, Filter::All)),
        plain("10-8", greet).with_options(|h| one(h, Filter::Steps)),
        plain("10-9", wait_two_seconds).with_options(|h| one(h, Filter::Waits)),
        plain("10-10", wait_two_seconds).with_options(|h| one(h, Filter::Waits)),
        plain("10-11", greet_in_child).with_options(|h| one(h, Filter::All)),
        plain("10-12", parallel_constants).with_options(|h| one(h, Filter::Branches)),
        plain("10-13", succeed_then_flaky).with_options(|h| one(h, Filter::Steps)),
        plain("10-14", succeed_then_boom).with_options(|h| {
            let mut plugin = ConfPlugin::new(h, "CONFPLUGIN", Filter::Steps);
            plugin.style.none_sentinels = true;
            Options::default().plugin(Arc::new(plugin))
        }),
        plain("10-15", always_fails_twice).with_options(|h| one(h, Filter::Steps)),
        plain("10-16", wait_two_seconds).with_options(|h| one(h, Filter::All)),
        plain("10-17", greet).with_options(|h| {
            Options::default().plugin(ConfPlugin::faulty(h.clone())).plugin(Arc::new(ConfPlugin::new(
                h,
                "CONFPLUGIN-HEALTHY",
                Filter::All,
            )))
        }),
        plain("10-18", parallel_waits).with_options(|h| one(h, Filter::Waits)),
        plain("10-19", wait_then_done).with_options(|h| one(h, Filter::All)),
        plain("10-20", named_greet).with_options(|h| one(h, Filter::Steps)),
        plain("10-21", flaky).with_options(|h| one(h, Filter::Steps)),
        plain("10-22", named_greet).with_options(|h| one(h, Filter::Steps)),
        plain("10-23", named_branches).with_options(|h| one(h, Filter::Contexts)),
    ]
}

/// Options with one `CONFPLUGIN` plugin.
fn one(host: HostRef, filter: Filter) -> Options {
    Options::default().plugin(Arc::new(ConfPlugin::new(host, "CONFPLUGIN", filter)))
}

/// 10-1: the greeting step, whose body logs `Greeting step running for: <input>`.
fn greet_logging(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let name = text(&input);
    Box::pin(async move {
        let greeting = ctx
            .step(move |_| async move {
                tracing::info!("Greeting step running for: {name}");
                Ok::<_, Error>(format!("Hello, {name}!"))
            })
            .await?;
        Ok(Value::String(greeting))
    })
}

/// One step returning `Hello, <input>!`.
fn greet(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let name = text(&input);
    Box::pin(async move {
        let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await?;
        Ok(Value::String(greeting))
    })
}

/// One step named `greet` returning `task-a`.
fn named_greet(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let value = ctx.step(|_| async move { Ok::<_, Error>("task-a".to_owned()) }).name("greet").await?;
        Ok(Value::String(value))
    })
}

/// A 2-second wait.
fn wait_two_seconds(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        ctx.wait(Duration::from_secs(2)).await?;
        Ok(Value::Null)
    })
}

/// 10-19: a 2-second wait, then `done-<input>`.
fn wait_then_done(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let input = text(&input);
    Box::pin(async move {
        ctx.wait(Duration::from_secs(2)).await?;
        Ok(Value::String(format!("done-{input}")))
    })
}

/// 10-3: a step that fails on attempt 1 and succeeds on attempt 2, retried after 1 s.
fn succeeds_on_second_attempt(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let value = ctx
            .step(|step| async move {
                if step.attempt() == 1 {
                    return Err::<String, Error>("unreliable: attempt 1 fails".into());
                }
                Ok("Operation succeeded".to_owned())
            })
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
            .await?;
        Ok(Value::String(value))
    })
}

/// 10-7: a step that always fails, without retries.
fn failing_step(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let value: String = ctx
            .step(|_| async move { Err::<String, Error>("always fails".into()) })
            .retry(RetryStrategy::none())
            .await?;
        Ok(Value::String(value))
    })
}

/// 10-11: a child context running the greeting step.
fn greet_in_child(ctx: DurableContext, input: Value, _host: HostRef) -> HandlerFuture {
    let name = text(&input);
    Box::pin(async move {
        let greeting = ctx
            .run_in_child_context(move |child| async move {
                child.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await
            })
            .await?;
        Ok(Value::String(greeting))
    })
}

/// 10-12: parallel `parallel`, branches returning `task-1` and `task-2` directly, one at a time.
fn parallel_constants(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let batch = ctx
            .parallel::<String>()
            .branch(|_ctx| async move { Ok::<_, Error>("task-1".to_owned()) })
            .branch(|_ctx| async move { Ok::<_, Error>("task-2".to_owned()) })
            .name("parallel")
            .max_concurrency(1)
            .await?;
        Ok(serde_json::to_value(batch.into_results()?)?)
    })
}

/// 10-13: step A returns `task-a`; step B fails on attempt 1 and succeeds on attempt 2, retried
/// after 1 s.
fn succeed_then_flaky(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        ctx.step(|_| async move { Ok::<_, Error>("task-a".to_owned()) }).await?;
        let value = ctx
            .step(|step| async move {
                if step.attempt() == 1 {
                    return Err::<String, Error>("step B fails on attempt 1".into());
                }
                Ok("Operation succeeded".to_owned())
            })
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
            .await?;
        Ok(Value::String(value))
    })
}

/// 10-18: parallel `waits`, both branches pending at once: branch 0 waits 2 s (`short`), branch 1
/// waits 8 s (`long`).
fn parallel_waits(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let batch = ctx
            .parallel::<String>()
            .branch(|ctx| async move {
                ctx.wait(Duration::from_secs(2)).name("short").await?;
                Ok::<_, Error>("short-done".to_owned())
            })
            .branch(|ctx| async move {
                ctx.wait(Duration::from_secs(8)).name("long").await?;
                Ok::<_, Error>("long-done".to_owned())
            })
            .name("waits")
            .max_concurrency(2)
            .await?;
        Ok(serde_json::to_value(batch.into_results()?)?)
    })
}

/// 10-23: parallel `ctx`, one branch at a time: `branch-a` runs step `inner` and a 2-second wait,
/// `branch-b` returns directly.
fn named_branches(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let batch = ctx
            .parallel::<String>()
            .named_branch("branch-a", |ctx| async move {
                ctx.step(|_| async move { Ok::<_, Error>("x".to_owned()) }).name("inner").await?;
                ctx.wait(Duration::from_secs(2)).await?;
                Ok::<_, Error>("a-done".to_owned())
            })
            .named_branch("branch-b", |_ctx| async move { Ok::<_, Error>("b-done".to_owned()) })
            .name("ctx")
            .max_concurrency(1)
            .await?;
        Ok(serde_json::to_value(batch.into_results()?)?)
    })
}

/// 10-14: step A returns `task-a`; step B fails with `boom`, without retries.
fn succeed_then_boom(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        ctx.step(|_| async move { Ok::<_, Error>("task-a".to_owned()) }).await?;
        let value: String =
            ctx.step(|_| async move { Err::<String, Error>("boom".into()) }).retry(RetryStrategy::none()).await?;
        Ok(Value::String(value))
    })
}

/// 10-15: a step that always fails, two attempts 1 s apart.
fn always_fails_twice(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let value: String = ctx
            .step(|_| async move { Err::<String, Error>("always fails".into()) })
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(2))
            .await?;
        Ok(Value::String(value))
    })
}

/// 10-21: step `flaky` fails on attempt 1 and returns `ok` on attempt 2.
fn flaky(ctx: DurableContext, _input: Value, _host: HostRef) -> HandlerFuture {
    Box::pin(async move {
        let value = ctx
            .step(|step| async move {
                if step.attempt() == 1 {
                    return Err::<String, Error>("flaky failure on attempt 1".into());
                }
                Ok("ok".to_owned())
            })
            .name("flaky")
            .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
            .await?;
        Ok(Value::String(value))
    })
}

/// Which operations the operation, attempt and user-function hooks report.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    Steps,
    Waits,
    Branches,
    Contexts,
}

impl Filter {
    fn keeps(self, op_type: Option<&OperationType>, sub_type: Option<&OperationSubType>) -> bool {
        match self {
            Self::All => true,
            Self::Steps => op_type == Some(&OperationType::Step),
            Self::Waits => op_type == Some(&OperationType::Wait),
            Self::Branches => sub_type == Some(&OperationSubType::ParallelBranch),
            Self::Contexts => op_type == Some(&OperationType::Context),
        }
    }
}

/// How records are written.
#[derive(Clone, Copy, Default)]
struct Style {
    /// `result` and `error` are written as `NONE` when absent (10-14), instead of omitted.
    none_sentinels: bool,
}

/// The conformance plugin: one JSON record per hook, written through the host.
struct ConfPlugin {
    host: HostRef,
    name: &'static str,
    filter: Filter,
    style: Style,
    /// Log, then fail every hook (10-4, 10-17).
    faulty: bool,
    /// The execution ARN, captured at invocation start and stamped on every record.
    arn: Mutex<String>,
}

impl ConfPlugin {
    fn new(host: HostRef, name: &'static str, filter: Filter) -> Self {
        Self { host, name, filter, style: Style::default(), faulty: false, arn: Mutex::new(String::new()) }
    }

    fn faulty(host: HostRef) -> Arc<Self> {
        let mut plugin = Self::new(host, "CONFPLUGIN-FAULTY", Filter::Steps);
        plugin.faulty = true;
        Arc::new(plugin)
    }

    /// Writes `{"plugin", "hook", fields..., "durableExecutionArn"}`; a faulty plugin then fails.
    fn emit(&self, hook: &str, mut fields: Map<String, Value>) -> PluginResult {
        fields.insert("plugin".into(), self.name.into());
        fields.insert("hook".into(), hook.into());
        let arn = self.arn.lock().map(|a| a.clone()).unwrap_or_default();
        fields.insert("durableExecutionArn".into(), arn.into());
        self.host.log(&Value::Object(fields).to_string());
        if self.faulty {
            return Err(format!("{} fails its {hook} hook on purpose", self.name).into());
        }
        Ok(())
    }

    fn operation(&self, info: &OperationInfo) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("op".into(), info.id.clone().into());
        m.insert("id".into(), info.id.clone().into());
        m.insert("parent".into(), info.parent_id.clone().unwrap_or_else(|| "NONE".to_owned()).into());
        put(&mut m, "parentId", info.parent_id.clone());
        put(&mut m, "name", info.name.clone());
        put(&mut m, "type", info.op_type.as_ref().map(ToString::to_string));
        put(&mut m, "subType", info.sub_type.as_ref().map(|s| s.as_str().to_owned()));
        put(&mut m, "status", info.status.as_ref().map(ToString::to_string));
        m.insert("pending".into(), info.status.as_ref().is_none_or(|s| !s.is_terminal()).into());
        put(&mut m, "startTimestamp", info.start_timestamp.map(iso8601));
        put(&mut m, "endTimestamp", info.end_timestamp.map(iso8601));
        put(&mut m, "attempt", info.attempt);
        m.insert("isReplay".into(), info.is_replay.into());
        m.insert("replay".into(), info.is_replay.into());
        let error = info.error.as_ref().map(|e| e.error_message.clone().unwrap_or_default());
        if self.style.none_sentinels {
            m.insert("result".into(), info.result.clone().unwrap_or_else(|| "NONE".to_owned()).into());
            m.insert("error".into(), error.unwrap_or_else(|| "NONE".to_owned()).into());
        } else {
            put(&mut m, "result", info.result.clone());
            put(&mut m, "error", error);
        }
        m
    }
}

/// Inserts `value` under `key` when it is set.
fn put(m: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        m.insert(key.to_owned(), value.into());
    }
}

fn timestamp(ts: Option<Timestamp>) -> Option<String> {
    ts.map(iso8601)
}

fn terminal(status: &InvocationStatus) -> bool {
    matches!(status, InvocationStatus::Succeeded | InvocationStatus::Failed)
}

impl Plugin for ConfPlugin {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> PluginResult {
        if let Ok(mut arn) = self.arn.lock() {
            arn.clone_from(&info.execution_arn);
        }
        let mut m = Map::new();
        m.insert("first".into(), info.is_first_invocation.into());
        m.insert("isFirstInvocation".into(), info.is_first_invocation.into());
        m.insert("requestId".into(), info.request_id.clone().into());
        m.insert("operationsCount".into(), info.operations_count.into());
        m.insert("updatedOperationsCount".into(), info.updated_operations.len().into());
        put(&mut m, "executionStartTimestamp", timestamp(info.execution_start_timestamp));
        let result = self.emit("invocation-start", m);
        for op in &info.updated_operations {
            if self.filter.keeps(op.op_type.as_ref(), op.sub_type.as_ref()) && !self.faulty {
                let mut m = Map::new();
                m.insert("op".into(), op.id.clone().into());
                put(&mut m, "status", op.status.as_ref().map(ToString::to_string));
                m.insert("first".into(), info.is_first_invocation.into());
                self.emit("updated-on-invoke", m)?;
            }
        }
        result
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> PluginResult {
        let mut m = Map::new();
        m.insert("first".into(), info.is_first_invocation.into());
        m.insert("isFirstInvocation".into(), info.is_first_invocation.into());
        m.insert("requestId".into(), info.request_id.clone().into());
        m.insert("operationsCount".into(), info.operations_count.into());
        put(&mut m, "executionStartTimestamp", timestamp(info.execution_start_timestamp));
        m.insert("status".into(), serde_json::to_value(info.status).unwrap_or_default());
        m.insert("terminal".into(), terminal(&info.status).into());
        put(&mut m, "executionError", info.error.as_ref().map(|e| e.error_message.clone().unwrap_or_default()));
        self.emit("invocation-end", m)
    }

    fn on_operation_start(&self, info: &OperationInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) {
            return Ok(());
        }
        self.emit("operation-start", self.operation(info))
    }

    fn on_operation_end(&self, info: &OperationInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) {
            return Ok(());
        }
        self.emit("operation-end", self.operation(info))
    }

    fn on_attempt_start(&self, info: &AttemptInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) {
            return Ok(());
        }
        self.emit("attempt-start", attempt(info))
    }

    fn on_attempt_end(&self, info: &AttemptInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) {
            return Ok(());
        }
        self.emit("attempt-end", attempt(info))
    }

    fn on_user_function_start(&self, info: &UserFunctionInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) || self.faulty {
            return Ok(());
        }
        self.emit("fn-start", function(info))
    }

    fn on_user_function_end(&self, info: &UserFunctionInfo) -> PluginResult {
        if !self.filter.keeps(info.op_type.as_ref(), info.sub_type.as_ref()) || self.faulty {
            return Ok(());
        }
        self.emit("fn-end", function(info))
    }

    fn on_operations_changed(&self, info: &OperationChangeInfo) -> PluginResult {
        if self.faulty {
            return Ok(());
        }
        for op in &info.updated_operations {
            if !self.filter.keeps(op.op_type.as_ref(), op.sub_type.as_ref()) {
                continue;
            }
            let mut m = self.operation(op);
            m.insert("executionArn".into(), info.execution_arn.clone().into());
            m.insert("updatedOperationsCount".into(), info.updated_operations.len().into());
            m.insert("operationsCount".into(), info.operations.len().into());
            let in_full_map = info.operations.contains_key(&op.id);
            m.insert("inFullMap".into(), in_full_map.into());
            m.insert("in_full_map".into(), in_full_map.into());
            self.emit("operation-change", m)?;
        }
        Ok(())
    }
}

fn attempt(info: &AttemptInfo) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("op".into(), info.id.clone().into());
    m.insert("id".into(), info.id.clone().into());
    put(&mut m, "parentId", info.parent_id.clone());
    put(&mut m, "name", info.name.clone());
    put(&mut m, "type", info.op_type.as_ref().map(ToString::to_string));
    put(&mut m, "subType", info.sub_type.as_ref().map(|s| s.as_str().to_owned()));
    m.insert("n".into(), info.attempt.into());
    m.insert("attempt".into(), info.attempt.into());
    put(&mut m, "startTimestamp", timestamp(info.start_timestamp));
    put(&mut m, "endTimestamp", timestamp(info.end_timestamp));
    m.insert("isReplay".into(), info.is_replay.into());
    put(&mut m, "outcome", info.succeeded.map(|ok| if ok { "SUCCEEDED" } else { "FAILED" }));
    put(&mut m, "error", info.error.as_ref().map(|e| e.error_message.clone().unwrap_or_default()));
    m
}

fn function(info: &UserFunctionInfo) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("op".into(), info.id.clone().into());
    m.insert("id".into(), info.id.clone().into());
    m.insert("parent".into(), info.parent_id.clone().unwrap_or_else(|| "NONE".to_owned()).into());
    put(&mut m, "parentId", info.parent_id.clone());
    put(&mut m, "name", info.name.clone());
    put(&mut m, "type", info.op_type.as_ref().map(ToString::to_string));
    put(&mut m, "subType", info.sub_type.as_ref().map(|s| s.as_str().to_owned()));
    m.insert("isReplayingChildren".into(), info.is_replaying_children.into());
    put(&mut m, "outcome", info.succeeded.map(|ok| if ok { "SUCCEEDED" } else { "FAILED" }));
    put(&mut m, "error", info.error.as_ref().map(|e| e.error_message.clone().unwrap_or_default()));
    m
}
