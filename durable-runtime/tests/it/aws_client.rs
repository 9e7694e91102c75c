//! `AwsCheckpointClient` against a scripted HTTP/1.1 server that plays the durable-execution service:
//! the requests on the wire, the conversion of responses, the SDK's retries and the error classes.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)] // tests may unwrap; the helpers below are not `#[test]` functions

use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use durable_runtime::checkpoint::aws::AwsCheckpointClient;
use durable_runtime::checkpoint::{CheckpointClient, ErrorClass};
use durable_runtime::protocol::{
    CallbackDetails, CallbackOptions, CheckpointRequest, ErrorObject, Operation, OperationAction, OperationStatus,
    OperationSubType, OperationType, OperationUpdate, StepDetails, Timestamp, WaitDetails,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ARN: &str = "arn:aws:lambda:us-east-1:111122223333:function:orders:$LATEST/durable-execution/order-42/7c0b1f9e-2d44-4a51-8e3a-5b1c9d0e6f21";
const ENCODED_ARN: &str = "arn%3Aaws%3Alambda%3Aus-east-1%3A111122223333%3Afunction%3Aorders%3A%24LATEST%2Fdurable-execution%2Forder-42%2F7c0b1f9e-2d44-4a51-8e3a-5b1c9d0e6f21";
const CLIENT_TOKEN: &str = "5b7f0a3c-6f0e-4a4e-9b55-2d1f7c9e0a11";

/// One scripted answer.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply { status, headers: vec![("content-type", "application/json")], body: body.to_owned() }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Request {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Serves `replies` in order (one per connection, `Connection: close`) and records every request.
async fn serve(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut replies = replies.into_iter();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let Some(request) = read_request(&mut stream).await else { continue };
            log.lock().unwrap().push(request);
            let reply = replies.next().unwrap_or_else(|| reply(500, r#"{"message":"no scripted reply left"}"#));
            write_reply(&mut stream, reply).await;
        }
    });
    (endpoint, seen)
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..header_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Some(Request { method, path: path.to_owned(), query, headers, body: String::from_utf8(body).ok()? })
}

