//! Lifecycle hooks: order, replay flags, and isolation of failing plugins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use durable_runtime::plugin::{
    AttemptInfo, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin, PluginResult,
    UserFunctionInfo,
};
use durable_runtime::protocol::{InvocationStatus, OperationStatus};
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
