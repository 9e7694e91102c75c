//! `FunctionHost` running the real bootstrap `conformance-lambda` as child processes through the
//! Lambda Runtime API: responses, warm reuse and the process limit, process exits, timeouts, init
//! errors, oversized responses, captured output, and no processes left behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::{FunctionHost, FunctionSpec, HostError, HostOptions, LocalError, LocalService};
use durable_runtime::protocol::{ErrorObject, InvocationOutput, InvocationStatus};
use serde_json::{json, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_conformance-lambda");

/// Every test ends within this.
const TEST_LIMIT: Duration = Duration::from_secs(60);

fn spec(name: &str) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, BOOTSTRAP);
    spec.timeout = Duration::from_secs(30);
    spec.max_processes = 2;
    spec
}

fn host(spec: FunctionSpec, env: Vec<(String, String)>) -> FunctionHost {
    FunctionHost::start_with_options(spec, env, HostOptions::default().forward_logs(false)).unwrap()
}

fn probe_host(max_processes: usize) -> FunctionHost {
    let mut spec = spec("host-probe");
    spec.max_processes = max_processes;
    host(spec, Vec::new())
}

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test).await.expect("the test ran past its limit")
}

async fn call(host: &FunctionHost, payload: Value, request_id: &str) -> Result<Value, ErrorObject> {
    use durable_local::Function;
    let response = host.invoke(payload.to_string().into_bytes(), request_id).await?;
    Ok(serde_json::from_slice(&response).expect("the response is JSON"))
}

fn pid_of(response: &Value) -> u32 {
    u32::try_from(response["pid"].as_u64().expect("the probe answers its pid")).unwrap()
}

/// Whether the process `pid` still exists (a zombie counts as gone: it runs nothing).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn error_type(error: &ErrorObject) -> &str {
    error.error_type.as_deref().unwrap_or_default()
}