async fn write_reply(stream: &mut TcpStream, reply: Reply) {
    let mut out =
        format!("HTTP/1.1 {} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n", reply.status, reply.body.len());
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A client for `endpoint` with static credentials and `max_attempts` attempts, 1 ms apart.
fn client(endpoint: &str, max_attempts: u32) -> AwsCheckpointClient {
    use aws_sdk_lambda::config::retry::RetryConfig;
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build();
    AwsCheckpointClient::from_client(aws_sdk_lambda::Client::from_conf(config))
}

fn step_start() -> OperationUpdate {
    let mut update = OperationUpdate::new(
        "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        OperationType::Step,
        OperationAction::Start,
    );
    update.name = Some("fetch-name".into());
    update.sub_type = Some(OperationSubType::Step);
    update
}

fn request(client_token: Option<&str>, updates: Vec<OperationUpdate>) -> CheckpointRequest {
    CheckpointRequest { checkpoint_token: "tok-1".into(), client_token: client_token.map(str::to_owned), updates }
}

#[tokio::test]
async fn checkpoint_sends_the_wire_format_and_converts_the_response() {
    let response = r#"{"CheckpointToken":"tok-2","NewExecutionState":{"Operations":[
        {"Id":"6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","Name":"fetch-name",
         "Type":"STEP","SubType":"Step","Status":"STARTED","StartTimestamp":1767225600.12,"StepDetails":{"Attempt":0}},
        {"Id":"cb-1","ParentId":"ctx-1","Name":"approval","Type":"CALLBACK","SubType":"Callback","Status":"STARTED",
         "StartTimestamp":1767225600.4,"CallbackDetails":{"CallbackId":"opaque-callback-id"}},
        {"Id":"w-1","Type":"WAIT","SubType":"Wait","Status":"SUCCEEDED","StartTimestamp":1767225600,
         "EndTimestamp":1767225602.25,"WaitDetails":{"ScheduledEndTimestamp":1767225602.2}},
        {"Id":"s-2","Type":"STEP","SubType":"Step","Status":"FAILED","StartTimestamp":1767225601,
         "StepDetails":{"Attempt":3,"Error":{"ErrorType":"Declined","ErrorMessage":"no","ErrorData":"{}","StackTrace":["a","b"]}}}
    ],"NextMarker":"more"}}"#;
    let (endpoint, seen) = serve(vec![reply(200, response)]).await;
    let mut callback = OperationUpdate::new("cb-1", OperationType::Callback, OperationAction::Start);
    callback.parent_id = Some("ctx-1".into());
    callback.name = Some("approval".into());
    callback.sub_type = Some(OperationSubType::Callback);
    callback.callback_options = Some(CallbackOptions { timeout_seconds: Some(300), heartbeat_timeout_seconds: None });
    let mut fail = OperationUpdate::new("s-2", OperationType::Step, OperationAction::Fail);
    fail.error = Some(ErrorObject {
        error_message: Some("no".into()),
        error_type: Some("Declined".into()),
        error_data: None,
        stack_trace: Some(vec!["a".into()]),
    });

    let out = client(&endpoint, 1)
        .checkpoint(ARN, request(Some(CLIENT_TOKEN), vec![step_start(), callback, fail]))
        .await
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/2025-12-01/durable-executions/{ENCODED_ARN}/checkpoint"));
    assert!(req.query.is_empty());
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("application/json"));
    // Members in the SDK's order, PascalCase, absent ones omitted (no `null`, no zero HeartbeatTimeoutSeconds).
    let expected_body = concat!(
        r#"{"CheckpointToken":"tok-1","ClientToken":"5b7f0a3c-6f0e-4a4e-9b55-2d1f7c9e0a11","Updates":["#,
        r#"{"Id":"6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","Name":"fetch-name","Type":"STEP","SubType":"Step","Action":"START"},"#,
        r#"{"Id":"cb-1","ParentId":"ctx-1","Name":"approval","Type":"CALLBACK","SubType":"Callback","Action":"START","CallbackOptions":{"TimeoutSeconds":300}},"#,
        r#"{"Id":"s-2","Type":"STEP","Action":"FAIL","Error":{"ErrorMessage":"no","ErrorType":"Declined","StackTrace":["a"]}}"#,
        r#"]}"#
    );
    assert_eq!(req.body, expected_body);

    assert_eq!(out.checkpoint_token.as_deref(), Some("tok-2"));
    let state = out.new_execution_state.unwrap();
    assert_eq!(state.next_marker.as_deref(), Some("more"));
    let ops = state.operations;
    assert_eq!(ops.len(), 4);

    let mut step = Operation::new(
        "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        OperationType::Step,
        OperationStatus::Started,
    );
    step.name = Some("fetch-name".into());
    step.sub_type = Some(OperationSubType::Step);
    step.start_timestamp = Some(Timestamp::from_millis(1_767_225_600_120));
    step.step_details = Some(Box::new(StepDetails { attempt: Some(0), ..StepDetails::default() }));
    assert_eq!(ops[0], step);

    let mut cb = Operation::new("cb-1", OperationType::Callback, OperationStatus::Started);
    cb.parent_id = Some("ctx-1".into());
    cb.name = Some("approval".into());
    cb.sub_type = Some(OperationSubType::Callback);
    cb.start_timestamp = Some(Timestamp::from_millis(1_767_225_600_400));
    cb.callback_details =
        Some(Box::new(CallbackDetails { callback_id: Some("opaque-callback-id".into()), ..Default::default() }));
    assert_eq!(ops[1], cb);

    let mut wait = Operation::new("w-1", OperationType::Wait, OperationStatus::Succeeded);
    wait.sub_type = Some(OperationSubType::Wait);
    wait.start_timestamp = Some(Timestamp::from_millis(1_767_225_600_000));
    wait.end_timestamp = Some(Timestamp::from_millis(1_767_225_602_250));
    wait.wait_details =
        Some(Box::new(WaitDetails { scheduled_end_timestamp: Some(Timestamp::from_millis(1_767_225_602_200)) }));
    assert_eq!(ops[2], wait);

    let failed = ops[3].step_details.clone().unwrap();
    assert_eq!(failed.attempt, Some(3));
    assert_eq!(
        failed.error.map(|e| *e),
        Some(ErrorObject {
            error_message: Some("no".into()),
            error_type: Some("Declined".into()),
            error_data: Some("{}".into()),
            stack_trace: Some(vec!["a".into(), "b".into()]),
        })
    );
}

