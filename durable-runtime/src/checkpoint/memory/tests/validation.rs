//! Whole-batch validation: each rule with its emulator message, the legal batch shapes, atomic
//! rejection, and the size limits.

use super::{retry, u, wait, with_error, with_parent, with_payload, Fixture};
use crate::checkpoint::memory::validate::{MAX_ERROR_BYTES, MAX_PAYLOAD_BYTES};
use crate::checkpoint::memory::ExecutionStatus;
use crate::protocol::{
    ErrorObject, OperationAction as A, OperationStatus as S, OperationSubType, OperationType as T, OperationUpdate,
};

#[test]
fn each_validation_rule_rejects_with_the_emulator_message() {
    let mut f = Fixture::new();
    f.cp(vec![u("s", T::Step, A::Start), u("c", T::Context, A::Start), wait("w", 5)]).unwrap();
    let cases: Vec<(Vec<OperationUpdate>, &str)> = vec![
        (vec![u("x", T::Step, A::Start), u("x", T::Step, A::Start)], "Cannot update the same operation twice"),
        (vec![wait("y", 1), u("y", T::Wait, A::Cancel)], "Cannot update the same operation twice"),
        (
            vec![u("z", T::Step, A::Start), retry("z", 1), with_payload(u("z", T::Step, A::Succeed), "1")],
            "Cannot update the same operation twice",
        ),
        (vec![with_parent(u("x", T::Step, A::Start), "nope")], "Invalid parent operation id."),
        (vec![with_parent(u("x", T::Step, A::Start), "s")], "Invalid parent operation id."),
        (
            vec![with_parent(u("x", T::Step, A::Start), "c2"), u("c2", T::Context, A::Start)],
            "Invalid parent operation id.",
        ),
        (
            vec![u("e1", T::Execution, A::Succeed), u("x", T::Step, A::Start)],
            "EXECUTION checkpoint must be the last update.",
        ),
        (
            vec![u("e1", T::Execution, A::Succeed), u("e2", T::Execution, A::Succeed)],
            "Cannot checkpoint multiple EXECUTION",
        ),
        (vec![u("e1", T::Execution, A::Start)], "Invalid action START for operation type EXECUTION."),
        (vec![u("x", T::Callback, A::Cancel)], "Invalid action CANCEL for operation type CALLBACK."),
        (vec![u("x", T::Context, A::Retry)], "Invalid action RETRY for operation type CONTEXT."),
        (vec![u("s", T::Step, A::Start)], "Invalid current STEP state to start."),
        (vec![u("s", T::Step, A::Retry)], "Invalid StepOptions for the given action."),
        (vec![with_payload(retry("s", 1), "state")], "Cannot provide both error and payload to RETRY a STEP."),
        (vec![with_payload(u("s", T::Step, A::Fail), "1")], "Cannot provide a Payload for FAIL action."),
        (vec![with_error(u("s", T::Step, A::Succeed), "E")], "Cannot provide an Error for SUCCEED action."),
        (vec![with_payload(u("e", T::Execution, A::Fail), "1")], "Cannot provide a Payload for FAIL action."),
        (vec![u("c", T::Context, A::Start)], "Cannot start a CONTEXT that already exist."),
        (vec![u("w", T::Wait, A::Start)], "Cannot start a WAIT that already exist."),
        (vec![wait("w0", 0)], "Invalid WaitOptions for the given action."),
        (vec![u("x", T::Wait, A::Cancel)], "Invalid current WAIT state to cancel."),
        (vec![u("x", T::ChainedInvoke, A::Start)], "Invalid ChainedInvokeOptions for the given action."),
        (vec![u("s", T::Wait, A::Cancel)], "Inconsistent operation type."),
        (
            vec![{
                let mut x = u("s", T::Step, A::Succeed);
                x.sub_type = Some(OperationSubType::WaitForCondition);
                x
            }],
            "Inconsistent operation subtype.",
        ),
        (
            vec![{
                let mut x = u("s", T::Step, A::Succeed);
                x.name = Some("other".into());
                x
            }],
            "Inconsistent operation name.",
        ),
        (vec![with_parent(u("s", T::Step, A::Succeed), "c")], "Inconsistent parent operation id."),
        (vec![u("x", T::Unknown("TELEPORT".into()), A::Start)], "Invalid operation type"),
    ];
    let history_len = f.service.history(&f.arn).len();
    for (updates, expected) in cases {
        let message = f.reject(updates.clone());
        assert!(message.contains(expected), "{updates:?}: `{message}` should contain `{expected}`");
    }
    assert_eq!(f.service.history(&f.arn).len(), history_len, "rejections record nothing");
    // Closing a closed CONTEXT / WAIT.
    f.cp(vec![with_payload(u("c", T::Context, A::Succeed), "1")]).unwrap();
    assert!(f
        .reject(vec![with_payload(u("c", T::Context, A::Succeed), "1")])
        .contains("Invalid current CONTEXT state to close."));
    f.cp(vec![with_payload(u("s", T::Step, A::Succeed), "1")]).unwrap();
    assert!(f.reject(vec![retry("s", 1)]).contains("Invalid current STEP state to re-attempt."));
    assert!(f.reject(vec![with_parent(u("k", T::Step, A::Start), "s")]).contains("Invalid parent operation id."));
}

