//! Lifecycle hooks: order, replay flags, context subtypes and children replay, and isolation of
//! failing plugins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use durable_runtime::plugin::{
    AttemptInfo, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin, PluginResult,
    UserFunctionInfo,
};
use durable_runtime::protocol::limits::MAX_CONTEXT_RESULT_BYTES;
use durable_runtime::protocol::{InvocationStatus, OperationStatus, OperationSubType, OperationType};
use durable_runtime::retry::RetryStrategy;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, Error, Options};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every hook as a short line.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, line: String) -> PluginResult {
        self.0.lock().unwrap().push(line);
        Ok(())
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Plugin for Recorder {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> PluginResult {
        let updated: Vec<_> = info.updated_operations.iter().map(|o| format!("{:?}", o.status)).collect();
        self.push(format!("invocation-start first={} updated={updated:?}", info.is_first_invocation))
    }
    fn on_invocation_end(&self, info: &InvocationEndInfo) -> PluginResult {
        self.push(format!("invocation-end {:?} first={}", info.status, info.is_first_invocation))
    }
    fn on_operation_start(&self, info: &OperationInfo) -> PluginResult {
        self.push(format!("operation-start {:?} replay={}", info.op_type, info.is_replay))
    }
    fn on_operation_end(&self, info: &OperationInfo) -> PluginResult {
        self.push(format!("operation-end {:?} {:?} result={:?}", info.op_type, info.status, info.result))
    }
    fn on_attempt_start(&self, info: &AttemptInfo) -> PluginResult {
        self.push(format!("attempt-start {}", info.attempt))
    }
    fn on_attempt_end(&self, info: &AttemptInfo) -> PluginResult {
        self.push(format!("attempt-end {} {:?}", info.attempt, info.succeeded))
    }
    fn on_user_function_start(&self, info: &UserFunctionInfo) -> PluginResult {
        self.push(format!("fn-start {:?}", info.sub_type))
    }
    fn on_user_function_end(&self, info: &UserFunctionInfo) -> PluginResult {
        self.push(format!("fn-end {:?}", info.succeeded))
    }
    fn on_operations_changed(&self, info: &OperationChangeInfo) -> PluginResult {
        let all = info.updated_operations.iter().all(|o| info.operations.contains_key(&o.id));
        self.push(format!("changed {} in-map={all}", info.updated_operations.len()))
    }
}

async fn one_step(ctx: DurableContext, _: ()) -> Result<String, Error> {
    Ok(ctx.step(|_| async move { Ok::<_, Error>("a".to_owned()) }).await?)
}

#[tokio::test(flavor = "current_thread")]
async fn hooks_fire_in_lifecycle_order() {
    let recorder = Arc::new(Recorder::default());
    let result = TestRunner::new(one_step).options(Options::default().plugin(recorder.clone())).run(()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let lines: Vec<String> = recorder.lines().into_iter().filter(|l| !l.starts_with("changed")).collect();
    assert_eq!(
        lines,
        [
            "invocation-start first=true updated=[]",
            "operation-start Some(Step) replay=false",
            "attempt-start 1",
            "attempt-end 1 Some(true)",
            "operation-end Some(Step) Some(Succeeded) result=Some(\"\\\"a\\\"\")",
            "invocation-end Succeeded first=true",
        ]
    );
    assert!(recorder.lines().iter().any(|l| l.starts_with("changed") && l.ends_with("in-map=true")));
}

/// Panics in every hook.
struct Panicking;

impl Plugin for Panicking {
    fn on_invocation_start(&self, _: &InvocationStartInfo) -> PluginResult {
        panic!("plugin panic")
    }
    fn on_operation_start(&self, _: &OperationInfo) -> PluginResult {
        panic!("plugin panic")
    }
    fn on_attempt_end(&self, _: &AttemptInfo) -> PluginResult {
        panic!("plugin panic")
    }
    fn on_invocation_end(&self, _: &InvocationEndInfo) -> PluginResult {
        panic!("plugin panic")
    }
}

/// Fails every hook.
struct Failing;

impl Plugin for Failing {
    fn on_invocation_start(&self, _: &InvocationStartInfo) -> PluginResult {
        Err("no".into())
    }
    fn on_operation_end(&self, _: &OperationInfo) -> PluginResult {
        Err("no".into())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn failing_plugins_change_nothing_and_starve_no_one() {
    let recorder = Arc::new(Recorder::default());
    let options = Options::default().plugin(Arc::new(Panicking)).plugin(Arc::new(Failing)).plugin(recorder.clone());
    let result = TestRunner::new(one_step).options(options).run(()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<String>().unwrap(), "a");
    let plain = TestRunner::new(one_step).run(()).await.unwrap();
    assert_eq!(result.history().len(), plain.history().len());
    let lines = recorder.lines();
    for hook in ["invocation-start", "operation-start", "attempt-end", "operation-end", "invocation-end"] {
        assert_eq!(lines.iter().filter(|l| l.starts_with(hook)).count(), 1, "{hook}: {lines:?}");
    }
}

async fn waits(ctx: DurableContext, _: ()) -> Result<(), Error> {
    ctx.run_in_child_context(|_| async move { Ok::<_, Error>(()) }).await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn replay_flags_and_external_updates_across_invocations() {
    let recorder = Arc::new(Recorder::default());
    let result = TestRunner::new(waits).options(Options::default().plugin(recorder.clone())).run(()).await.unwrap();
    assert_eq!(result.invocation_count(), 2);
    let lines = recorder.lines();
    let starts: Vec<_> = lines.iter().filter(|l| l.starts_with("invocation-")).collect();
    assert_eq!(
        starts,
        [
            "invocation-start first=true updated=[]",
            "invocation-end Pending first=true",
            "invocation-start first=false updated=[\"Some(Succeeded)\"]",
            "invocation-end Succeeded first=false",
        ]
    );
    // The wait ended between the invocations: reported once, at the start of the second.
    let wait_ends = lines.iter().filter(|l| l.starts_with("operation-end Some(Wait)")).count();
    assert_eq!(wait_ends, 1, "{lines:?}");
    // The child's body ran once (the replay returns its recorded result).
    assert_eq!(lines.iter().filter(|l| l.starts_with("fn-start Some(RunInChildContext)")).count(), 1);
    assert_eq!(lines.iter().filter(|l| l.starts_with("fn-end Some(true)")).count(), 1);
    let _ = (InvocationStatus::Pending, OperationStatus::Succeeded);
}

/// One operation hook, as the tests below read it.
#[derive(Debug, Clone)]
struct Seen {
    hook: &'static str,
    name: Option<String>,
    op_type: Option<OperationType>,
    sub_type: Option<OperationSubType>,
    status: Option<OperationStatus>,
    is_replay: bool,
    is_replaying_children: bool,
}

/// Records the operation-start, operation-end and user-function-start hooks.
#[derive(Default)]
struct Operations(Mutex<Vec<Seen>>);

impl Operations {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    fn push_op(&self, hook: &'static str, info: &OperationInfo) -> PluginResult {
        self.0.lock().unwrap().push(Seen {
            hook,
            name: info.name.clone(),
            op_type: info.op_type.clone(),
            sub_type: info.sub_type.clone(),
            status: info.status.clone(),
            is_replay: info.is_replay,
            is_replaying_children: false,
        });
        Ok(())
    }
}

impl Plugin for Operations {
    fn on_operation_start(&self, info: &OperationInfo) -> PluginResult {
        self.push_op("operation-start", info)
    }
    fn on_operation_end(&self, info: &OperationInfo) -> PluginResult {
        self.push_op("operation-end", info)
    }
    fn on_user_function_start(&self, info: &UserFunctionInfo) -> PluginResult {
        self.0.lock().unwrap().push(Seen {
            hook: "fn-start",
            name: info.name.clone(),
            op_type: info.op_type.clone(),
            sub_type: info.sub_type.clone(),
            status: None,
            is_replay: false,
            is_replaying_children: info.is_replaying_children,
        });
        Ok(())
    }
}

fn starts<'a>(seen: &'a [Seen], name: &str) -> Vec<&'a Seen> {
    seen.iter().filter(|s| s.hook == "operation-start" && s.name.as_deref() == Some(name)).collect()
}

async fn done_then_flaky(ctx: DurableContext, _: ()) -> Result<String, Error> {
    ctx.step(|_| async move { Ok::<_, Error>("a".to_owned()) }).name("a").await?;
    let b = ctx
        .step(|step| async move {
            if step.attempt() == 1 {
                return Err::<String, Error>("first attempt fails".into());
            }
            Ok("b".to_owned())
        })
        .name("b")
        .retry(RetryStrategy::fixed(Duration::from_secs(1)).max_attempts(3))
        .await?;
    Ok(b)
}

/// A step waiting for its retry is observed again on replay (`is_replay`, non-terminal status); a
/// step that was terminal before the replay is not.
#[tokio::test(flavor = "current_thread")]
async fn operation_start_replays_only_operations_without_a_terminal_record() {
    let ops = Arc::new(Operations::default());
    let result =
        TestRunner::new(done_then_flaky).options(Options::default().plugin(ops.clone())).run(()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.invocation_count(), 2);
    let seen = ops.seen();

    let a = starts(&seen, "a");
    assert_eq!(a.len(), 1, "{seen:?}");
    assert!(!a[0].is_replay && a[0].status.is_none(), "{seen:?}");

    let b = starts(&seen, "b");
    assert_eq!(b.iter().filter(|s| !s.is_replay).count(), 1, "{seen:?}");
    let replayed: Vec<_> = b.iter().filter(|s| s.is_replay).collect();
    assert!(!replayed.is_empty(), "{seen:?}");
    assert!(replayed.iter().all(|s| s.status.as_ref().is_some_and(|st| !st.is_terminal())), "{seen:?}");

    let ends: Vec<_> =
        seen.iter().filter(|s| s.hook == "operation-end").map(|s| (s.name.clone(), s.status.clone())).collect();
    assert_eq!(
        ends,
        [
            (Some("a".to_owned()), Some(OperationStatus::Succeeded)),
            (Some("b".to_owned()), Some(OperationStatus::Succeeded))
        ]
    );
}

async fn two_waits(ctx: DurableContext, _: ()) -> Result<Vec<String>, Error> {
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
        .await?;
    Ok(batch.into_results()?)
}

/// A wait still running when a replay reaches it fires operation-start again, with `is_replay` and
/// its STARTED status; a wait that already ended never does.
#[tokio::test(flavor = "current_thread")]
async fn a_pending_wait_is_observed_on_replay_and_an_ended_one_is_not() {
    let ops = Arc::new(Operations::default());
    let result = TestRunner::new(two_waits).options(Options::default().plugin(ops.clone())).run(()).await.unwrap();
    assert_eq!(result.output::<Vec<String>>().unwrap(), ["short-done", "long-done"]);
    assert_eq!(result.invocation_count(), 3);
    let seen = ops.seen();

    let short = starts(&seen, "short");
    assert_eq!(short.len(), 1, "{seen:?}");
    assert!(!short[0].is_replay, "{seen:?}");

    let long = starts(&seen, "long");
    assert_eq!(long.iter().filter(|s| !s.is_replay).count(), 1, "{seen:?}");
    let replayed: Vec<_> = long.iter().filter(|s| s.is_replay).collect();
    assert_eq!(replayed.len(), 1, "observed once, in the invocation where only `short` had ended: {seen:?}");
    assert_eq!(replayed[0].status, Some(OperationStatus::Started));

    for name in ["short", "long"] {
        let ends = seen.iter().filter(|s| s.hook == "operation-end" && s.name.as_deref() == Some(name)).count();
        assert_eq!(ends, 1, "{name}: {seen:?}");
    }
}

async fn named_branches(ctx: DurableContext, _: ()) -> Result<Vec<String>, Error> {
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
    Ok(batch.into_results()?)
}

/// Context operations carry their subtype; a branch body that re-runs over its checkpointed
/// children (its context still STARTED) fires the user-function start again, not replaying children.
#[tokio::test(flavor = "current_thread")]
async fn context_hooks_carry_subtypes_and_branch_bodies_fire_per_run() {
    let ops = Arc::new(Operations::default());
    let result = TestRunner::new(named_branches).options(Options::default().plugin(ops.clone())).run(()).await.unwrap();
    assert_eq!(result.output::<Vec<String>>().unwrap(), ["a-done", "b-done"]);
    let seen = ops.seen();

    let parallel = starts(&seen, "ctx");
    assert!(!parallel.is_empty() && !parallel[0].is_replay, "{seen:?}");
    assert!(parallel.iter().all(|s| s.op_type == Some(OperationType::Context)), "{seen:?}");
    assert!(parallel.iter().all(|s| s.sub_type == Some(OperationSubType::Parallel)), "{seen:?}");
    for branch in ["branch-a", "branch-b"] {
        let live: Vec<_> = starts(&seen, branch).into_iter().filter(|s| !s.is_replay).collect();
        assert_eq!(live.len(), 1, "{branch}: {seen:?}");
        assert_eq!(live[0].sub_type, Some(OperationSubType::ParallelBranch));
    }

    let runs = |name: &str| -> Vec<&Seen> {
        seen.iter().filter(|s| s.hook == "fn-start" && s.name.as_deref() == Some(name)).collect()
    };
    let a = runs("branch-a");
    assert_eq!(a.len(), 2, "live, then re-run over its step and wait: {seen:?}");
    assert!(a.iter().all(|s| !s.is_replaying_children && s.sub_type == Some(OperationSubType::ParallelBranch)));
    let b = runs("branch-b");
    assert_eq!(b.len(), 1, "{seen:?}");
    assert!(!b[0].is_replaying_children);
}

/// A child context whose result was too large to record inline re-runs its body on replay to
/// rebuild it: that run's user-function start says it replays children.
#[tokio::test(flavor = "current_thread")]
async fn a_replay_children_context_reports_replaying_children() {
    async fn large_then_wait(ctx: DurableContext, _: ()) -> Result<usize, Error> {
        let big = ctx
            .run_in_child_context(|_| async move { Ok::<_, Error>("x".repeat(MAX_CONTEXT_RESULT_BYTES + 1)) })
            .name("big")
            .await?;
        ctx.wait(Duration::from_secs(1)).await?;
        Ok(big.len())
    }
    let ops = Arc::new(Operations::default());
    let result =
        TestRunner::new(large_then_wait).options(Options::default().plugin(ops.clone())).run(()).await.unwrap();
    assert_eq!(result.output::<usize>().unwrap(), MAX_CONTEXT_RESULT_BYTES + 1);
    let seen = ops.seen();
    let flags: Vec<bool> = seen
        .iter()
        .filter(|s| s.hook == "fn-start" && s.name.as_deref() == Some("big"))
        .map(|s| s.is_replaying_children)
        .collect();
    assert_eq!(flags, [false, true], "{seen:?}");
    // Terminal before the replay: no operation-start then.
    assert_eq!(starts(&seen, "big").len(), 1, "{seen:?}");
}
