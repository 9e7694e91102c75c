//! The client commands: invoke, list, get, history, callback, stop, env.

use crate::args::{Callback, Get, Global, History, Invoke, List, Stop};
use crate::client::{self, RawBody};
use crate::error::{Call, CliError};
use crate::input;
use aws_sdk_lambda::primitives::{Blob, DateTime};
use aws_sdk_lambda::types::{ErrorObject, ExecutionStatus, InvocationType};
use durable_local::timeline::{self, duration, ellipsize, utc};
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// How often `invoke --follow` reads the history.
const POLL: Duration = Duration::from_millis(250);

/// What the commands share: the endpoint and the client.
pub(crate) struct Context {
    /// The endpoint URL.
    pub(crate) endpoint: String,
    /// The client.
    pub(crate) client: aws_sdk_lambda::Client,
}

impl Context {
    /// The context the global options describe.
    pub(crate) fn new(global: &Global) -> Self {
        let endpoint = global.endpoint.trim_end_matches('/').to_owned();
        let client = client::client(&endpoint, &global.db, !global.no_auth);
        Self { endpoint, client }
    }

    /// A context for `endpoint` with `client`.
    pub(crate) fn with_client(endpoint: &str, client: aws_sdk_lambda::Client) -> Self {
        Self { endpoint: endpoint.to_owned(), client }
    }

    fn call<'a>(&'a self, operation: &'static str, subject: &'a str) -> Call<'a> {
        Call { endpoint: &self.endpoint, operation, subject }
    }
}

/// The terminal width for tables (`COLUMNS`, else 100).
fn width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 20).unwrap_or(100)
}

