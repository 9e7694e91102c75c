//! Validation of a whole checkpoint batch before anything is applied, with the emulators' messages
//! (protocol §2.6, §2.7, §3.3). A rejected batch records nothing.

use super::state::StoredExecution;
use crate::protocol::{
    ErrorObject, OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate,
};
use std::collections::HashMap;

pub(super) use crate::protocol::limits::{
    MAX_ERROR_OBJECT_BYTES as MAX_ERROR_BYTES, MAX_PAYLOAD_BYTES, MAX_WAIT_SECONDS, MIN_WAIT_SECONDS,
};

/// What validation knows about an operation: the stored record, updated by the earlier updates of
/// the batch.
#[derive(Clone)]
struct Shadow {
    op_type: OperationType,
    sub_type: Option<OperationSubType>,
    name: Option<String>,
    parent_id: Option<String>,
    status: OperationStatus,
}

/// Checks every update of `updates` against `exec` and the earlier updates of the batch.
pub(super) fn validate(exec: &StoredExecution, updates: &[OperationUpdate]) -> Result<(), String> {
    let mut shadows: HashMap<&str, Shadow> = HashMap::new();
    let mut seen: HashMap<&str, (usize, OperationAction)> = HashMap::new();
    if updates.iter().filter(|u| u.op_type == OperationType::Execution).count() > 1 {
        return Err("Cannot checkpoint multiple EXECUTION updates.".into());
    }
    for (i, update) in updates.iter().enumerate() {
        if let OperationType::Unknown(t) = &update.op_type {
            return Err(format!("Invalid operation type: {t}."));
        }
        if let OperationAction::Unknown(a) = &update.action {
            return Err(format!("Invalid action: {a}."));
        }
        check_sizes(update)?;
        if update.op_type == OperationType::Execution {
            if i + 1 != updates.len() {
                return Err("EXECUTION checkpoint must be the last update.".into());
            }
            check_action_allowed(update)?;
            check_payload_rules(update)?;
            continue;
        }
        check_action_allowed(update)?;
        check_duplicate(&mut seen, update)?;
        let current = shadows.get(update.id.as_str()).cloned().or_else(|| {
            exec.get(&update.id).map(|e| Shadow {
                op_type: e.op.op_type.clone(),
                sub_type: e.op.sub_type.clone(),
                name: e.op.name.clone(),
                parent_id: e.op.parent_id.clone(),
                status: e.op.status.clone(),
            })
        });
        if let Some(current) = &current {
            check_consistency(current, update)?;
        }
        if let Some(parent) = &update.parent_id {
            let is_context = |t: &OperationType| *t == OperationType::Context;
            let known = shadows
                .get(parent.as_str())
                .map(|s| is_context(&s.op_type))
                .or_else(|| exec.get(parent).map(|e| is_context(&e.op.op_type)))
                .unwrap_or(false);
            if !known || *parent == update.id {
                return Err("Invalid parent operation id.".into());
            }
        }
        check_transition(current.as_ref().map(|s| &s.status), update)?;
        let next = Shadow {
            op_type: update.op_type.clone(),
            sub_type: current.as_ref().map_or_else(|| update.sub_type.clone(), |c| c.sub_type.clone()),
            name: current.as_ref().map_or_else(|| update.name.clone(), |c| c.name.clone()),
            parent_id: current.as_ref().map_or_else(|| update.parent_id.clone(), |c| c.parent_id.clone()),
            status: status_after(&update.action),
        };
        shadows.insert(update.id.as_str(), next);
    }
    Ok(())
}

fn check_sizes(update: &OperationUpdate) -> Result<(), String> {
    if update.op_type != OperationType::Execution {
        if let Some(payload) = &update.payload {
            if payload.len() > MAX_PAYLOAD_BYTES {
                return Err(format!(
                    "Payload size {} bytes exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes (1 MB) for a {} update.",
                    payload.len(),
                    update.op_type
                ));
            }
        }
    }
    if let Some(error) = &update.error {
        if error_size(error) >= MAX_ERROR_BYTES {
            return Err(format!("Error object size must be less than {MAX_ERROR_BYTES} bytes."));
        }
    }
    Ok(())
}

/// Bytes of the error's JSON.
pub(super) fn error_size(error: &ErrorObject) -> usize {
    serde_json::to_vec(error).map_or(usize::MAX, |v| v.len())
}

/// Legal actions per type (§3.1).
fn check_action_allowed(update: &OperationUpdate) -> Result<(), String> {
    use OperationAction as A;
    let allowed = match update.op_type {
        OperationType::Step => matches!(update.action, A::Start | A::Succeed | A::Fail | A::Retry),
        OperationType::Context => matches!(update.action, A::Start | A::Succeed | A::Fail),
        OperationType::Wait | OperationType::ChainedInvoke => matches!(update.action, A::Start | A::Cancel),
        OperationType::Callback => matches!(update.action, A::Start),
        OperationType::Execution => matches!(update.action, A::Succeed | A::Fail),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("Invalid action {} for operation type {}.", update.action, update.op_type))
    }
}

