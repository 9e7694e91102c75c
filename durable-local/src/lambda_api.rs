//! The Lambda routes that start, stop and list executions: Invoke (`POST
//! /2015-03-31/functions/{name}/invocations`), StopDurableExecution and
//! ListDurableExecutionsByFunction, as `aws-sdk-lambda`, boto3 and the aws CLI call them.

use super::driver::function_of;
use super::http::{Request, Response};
use super::routes::{api_json, function_arn_of, invalid, memory_error, not_stored};
use super::{wait_finished, Shared};
use durable_runtime::checkpoint::memory::{function_arn, ExecutionStatus, MemoryError};
use durable_runtime::protocol::limits::{MAX_ASYNC_INVOKE_PAYLOAD_BYTES, MAX_SYNC_INVOKE_PAYLOAD_BYTES};
use durable_runtime::protocol::{ErrorObject, OperationType, Timestamp};
use serde_json::{json, Value};

/// Default and largest `MaxItems` of ListDurableExecutionsByFunction.
const LIST_PAGE: usize = 1000;

/// What AWS answers (`InvalidParameterValueException`, 400) to an Invoke of a durable function
/// without a qualifier. Durable executions are pinned to one version of the code, so the caller must
/// name it: a version number, an alias, or `$LATEST`.
const UNQUALIFIED_DURABLE_INVOKE: &str = "You cannot invoke a durable function using an unqualified ARN.";

/// The function name and qualifier of a function label: a name, `name:qualifier`, a function ARN
/// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`) or a partial ARN
/// (`<account>:function:<name>[:<qualifier>]`).
fn split_function(label: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = label.split(':').collect();
    let name_at = if label.starts_with("arn:") {
        parts.iter().position(|p| *p == "function").map(|i| i + 1)
    } else if parts.get(1) == Some(&"function") && parts.len() >= 3 {
        Some(2)
    } else {
        Some(0)
    };
    let Some(name_at) = name_at else { return (label.to_owned(), None) };
    let name = parts.get(name_at).copied().unwrap_or(label).to_owned();
    let qualifier = parts.get(name_at + 1..).filter(|rest| !rest.is_empty()).map(|rest| rest.join(":"));
    (name, qualifier)
}