fn print_json(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn seconds(time: &DateTime) -> f64 {
    time.as_secs_f64()
}

/// A spinner on stderr (hidden when stderr is not a terminal).
fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Whether a function name, ARN or partial ARN already carries a qualifier (`name:live`,
/// `arn:aws:lambda:…:function:name:7`).
fn has_qualifier(function: &str) -> bool {
    let parts: Vec<&str> = function.split(':').collect();
    match parts.iter().position(|p| *p == "function") {
        Some(at) if function.starts_with("arn:") || at == 1 => parts.len() > at + 2,
        _ => parts.len() > 1,
    }
}

/// `durable invoke`. A name without a qualifier is invoked as `$LATEST`: the service, like AWS,
/// refuses an unqualified invoke of a durable function.
pub(crate) async fn invoke(ctx: &Context, args: &Invoke) -> Result<(), CliError> {
    let payload = input::json_payload(args.input.as_deref(), &mut std::io::stdin())?;
    let wait = !args.asynchronous && !args.follow;
    let mut request = ctx
        .client
        .invoke()
        .function_name(&args.name)
        .set_qualifier((!has_qualifier(&args.name)).then(|| "$LATEST".to_owned()))
        .payload(Blob::new(payload))
        .invocation_type(if wait { InvocationType::RequestResponse } else { InvocationType::Event });
    if let Some(name) = &args.execution_name {
        request = request.durable_execution_name(name);
    }
    let bar = wait.then(|| spinner(format!("waiting for {}", args.name)));
    let sent = request.send().await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let output = sent.map_err(|e| ctx.call("Invoke", &format!("function `{}`", args.name)).error(e))?;
    let arn = output.durable_execution_arn().map(str::to_owned);
    if args.asynchronous {
        return match arn {
            Some(arn) => {
                println!("{arn}");
                Ok(())
            }
            None => Err(CliError::Service {
                operation: "Invoke",
                status: Some(u16::try_from(output.status_code()).unwrap_or_default()),
                code: None,
                message: format!("no execution ARN in the answer: is `{}` a durable function?", args.name),
            }),
        };
    }
    if args.follow {
        let arn = arn.ok_or_else(|| CliError::Service {
            operation: "Invoke",
            status: None,
            code: None,
            message: format!("no execution ARN to follow: is `{}` a durable function?", args.name),
        })?;
        eprintln!("execution {arn}");
        return follow(ctx, &arn).await;
    }
    let body = output.payload().map(|p| String::from_utf8_lossy(p.as_ref()).into_owned()).unwrap_or_default();
    if let Some(arn) = &arn {
        eprintln!("execution {arn}");
    }
    println!("{body}");
    match output.function_error() {
        Some(kind) => Err(CliError::ExecutionFailed(format!("with a function error ({kind})"))),
        None => Ok(()),
    }
}

/// `invoke --follow`: a line per operation change until the execution ends, then the timeline.
async fn follow(ctx: &Context, arn: &str) -> Result<(), CliError> {
    let bar = spinner("running".to_owned());
    let mut seen = timeline::fold(&[]);
    loop {
        let events = history_events(ctx, arn).await?;
        let now = timeline::fold(&events);
        for line in now.changes_since(&seen) {
            bar.println(line);
        }
        let running = now.rows.iter().filter(|r| !r.status.is_final()).count();
        bar.set_message(format!("{} operations, {running} open, {} invocations", now.rows.len(), now.invocations));
        seen = now;
        if seen.outcome.is_some() {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    bar.finish_and_clear();
    print!("{}", seen.render(width()));
    let _ = std::io::stdout().flush();
    get(ctx, &Get { arn: arn.to_owned(), json: false }).await?;
    match seen.outcome.as_deref() {
        Some("ExecutionSucceeded") => Ok(()),
        Some(other) => Err(CliError::ExecutionFailed(other.trim_start_matches("Execution").to_lowercase())),
        None => Ok(()),
    }
}

/// All history events of `arn`, as raw JSON, every page.
async fn history_events(ctx: &Context, arn: &str) -> Result<Vec<Value>, CliError> {
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let raw = RawBody::default();
        ctx.client
            .get_durable_execution_history()
            .durable_execution_arn(arn)
            .include_execution_data(true)
            .set_marker(marker.take())
            .customize()
            .interceptor(raw.clone())
            .send()
            .await
            .map_err(|e| ctx.call("GetDurableExecutionHistory", "execution").error(e))?;
        let mut page = raw.json();
        if let Some(Value::Array(items)) = page.get_mut("Events").map(Value::take) {
            events.extend(items);
        }
        marker = page.get("NextMarker").and_then(Value::as_str).filter(|m| !m.is_empty()).map(str::to_owned);
        if marker.is_none() {
            return Ok(events);
        }
    }
}

/// `durable history`.
pub(crate) async fn history(ctx: &Context, args: &History) -> Result<(), CliError> {
    let events = history_events(ctx, &args.arn).await?;
    if args.json {
        return print_json(&Value::Array(events));
    }
    if let Some(path) = &args.svg {
        let svg = timeline::fold(&events).svg();
        if path.as_os_str() == "-" {
            print!("{svg}");
            return Ok(());
        }
        return std::fs::write(path, svg)
            .map_err(|e| CliError::Io(format!("cannot write the SVG to {}: {e}", path.display())));
    }
    print!("{}", timeline::fold(&events).render(width()));
    Ok(())
}

/// `durable get`.
pub(crate) async fn get(ctx: &Context, args: &Get) -> Result<(), CliError> {
    let raw = RawBody::default();
    let execution = ctx
        .client
        .get_durable_execution()
        .durable_execution_arn(&args.arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| ctx.call("GetDurableExecution", "execution").error(e))?;
    if args.json {
        return print_json(&raw.json());
    }
    let started = seconds(execution.start_timestamp());
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<10} {value}\n"));
    line("Execution", execution.durable_execution_name());
    line("ARN", execution.durable_execution_arn());
    line("Function", execution.function_arn());
    line("Status", execution.status().as_str());
    line("Started", &utc(started));
    if let Some(end) = execution.end_timestamp() {
        line("Ended", &format!("{} (after {})", utc(seconds(end)), duration(seconds(end) - started)));
    }
    if let Some(input) = execution.input_payload() {
        line("Input", input);
    }
    if let Some(result) = execution.result() {
        line("Result", result);
    }
    if let Some(error) = execution.error() {
        let kind = error.error_type().unwrap_or("Error");
        line("Error", &format!("{kind}: {}", error.error_message().unwrap_or("")));
        if let Some(data) = error.error_data() {
            line("Data", data);
        }
        for frame in error.stack_trace() {
            line("", frame);
        }
    }
    print!("{out}");
    Ok(())
}

/// `durable list`.
pub(crate) async fn list(ctx: &Context, args: &List) -> Result<(), CliError> {
    let functions = if args.function.is_empty() { function_names(ctx).await? } else { args.function.clone() };
    let mut executions = Vec::new();
    for function in &functions {
        let mut marker: Option<String> = None;
        loop {
            let raw = RawBody::default();
            let mut request =
                ctx.client.list_durable_executions_by_function().function_name(function).set_marker(marker.take());
            for status in &args.status {
                request = request.statuses(ExecutionStatus::from(status.as_api()));
            }
            request
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(|e| ctx.call("ListDurableExecutionsByFunction", "function").error(e))?;
            let mut page = raw.json();
            if let Some(Value::Array(items)) = page.get_mut("DurableExecutions").map(Value::take) {
                executions.extend(items);
            }
            marker = page.get("NextMarker").and_then(Value::as_str).filter(|m| !m.is_empty()).map(str::to_owned);
            if marker.is_none() {
                break;
            }
        }
    }
    let start = |e: &Value| e.get("StartTimestamp").and_then(Value::as_f64).unwrap_or_default();
    executions.sort_by(|a, b| start(b).total_cmp(&start(a)));
    if args.json {
        return print_json(&Value::Array(executions));
    }
    print!("{}", execution_table(&executions));
    Ok(())
}

/// The functions to list when `--function` is not given: those of `durable.toml`.
// merge: ask the service (ListFunctions) once the host serves it.
async fn function_names(_ctx: &Context) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string("durable.toml").unwrap_or_default();
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(CliError::Input(
            "which function? pass --function NAME (repeatable): the service lists executions per function, \
             and there is no durable.toml here to take the names from"
                .to_owned(),
        ));
    }
    Ok(names)
}

