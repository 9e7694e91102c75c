//! The control-plane routes (protocol §2.1) over the in-memory service: request bodies in, JSON
//! responses out, with timestamps as epoch seconds and errors as AWS JSON errors.

use super::http::{Request, Response};
use super::{lambda_api, Shared};
use durable_runtime::checkpoint::memory::MemoryError;
use durable_runtime::checkpoint::{CheckpointClient, CheckpointError};
use durable_runtime::protocol::{CheckpointRequest, CheckpointResponse, ErrorObject, OperationType};
use serde_json::{json, Map, Value};

/// The API version prefix of every control-plane path.
const VERSION: &str = "2025-12-01";

/// The API version prefix of Invoke.
const INVOKE_VERSION: &str = "2015-03-31";

/// Default and largest `MaxItems` of the history route.
const HISTORY_PAGE: usize = 1000;

/// Answers one request.
pub(crate) async fn handle(shared: &Shared, request: Request) -> Response {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    match segments.as_slice() {
        ["health"] => Response::json(200, &json!({ "status": "healthy" })),
        [INVOKE_VERSION, "functions", function, "invocations"] => match method {
            "POST" => lambda_api::invoke(shared, function, &request).await,
            _ => method_not_allowed(method),
        },
        [VERSION, "functions", function, "durable-executions"] => match method {
            "GET" => lambda_api::list(shared, function, &request),
            _ => method_not_allowed(method),
        },
        [VERSION, "durable-executions", arn, rest @ ..] => match (method, rest) {
            ("POST", ["checkpoint"]) => checkpoint(shared, arn, &request).await,
            ("POST", ["stop"]) => lambda_api::stop(shared, arn, &request.body).await,
            ("GET", ["state"]) => state(shared, arn, &request),
            ("GET", []) => execution(shared, arn),
            ("GET", ["history"]) => history(shared, arn, &request),
            (_, ["checkpoint" | "state" | "history" | "stop"] | []) => method_not_allowed(method),
            _ => unknown_route(),
        },
        [VERSION, "durable-execution-callbacks", id, action] => {
            if method != "POST" {
                return method_not_allowed(method);
            }
            callback(shared, id, action, &request.body).await
        }
        _ => unknown_route(),
    }
}

fn unknown_route() -> Response {
    Response::error(404, "UnknownOperationException", "no such route in the local durable service")
}

fn method_not_allowed(method: &str) -> Response {
    Response::error(405, "MethodNotAllowedException", &format!("method {method} is not allowed on this route"))
}

pub(crate) fn invalid(message: impl AsRef<str>) -> Response {
    Response::error(400, "InvalidParameterValueException", message.as_ref())
}

/// A service error as the AWS service sends it.
fn checkpoint_error(error: &CheckpointError) -> Response {
    let status = error.status().unwrap_or(500);
    let code =
        error.code().unwrap_or(if status >= 500 { "ServiceException" } else { "InvalidParameterValueException" });
    Response::error(status, code, error.message())
}

pub(crate) fn memory_error(error: &MemoryError) -> Response {
    match error {
        MemoryError::UnknownExecution(_) | MemoryError::UnknownCallback(_) => {
            Response::error(404, "ResourceNotFoundException", &error.to_string())
        }
        _ => invalid(error.to_string()),
    }
}

/// Rewrites every numeric `…Timestamp` member (epoch milliseconds in our types) as fractional epoch
/// seconds, the form of API responses.
pub(crate) fn to_api_timestamps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                match member {
                    Value::Number(n) if key.ends_with("Timestamp") => {
                        if let Some(millis) = n.as_i64() {
                            *member = json!(millis as f64 / 1000.0);
                        }
                    }
                    other => to_api_timestamps(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_api_timestamps),
        _ => {}
    }
}

/// The whole history of the execution `arn` as GetDurableExecutionHistory answers it (JSON events,
/// timestamps in epoch seconds); empty for an unknown execution.
pub(crate) fn api_history(service: &durable_runtime::checkpoint::memory::MemoryService, arn: &str) -> Vec<Value> {
    service
        .history(arn)
        .iter()
        .filter_map(|event| serde_json::to_value(event).ok())
        .map(|mut event| {
            to_api_timestamps(&mut event);
            event
        })
        .collect()
}

pub(crate) fn api_json(value: impl serde::Serialize) -> Response {
    match serde_json::to_value(value) {
        Ok(mut value) => {
            to_api_timestamps(&mut value);
            Response::json(200, &value)
        }
        Err(e) => Response::error(500, "ServiceException", &format!("cannot serialize the response: {e}")),
    }
}

/// The answer to a change the store could not write: a retryable service error.
pub(crate) fn not_stored(error: &str) -> Response {
    Response::error(503, "ServiceException", &format!("the local store could not record the change: {error}"))
}

/// From this many updated operations, a checkpoint's answer is serialized while the store commits
/// (see [`Shared::change_then`]).
const LARGE_ANSWER_OPERATIONS: usize = 16;

async fn checkpoint(shared: &Shared, arn: &str, request: &Request) -> Response {
    let body: CheckpointRequest = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(e) => return invalid(format!("malformed CheckpointDurableExecution request: {e}")),
    };
    // A large answer is serialized while the store commits, and sent only once the commit is done.
    let large = |outcome: &Result<CheckpointResponse, CheckpointError>| {
        let updated =
            outcome.as_ref().ok().and_then(|r| r.new_execution_state.as_ref()).map_or(0, |s| s.operations.len());
        updated >= LARGE_ANSWER_OPERATIONS
    };
    let outcome = shared
        .change_then(
            || shared.service.checkpoint(arn, body),
            large,
            |outcome| match outcome {
                Ok(response) => api_json(response),
                Err(error) => checkpoint_error(&error),
            },
        )
        .await;
    shared.notify();
    // Acknowledged means durable: a checkpoint the store did not take is answered retryable and
    // left no trace, so the client's retry (same tokens) is applied once the write succeeds.
    match outcome {
        Ok(Some(answer)) => answer,
        Ok(None) => Response::error(500, "ServiceException", "the answer to a stored checkpoint could not be made"),
        Err(e) => not_stored(&e.to_string()),
    }
}