/// A qualifier the local service accepts: `$LATEST`, a version number or an alias name (1 to 128
/// letters, digits, `-` and `_`). The local service keeps one version of each function, the code it
/// runs now; every version number and alias name stands for it.
fn valid_qualifier(qualifier: &str) -> bool {
    qualifier == "$LATEST"
        || ((1..=128).contains(&qualifier.len())
            && qualifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn not_found(name: &str) -> Response {
    let arn = function_arn(name);
    Response::error(
        404,
        "ResourceNotFoundException",
        &format!("Function not found: {}", arn.trim_end_matches(":$LATEST")),
    )
}

/// Invoke: starts an execution of a hosted function. `RequestResponse` (the default) answers when the
/// execution has finished, with its result (or its error and `X-Amz-Function-Error: Unhandled`);
/// `Event` answers 202 at once. Both carry `X-Amz-Durable-Execution-Arn`.
pub(crate) async fn invoke(shared: &Shared, label: &str, request: &Request) -> Response {
    let (name, path_qualifier) = split_function(label);
    let qualifier = request.query("Qualifier").map(str::to_owned).or(path_qualifier);
    let Some(hosted) = shared.driver.function(&name) else { return not_found(&name) };
    match qualifier.as_deref() {
        None if hosted.durable => return invalid(UNQUALIFIED_DURABLE_INVOKE),
        Some(q) if !valid_qualifier(q) => {
            return invalid(format!(
                "qualifier `{q}` is not `$LATEST`, a version number or an alias name (letters, digits, `-`, `_`)"
            ))
        }
        _ => {}
    }
    let asynchronous = match request.header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => false,
        "Event" => true,
        "DryRun" => return Response::empty(204),
        other => return invalid(format!("InvocationType `{other}` is not one of RequestResponse, Event, DryRun")),
    };
    let limit = if asynchronous { MAX_ASYNC_INVOKE_PAYLOAD_BYTES } else { MAX_SYNC_INVOKE_PAYLOAD_BYTES };
    if request.body.len() > limit {
        return Response::error(
            413,
            "RequestTooLargeException",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        );
    }
    let input = if request.body.iter().all(u8::is_ascii_whitespace) {
        "{}".to_owned()
    } else {
        match std::str::from_utf8(&request.body).ok().filter(|text| serde_json::from_str::<Value>(text).is_ok()) {
            Some(text) => text.to_owned(),
            None => {
                return Response::error(
                    400,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload must be JSON text",
                )
            }
        }
    };
    if !hosted.durable {
        return invoke_plain(hosted.function, input, asynchronous).await;
    }
    let execution_name = request.header("x-amz-durable-execution-name");
    let service = &shared.service;
    let started = shared
        .change(|| async {
            service.start_execution_named(&name, execution_name, Some(input), hosted.execution_timeout)
        })
        .await;
    let started = match started {
        Ok(started) => started,
        Err(e) => return not_stored(&e.to_string()),
    };
    let arn = match started {
        Ok((arn, _)) => arn,
        Err(MemoryError::NameInUse(name)) => {
            return Response::error(
                409,
                "DurableExecutionAlreadyStartedException",
                &format!("an execution named {name} already exists with a different input"),
            )
        }
        Err(error) => return memory_error(&error),
    };
    if asynchronous {
        return Response::empty(202).with_header("x-amz-durable-execution-arn", arn);
    }
    let status = match wait_finished(shared, &arn).await {
        Ok(status) => status,
        Err(e) => return Response::error(500, "ServiceException", &e.to_string()),
    };
    let response = match status {
        ExecutionStatus::Succeeded => {
            let body = shared.service.execution_result(&arn).unwrap_or_default().into_bytes();
            Response::bytes(200, "application/json", body)
        }
        _ => {
            let error = shared.service.execution_error(&arn).unwrap_or_default();
            let body = json!({
                "errorType": error.error_type.unwrap_or_else(|| format!("{status:?}")),
                "errorMessage": error.error_message.unwrap_or_default(),
            });
            Response::json(200, &body).with_header("x-amz-function-error", "Unhandled".to_owned())
        }
    };
    response.with_header("x-amz-durable-execution-arn", arn).with_header("x-amz-executed-version", "$LATEST".to_owned())
}

/// Invoke of a plain function: no durable execution, the function's own response.
async fn invoke_plain(function: std::sync::Arc<dyn crate::Function>, input: String, asynchronous: bool) -> Response {
    let request_id = durable_runtime::protocol::ids::uuid_v4();
    if asynchronous {
        tokio::spawn(async move {
            if let Err(error) = function.invoke(input.into_bytes(), &request_id).await {
                tracing::warn!(?error, "an asynchronous invocation of a plain function failed");
            }
        });
        return Response::empty(202);
    }
    let response = match function.invoke(input.into_bytes(), &request_id).await {
        Ok(body) => Response::bytes(200, "application/json", body),
        Err(error) => {
            let body = json!({
                "errorType": error.error_type.unwrap_or_default(),
                "errorMessage": error.error_message.unwrap_or_default(),
            });
            Response::json(200, &body).with_header("x-amz-function-error", "Unhandled".to_owned())
        }
    };
    response.with_header("x-amz-executed-version", "$LATEST".to_owned())
}

/// StopDurableExecution: the body is an optional `ErrorObject`.
pub(crate) async fn stop(shared: &Shared, arn: &str, body: &[u8]) -> Response {
    let error = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<ErrorObject>(body) {
            Ok(error) => Some(error),
            Err(e) => return invalid(format!("malformed ErrorObject: {e}")),
        }
    };
    let service = &shared.service;
    let stopped = match shared.change(|| async { service.stop_execution(arn, error) }).await {
        Ok(stopped) => stopped,
        Err(e) => return not_stored(&e.to_string()),
    };
    match stopped {
        Ok(at) => api_json(json!({ "StopTimestamp": at.as_millis() })),
        Err(MemoryError::ExecutionComplete(_)) => Response::error(
            409,
            "ResourceConflictException",
            &format!("durable execution {arn} has already finished and cannot be stopped"),
        ),
        Err(error) => memory_error(&error),
    }
}