/// At most one update per Id, except STEP / CONTEXT START followed by one non-START action.
fn check_duplicate<'a>(
    seen: &mut HashMap<&'a str, (usize, OperationAction)>,
    update: &'a OperationUpdate,
) -> Result<(), String> {
    match seen.get_mut(update.id.as_str()) {
        None => {
            seen.insert(update.id.as_str(), (1, update.action.clone()));
            Ok(())
        }
        Some((count, first)) => {
            let pair = *count == 1
                && *first == OperationAction::Start
                && update.action != OperationAction::Start
                && matches!(update.op_type, OperationType::Step | OperationType::Context);
            if pair {
                *count += 1;
                Ok(())
            } else {
                Err("Cannot update the same operation twice in a single request.".into())
            }
        }
    }
}

/// A provided Type / SubType / Name / ParentId must equal the stored one.
fn check_consistency(current: &Shadow, update: &OperationUpdate) -> Result<(), String> {
    if current.op_type != update.op_type {
        return Err("Inconsistent operation type.".into());
    }
    if update.sub_type.is_some() && update.sub_type != current.sub_type {
        return Err("Inconsistent operation subtype.".into());
    }
    if update.name.is_some() && update.name != current.name {
        return Err("Inconsistent operation name.".into());
    }
    if update.parent_id.is_some() && update.parent_id != current.parent_id {
        return Err("Inconsistent parent operation id.".into());
    }
    Ok(())
}

fn check_payload_rules(update: &OperationUpdate) -> Result<(), String> {
    match update.action {
        OperationAction::Fail if update.payload.is_some() => Err("Cannot provide a Payload for FAIL action.".into()),
        OperationAction::Succeed if update.error.is_some() => Err("Cannot provide an Error for SUCCEED action.".into()),
        _ => Ok(()),
    }
}

/// The transition table of §3.3.
fn check_transition(current: Option<&OperationStatus>, update: &OperationUpdate) -> Result<(), String> {
    use OperationAction as A;
    use OperationStatus as S;
    let open = |s: &S| matches!(s, S::Started | S::Ready);
    match (&update.op_type, &update.action) {
        (OperationType::Step, A::Start) => {
            if current.is_some_and(|s| *s != S::Ready) {
                return Err("Invalid current STEP state to start.".into());
            }
        }
        (OperationType::Step, A::Succeed | A::Fail) => {
            if current.is_some_and(|s| !open(s)) {
                return Err("Invalid current STEP state to close.".into());
            }
            check_payload_rules(update)?;
        }
        (OperationType::Step, A::Retry) => {
            if current.is_some_and(|s| !open(s)) {
                return Err("Invalid current STEP state to re-attempt.".into());
            }
            if update.step_options.and_then(|o| o.next_attempt_delay_seconds).is_none() {
                return Err("Invalid StepOptions for the given action.".into());
            }
            if update.error.is_some() && update.payload.is_some() {
                return Err("Cannot provide both error and payload to RETRY a STEP.".into());
            }
        }
        (OperationType::Context, A::Start) => {
            if current.is_some() {
                return Err("Cannot start a CONTEXT that already exist.".into());
            }
        }
        (OperationType::Context, A::Succeed | A::Fail) => {
            if current.is_some_and(|s| *s != S::Started) {
                return Err("Invalid current CONTEXT state to close.".into());
            }
            check_payload_rules(update)?;
        }
        (OperationType::Wait, A::Start) => {
            if current.is_some() {
                return Err("Cannot start a WAIT that already exist.".into());
            }
            let seconds = update.wait_options.and_then(|o| o.wait_seconds);
            if !seconds.is_some_and(|s| (MIN_WAIT_SECONDS..=MAX_WAIT_SECONDS).contains(&s)) {
                return Err("Invalid WaitOptions for the given action.".into());
            }
        }
        (OperationType::Callback, A::Start) => {
            if current.is_some() {
                return Err("Cannot start a CALLBACK that already exist.".into());
            }
        }
        (OperationType::ChainedInvoke, A::Start) => {
            if current.is_some() {
                return Err("Cannot start a CHAINED_INVOKE that already exist.".into());
            }
            if update.chained_invoke_options.as_ref().is_none_or(|o| o.function_name.is_empty()) {
                return Err("Invalid ChainedInvokeOptions for the given action.".into());
            }
        }
        (t @ (OperationType::Wait | OperationType::ChainedInvoke), A::Cancel) => {
            if current != Some(&S::Started) {
                return Err(format!("Invalid current {t} state to cancel."));
            }
        }
        _ => return Err(format!("Invalid action {} for operation type {}.", update.action, update.op_type)),
    }
    Ok(())
}

/// The status an operation has after `action` (for the later updates of the same batch).
fn status_after(action: &OperationAction) -> OperationStatus {
    match action {
        OperationAction::Start => OperationStatus::Started,
        OperationAction::Succeed => OperationStatus::Succeeded,
        OperationAction::Fail => OperationStatus::Failed,
        OperationAction::Retry => OperationStatus::Pending,
        _ => OperationStatus::Cancelled,
    }
}