/// The `list` table: status, function, name, start, duration, ARN.
fn execution_table(executions: &[Value]) -> String {
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let time = |e: &Value, k: &str| e.get(k).and_then(Value::as_f64);
    let mut rows = vec![["STATUS", "FUNCTION", "NAME", "STARTED", "DURATION", "ARN"].map(str::to_owned)];
    for e in executions {
        let function = text(e, "FunctionArn");
        let function = function.split(":function:").nth(1).unwrap_or(&function).split(':').next().unwrap_or("");
        let start = time(e, "StartTimestamp");
        let took = match (start, time(e, "EndTimestamp")) {
            (Some(start), Some(end)) => duration(end - start),
            _ => "…".to_owned(),
        };
        rows.push([
            text(e, "Status"),
            ellipsize(function, 24),
            ellipsize(&text(e, "DurableExecutionName"), 36),
            start.map(utc).unwrap_or_default(),
            took,
            text(e, "DurableExecutionArn"),
        ]);
    }
    let mut widths = [0; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if executions.is_empty() {
        out.push_str("no executions\n");
    }
    out
}

fn error_object(error_type: Option<&str>, message: Option<&str>, data: Option<String>) -> ErrorObject {
    ErrorObject::builder()
        .set_error_type(error_type.map(str::to_owned))
        .set_error_message(message.map(str::to_owned))
        .set_error_data(data)
        .build()
}

/// `durable callback`.
pub(crate) async fn callback(ctx: &Context, args: &Callback) -> Result<(), CliError> {
    let mut stdin = std::io::stdin();
    match args {
        Callback::Succeed { id, payload, raw } => {
            let result = input::raw_payload(payload.as_deref(), &mut stdin)?;
            // The workflow reads the result as JSON unless it uses a serdes of its own: refuse here
            // what it could not read, rather than fail the execution later.
            if !raw && !result.iter().all(u8::is_ascii_whitespace) {
                if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&result) {
                    return Err(CliError::Input(format!(
                        "the callback result is not JSON ({e}); quote text as \"...\", or pass --raw to send the bytes as they are"
                    )));
                }
            }
            ctx.client
                .send_durable_execution_callback_success()
                .callback_id(id)
                .result(Blob::new(result))
                .send()
                .await
                .map_err(|e| ctx.call("SendDurableExecutionCallbackSuccess", "callback").error(e))?;
            eprintln!("callback {id} succeeded");
        }
        Callback::Fail { id, error_type, message, data } => {
            let data = match data {
                Some(data) => {
                    let bytes = input::raw_payload(Some(data), &mut stdin)?;
                    Some(String::from_utf8(bytes).map_err(|_| CliError::Input("--data is not UTF-8 text".to_owned()))?)
                }
                None => None,
            };
            ctx.client
                .send_durable_execution_callback_failure()
                .callback_id(id)
                .error(error_object(error_type.as_deref(), message.as_deref(), data))
                .send()
                .await
                .map_err(|e| ctx.call("SendDurableExecutionCallbackFailure", "callback").error(e))?;
            eprintln!("callback {id} failed");
        }
        Callback::Heartbeat { id } => {
            ctx.client
                .send_durable_execution_callback_heartbeat()
                .callback_id(id)
                .send()
                .await
                .map_err(|e| ctx.call("SendDurableExecutionCallbackHeartbeat", "callback").error(e))?;
            eprintln!("callback {id}: heartbeat sent");
        }
    }
    Ok(())
}

