//! Lifecycle hooks: a [`Plugin`] registered through [`Options::plugin`](crate::Options::plugin)
//! is told when an invocation, an operation, a step attempt or a user function (a child context's,
//! branch's or item's body) starts and ends, and when checkpoint responses change operations.
//!
//! ```
//! use durable_runtime::plugin::{InvocationStartInfo, OperationInfo, Plugin, PluginResult};
//! use durable_runtime::Options;
//! use std::sync::Arc;
//!
//! struct Audit;
//!
//! impl Plugin for Audit {
//!     fn on_invocation_start(&self, info: &InvocationStartInfo) -> PluginResult {
//!         println!("invocation of {} (first: {})", info.execution_arn, info.is_first_invocation);
//!         Ok(())
//!     }
//!
//!     fn on_operation_end(&self, info: &OperationInfo) -> PluginResult {
//!         println!("{} ended: {:?}", info.id, info.status);
//!         Ok(())
//!     }
//! }
//!
//! let options = Options::default().plugin(Arc::new(Audit));
//! # let _ = options;
//! ```
//!
//! **When hooks fire.**
//! - `on_invocation_start`: once per invocation, after the state is loaded and before the handler
//!   runs. `on_invocation_end`: once per invocation that produced an envelope, after the last
//!   checkpoint of the invocation is durable, with its status (PENDING when it suspends).
//! - `on_operation_start`: when workflow code reaches an operation that has no terminal record: live
//!   (`is_replay == false`, no record yet) or resumed (`is_replay == true`, e.g. a wait still
//!   running, a step waiting for its retry). Operations replayed from a terminal record do not fire.
//! - `on_operation_end`: once per operation, when the runtime first sees it terminal: in the
//!   response of the checkpoint that recorded it, or, for operations the service completed between
//!   invocations (a wait's timer, a callback, a chained invoke), at the start of the next invocation
//!   (`is_replay == true`).
//! - `on_attempt_start` / `on_attempt_end`: around each run of a step body.
//! - `on_user_function_start` / `on_user_function_end`: around each run of a child context's body
//!   (child contexts, parallel branches, map items with nested contexts, sub-workflows), on the task
//!   that runs the body, so start comes before end for each body.
//! - `on_operations_changed`: after every checkpoint response that changed operations, with the
//!   changed operations and the full map.
//!
//! Hooks run synchronously on the workflow's task: keep them short. A hook that returns an error or
//! panics is ignored (the panic is caught): it never changes the execution and the other plugins
//! still receive the hook.

use crate::error::Error;
use crate::protocol::{
    ErrorObject, InvocationStatus, Operation, OperationStatus, OperationSubType, OperationType, Timestamp,
};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What a hook returns. An error is ignored by the runtime (it only stops that hook).
pub type PluginResult = Result<(), Error>;

