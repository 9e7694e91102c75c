//! The checkpoint API: single-use tokens, state pages, pruned children, idempotent retries, and the
//! `CheckpointClient` trait over the same service.

use super::{u, wait, with_parent, with_payload, Fixture};
use crate::checkpoint::CheckpointClient;
use crate::protocol::{CheckpointRequest, ContextOptions, OperationAction as A, OperationType as T};
use std::time::Duration;

#[test]
fn tokens_are_single_use_and_only_the_latest_is_valid() {
    let mut f = Fixture::new();
    let first = f.token.clone();
    f.cp(vec![u("a", T::Step, A::Start)]).unwrap();
    assert_ne!(f.token, first);
    let stale = CheckpointRequest { checkpoint_token: first, client_token: None, updates: vec![] };
    let err = f.service.checkpoint_now(&f.arn, stale).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!((err.status(), err.code()), (Some(400), Some("InvalidParameterValueException")));
    assert!(err.message().starts_with("Invalid Checkpoint Token"));
    // An empty poll is legal and rotates the token.
    let before = f.token.clone();
    f.cp(vec![]).unwrap();
    assert_ne!(f.token, before);
    // The service rotating behind the caller's back.
    f.service.expire_token(&f.arn);
    assert!(f.cp(vec![]).unwrap_err().is_retryable());
    // A new invocation's token invalidates the old one.
    let old = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    let new = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    f.token = old;
    assert!(f.cp(vec![]).unwrap_err().is_retryable());
    f.token = new;
    f.cp(vec![]).unwrap();
}

#[test]
fn invocation_input_and_get_state_page_the_state() {
    let mut f = Fixture::new();
    f.cp((1..=4).map(|i| u(&format!("s{i}"), T::Step, A::Start)).collect()).unwrap();
    f.service.set_page_size(2);
    let input = f.service.invocation_input(&f.arn).unwrap();
    let token = input.checkpoint_token.clone();
    let mut ids: Vec<String> = input.initial_execution_state.operations.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids.len(), 2);
    let mut marker = input.initial_execution_state.next_marker.clone();
    let mut pages = 1;
    while let Some(m) = marker {
        let page = f.service.get_state_now(&f.arn, &token, Some(&m)).unwrap();
        ids.extend(page.operations.iter().map(|o| o.id.clone()));
        marker = page.next_page().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(&ids[1..], ["s1", "s2", "s3", "s4"]);
    // The first page again, without a marker; paging does not consume the token.
    assert_eq!(f.service.get_state_now(&f.arn, &token, None).unwrap().operations.len(), 2);
    f.token = token.clone();
    f.cp(vec![]).unwrap();
    let err = f.service.get_state_now(&f.arn, &token, None).unwrap_err();
    assert!(err.is_retryable(), "a stale token: {err}");
    assert!(f
        .service
        .get_state_now(&f.arn, &f.token, Some("garbage"))
        .unwrap_err()
        .message()
        .contains("Invalid marker"));
}

#[test]
fn children_of_completed_contexts_are_pruned_unless_replay_children() {
    let mut f = Fixture::new();
    f.cp(vec![
        u("c", T::Context, A::Start),
        with_parent(u("c-1", T::Context, A::Start), "c"),
        with_parent(u("c-1-1", T::Step, A::Start), "c-1"),
        u("r", T::Context, A::Start),
        with_parent(u("r-1", T::Step, A::Start), "r"),
    ])
    .unwrap();
    let visible = |f: &Fixture| -> Vec<String> {
        let input = f.service.invocation_input(&f.arn).unwrap();
        input.initial_execution_state.operations.into_iter().skip(1).map(|o| o.id).collect()
    };
    assert_eq!(visible(&f), ["c", "c-1", "c-1-1", "r", "r-1"]);
    f.token = f.service.invocation_input(&f.arn).unwrap().checkpoint_token;
    let mut replay = u("r", T::Context, A::Succeed);
    replay.context_options = Some(ContextOptions { replay_children: Some(true) });
    f.cp(vec![with_payload(u("c", T::Context, A::Succeed), "1"), replay]).unwrap();
    assert_eq!(visible(&f), ["c", "r", "r-1"], "grandchildren go too; ReplayChildren keeps them");
    assert_eq!(f.op("r").context_details.unwrap().replay_children, Some(true));
    assert_eq!(f.service.operations(&f.arn).len(), 6, "the records are kept");
}

#[test]
fn a_retried_request_with_the_same_client_token_gets_the_original_response() {
    let mut f = Fixture::new();
    let request = CheckpointRequest {
        checkpoint_token: f.token.clone(),
        client_token: Some("ct-1".into()),
        updates: vec![u("a", T::Step, A::Start)],
    };
    let first = f.service.checkpoint_now(&f.arn, request.clone()).unwrap();
    let again = f.service.checkpoint_now(&f.arn, request).unwrap();
    assert_eq!(first, again);
    assert_eq!(f.service.history(&f.arn).len(), 2, "applied once");
    f.token = first.checkpoint_token.unwrap();
    f.cp(vec![]).unwrap();
}

#[tokio::test]
async fn the_client_trait_goes_through_the_same_service() {
    let f = Fixture::new();
    f.service.set_latency(Duration::from_millis(5));
    let client: std::sync::Arc<dyn CheckpointClient> = std::sync::Arc::new(f.service.clone());
    let request =
        CheckpointRequest { checkpoint_token: f.token.clone(), client_token: None, updates: vec![wait("w", 1)] };
    let started = std::time::Instant::now();
    let response = client.checkpoint(&f.arn, request).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(5));
    let token = response.checkpoint_token.unwrap();
    let state = client.get_state(&f.arn, &token, None).await.unwrap();
    assert_eq!(state.operations.len(), 2);
}
