//! Positional faults: each kind at the call it was set for, and what it leaves applied.

use super::{u, with_parent, Fixture};
use crate::checkpoint::memory::Fault;
use crate::checkpoint::CheckpointClient;
use crate::protocol::{CheckpointRequest, OperationAction as A, OperationType as T};
use std::time::{Duration, Instant};

fn named(mut update: crate::protocol::OperationUpdate, name: &str) -> crate::protocol::OperationUpdate {
    update.name = Some(name.into());
    update
}

#[test]
fn calls_are_counted_from_zero_and_a_fault_fires_only_at_its_position() {
    let mut f = Fixture::new();
    f.service.fault_at(1, Fault::ServiceError);
    assert_eq!(f.service.checkpoint_calls(), 0);
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
    assert!(f.cp(vec![u("b", T::Step, A::Start)]).is_err());
    f.cp(vec![u("b", T::Step, A::Start)]).unwrap();
    assert_eq!(f.service.checkpoint_calls(), 3);
    let hits = f.service.fault_hits();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].call, &hits[0].fault, hits[0].execution_arn.as_str()), (1, &Fault::ServiceError, &*f.arn));
}

#[test]
fn crash_before_applies_nothing_and_kills_the_token() {
    let mut f = Fixture::new();
    f.service.fault_at(0, Fault::CrashBefore);
    let err = f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(f.service.operation(&f.arn, "a").is_none());
    // The dead invocation's token is gone: nothing it sends later is applied.
    assert!(f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err().message().starts_with("Invalid Checkpoint Token"));
    assert!(f.service.operation(&f.arn, "a").is_none());
}

#[test]
fn crash_after_applies_the_whole_request_and_kills_the_token() {
    let mut f = Fixture::new();
    f.service.fault_at(0, Fault::CrashAfter);
    let err = f.cp(vec![u("a", T::Step, A::Start), u("b", T::Step, A::Start)]).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(f.service.operation(&f.arn, "a").is_some());
    assert!(f.service.operation(&f.arn, "b").is_some());
    assert!(f.cp(vec![]).unwrap_err().message().starts_with("Invalid Checkpoint Token"));
}

#[test]
fn a_service_error_applies_nothing_and_keeps_the_token() {
    let mut f = Fixture::new();
    f.service.fault_at(0, Fault::ServiceError);
    let err = f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!((err.status(), err.code()), (Some(500), Some("ServiceException")));
    assert!(f.service.operation(&f.arn, "a").is_none());
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
}

#[test]
fn a_stale_token_applies_nothing_and_rotates_the_token() {
    let mut f = Fixture::new();
    f.service.fault_at(0, Fault::StaleToken);
    let err = f.cp(vec![u("a", T::Step, A::Start)]).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!((err.status(), err.code()), (Some(400), Some("InvalidParameterValueException")));
    assert!(err.message().starts_with("Invalid Checkpoint Token"));
    assert!(f.service.operation(&f.arn, "a").is_none());
    assert!(f.cp(vec![]).is_err(), "the old token stays stale");
}

#[test]
fn a_lost_response_is_applied_and_a_retry_with_the_client_token_gets_it() {
    let f = Fixture::new();
    f.service.fault_at(0, Fault::LostResponse);
    let request = CheckpointRequest {
        checkpoint_token: f.token.clone(),
        client_token: Some("ct-1".into()),
        updates: vec![u("a", T::Step, A::Start)],
    };
    let err = f.service.checkpoint_now(&f.arn, request.clone()).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(f.service.operation(&f.arn, "a").is_some(), "applied");
    let response = f.service.checkpoint_now(&f.arn, request).unwrap();
    assert!(response.checkpoint_token.is_some());
    assert_eq!(f.service.history(&f.arn).iter().filter(|e| e.id.as_deref() == Some("a")).count(), 1);
}

#[tokio::test]
async fn latency_delays_only_the_call_at_its_position() {
    let f = Fixture::new();
    f.service.fault_at(0, Fault::Latency(Duration::from_millis(40)));
    let request = CheckpointRequest { checkpoint_token: f.token.clone(), client_token: None, updates: vec![] };
    let started = Instant::now();
    let response = f.service.checkpoint(&f.arn, request).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(40));
    let request =
        CheckpointRequest { checkpoint_token: response.checkpoint_token.unwrap(), client_token: None, updates: vec![] };
    let started = Instant::now();
    f.service.checkpoint(&f.arn, request).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(40));
}

#[test]
fn a_hit_names_the_operation_and_its_enclosing_contexts() {
    let mut f = Fixture::new();
    f.cp(vec![named(u("c", T::Context, A::Start), "order")]).unwrap();
    f.service.fault_at(1, Fault::CrashBefore);
    let _ = f.cp(vec![named(with_parent(u("s", T::Step, A::Start), "c"), "charge")]);
    let hit = &f.service.fault_hits()[0];
    assert_eq!(hit.updates[0].path, vec!["order".to_owned()]);
    assert_eq!(hit.updates[0].to_string(), "START STEP/Step `charge` in `order`");
}