/// Lifecycle hooks. Every method has a default no-op body; implement the ones you need.
pub trait Plugin: Send + Sync + 'static {
    /// An invocation starts, before the handler runs.
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// An invocation ends, after its checkpoints are durable.
    fn on_invocation_end(&self, info: &InvocationEndInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// Workflow code reached an operation that has no terminal record.
    fn on_operation_start(&self, info: &OperationInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// An operation reached a terminal status.
    fn on_operation_end(&self, info: &OperationInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// A step attempt starts (its body is about to run).
    fn on_attempt_start(&self, info: &AttemptInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// A step attempt ended (its body returned).
    fn on_attempt_end(&self, info: &AttemptInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// A user function (a child context's, branch's or item's body) starts.
    fn on_user_function_start(&self, info: &UserFunctionInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// A user function returned.
    fn on_user_function_end(&self, info: &UserFunctionInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }

    /// A checkpoint response changed operations.
    fn on_operations_changed(&self, info: &OperationChangeInfo) -> PluginResult {
        let _ = info;
        Ok(())
    }
}

/// What [`Plugin::on_invocation_start`] is told.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationStartInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The id of this invocation: Lambda's request id under [`crate::lambda`], otherwise one minted by
    /// the runtime per invocation.
    pub request_id: String,
    /// True when the loaded state holds no operation besides the EXECUTION operation.
    pub is_first_invocation: bool,
    /// Operations in the loaded state (the EXECUTION operation included).
    pub operations_count: usize,
    /// Operations the service changed since the previous invocation (a wait's timer fired, a
    /// callback was answered, a step became ready for its retry). See [`externally_updated`].
    pub updated_operations: Vec<OperationInfo>,
    /// When the execution started.
    pub execution_start_timestamp: Option<Timestamp>,
}

/// What [`Plugin::on_invocation_end`] is told.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationEndInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The id of this invocation (the one of the start hook).
    pub request_id: String,
    /// As on [`InvocationStartInfo::is_first_invocation`].
    pub is_first_invocation: bool,
    /// Operations known at the end of the invocation.
    pub operations_count: usize,
    /// When the execution started.
    pub execution_start_timestamp: Option<Timestamp>,
    /// The envelope's status: SUCCEEDED or FAILED (terminal) or PENDING (suspended).
    pub status: InvocationStatus,
    /// The execution's error, when FAILED.
    pub error: Option<ErrorObject>,
}

/// An operation, as the operation hooks see it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OperationInfo {
    /// Operation id.
    pub id: String,
    /// Id of the enclosing context operation; `None` at the root.
    pub parent_id: Option<String>,
    /// The operation's name.
    pub name: Option<String>,
    /// Operation type.
    pub op_type: Option<OperationType>,
    /// Operation subtype.
    pub sub_type: Option<OperationSubType>,
    /// Status; `None` before the first checkpoint of a live start. In `on_operation_start` it is
    /// never terminal: `None` for a live start, the recorded STARTED, READY or PENDING status for an
    /// operation resumed on replay (`is_replay`), so `status.is_none_or(|s| !s.is_terminal())` holds.
    pub status: Option<OperationStatus>,
    /// When the operation started.
    pub start_timestamp: Option<Timestamp>,
    /// When it ended.
    pub end_timestamp: Option<Timestamp>,
    /// The recorded (serialized) result.
    pub result: Option<String>,
    /// The recorded error.
    pub error: Option<ErrorObject>,
    /// Attempts of a step (or wait-for-condition check) recorded so far.
    pub attempt: Option<u32>,
    /// True when the operation is observed through checkpointed state from an earlier invocation.
    pub is_replay: bool,
}

impl OperationInfo {
    /// The info of a recorded operation.
    pub fn from_record(op: &Operation, is_replay: bool) -> Self {
        let step = op.step_details.as_ref();
        let context = op.context_details.as_ref();
        let result = step
            .and_then(|d| d.result.clone())
            .or_else(|| context.and_then(|d| d.result.clone()))
            .or_else(|| op.callback_details.as_ref().and_then(|d| d.result.clone()))
            .or_else(|| op.chained_invoke_details.as_ref().and_then(|d| d.result.clone()));
        let error = step
            .and_then(|d| d.error.clone())
            .or_else(|| context.and_then(|d| d.error.clone()))
            .or_else(|| op.callback_details.as_ref().and_then(|d| d.error.clone()))
            .or_else(|| op.chained_invoke_details.as_ref().and_then(|d| d.error.clone()));
        Self {
            id: op.id.clone(),
            parent_id: op.parent_id.clone(),
            name: op.name.clone(),
            op_type: Some(op.op_type.clone()),
            sub_type: op.sub_type.clone(),
            status: Some(op.status.clone()),
            start_timestamp: op.start_timestamp,
            end_timestamp: op.end_timestamp,
            result: result.map(crate::protocol::Payload::into_string),
            error: error.map(|e| *e),
            attempt: step.and_then(|d| d.attempt),
            is_replay,
        }
    }
}

/// A step attempt, as the attempt hooks see it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AttemptInfo {
    /// The step's operation id.
    pub id: String,
    /// Id of the enclosing context operation.
    pub parent_id: Option<String>,
    /// The step's name.
    pub name: Option<String>,
    /// Operation type (STEP).
    pub op_type: Option<OperationType>,
    /// Operation subtype.
    pub sub_type: Option<OperationSubType>,
    /// The 1-based attempt number.
    pub attempt: u32,
    /// When the attempt started.
    pub start_timestamp: Option<Timestamp>,
    /// When it ended (end hook only).
    pub end_timestamp: Option<Timestamp>,
    /// True when the step had a record from an earlier invocation (a retry, or a resumed attempt).
    pub is_replay: bool,
    /// `Some(true)` when the attempt succeeded, `Some(false)` when it failed (end hook only).
    pub succeeded: Option<bool>,
    /// The attempt's error (end hook of a failed attempt only).
    pub error: Option<ErrorObject>,
}

/// A user function (a context's body), as the user-function hooks see it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct UserFunctionInfo {
    /// The context operation's id.
    pub id: String,
    /// Id of the enclosing context operation.
    pub parent_id: Option<String>,
    /// The context's name.
    pub name: Option<String>,
    /// Operation type (CONTEXT).
    pub op_type: Option<OperationType>,
    /// Operation subtype (RunInChildContext, ParallelBranch, MapIteration, ...).
    pub sub_type: Option<OperationSubType>,
    /// True when the body re-runs to rebuild a result that was recorded without its payload
    /// (`ReplayChildren`: a result over
    /// [`MAX_CONTEXT_RESULT_BYTES`](crate::protocol::limits::MAX_CONTEXT_RESULT_BYTES)).
    /// False for a live run, and for a body that runs again because its context is still STARTED
    /// (its recorded children replay, but the body goes on live after them).
    pub is_replaying_children: bool,
    /// `Some(true)` when the body returned `Ok`, `Some(false)` on `Err` (end hook only).
    pub succeeded: Option<bool>,
    /// The body's error (end hook of a failed body only).
    pub error: Option<ErrorObject>,
}