fn scratch_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("durable-hosted-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_returns_the_response_with_the_lambda_environment() {
    bounded(async {
        let env = vec![("AWS_ENDPOINT_URL_LAMBDA".to_owned(), "http://127.0.0.1:1".to_owned())];
        let host = host(spec("host-probe"), env);
        let names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME"];
        let more = ["AWS_REGION", "AWS_ENDPOINT_URL_LAMBDA", "AWS_LAMBDA_RUNTIME_API"];
        let payload = json!({ "echo": {"a": 1}, "env": names.iter().chain(&more).collect::<Vec<_>>() });
        let response = call(&host, payload, "req-1").await.unwrap();
        assert_eq!(response["echo"], json!({"a": 1}));
        assert_eq!(response["request_id"], "req-1");
        assert_eq!(response["function_name"], "host-probe");
        let env = &response["env"];
        assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
        assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/host-probe");
        assert_eq!(env["AWS_REGION"], "us-east-1");
        assert_eq!(env["AWS_ENDPOINT_URL_LAMBDA"], "http://127.0.0.1:1");
        assert!(env["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert_eq!(host.pids(), vec![pid_of(&response)]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_get_processes_of_their_own_and_warm_ones_are_reused() {
    bounded(async {
        let host = probe_host(2);
        let slow = json!({ "sleep_ms": 500 });
        let (first, second) = tokio::join!(call(&host, slow.clone(), "req-1"), call(&host, slow, "req-2"));
        let (first, second) = (pid_of(&first.unwrap()), pid_of(&second.unwrap()));
        assert_ne!(first, second);
        let third = pid_of(&call(&host, json!({}), "req-3").await.unwrap());
        assert!(third == first || third == second, "{third} is a new process");
        let mut pids = host.pids();
        pids.sort_unstable();
        let mut expected = vec![first, second];
        expected.sort_unstable();
        assert_eq!(pids, expected);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_past_the_process_limit_wait_for_one() {
    bounded(async {
        let host = probe_host(1);
        let slow = json!({ "sleep_ms": 300 });
        let start = Instant::now();
        let (first, second) = tokio::join!(call(&host, slow.clone(), "req-1"), call(&host, slow, "req-2"));
        assert_eq!(pid_of(&first.unwrap()), pid_of(&second.unwrap()));
        assert!(start.elapsed() >= Duration::from_millis(600), "the invocations overlapped");
        assert_eq!(host.pids().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_exit_is_a_runtime_exit_error_and_the_next_invocation_gets_a_fresh_process() {
    bounded(async {
        let host = probe_host(2);
        let warm = pid_of(&call(&host, json!({}), "req-1").await.unwrap());
        let error = call(&host, json!({ "exit": 3 }), "req-2").await.unwrap_err();
        assert_eq!(error_type(&error), "Runtime.ExitError");
        assert_eq!(
            error.error_message.as_deref(),
            Some("RequestId: req-2 Error: Runtime exited with error: exit status 3")
        );
        assert!(!host.pids().contains(&warm));
        let fresh = pid_of(&call(&host, json!({}), "req-3").await.unwrap());
        assert_ne!(fresh, warm);
        assert_eq!(host.pids(), vec![fresh]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_past_the_timeout_is_timed_out_and_its_process_killed() {
    bounded(async {
        let mut spec = spec("host-probe");
        spec.timeout = Duration::from_secs(3);
        let host = host(spec, Vec::new());
        let pid = pid_of(&call(&host, json!({}), "req-1").await.unwrap());
        let start = Instant::now();
        let error = call(&host, json!({ "sleep_ms": 20_000 }), "req-2").await.unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(error_type(&error), "Sandbox.Timedout");
        assert_eq!(error.error_message.as_deref(), Some("RequestId: req-2 Error: Task timed out after 3.00 seconds"));
        assert!(host.pids().is_empty());
        eventually("the timed-out process is gone", || !alive(pid)).await;
        let fresh = pid_of(&call(&host, json!({}), "req-3").await.unwrap());
        assert_ne!(fresh, pid);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_keeps_the_process_warm() {
    bounded(async {
        let host = probe_host(2);
        let pid = pid_of(&call(&host, json!({}), "req-1").await.unwrap());
        let error = call(&host, json!({ "fail": "boom" }), "req-2").await.unwrap_err();
        assert_eq!(error_type(&error), "ProbeError");
        assert_eq!(error.error_message.as_deref(), Some("boom"));
        assert_eq!(pid_of(&call(&host, json!({}), "req-3").await.unwrap()), pid);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_6_mb_is_response_size_too_large() {
    bounded(async {
        let host = probe_host(1);
        let error = call(&host, json!({ "bytes": 7_000_000 }), "req-1").await.unwrap_err();
        assert_eq!(error_type(&error), "Function.ResponseSizeTooLarge");
        call(&host, json!({}), "req-2").await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_handler_is_an_init_error() {
    bounded(async {
        let host = host(spec("conformance-no-such-requirement"), Vec::new());
        let error = call(&host, json!({}), "req-1").await.unwrap_err();
        assert_eq!(error_type(&error), "Runtime.InitError");
        let message = error.error_message.unwrap_or_default();
        assert!(
            message.contains("no conformance handler is registered as `conformance-no-such-requirement`"),
            "{message}"
        );
        assert!(host.pids().is_empty());
    })
    .await;
}

#[test]
fn a_missing_bootstrap_is_a_typed_error_that_says_how_to_build_it() {
    let spec = FunctionSpec::new("orders", "target/lambda/orders/bootstrap");
    let error = FunctionHost::start(spec, Vec::new()).unwrap_err();
    assert!(
        matches!(&error, LocalError::Host(HostError::Spawn { command, .. }) if command == Path::new("target/lambda/orders/bootstrap"))
    );
    let message = error.to_string();
    assert!(message.starts_with("function `orders`: cannot run `target/lambda/orders/bootstrap`: "), "{message}");
    assert!(message.contains("cargo lambda build"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_processes_output_is_captured() {
    bounded(async {
        let host = probe_host(1);
        call(&host, json!({ "log": "hello from the probe" }), "req-1").await.unwrap();
        eventually("the line is captured", || host.logs().stdout().iter().any(|l| l == "hello from the probe")).await;
        assert!(host.logs().of_request("req-1").iter().any(|l| l == "hello from the probe"));
        let mut lines = host.logs().subscribe();
        call(&host, json!({ "log": "second line" }), "req-2").await.unwrap();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.recv()).await.unwrap().unwrap();
        assert_eq!(line.text, "second line");
        assert_eq!(line.request_id.as_deref(), Some("req-2"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_host_leaves_no_processes() {
    bounded(async {
        let host = probe_host(2);
        let slow = json!({ "sleep_ms": 300 });
        let (first, second) = tokio::join!(call(&host, slow.clone(), "req-1"), call(&host, slow, "req-2"));
        let pids = [pid_of(&first.unwrap()), pid_of(&second.unwrap())];
        assert!(pids.iter().all(|pid| alive(*pid)));
        drop(host);
        eventually("every process is gone", || pids.iter().all(|pid| !alive(*pid))).await;

        let host = probe_host(1);
        let pid = pid_of(&call(&host, json!({}), "req-3").await.unwrap());
        host.shutdown().await;
        assert!(!alive(pid));
    })
    .await;
}

/// The extra environment that points a function at `service`.
fn service_env(service: &LocalService, crash_dir: &Path) -> Vec<(String, String)> {
    // The endpoint, the service's own SigV4 credentials and the region, as `durable serve` gives them.
    let mut env: Vec<(String, String)> = service.env_vars().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push(("CONFORMANCE_CRASH_DIR".to_owned(), crash_dir.display().to_string()));
    env
}

/// One durable invocation of `arn` on `host`, recorded by the service.
async fn invoke_durable(
    service: &LocalService,
    host: &FunctionHost,
    arn: &str,
    request_id: &str,
) -> Result<InvocationOutput, ErrorObject> {
    use durable_local::Function;
    let envelope = serde_json::to_vec(&service.service().invocation_input(arn).unwrap()).unwrap();
    let outcome = host
        .invoke(envelope, request_id)
        .await
        .map(|body| serde_json::from_slice::<InvocationOutput>(&body).expect("the response is an output envelope"));
    service.service().complete_invocation(arn, outcome.clone()).unwrap();
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_handler_checkpoints_through_the_local_service() {
    bounded(async {
        let service = LocalService::start().await.unwrap();
        let crash_dir = scratch_dir("durable");
        let host = host(spec("conformance-1-1"), service_env(&service, &crash_dir));
        let arn = service.service().start_execution("conformance-1-1", Some("\"World\"".to_owned()));
        let output = invoke_durable(&service, &host, &arn, "req-1").await.unwrap();
        assert_eq!(output.status, InvocationStatus::Succeeded, "{output:?}");
        assert_eq!(output.result.as_deref(), Some("\"Hello, World!\""));
        let _ = std::fs::remove_dir_all(crash_dir);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_handler_whose_process_exits_is_retried_on_a_fresh_process() {
    bounded(async {
        let service = LocalService::start().await.unwrap();
        let crash_dir = scratch_dir("crash");
        let host = host(spec("conformance-1-17"), service_env(&service, &crash_dir));
        let arn = service.service().start_execution("conformance-1-17", Some("\"payload\"".to_owned()));
        let error = invoke_durable(&service, &host, &arn, "req-1").await.unwrap_err();
        assert_eq!(error_type(&error), "Runtime.ExitError");
        assert!(host.pids().is_empty());
        let output = invoke_durable(&service, &host, &arn, "req-2").await.unwrap();
        assert_ne!(output.status, InvocationStatus::Pending, "{output:?}");
        assert!(host.logs().stdout().iter().any(|l| l.contains("at-most-once step running for: payload")));
        let _ = std::fs::remove_dir_all(crash_dir);
    })
    .await;
}