/// `durable stop`.
pub(crate) async fn stop(ctx: &Context, args: &Stop) -> Result<(), CliError> {
    let output = ctx
        .client
        .stop_durable_execution()
        .durable_execution_arn(&args.arn)
        .error(error_object(args.error_type.as_deref(), args.message.as_deref(), None))
        .send()
        .await
        .map_err(|e| ctx.call("StopDurableExecution", "execution").error(e))?;
    println!("stopped at {}", utc(seconds(output.stop_timestamp())));
    Ok(())
}

/// `durable env`.
pub(crate) fn env(global: &Global) -> Result<(), CliError> {
    let credentials = client::load_credentials(&global.db)?;
    print!("{}", durable_local::auth::env_exports(global.endpoint.trim_end_matches('/'), &credentials));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn execution_tables() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST/durable-execution/n1/id1";
        let rows = [
            json!({ "DurableExecutionArn": arn, "DurableExecutionName": "n1", "Status": "SUCCEEDED",
                    "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST",
                    "StartTimestamp": 1_767_225_600.0, "EndTimestamp": 1_767_225_601.5 }),
            json!({ "Status": 3 }),
        ];
        let table = execution_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("STATUS") && lines[0].ends_with("ARN"), "{table}");
        assert!(lines[1].contains("SUCCEEDED  hello") && lines[1].contains("2026-01-01 00:00:00Z"), "{table}");
        assert!(lines[1].contains("1.5s") && lines[1].ends_with(arn), "{table}");
        assert_eq!(execution_table(&[]).lines().last(), Some("no executions"));
    }

    #[test]
    fn qualified_function_names() {
        for qualified in [
            "hello:live",
            "hello:$LATEST",
            "123456789012:function:hello:7",
            "arn:aws:lambda:us-east-1:1:function:hello:3",
        ] {
            assert!(has_qualifier(qualified), "{qualified}");
        }
        for bare in ["hello", "123456789012:function:hello", "arn:aws:lambda:us-east-1:1:function:hello"] {
            assert!(!has_qualifier(bare), "{bare}");
        }
    }
}