#[tokio::test]
async fn empty_checkpoints_send_empty_updates_and_may_lack_a_token() {
    let (endpoint, seen) = serve(vec![reply(200, "{}")]).await;
    let out = client(&endpoint, 1).checkpoint(ARN, request(None, vec![])).await.unwrap();
    assert_eq!(out.checkpoint_token, None);
    assert!(out.new_execution_state.unwrap_or_default().operations.is_empty());
    let body = seen.lock().unwrap()[0].json();
    assert_eq!(body["Updates"], serde_json::json!([]));
    // No token given: a fresh one in UUID form is minted.
    let token = body["ClientToken"].as_str().unwrap();
    assert_eq!(token.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
}

#[tokio::test]
async fn a_5xx_is_retried_by_the_sdk_with_the_same_client_token() {
    let ok = r#"{"CheckpointToken":"tok-2","NewExecutionState":{"Operations":[]}}"#;
    let (endpoint, seen) =
        serve(vec![reply(500, r#"{"message":"internal"}"#), reply(200, ok), reply(503, "{}"), reply(200, ok)]).await;
    let client = client(&endpoint, 3);

    let out = client.checkpoint(ARN, request(Some(CLIENT_TOKEN), vec![step_start()])).await.unwrap();
    assert_eq!(out.checkpoint_token.as_deref(), Some("tok-2"));
    // A generated token is minted once per logical request, not once per attempt.
    client.checkpoint(ARN, request(None, vec![step_start()])).await.unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let tokens: Vec<String> = seen.iter().map(|r| r.json()["ClientToken"].as_str().unwrap().to_owned()).collect();
    assert_eq!(tokens[0], CLIENT_TOKEN);
    assert_eq!(tokens[1], CLIENT_TOKEN);
    assert_eq!(tokens[2], tokens[3]);
    assert_ne!(tokens[2], CLIENT_TOKEN);
    assert_eq!(seen[0].body, seen[1].body);
    assert!(seen[1].headers.get("amz-sdk-request").is_some_and(|v| v.contains("attempt=2")));
}

#[tokio::test]
async fn a_stale_token_from_an_emulator_is_retryable() {
    // PyEmu's error body: `Type` instead of `__type`, and no `x-amzn-errortype` header.
    let (endpoint, _) =
        serve(vec![reply(400, r#"{"Type":"InvalidParameterValueException","message":"Invalid checkpoint token"}"#)])
            .await;
    let err = client(&endpoint, 1).checkpoint(ARN, request(None, vec![step_start()])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable, "{err}");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.message(), "Invalid checkpoint token");
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
}

#[tokio::test]
async fn an_invalid_request_is_fatal() {
    let mut rejected = reply(400, r#"{"message":"Invalid parent operation id."}"#);
    rejected.headers.push(("x-amzn-errortype", "InvalidParameterValueException"));
    let (endpoint, _) = serve(vec![rejected]).await;
    let err = client(&endpoint, 1).checkpoint(ARN, request(None, vec![step_start()])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal, "{err}");
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.message(), "Invalid parent operation id.");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retryable_kms_errors_fatal() {
    let mut throttled = reply(429, r#"{"message":"Rate exceeded"}"#);
    throttled.headers.push(("x-amzn-errortype", "TooManyRequestsException"));
    let mut kms = reply(502, r#"{"message":"denied"}"#);
    kms.headers.push(("x-amzn-errortype", "KMSAccessDeniedException"));
    let (endpoint, _) = serve(vec![throttled, reply(429, "{}"), reply(503, "{}"), kms]).await;
    let client = client(&endpoint, 1);
    let mut classes = Vec::new();
    for _ in 0..4 {
        let err = client.checkpoint(ARN, request(None, vec![step_start()])).await.unwrap_err();
        classes.push((err.status(), err.class()));
    }
    assert_eq!(
        classes,
        [
            (Some(429), ErrorClass::Retryable),
            (Some(429), ErrorClass::Retryable),
            (Some(503), ErrorClass::Retryable),
            (Some(502), ErrorClass::Fatal),
        ]
    );
}

#[tokio::test]
async fn an_unreachable_service_is_retryable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&endpoint, 1).checkpoint(ARN, request(None, vec![])).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable, "{err}");
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn get_state_pages_with_query_parameters() {
    let page = r#"{"Operations":[
        {"Id":"exec","Type":"EXECUTION","Status":"STARTED","StartTimestamp":1767225600,
         "ExecutionDetails":{"InputPayload":"{\"orderId\":\"42\"}"}},
        {"Id":"ctx","Type":"CONTEXT","SubType":"RunInChildContext","Status":"SUCCEEDED","StartTimestamp":1767225600.5,
         "ContextDetails":{"ReplayChildren":true,"Result":"1"}}
    ],"NextMarker":"m-2"}"#;
    let (endpoint, seen) = serve(vec![reply(200, page), reply(200, r#"{"Operations":[]}"#)]).await;
    let client = client(&endpoint, 1);

    let first = client.get_state(ARN, "tok/1+=", None).await.unwrap();
    let second = client.get_state(ARN, "tok/1+=", Some("m-2")).await.unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, format!("/2025-12-01/durable-executions/{ENCODED_ARN}/state"));
    let query = |i: usize| seen[i].query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>();
    assert_eq!(query(0), [("CheckpointToken", "tok/1+="), ("MaxItems", "1000")]);
    assert_eq!(query(1), [("CheckpointToken", "tok/1+="), ("Marker", "m-2"), ("MaxItems", "1000")]);

    assert_eq!(first.next_page(), Some("m-2"));
    assert_eq!(first.operations.len(), 2);
    let exec = &first.operations[0];
    assert_eq!(exec.op_type, OperationType::Execution);
    assert_eq!(exec.start_timestamp, Some(Timestamp::from_millis(1_767_225_600_000)));
    assert_eq!(
        exec.execution_details.as_ref().and_then(|d| d.input_payload.as_ref()).map(|p| p.text()).as_deref(),
        Some(r#"{"orderId":"42"}"#)
    );
    let ctx = first.operations[1].context_details.clone().unwrap();
    assert_eq!((ctx.replay_children, ctx.result.as_ref().map(|p| p.text()).as_deref()), (Some(true), Some("1")));
    assert_eq!(second.next_page(), None);
    assert!(second.operations.is_empty());
}