#[test]
fn legal_batches_pair_start_with_one_completion_and_parent_in_the_same_batch() {
    let mut f = Fixture::new();
    f.cp(vec![
        u("c", T::Context, A::Start),
        with_parent(u("c-1", T::Step, A::Start), "c"),
        with_payload(with_parent(u("c-1", T::Step, A::Succeed), "c"), "\"x\""),
        with_payload(u("c", T::Context, A::Succeed), "\"x\""),
        with_payload(u("d", T::Context, A::Succeed), "1"), // CONTEXT SUCCEED from absent
        with_payload(u("s", T::Step, A::Succeed), "2"),    // STEP from absent: no state check
    ])
    .unwrap();
    assert_eq!(f.op("c-1").status, S::Succeeded);
    assert_eq!(f.op("d").status, S::Succeeded);
    assert_eq!(f.op("s").step_details.unwrap().attempt, Some(1));
}

#[test]
fn a_rejected_batch_applies_nothing_and_keeps_the_token() {
    let mut f = Fixture::new();
    let before_ops = f.service.operations(&f.arn);
    let before_history = f.service.history(&f.arn);
    let token = f.token.clone();
    f.reject(vec![u("a", T::Step, A::Start), wait("b", 1), u("a", T::Step, A::Start)]);
    assert_eq!(f.service.operations(&f.arn), before_ops);
    assert_eq!(f.service.history(&f.arn), before_history);
    assert_eq!(f.service.next_timer(&f.arn), None);
    assert_eq!(f.token, token);
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
    assert_eq!(f.service.requests(&f.arn).len(), 2, "rejected requests are logged too");
}

#[test]
fn payload_and_error_limits_name_the_limit() {
    let mut f = Fixture::new();
    let big = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    let message = f.reject(vec![with_payload(u("a", T::Step, A::Succeed), &big)]);
    assert!(message.contains("1048576 bytes"), "{message}");
    let mut update = u("a", T::Step, A::Fail);
    update.error = Some(ErrorObject { error_message: Some("e".repeat(MAX_ERROR_BYTES)), ..Default::default() });
    assert!(f.reject(vec![update]).contains("less than 32768 bytes"));
    // EXECUTION results may exceed 1 MB.
    let response = f.cp(vec![with_payload(u("r", T::Execution, A::Succeed), &big)]).unwrap();
    assert_eq!(response.checkpoint_token, None, "a finished execution issues no token");
    assert_eq!(f.service.execution_status(&f.arn), Some(ExecutionStatus::Succeeded));
    assert_eq!(f.service.execution_result(&f.arn).map(|r| r.len()), Some(big.len()));
}