/// What [`Plugin::on_operations_changed`] is told.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OperationChangeInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The operations the checkpoint response changed.
    pub updated_operations: Vec<OperationInfo>,
    /// Every known operation, by id, after the change.
    pub operations: HashMap<String, OperationInfo>,
}

/// The operations of a freshly loaded state that the service changed since the previous invocation:
/// those completed or made ready by the service (WAIT, CALLBACK, CHAINED_INVOKE terminal; a STEP or
/// wait-for-condition READY) whose end (or, for READY, latest known) time is not before the latest
/// start time of any operation, i.e. after the previous invocation last started something.
///
/// This is a heuristic (the state carries no per-invocation change log): an operation completed by
/// the service while the previous invocation was still starting others is not reported.
pub fn externally_updated(operations: &[Operation]) -> Vec<OperationInfo> {
    let latest_start =
        operations.iter().filter(|op| op.op_type != OperationType::Execution).filter_map(|op| op.start_timestamp).max();
    let Some(latest_start) = latest_start else { return Vec::new() };
    operations
        .iter()
        .filter(|op| {
            let by_service = match op.op_type {
                OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => op.status.is_terminal(),
                OperationType::Step => op.status == OperationStatus::Ready,
                _ => false,
            };
            let when = op.end_timestamp.or(op.start_timestamp);
            by_service && when.is_some_and(|t| t >= latest_start)
        })
        .map(|op| OperationInfo::from_record(op, true))
        .collect()
}

/// The registered plugins of one invocation, and the dispatch that isolates them.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    plugins: Vec<Arc<dyn Plugin>>,
}

impl Hooks {
    pub(crate) fn new(plugins: Vec<Arc<dyn Plugin>>) -> Self {
        Self { plugins }
    }

    /// True when at least one plugin is registered (build infos only then).
    pub(crate) fn enabled(&self) -> bool {
        !self.plugins.is_empty()
    }

    /// Calls `hook` on every plugin, ignoring errors and catching panics, so one plugin can neither
    /// change the execution nor keep the others from the hook.
    pub(crate) fn emit(&self, hook: impl Fn(&dyn Plugin) -> PluginResult) {
        for plugin in &self.plugins {
            let _ignored = catch_unwind(AssertUnwindSafe(|| hook(plugin.as_ref())));
        }
    }
}

/// Fires `on_attempt_start` for attempt `attempt` of the step `id` (in the context `parent_id`); the
/// info to end it with.
pub(crate) fn attempt_start(
    hooks: &Hooks,
    (id, parent_id): (&str, Option<&str>),
    name: Option<&str>,
    attempt: u32,
    is_replay: bool,
) -> Option<AttemptInfo> {
    if !hooks.enabled() {
        return None;
    }
    let info = AttemptInfo {
        id: id.to_owned(),
        parent_id: parent_id.map(str::to_owned),
        name: name.map(str::to_owned),
        op_type: Some(OperationType::Step),
        sub_type: Some(OperationSubType::Step),
        attempt,
        start_timestamp: Some(Timestamp::now()),
        is_replay,
        ..AttemptInfo::default()
    };
    hooks.emit(|p| p.on_attempt_start(&info));
    Some(info)
}

/// Fires `on_attempt_end` for an attempt started with [`attempt_start`]; `error` when it failed.
pub(crate) fn attempt_end(hooks: &Hooks, info: Option<AttemptInfo>, error: Option<&ErrorObject>) {
    if let Some(mut info) = info {
        info.end_timestamp = Some(Timestamp::now());
        info.succeeded = Some(error.is_none());
        info.error = error.cloned();
        hooks.emit(|p| p.on_attempt_end(&info));
    }
}

/// Fires `on_user_function_start` for the body of the context `id` (in the context `parent_id`); the
/// info to end it with.
pub(crate) fn function_start(
    hooks: &Hooks,
    (id, parent_id): (&str, Option<&str>),
    name: Option<&str>,
    sub_type: &OperationSubType,
    is_replaying_children: bool,
) -> Option<UserFunctionInfo> {
    if !hooks.enabled() {
        return None;
    }
    let info = UserFunctionInfo {
        id: id.to_owned(),
        parent_id: parent_id.map(str::to_owned),
        name: name.map(str::to_owned),
        op_type: Some(OperationType::Context),
        sub_type: Some(sub_type.clone()),
        is_replaying_children,
        ..UserFunctionInfo::default()
    };
    hooks.emit(|p| p.on_user_function_start(&info));
    Some(info)
}

/// Fires `on_user_function_end` for a body started with [`function_start`]; `error` when it failed.
pub(crate) fn function_end(hooks: &Hooks, info: Option<UserFunctionInfo>, error: Option<&ErrorObject>) {
    if let Some(mut info) = info {
        info.succeeded = Some(error.is_none());
        info.error = error.cloned();
        hooks.emit(|p| p.on_user_function_end(&info));
    }
}
