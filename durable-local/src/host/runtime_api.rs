//! The Lambda Runtime API (`2018-06-01`) one sandbox's process talks to, over HTTP/1.1 on its own
//! listener:
//!
//! - `GET /2018-06-01/runtime/invocation/next` blocks until an invocation is handed to the sandbox,
//!   then answers with the payload and the `Lambda-Runtime-*` headers.
//! - `POST …/invocation/{id}/response` ends the invocation with the body (at most
//!   [`MAX_RESPONSE_BYTES`]; a larger one is `Function.ResponseSizeTooLarge`).
//! - `POST …/invocation/{id}/error` ends it with the `errorType`/`errorMessage` of the body.
//! - `POST …/init/error` fails the invocation in flight and marks the sandbox dead.

use super::process::{Event, SandboxShared};
use bytes::Bytes;
use durable_runtime::protocol::ErrorObject;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Largest response payload of a synchronous invocation (6 MB), as in Lambda.
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// `ErrorType` of an invocation whose response is over [`MAX_RESPONSE_BYTES`].
pub(crate) const RESPONSE_TOO_LARGE_ERROR_TYPE: &str = "Function.ResponseSizeTooLarge";

/// Most of an oversized response read before the connection is dropped.
const MAX_DRAINED_BYTES: usize = 64 * 1024 * 1024;

/// Largest error or init-error body read.
const MAX_ERROR_BYTES: usize = 1024 * 1024;

/// Serves the Runtime API of one sandbox until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<SandboxShared>) {
    use hyper_util::rt::TokioIo;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            // The process going away only ends its connection.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle(shared: &SandboxShared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = request.method().clone();
    match (method, segments.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => next(shared).await,
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, "response"]) => respond(shared, id, request).await,
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let error = read_error(request, "Unhandled").await;
            if shared.finish(id, Err(error)) {
                accepted()
            } else {
                unknown_request(id)
            }
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            shared.init_failed(read_error(request, "Runtime.InitError").await);
            accepted()
        }
        _ => error_response(StatusCode::NOT_FOUND, "InvalidRequest", &format!("no Runtime API route for {path}")),
    }
}

/// Waits for the next event of the sandbox and hands it to the process.
async fn next(shared: &SandboxShared) -> Response<Full<Bytes>> {
    let event: Option<Event> = shared.next_events.lock().await.recv().await;
    let Some(event) = event else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "the sandbox is shutting down");
    };
    let mut response = Response::new(Full::new(Bytes::from(event.payload)));
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("lambda-runtime-aws-request-id", event.request_id),
        ("lambda-runtime-deadline-ms", event.deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", shared.function_arn.clone()),
        ("lambda-runtime-trace-id", trace_id()),
    ];
    for (name, value) in headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn respond(shared: &SandboxShared, id: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match read_response(request.into_body()).await {
        Ok(body) => body,
        // The process went away while sending; its exit ends the invocation.
        Err(e) => {
            return error_response(StatusCode::BAD_REQUEST, "InvalidRequest", &format!("cannot read the body: {e}"))
        }
    };
    match body {
        Some(body) => {
            if shared.finish(id, Ok(body)) {
                accepted()
            } else {
                unknown_request(id)
            }
        }
        None => {
            let error = ErrorObject {
                error_type: Some(RESPONSE_TOO_LARGE_ERROR_TYPE.to_owned()),
                error_message: Some(format!(
                    "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                )),
                ..Default::default()
            };
            shared.finish(id, Err(error));
            error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("the response is over {MAX_RESPONSE_BYTES} bytes"),
            )
        }
    }
}

/// Reads a response body: `None` when it is over [`MAX_RESPONSE_BYTES`]. An oversized body is
/// still read to its end (up to [`MAX_DRAINED_BYTES`]), so that the runtime gets the 413 answer
/// instead of a broken connection, and goes on to its next invocation.
async fn read_response(mut body: Incoming) -> Result<Option<Vec<u8>>, hyper::Error> {
    let mut data = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(chunk) = frame?.into_data() {
            total = total.saturating_add(chunk.len());
            if total <= MAX_RESPONSE_BYTES {
                data.extend_from_slice(&chunk);
            } else if total > MAX_DRAINED_BYTES {
                return Ok(None);
            }
        }
    }
    Ok((total <= MAX_RESPONSE_BYTES).then_some(data))
}

/// The body of an `/error` or `/init/error` request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeError {
    error_type: Option<String>,
    error_message: Option<String>,
    #[serde(default, deserialize_with = "stack_trace")]
    stack_trace: Option<Vec<String>>,
}

/// A stack trace as runtimes send it: a list of lines (or anything else, ignored).
fn stack_trace<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Array(lines) => {
            Some(lines.into_iter().map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned)).collect())
        }
        serde_json::Value::String(text) => Some(text.lines().map(str::to_owned).collect()),
        _ => None,
    })
}

/// The error a runtime reports: the body's `errorType` (else the `Lambda-Runtime-Function-Error-Type`
/// header, else `fallback`) and `errorMessage`.
async fn read_error(request: Request<Incoming>, fallback: &str) -> ErrorObject {
    let header =
        request.headers().get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = Limited::new(request.into_body(), MAX_ERROR_BYTES).collect().await.map(|b| b.to_bytes());
    let parsed = body.as_ref().ok().and_then(|b| serde_json::from_slice::<RuntimeError>(b).ok());
    match parsed {
        Some(error) => ErrorObject {
            error_type: error.error_type.or(header).or_else(|| Some(fallback.to_owned())),
            error_message: error.error_message,
            stack_trace: error.stack_trace,
            ..Default::default()
        },
        None => ErrorObject {
            error_type: header.or_else(|| Some(fallback.to_owned())),
            error_message: body.ok().map(|b| String::from_utf8_lossy(&b).into_owned()).filter(|m| !m.is_empty()),
            ..Default::default()
        },
    }
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, &serde_json::json!({ "status": "OK" }))
}

fn unknown_request(id: &str) -> Response<Full<Bytes>> {
    error_response(StatusCode::BAD_REQUEST, "InvalidRequestID", &format!("no invocation `{id}` is in flight"))
}

fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "errorType": error_type, "errorMessage": message }))
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    response
}

/// An X-Ray trace header, `Root=1-<epoch seconds hex>-<24 hex digits>;Sampled=0`.
fn trace_id() -> String {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let random = durable_runtime::protocol::ids::uuid_v4().replace('-', "");
    let tail = random.get(..24).unwrap_or(&random);
    format!("Root=1-{seconds:08x}-{tail};Sampled=0")
}
