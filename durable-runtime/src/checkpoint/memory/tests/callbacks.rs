//! Callbacks: minted ids, answers, heartbeats and timeouts.

use super::{u, Fixture};
use crate::checkpoint::memory::MemoryError;
use crate::protocol::{CallbackOptions, OperationAction as A, OperationStatus as S, OperationType as T};
use std::time::Duration;

#[test]
fn callbacks_get_ids_answers_and_timeouts() {
    let mut f = Fixture::new();
    let mut start = u("cb", T::Callback, A::Start);
    start.callback_options = Some(CallbackOptions { timeout_seconds: Some(30), heartbeat_timeout_seconds: Some(10) });
    let mut other = u("cb2", T::Callback, A::Start);
    other.callback_options = Some(CallbackOptions { timeout_seconds: Some(5), heartbeat_timeout_seconds: None });
    let delta = f.cp(vec![start, other]).unwrap().new_execution_state.unwrap().operations;
    let id = delta[0].callback_details.as_ref().unwrap().callback_id.clone().unwrap();
    f.service.advance(Duration::from_secs(6));
    assert_eq!(f.op("cb2").status, S::TimedOut);
    assert_eq!(f.op("cb2").callback_details.unwrap().error.unwrap().error_type.as_deref(), Some("Callback.Timeout"));
    f.service.callback_heartbeat(&id).unwrap();
    f.service.advance(Duration::from_secs(6));
    assert_eq!(f.op("cb").status, S::Started, "the heartbeat re-armed the timeout");
    f.service.callback_success(&id, Some("\"yes\"".into())).unwrap();
    assert_eq!(f.op("cb").callback_details.unwrap().result.as_ref().map(|p| p.text()).as_deref(), Some("\"yes\""));
    assert_eq!(f.service.callback_success(&id, None), Err(MemoryError::CallbackClosed(id.clone())));
    let types: Vec<_> = f.history().iter().map(|e| e["EventType"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        types,
        ["ExecutionStarted", "CallbackStarted", "CallbackStarted", "CallbackTimedOut", "CallbackSucceeded"]
    );
    assert_eq!(f.history()[1]["CallbackStartedDetails"]["Timeout"], 30);
    assert_eq!(f.history()[1]["CallbackStartedDetails"]["HeartbeatTimeout"], 10);
}