/// An ISO-8601 query timestamp (`StartedAfter`, `StartedBefore`).
fn query_time(request: &Request, name: &str) -> Result<Option<Timestamp>, Response> {
    let Some(text) = request.query(name) else { return Ok(None) };
    Timestamp::parse_iso8601(text)
        .map(Some)
        .ok_or_else(|| invalid(format!("{name} must be an ISO-8601 date-time, like 2026-01-31T12:00:00Z")))
}

/// ListDurableExecutionsByFunction: the function's executions, oldest first (newest first with
/// `ReverseOrder=true`), filtered by name, statuses and start time, in pages of `MaxItems`.
pub(crate) fn list(shared: &Shared, label: &str, request: &Request) -> Response {
    let (name, _) = split_function(label);
    let service = &shared.service;
    let mut statuses = Vec::new();
    for status in request.query_all("Statuses") {
        match serde_json::from_value::<ExecutionStatus>(json!(status)) {
            Ok(status) => statuses.push(status),
            Err(_) => {
                return invalid(format!(
                    "Statuses member `{status}` is not one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED"
                ))
            }
        }
    }
    let (after, before) = match (query_time(request, "StartedAfter"), query_time(request, "StartedBefore")) {
        (Ok(after), Ok(before)) => (after, before),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    let max = match request.query("MaxItems").map(str::parse::<usize>) {
        None => LIST_PAGE,
        Some(Ok(n)) if n > 0 => n.min(LIST_PAGE),
        Some(_) => return invalid("MaxItems must be a positive integer"),
    };
    let execution_name = request.query("DurableExecutionName");
    let mut rows: Vec<(Timestamp, String, Value)> = Vec::new();
    for arn in service.executions() {
        if function_of(&arn) != name {
            continue;
        }
        let Some(status) = service.execution_status(&arn) else { continue };
        let exec_name = service.execution_name(&arn).unwrap_or_default();
        let op = service.operations(&arn).into_iter().find(|op| op.op_type == OperationType::Execution);
        let start = op.as_ref().and_then(|op| op.start_timestamp).unwrap_or(Timestamp::from_millis(0));
        let keep = (statuses.is_empty() || statuses.contains(&status))
            && execution_name.is_none_or(|n| n == exec_name)
            && after.is_none_or(|t| start > t)
            && before.is_none_or(|t| start < t);
        if !keep {
            continue;
        }
        let mut row = json!({
            "DurableExecutionArn": arn,
            "DurableExecutionName": exec_name,
            "FunctionArn": function_arn_of(&arn),
            "Status": status,
            "StartTimestamp": start.as_millis(),
        });
        if let Some(end) = op.and_then(|op| op.end_timestamp) {
            row["EndTimestamp"] = json!(end.as_millis());
        }
        rows.push((start, arn, row));
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    if request.query("ReverseOrder").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        rows.reverse();
    }
    let start = match request.query("Marker").filter(|m| !m.is_empty()).map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("invalid Marker"),
    };
    let total = rows.len();
    let end = start.saturating_add(max).min(total);
    let page: Vec<Value> =
        rows.into_iter().skip(start).take(end.saturating_sub(start)).map(|(_, _, row)| row).collect();
    let mut out = json!({ "DurableExecutions": page });
    if end < total {
        out["NextMarker"] = json!(end.to_string());
    }
    api_json(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_labels() {
        assert_eq!(split_function("orders"), ("orders".into(), None));
        assert_eq!(split_function("orders:$LATEST"), ("orders".into(), Some("$LATEST".into())));
        assert_eq!(split_function("arn:aws:lambda:us-east-1:1:function:orders"), ("orders".into(), None));
        assert_eq!(
            split_function("arn:aws:lambda:us-east-1:1:function:orders:live"),
            ("orders".into(), Some("live".into()))
        );
        assert_eq!(split_function("123456789012:function:orders"), ("orders".into(), None));
        assert_eq!(split_function("123456789012:function:orders:7"), ("orders".into(), Some("7".into())));
    }

    #[test]
    fn qualifiers() {
        for ok in ["$LATEST", "7", "live", "blue-green_2"] {
            assert!(valid_qualifier(ok), "{ok}");
        }
        for bad in ["", "LATEST$", "a:b", "x y", &"a".repeat(129)] {
            assert!(!valid_qualifier(bad), "{bad}");
        }
    }
}
