//! A real Lambda bootstrap of the conformance handlers: it serves, through `lambda_runtime` and
//! the Lambda Runtime API named by `AWS_LAMBDA_RUNTIME_API`, the handler registered under
//! `AWS_LAMBDA_FUNCTION_NAME` (`conformance-<id>`, run through `durable_runtime::lambda::service`,
//! which checkpoints with `aws-sdk-lambda` configured from the environment). An unknown name is
//! reported to `/runtime/init/error` and the process exits.
//!
//! A crash is a real `std::process::exit(1)`. The process stays warm between invocations, so the
//! record that an execution already crashed once is a file named after the execution in the
//! directory `CONFORMANCE_CRASH_DIR` (without it, handlers do not crash).
//!
//! The function `host-probe` is not durable; it exercises the host (each key optional):
//! `{"log": "line", "sleep_ms": 100, "exit": 3, "fail": "message", "bytes": 7000000, "echo": any,
//! "env": ["NAME", …]}` prints `log` on stdout, sleeps, then exits with `exit`, or fails with `fail`
//! (`errorType` `ProbeError`), or answers `bytes` bytes, or answers
//! `{"pid": …, "request_id": …, "function_name": …, "echo": …, "env": {"NAME": value or null}}`.

use durable_conformance::{handler, targets, ConformanceHandler, Host};
use durable_runtime::lambda::lambda_runtime::{self, service_fn, Diagnostic, Service};
use durable_runtime::lambda::LambdaEvent;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The non-durable function that exercises the host.
const PROBE: &str = "host-probe";

/// The durable function of the crash-restart soak test: `{"steps": N, "delay_ms": D, "journal":
/// "path"}` runs N sequential steps; step `i` appends `<execution id> <i>` to the journal (synced)
/// before it sleeps D ms and returns `i`; the result is the sum of the step results. A line for step
/// `i + 1` proves that step `i`'s result was acknowledged (the next step starts only then).
const SOAK: &str = "soak-steps";

async fn soak(ctx: durable_runtime::DurableContext, input: Value) -> Result<u64, durable_runtime::Error> {
    let steps = input.get("steps").and_then(Value::as_u64).unwrap_or(10);
    let delay = Duration::from_millis(input.get("delay_ms").and_then(Value::as_u64).unwrap_or(20));
    let journal = PathBuf::from(input.get("journal").and_then(Value::as_str).unwrap_or("/dev/null"));
    let execution = ctx.execution_arn().rsplit('/').next().unwrap_or_default().to_owned();
    let mut sum = 0;
    for i in 0..steps {
        let (journal, execution) = (journal.clone(), execution.clone());
        sum += ctx
            .step(move |_| async move {
                let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&journal)?;
                // One write per line: appends from concurrent processes do not interleave.
                file.write_all(format!("{execution} {i}\n").as_bytes())?;
                file.sync_data()?;
                tokio::time::sleep(delay).await;
                Ok::<_, durable_runtime::Error>(i)
            })
            .name(format!("step-{i}"))
            .await?;
    }
    Ok(sum)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("conformance-lambda: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").map_err(|_| "AWS_LAMBDA_FUNCTION_NAME is not set")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    if function_name == PROBE {
        return runtime.block_on(lambda_runtime::run(service_fn(probe))).map_err(|e| e.to_string());
    }
    if function_name == SOAK {
        return runtime.block_on(durable_runtime::lambda::run(soak)).map_err(|e| e.to_string());
    }
    // The chained-invoke targets of the invoke suite, under the names the handlers call them by.
    if [targets::ECHO, targets::FAIL, targets::TENANT_ECHO].contains(&function_name.as_str()) {
        durable_runtime::logging::init_json().map_err(|e| format!("cannot install the log output: {e}"))?;
        let served = runtime.block_on(async {
            match function_name.as_str() {
                targets::ECHO => durable_runtime::lambda::run(targets::echo).await,
                targets::FAIL => durable_runtime::lambda::run(targets::fail).await,
                _ => durable_runtime::lambda::run(targets::tenant_echo).await,
            }
        });
        return served.map_err(|e| e.to_string());
    }
    let Some(conformance) = handler(&function_name) else {
        let message = format!("no conformance handler is registered as `{function_name}`");
        init_error(&message)?;
        return Err(message);
    };
    durable_runtime::logging::init_json().map_err(|e| format!("cannot install the log output: {e}"))?;
    let crash_dir = std::env::var_os("CONFORMANCE_CRASH_DIR").map(PathBuf::from);
    let service = service_fn(move |event: LambdaEvent<Value>| invoke(conformance.clone(), crash_dir.clone(), event));
    runtime.block_on(lambda_runtime::run(service)).map_err(|e| e.to_string())
}

/// One durable invocation of `conformance`, with a host that crashes once per execution.
async fn invoke(
    conformance: ConformanceHandler,
    crash_dir: Option<PathBuf>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let arn = event.payload.get("DurableExecutionArn").and_then(Value::as_str).unwrap_or_default();
    let marker = crash_dir.map(|dir| dir.join(format!("crashed-{:016x}", fnv1a(arn.as_bytes()))));
    let host: Arc<dyn Host> = Arc::new(ProcessHost { marker });
    let options = conformance.options(host.clone());
    let mut service = durable_runtime::lambda::service(conformance.bind(host)).options(options);
    service.call(event).await.map_err(Diagnostic::from)
}

/// Crashes by exiting the process, once per marker file.
struct ProcessHost {
    marker: Option<PathBuf>,
}

impl Host for ProcessHost {
    fn crash_once(&self) -> bool {
        let Some(marker) = &self.marker else {
            eprintln!("conformance-lambda: CONFORMANCE_CRASH_DIR is not set; not crashing");
            return false;
        };
        if marker.exists() {
            return false;
        }
        if let Err(e) = std::fs::File::create(marker).and_then(|f| f.sync_all()) {
            eprintln!("conformance-lambda: cannot record the crash in {}: {e}", marker.display());
            return false;
        }
        std::process::exit(1);
    }
}

/// FNV-1a, to name a marker file after an execution ARN.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

async fn probe(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let payload = event.payload;
    if let Some(line) = payload.get("log").and_then(Value::as_str) {
        println!("{line}");
    }
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        let _ = std::io::stdout().flush();
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Diagnostic { error_type: "ProbeError".to_owned(), error_message: message.to_owned() });
    }
    if let Some(bytes) = payload.get("bytes").and_then(Value::as_u64) {
        return Ok(Value::String("x".repeat(usize::try_from(bytes).unwrap_or(0))));
    }
    let names = payload.get("env").and_then(Value::as_array).cloned().unwrap_or_default();
    let env: serde_json::Map<String, Value> = names
        .iter()
        .filter_map(Value::as_str)
        .map(|name| (name.to_owned(), std::env::var(name).map_or(Value::Null, Value::String)))
        .collect();
    Ok(json!({
        "pid": std::process::id(),
        "request_id": event.context.request_id,
        "function_name": event.context.env_config.function_name,
        "echo": payload.get("echo").cloned().unwrap_or(Value::Null),
        "env": env,
    }))
}

/// Reports `message` to `/runtime/init/error` (a plain HTTP/1.1 request: the runtime client is not
/// started yet).
fn init_error(message: &str) -> Result<(), String> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set")?;
    let body = json!({ "errorType": "Runtime.InitError", "errorMessage": message }).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream =
        std::net::TcpStream::connect(&api).map_err(|e| format!("cannot reach the runtime API {api}: {e}"))?;
    stream.write_all(request.as_bytes()).map_err(|e| format!("cannot report the init error: {e}"))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    Ok(())
}
