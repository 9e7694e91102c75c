//! Ending invocations: envelope validation, the failed-invocation limit, a finishing envelope, and
//! injected checkpoint failures and crashes.

use super::{u, with_payload, Fixture};
use crate::checkpoint::memory::{CrashPoint, ExecutionStatus, MemoryError};
use crate::checkpoint::CheckpointError;
use crate::protocol::{
    ErrorObject, InvocationOutput, InvocationStatus, OperationAction as A, OperationStatus as S, OperationType as T,
};

#[test]
fn complete_invocation_validates_envelopes_and_fails_after_repeated_failures() {
    let f = Fixture::new();
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending())).unwrap();
    assert_eq!(done.status, ExecutionStatus::Running);
    let error = done.invocation_error.unwrap();
    assert_eq!(error.error_message.as_deref(), Some("Cannot return PENDING status with no pending operations."));
    let both = InvocationOutput { status: InvocationStatus::Failed, result: Some("1".into()), error: None };
    assert!(f.service.complete_invocation(&f.arn, Ok(both)).unwrap().invocation_error.is_some());
    let mut last = None;
    for i in 0..4 {
        f.service.invocation_input(&f.arn).unwrap();
        let error = ErrorObject { error_type: Some(format!("E{i}")), ..Default::default() };
        last = Some(f.service.complete_invocation(&f.arn, Err(error)).unwrap());
    }
    let last = last.unwrap();
    assert_eq!(last.status, ExecutionStatus::Failed, "the sixth consecutive failure fails the execution");
    assert_eq!(f.service.execution_error(&f.arn).unwrap().error_type.as_deref(), Some("E3"));
    assert_eq!(f.service.invocations(&f.arn).len(), 6);
    let history = f.history();
    assert_eq!(history.last().unwrap()["EventType"], "ExecutionFailed");
    assert_eq!(history.iter().filter(|e| e["EventType"] == "InvocationCompleted").count(), 6);
    let again = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending()));
    assert!(matches!(again, Err(MemoryError::ExecutionComplete(_))));
}

#[test]
fn a_successful_envelope_finishes_the_execution() {
    let f = Fixture::new();
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::succeeded("\"hi\"".into()))).unwrap();
    assert_eq!((done.status, done.invocation_error), (ExecutionStatus::Succeeded, None));
    let history = f.history();
    assert_eq!(history.last().unwrap()["ExecutionSucceededDetails"]["Result"]["Payload"], "\"hi\"");
    assert_eq!(f.service.operations(&f.arn)[0].status, S::Succeeded);
}

#[test]
fn injected_failures_and_crashes() {
    let mut f = Fixture::new();
    f.service.fail_next_checkpoints(2, CheckpointError::classify(Some(503), Some("ServiceException"), "down"));
    assert!(f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err().is_retryable());
    assert!(f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err().is_retryable());
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();

    f.service.crash_on(CrashPoint::BeforeApply, |u| u.action == A::Succeed);
    let err = f.cp(vec![u("b", T::Step, A::Start), with_payload(u("b", T::Step, A::Succeed), "1")]).unwrap_err();
    assert!(err.is_retryable());
    assert!(f.service.operation(&f.arn, "b").is_none(), "a request is applied whole or not at all");
    assert!(
        f.cp(vec![]).unwrap_err().message().starts_with("Invalid Checkpoint Token"),
        "the dead invocation's token is gone"
    );
    let done = f.service.complete_invocation(&f.arn, Ok(InvocationOutput::pending())).unwrap();
    assert_eq!(done.invocation_error.unwrap().error_type.as_deref(), Some("Runtime.ExitError"));

    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.service.crash_on(CrashPoint::AfterApply, |u| u.id == "c");
    assert!(f.cp(vec![u("c", T::Step, A::Start), u("d", T::Step, A::Start)]).is_err());
    assert!(f.service.operation(&f.arn, "c").is_some());
    assert!(f.service.operation(&f.arn, "d").is_some(), "the whole request was applied, the response lost");
    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.cp(vec![u("e", T::Step, A::Start)]).unwrap(); // one-shot
}
