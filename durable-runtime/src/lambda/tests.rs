//! The Lambda entry point's services, driven directly and through the hand-over layer.

use super::*;
use crate::checkpoint::{CheckpointError, ErrorClass};
use crate::protocol::{CheckpointRequest, CheckpointResponse, ExecutionState};
use crate::DurableContext;
use serde_json::json;
use std::sync::Mutex;
use tower::{Service, ServiceExt};

/// Accepts every checkpoint; `get_state` fails with a retryable error.
#[derive(Default)]
struct FakeService {
    requests: Mutex<Vec<CheckpointRequest>>,
}

impl CheckpointClient for FakeService {
    fn checkpoint(
        &self,
        _arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>> {
        let mut requests = self.requests.lock().unwrap();
        requests.push(request);
        let token = format!("tok-{}", requests.len() + 1);
        Box::pin(async move {
            Ok(CheckpointResponse {
                checkpoint_token: Some(token),
                new_execution_state: Some(ExecutionState::default()),
            })
        })
    }

    fn get_state(
        &self,
        _arn: &str,
        _token: &str,
        _marker: Option<&str>,
    ) -> BoxFuture<Result<ExecutionState, CheckpointError>> {
        Box::pin(async { Err(CheckpointError::classify(Some(503), Some("ServiceException"), "unavailable")) })
    }
}

fn envelope(input: &str, next_marker: &str) -> serde_json::Value {
    json!({
        "DurableExecutionArn": "arn:aws:lambda:us-east-1:111122223333:function:orders:1/durable-execution/o/inv",
        "CheckpointToken": "tok-1",
        "InitialExecutionState": {
            "Operations": [{
                "Id": "inv", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600000u64,
                "ExecutionDetails": { "InputPayload": input }
            }],
            "NextMarker": next_marker
        }
    })
}

fn event(payload: serde_json::Value) -> LambdaEvent<serde_json::Value> {
    LambdaEvent::new(payload, LambdaContext::default())
}

async fn echo(_ctx: DurableContext, input: serde_json::Value) -> Result<serde_json::Value, crate::Error> {
    Ok(json!({ "echo": input }))
}

async fn declined(_ctx: DurableContext, _input: serde_json::Value) -> Result<(), crate::Error> {
    Err(Box::new(crate::DurableError::with_type("PaymentDeclined", "card expired")))
}

#[test]
fn the_service_is_cloneable_send_and_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>(_: &T) {}
    let svc = service(echo);
    assert_traits(&svc);
    let future: BoxFuture<_> = svc.clone().call(event(json!({})));
    drop(future);
}