fn state(shared: &Shared, arn: &str, request: &Request) -> Response {
    let Some(token) = request.query("CheckpointToken") else {
        return invalid("CheckpointToken is required");
    };
    let max_items = match request.query("MaxItems").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) if n > 0 => Some(n),
        Some(_) => return invalid("MaxItems must be a positive integer"),
    };
    match shared.service.get_state_page(arn, token, request.query("Marker"), max_items) {
        Ok(state) => api_json(state),
        Err(error) => checkpoint_error(&error),
    }
}

/// The function ARN (qualified) in an execution ARN: everything before `/durable-execution/`.
pub(crate) fn function_arn_of(arn: &str) -> &str {
    arn.split_once("/durable-execution/").map_or(arn, |(function, _)| function)
}

fn execution(shared: &Shared, arn: &str) -> Response {
    let service = &shared.service;
    let Some(status) = service.execution_status(arn) else {
        return memory_error(&MemoryError::UnknownExecution(arn.to_owned()));
    };
    let op = service.operations(arn).into_iter().find(|op| op.op_type == OperationType::Execution);
    let mut out = Map::new();
    out.insert("DurableExecutionArn".into(), json!(arn));
    out.insert("DurableExecutionName".into(), json!(service.execution_name(arn)));
    out.insert("FunctionArn".into(), json!(function_arn_of(arn)));
    out.insert("Status".into(), json!(status));
    if let Some(op) = &op {
        out.insert("StartTimestamp".into(), json!(op.start_timestamp.map(|t| t.as_millis())));
        if let Some(end) = op.end_timestamp {
            out.insert("EndTimestamp".into(), json!(end.as_millis()));
        }
        if let Some(input) = op.execution_details.as_ref().and_then(|d| d.input_payload.clone()) {
            out.insert("InputPayload".into(), json!(input));
        }
    }
    if let Some(result) = service.execution_result(arn) {
        out.insert("Result".into(), json!(result));
    }
    if let Some(error) = service.execution_error(arn) {
        out.insert("Error".into(), json!(error));
    }
    api_json(Value::Object(out))
}

fn history(shared: &Shared, arn: &str, request: &Request) -> Response {
    let service = &shared.service;
    if service.execution_status(arn).is_none() {
        return memory_error(&MemoryError::UnknownExecution(arn.to_owned()));
    }
    let mut events = service.history(arn);
    if request.query("ReverseOrder").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        events.reverse();
    }
    let start = match request.query("Marker").filter(|m| !m.is_empty()).map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("invalid Marker"),
    };
    let max = match request.query("MaxItems").map(str::parse::<usize>) {
        None => HISTORY_PAGE,
        Some(Ok(n)) if n > 0 => n.min(HISTORY_PAGE),
        Some(_) => return invalid("MaxItems must be a positive integer"),
    };
    let end = start.saturating_add(max).min(events.len());
    let page = events.get(start.min(end)..end).unwrap_or_default();
    let mut out = json!({ "Events": page });
    if end < events.len() {
        out["NextMarker"] = json!(end.to_string());
    }
    api_json(out)
}

/// A callback answer, parsed.
enum Answer {
    Succeed(String),
    Fail(ErrorObject),
    Heartbeat,
}

async fn callback(shared: &Shared, id: &str, action: &str, body: &[u8]) -> Response {
    let answer = match action {
        "succeed" => match String::from_utf8(body.to_vec()) {
            Ok(result) => Answer::Succeed(result),
            Err(_) => return invalid("the callback result is not UTF-8 text"),
        },
        "fail" if body.iter().all(u8::is_ascii_whitespace) => Answer::Fail(ErrorObject::default()),
        "fail" => match serde_json::from_slice::<ErrorObject>(body) {
            Ok(error) => Answer::Fail(error),
            Err(e) => return invalid(format!("malformed ErrorObject: {e}")),
        },
        "heartbeat" => Answer::Heartbeat,
        _ => return unknown_route(),
    };
    let service = &shared.service;
    let outcome = shared
        .change(|| async {
            match answer {
                Answer::Succeed(result) => service.callback_success(id, Some(result)),
                Answer::Fail(error) => service.callback_failure(id, error),
                Answer::Heartbeat => service.callback_heartbeat(id),
            }
        })
        .await;
    shared.notify();
    match outcome {
        Err(e) => not_stored(&e.to_string()),
        Ok(Ok(())) => Response::json(200, &json!({})),
        Ok(Err(error)) => memory_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_epoch_seconds() {
        let mut v = json!({ "StartTimestamp": 1_767_225_600_120_i64, "Payload": "1767225600120",
                            "Ops": [{ "StepDetails": { "NextAttemptTimestamp": 1000 } }] });
        to_api_timestamps(&mut v);
        assert_eq!(v["StartTimestamp"], json!(1_767_225_600.12));
        assert_eq!(v["Payload"], json!("1767225600120"));
        assert_eq!(v["Ops"][0]["StepDetails"]["NextAttemptTimestamp"], json!(1.0));
    }

    #[test]
    fn function_arns() {
        assert_eq!(
            function_arn_of("arn:aws:lambda:us-east-1:1:function:f:$LATEST/durable-execution/n/id"),
            "arn:aws:lambda:us-east-1:1:function:f:$LATEST"
        );
    }
}
