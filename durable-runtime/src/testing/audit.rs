//! The replay audit: after a run ends, the test runner replays the whole execution once more, in a
//! fresh invocation over its final state, and requires the replay to agree with the record.
//!
//! A deterministic workflow replays a finished execution without running anything: every operation
//! it reaches has a terminal record, so no step body runs and nothing is checkpointed, and it
//! returns the recorded result. The audit fails the test when the replay
//!
//! - starts an operation the history does not have, or runs a step body again (any update it
//!   would checkpoint, other than the execution's own outcome);
//! - does not reach a recorded operation (it took another path);
//! - ends with another result or error than the recorded one.
//!
//! The replay-time position check (type, subtype, name) cannot see what a step was called with, so
//! a workflow whose operations keep their names but not their order (iterating a `HashMap`),
//! or whose body reads state a step mutated, or the clock, replays "successfully" with other
//! values. The audit catches these through the result: the replay computes it again from the
//! recorded values, and a body that is not deterministic computes something else.

use crate::checkpoint::memory::MemoryService;
use crate::checkpoint::{BoxFuture, CheckpointClient, CheckpointError};
use crate::invocation::{invoke_tracked, Handler, Options};
use crate::protocol::{
    CheckpointRequest, CheckpointResponse, ErrorObject, ExecutionState, InvocationInput, InvocationOutput,
    InvocationStatus, Operation, OperationType, OperationUpdate,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use tracing::instrument::WithSubscriber;

/// A service that serves the final state and accepts no change: it keeps every update it is sent,
/// for the audit to report.
#[derive(Default)]
struct Recorder {
    updates: Mutex<Vec<OperationUpdate>>,
}

impl CheckpointClient for Recorder {
    fn checkpoint(
        &self,
        _execution_arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>> {
        self.updates.lock().unwrap_or_else(PoisonError::into_inner).extend(request.updates);
        let response =
            CheckpointResponse { checkpoint_token: Some(crate::protocol::ids::uuid_v4()), new_execution_state: None };
        Box::pin(std::future::ready(Ok(response)))
    }

    fn get_state(
        &self,
        _execution_arn: &str,
        _checkpoint_token: &str,
        _marker: Option<&str>,
    ) -> BoxFuture<Result<ExecutionState, CheckpointError>> {
        // The envelope carries every operation on its first page.
        Box::pin(std::future::ready(Ok(ExecutionState::default())))
    }
}

/// How a finished execution is described in the audit's messages.
fn describe(op: &Operation) -> String {
    let kind = match &op.sub_type {
        Some(sub_type) => format!("{} ({sub_type})", op.op_type),
        None => op.op_type.to_string(),
    };
    match &op.name {
        Some(name) => format!("{kind} `{name}` (id {})", op.id),
        None => format!("{kind} with id {}", op.id),
    }
}

fn describe_update(update: &OperationUpdate) -> String {
    let kind = match &update.sub_type {
        Some(sub_type) => format!("{} ({sub_type})", update.op_type),
        None => update.op_type.to_string(),
    };
    let name = update.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
    format!("{:?} of {kind}{name} (id {})", update.action, update.id)
}

/// Replays the finished execution `arn` of `service` with `handler`; `Err` describes the first
/// divergence.
pub(crate) async fn audit<H, I, O>(handler: &H, service: &MemoryService, arn: &str) -> Result<(), String>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let operations = service.operations(arn);
    let envelope = InvocationInput {
        durable_execution_arn: arn.to_owned(),
        checkpoint_token: crate::protocol::ids::uuid_v4(),
        initial_execution_state: ExecutionState { operations: operations.clone(), next_marker: None },
        updated_operation_ids: None,
    };
    let recorder = Arc::new(Recorder::default());
    let client: Arc<dyn CheckpointClient> = recorder.clone();
    // No plugins and no log output: the replay is the runner's, not the workflow's.
    let replay = invoke_tracked(handler, envelope, client, &Options::default(), true)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await;
    let (output, visited) = replay.map_err(|e| format!("the replay invocation failed: {e}"))?;

    let updates = std::mem::take(&mut *recorder.updates.lock().unwrap_or_else(PoisonError::into_inner));
    let execution_output = updates.iter().find(|u| u.op_type == OperationType::Execution).cloned();
    if let Some(update) = updates.iter().find(|u| u.op_type != OperationType::Execution) {
        return Err(format!(
            "the replay sent {}, which the history does not have: the workflow took another path, or a step \
             body ran again",
            describe_update(update)
        ));
    }

    let visited: HashSet<&str> = visited.iter().map(|id| &**id).collect();
    // A terminal context returns its recorded result without running its body, so its children are
    // reached only when the context itself is, and re-runs its body to rebuild a result recorded
    // with `ReplayChildren`.
    let reruns: HashSet<&str> = operations
        .iter()
        .filter(|op| visited.contains(op.id.as_str()))
        .filter(|op| op.context_details.as_ref().and_then(|d| d.replay_children).unwrap_or(false))
        .map(|op| op.id.as_str())
        .collect();
    let required = |op: &&Operation| match op.parent_id.as_deref() {
        None => op.op_type != OperationType::Execution,
        Some(parent) => reruns.contains(parent),
    };
    if let Some(missed) = operations.iter().filter(required).find(|op| !visited.contains(op.id.as_str())) {
        return Err(format!(
            "the replay never reached the recorded {}: the workflow took another path",
            describe(missed)
        ));
    }

    compare_outcome(service, arn, &output, execution_output.as_ref())
}

/// The recorded result or error against the replay's.
fn compare_outcome(
    service: &MemoryService,
    arn: &str,
    output: &InvocationOutput,
    execution_update: Option<&OperationUpdate>,
) -> Result<(), String> {
    match output.status {
        InvocationStatus::Succeeded => {
            // A result too large for the envelope comes back through the EXECUTION update.
            let replayed = output
                .result
                .clone()
                .filter(|r| !r.is_empty())
                .or_else(|| execution_update.and_then(|u| u.payload.clone()));
            let recorded = service.execution_result(arn);
            if same_json(recorded.as_deref(), replayed.as_deref()) {
                return Ok(());
            }
            match service.execution_error(arn) {
                Some(error) => Err(format!(
                    "the execution failed with {}, but the replay succeeded with {}",
                    show_error(&error),
                    show(replayed.as_deref())
                )),
                None => Err(format!(
                    "the execution returned {}, but the replay returned {}: the workflow body computes \
                     something else from the same recorded values",
                    show(recorded.as_deref()),
                    show(replayed.as_deref())
                )),
            }
        }
        InvocationStatus::Failed => {
            let replayed = output.error.clone().unwrap_or_default();
            match service.execution_error(arn) {
                Some(recorded)
                    if recorded.error_type == replayed.error_type
                        && recorded.error_message == replayed.error_message =>
                {
                    Ok(())
                }
                Some(recorded) => Err(format!(
                    "the execution failed with {}, but the replay failed with {}",
                    show_error(&recorded),
                    show_error(&replayed)
                )),
                None => Err(format!(
                    "the execution returned {}, but the replay failed with {}",
                    show(service.execution_result(arn).as_deref()),
                    show_error(&replayed)
                )),
            }
        }
        InvocationStatus::Pending => {
            Err("the replay suspended, though every operation of the finished execution is recorded".to_owned())
        }
    }
}

/// Equal as JSON when both parse (so formatting does not count), else as text.
fn same_json(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |s: Option<&str>| s.map(serde_json::from_str::<serde_json::Value>);
    match (parse(a), parse(b)) {
        (Some(Ok(a)), Some(Ok(b))) => a == b,
        _ => a.unwrap_or("null") == b.unwrap_or("null"),
    }
}

fn show(result: Option<&str>) -> String {
    let text = result.unwrap_or("null");
    let short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        format!("`{short}…`")
    } else {
        format!("`{short}`")
    }
}

fn show_error(error: &ErrorObject) -> String {
    format!(
        "`{}: {}`",
        error.error_type.as_deref().unwrap_or("error"),
        error.error_message.as_deref().unwrap_or_default()
    )
}