#[tokio::test]
async fn a_successful_handler_answers_succeeded() {
    let client = Arc::new(FakeService::default());
    let mut svc = service(echo).client(client.clone());
    let out = svc.ready().await.unwrap().call(event(envelope(r#"{"orderId":"42"}"#, ""))).await.unwrap();
    assert_eq!(out, json!({ "Status": "SUCCEEDED", "Result": r#"{"echo":{"orderId":"42"}}"# }));
}

#[tokio::test]
async fn the_typed_service_answers_what_the_value_service_answers() {
    let client: Arc<dyn CheckpointClient> = Arc::new(FakeService::default());
    let bytes = serde_json::to_vec(&envelope(r#"{"orderId":"42"}"#, "")).unwrap();
    // What `lambda_runtime` does with the request body for the typed service.
    let typed: InvocationInput = serde_json::from_slice(&bytes).unwrap();
    let mut svc = service(echo).client(client.clone()).typed();
    let out = svc.call(LambdaEvent::new(typed, LambdaContext::default())).await.unwrap();
    assert_eq!(out, InvocationOutput::succeeded(r#"{"echo":{"orderId":"42"}}"#.to_owned()));
    let value = service(echo).client(client).call(event(serde_json::from_slice(&bytes).unwrap())).await.unwrap();
    assert_eq!(serde_json::to_value(&out).unwrap(), value);
}

/// Stands in for `lambda_runtime`'s response service under [`HandOverLayer`]: it deserializes the
/// body it is given into the handler's event type, as `lambda_runtime` does, then calls the handler.
struct Deserializing<S>(S, Arc<Mutex<Vec<Vec<u8>>>>);

impl<S> Service<LambdaInvocation> for Deserializing<S>
where
    S: Service<LambdaEvent<serde::de::IgnoredAny>, Future = BoxFuture<Result<InvocationOutput, InvocationError>>>,
{
    type Response = InvocationOutput;
    type Error = InvocationError;
    type Future = BoxFuture<Result<InvocationOutput, InvocationError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: LambdaInvocation) -> Self::Future {
        self.1.lock().unwrap().push(request.body.to_vec());
        let payload = serde_json::from_slice(&request.body).unwrap();
        self.0.call(LambdaEvent::new(payload, request.context))
    }
}

fn invocation(body: Vec<u8>) -> LambdaInvocation {
    let (parts, ()) = http::Response::new(()).into_parts();
    LambdaInvocation { parts, body: bytes::Bytes::from(body), context: LambdaContext::default() }
}

#[tokio::test]
async fn run_reads_the_envelope_from_the_request_bytes_itself() {
    use tower::Layer;
    let client: Arc<dyn CheckpointClient> = Arc::new(FakeService::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler = BodyService { inner: service(echo).client(client) };
    let mut stack = HandOverLayer.layer(Deserializing(handler, seen.clone()));
    let bytes = serde_json::to_vec(&envelope(r#"{"orderId":"42"}"#, "")).unwrap();
    let out = stack.call(invocation(bytes)).await.unwrap();
    assert_eq!(out, InvocationOutput::succeeded(r#"{"echo":{"orderId":"42"}}"#.to_owned()));
    // `lambda_runtime` only ever parses `null`, and nothing is left behind for the next call.
    assert_eq!(*seen.lock().unwrap(), vec![b"null".to_vec()]);
    assert!(BODY.with(|slot| slot.borrow().is_none()));

    let err = stack.call(invocation(b"{\"DurableExecutionArn\": \"\xff\"}".to_vec())).await.unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    let err = stack.call(invocation(br#"{"orderId": "42"}"#.to_vec())).await.unwrap_err();
    assert_eq!(lambda_runtime::Diagnostic::from(err).error_type, "Durable.InvalidEnvelope");
}

#[tokio::test]
async fn the_handler_without_a_body_handed_over_answers_an_invocation_error() {
    let mut handler = BodyService { inner: service(echo).client(Arc::new(FakeService::default())) };
    let event = LambdaEvent::new(serde::de::IgnoredAny, LambdaContext::default());
    let err = handler.call(event).await.unwrap_err();
    assert!(matches!(err, InvocationError::Envelope(_)), "{err}");
}

#[tokio::test]
async fn a_failing_handler_answers_failed_not_an_invocation_error() {
    let client: Arc<dyn CheckpointClient> = Arc::new(FakeService::default());
    let mut svc = service(declined).client(client);
    let out = svc.call(event(envelope("{}", ""))).await.unwrap();
    assert_eq!(out["Status"], "FAILED");
    assert_eq!(out["Error"]["ErrorType"], "PaymentDeclined");
    assert_eq!(out["Error"]["ErrorMessage"], "card expired");
}

#[tokio::test]
async fn a_malformed_envelope_is_an_invocation_error() {
    let mut svc = service(echo).client(Arc::new(FakeService::default()));
    let err = svc.call(event(json!({ "orderId": "42" }))).await.unwrap_err();
    assert!(matches!(err, InvocationError::Envelope(_)), "{err}");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "Durable.InvalidEnvelope");
}

#[tokio::test]
async fn a_retryable_service_failure_is_an_invocation_error() {
    // A second page of state must be fetched; the fake service answers 503.
    let mut svc = service(echo).client(Arc::new(FakeService::default()));
    let err = svc.call(event(envelope("{}", "page-2"))).await.unwrap_err();
    match &err {
        InvocationError::Checkpoint(e) => assert_eq!(e.class(), ErrorClass::Retryable),
        other => panic!("expected a checkpoint error, got {other}"),
    }
    assert_eq!(lambda_runtime::Diagnostic::from(err).error_type, "Durable.CheckpointError");
}

#[tokio::test]
async fn plugins_see_the_lambda_request_id() {
    struct Seen(Mutex<Vec<String>>);
    impl crate::plugin::Plugin for Seen {
        fn on_invocation_start(&self, info: &crate::plugin::InvocationStartInfo) -> crate::plugin::PluginResult {
            self.0.lock().unwrap().push(info.request_id.clone());
            Ok(())
        }
    }
    let seen = Arc::new(Seen(Mutex::new(Vec::new())));
    let client: Arc<dyn CheckpointClient> = Arc::new(FakeService { requests: Mutex::new(Vec::new()) });
    let mut svc = service(echo).options(Options::default().plugin(seen.clone())).client(client);
    let mut context = LambdaContext::default();
    context.request_id = "req-42".to_owned();
    let out = svc.call(LambdaEvent::new(envelope("{}", ""), context)).await.unwrap();
    assert_eq!(out["Status"], "SUCCEEDED");
    assert_eq!(*seen.0.lock().unwrap(), vec!["req-42".to_owned()]);
}
