//! The `durable` program, run as a process against a local service started in the test: `get`,
//! `history`, `callback`, `env`, `serve`, and the messages for a missing service or execution.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::LocalRunner;
use durable_runtime::checkpoint::aws::aws_sdk_lambda::primitives::Blob;
use durable_runtime::protocol::ids::uuid_v4;
use durable_runtime::testing::ExecutionStatus;
use durable_runtime::{DurableContext, Error};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Every test finishes within this bound.
const BOUND: Duration = Duration::from_secs(60);

/// A fresh directory for the test's store and credentials.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("durable-cli-{test}-{}", uuid_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `durable` with `args` (off the async threads, so the service keeps answering).
async fn durable(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_durable"));
    command
        .args(["--endpoint", endpoint, "--db"])
        .arg(dir.join("durable.db"))
        .args(args)
        .env_remove("DURABLE_ENDPOINT")
        .env("COLUMNS", "120")
        .stdin(Stdio::null());
    let run = tokio::task::spawn_blocking(move || command.output().unwrap());
    tokio::time::timeout(BOUND, run).await.expect("durable ran too long").unwrap()
}

/// Writes the service's credentials where `durable --db <dir>/durable.db` looks for them, as
/// `durable serve` does; returns the endpoint.
fn share_credentials(dir: &Path, server: &durable_local::LocalService) -> String {
    let credentials = server.credentials().unwrap();
    let json = serde_json::json!({
        "AccessKeyId": credentials.access_key_id(),
        "SecretAccessKey": credentials.secret_access_key(),
    });
    std::fs::write(durable_local::Credentials::path_in(dir), json.to_string()).unwrap();
    server.endpoint().to_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn workflow(ctx: DurableContext, name: String) -> Result<String, Error> {
    let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}")) }).name("greet").await?;
    ctx.wait(Duration::from_secs(30)).name("pause").await?;
    let inner = ctx
        .run_in_child_context(|child| async move {
            child.step(|_| async { Ok::<_, Error>("inner".to_owned()) }).name("inner-step").await
        })
        .name("group")
        .await?;
    Ok(format!("{greeting}/{inner}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_history_show_a_finished_execution() {
    let dir = scratch("get");
    let runner = LocalRunner::new(workflow).skip_time(true);
    let result = runner.run("Ada").await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let endpoint = share_credentials(&dir, runner.server().await.unwrap());
    let arn = result.execution_arn();

    let get = durable(&dir, &endpoint, &["get", arn]).await;
    assert!(get.status.success(), "{}", stderr(&get));
    let text = stdout(&get);
    assert!(text.contains("Status     SUCCEEDED"), "{text}");
    assert!(text.contains("Result     \"Hello, Ada/inner\""), "{text}");
    assert!(text.contains("Input      \"Ada\""), "{text}");
    assert!(text.contains(&format!("ARN        {arn}")), "{text}");

    let raw = durable(&dir, &endpoint, &["get", arn, "--json"]).await;
    let raw: Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(raw["Status"], "SUCCEEDED");

    let history = durable(&dir, &endpoint, &["history", arn]).await;
    assert!(history.status.success(), "{}", stderr(&history));
    let text = stdout(&history);
    println!("{}{text}", stdout(&get));
    let row = |name: &str| text.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_owned();
    assert!(row("greet").contains("Step") && row("greet").contains("succeeded"), "{text}");
    assert!(row("pause").contains("Wait") && row("pause").contains("succeeded"), "{text}");
    assert!(row("group").contains("succeeded"), "{text}");
    assert!(row("inner-step").starts_with("  inner-step"), "nested under group: {text}");
    assert!(text.contains("── invocation 2"), "{text}");
    assert!(text.contains("execution succeeded after"), "{text}");

    let json = durable(&dir, &endpoint, &["history", arn, "--json"]).await;
    let events: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(events.len(), result.history().len());
    assert_eq!(events[0]["EventType"], "ExecutionStarted");

    let picture = dir.join("timeline.svg");
    let svg = durable(&dir, &endpoint, &["history", arn, "--svg", picture.to_str().unwrap()]).await;
    assert!(svg.status.success(), "{}", stderr(&svg));
    let svg = std::fs::read_to_string(&picture).unwrap();
    assert!(svg.starts_with("<svg ") && svg.contains(">inner-step<") && svg.contains("execution succeeded"), "{svg}");
    let _ = std::fs::remove_dir_all(dir);
}

async fn approval(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").timeout(Duration::from_secs(3600)).await?;
    let decision = callback.result().await?;
    Ok(format!("approved: {decision}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_succeed_answers_a_waiting_execution() {
    let dir = scratch("callback");
    let runner = LocalRunner::new(approval).skip_time(true);
    let arn = runner.start(Value::Null).await.unwrap();
    let waiting = runner.resume_until_callback(&arn, "approval").await.unwrap();
    let id = waiting.callback_id("approval").unwrap().to_owned();
    let endpoint = share_credentials(&dir, runner.server().await.unwrap());

    let history = durable(&dir, &endpoint, &["history", &arn]).await;
    let text = stdout(&history);
    assert!(text.lines().any(|l| l.starts_with("approval") && l.contains("waiting")), "{text}");
    assert!(text.contains("execution running"), "{text}");
    assert!(text.contains(&format!("answer with `durable callback succeed {id} PAYLOAD`")), "{text}");

    let heartbeat = durable(&dir, &endpoint, &["callback", "heartbeat", &id]).await;
    assert!(heartbeat.status.success(), "{}", stderr(&heartbeat));
    // Text that is not JSON is refused before it is sent: the workflow could not read it.
    let unquoted = durable(&dir, &endpoint, &["callback", "succeed", &id, "yes"]).await;
    assert_eq!(unquoted.status.code(), Some(1));
    assert!(stderr(&unquoted).contains("not JSON") && stderr(&unquoted).contains("--raw"), "{}", stderr(&unquoted));
    let answer = durable(&dir, &endpoint, &["callback", "succeed", &id, "\"yes\""]).await;
    assert!(answer.status.success(), "{}", stderr(&answer));

    let result = runner.resume(&arn).await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "approved: yes");

    let again = durable(&dir, &endpoint, &["callback", "succeed", &id, "\"twice\""]).await;
    assert_eq!(again.status.code(), Some(1));
    let unknown = durable(&dir, &endpoint, &["callback", "heartbeat", "no-such-callback"]).await;
    assert!(stderr(&unknown).contains("no such callback"), "{}", stderr(&unknown));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do() {
    let dir = scratch("errors");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = durable(&dir, &format!("http://127.0.0.1:{port}"), &["get", "arn:aws:lambda:x"]).await;
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(message.starts_with(&format!("error: no durable service at http://127.0.0.1:{port}")), "{message}");
    assert!(message.contains("start one with `durable serve`"), "{message}");

    let runner = LocalRunner::new(approval).skip_time(true);
    let endpoint = share_credentials(&dir, runner.server().await.unwrap());
    let missing =
        durable(&dir, &endpoint, &["get", "arn:aws:lambda:us-east-1:0:function:f:$LATEST/durable-execution/n/i"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no such execution"), "{}", stderr(&missing));
    let missing = durable(&dir, &endpoint, &["history", "arn:nope"]).await;
    assert!(stderr(&missing).contains("no such execution"), "{}", stderr(&missing));

    let bad_input = durable(&dir, &endpoint, &["invoke", "f", "not json"]).await;
    assert_eq!(bad_input.status.code(), Some(1));
    assert!(stderr(&bad_input).contains("INPUT is not JSON"), "{}", stderr(&bad_input));

    let elsewhere = scratch("errors-env");
    let env = durable(&elsewhere, &endpoint, &["env"]).await;
    assert_eq!(env.status.code(), Some(1));
    assert!(stderr(&env).contains("start `durable serve` first"), "{}", stderr(&env));
    let _ = std::fs::remove_dir_all(elsewhere);
    std::fs::write(dir.join("credentials"), br#"{"AccessKeyId":"AKID1","SecretAccessKey":"S1"}"#).unwrap();
    let env = durable(&dir, &endpoint, &["env"]).await;
    assert!(env.status.success(), "{}", stderr(&env));
    let text = stdout(&env);
    assert!(text.contains(&format!("export AWS_ENDPOINT_URL_LAMBDA='{endpoint}'")), "{text}");
    assert!(text.contains("export AWS_ACCESS_KEY_ID='AKID1'") && text.contains("AWS_REGION='us-east-1'"), "{text}");

    let usage = durable(&dir, &endpoint, &["callback", "approve", "x"]).await;
    assert_eq!(usage.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_until_sigterm() {
    let dir = scratch("serve");
    let mut child = Command::new(env!("CARGO_BIN_EXE_durable"))
        .args(["serve", "--port", "0", "--no-auth", "--skip-time", "--db"])
        .arg(dir.join("durable.db"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(BOUND, line).await.unwrap().unwrap().unwrap();
    let endpoint = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{line}");

    let missing = durable(&dir, &endpoint, &["get", "arn:nope"]).await;
    assert!(stderr(&missing).contains("no such execution"), "{}", stderr(&missing));

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap());
    let output = tokio::time::timeout(BOUND, output).await.unwrap().unwrap();
    let messages = stderr(&output);
    assert!(output.status.success(), "{messages}");
    assert!(messages.contains("authentication is OFF"), "{messages}");
    assert!(messages.contains("eval \"$(durable"), "{messages}");
    assert!(messages.contains(&format!("web page   {endpoint}/?token=")), "{messages}");
    let _ = std::fs::remove_dir_all(dir);
}

async fn greeter(ctx: DurableContext, name: String) -> Result<String, Error> {
    let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).name("greet").await?;
    ctx.wait(Duration::from_secs(60)).name("pause").await?;
    Ok(greeting)
}

/// Waits for an answer that never comes (no timeout, so skipped time cannot end it).
async fn hold(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").await?;
    callback.result().await.map_err(Into::into)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_list_and_stop_hosted_functions() {
    let dir = scratch("invoke");
    let server = durable_local::LocalService::start().await.unwrap();
    server.host_handler("greeter", greeter);
    server.host_handler("approval", hold);
    server.skip_time(true);
    let endpoint = share_credentials(&dir, &server);

    let invoked = durable(&dir, &endpoint, &["invoke", "greeter", "\"Ada\""]).await;
    assert!(invoked.status.success(), "{}", stderr(&invoked));
    assert!(stdout(&invoked).contains("Hello, Ada!"), "{}", stdout(&invoked));

    let started = durable(&dir, &endpoint, &["invoke", "approval", "--async"]).await;
    assert!(started.status.success(), "{}", stderr(&started));
    let arn = stdout(&started).lines().find(|l| l.starts_with("arn:")).map(str::to_owned);
    let arn = arn.unwrap_or_else(|| panic!("no ARN in {}", stdout(&started)));
    while server.service().pending_callback(&arn, "approval").is_none() {
        server.changed().await;
    }

    let list = durable(&dir, &endpoint, &["list", "--function", "approval"]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains(&arn) && stdout(&list).contains("RUNNING"), "{}", stdout(&list));

    let stop = durable(&dir, &endpoint, &["stop", &arn]).await;
    assert!(stop.status.success(), "{}", stderr(&stop));
    assert_eq!(server.service().execution_status(&arn), Some(ExecutionStatus::Stopped));
    let again = durable(&dir, &endpoint, &["stop", &arn]).await;
    assert_eq!(again.status.code(), Some(1));

    let failed = durable(&dir, &endpoint, &["invoke", "nope"]).await;
    assert_eq!(failed.status.code(), Some(1));
    assert!(stderr(&failed).contains("nope"), "{}", stderr(&failed));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_service_running_list_get_and_history_read_the_store() {
    let dir = scratch("offline");
    let db = dir.join("durable.db");
    let arn = {
        let server = durable_local::LocalService::start_with_store(&db).await.unwrap();
        server.host_handler("greeter", greeter);
        server.skip_time(true);
        let client = server.lambda_client();
        let out = client.invoke().function_name("greeter:$LATEST").payload(Blob::new("\"Bo\"")).send().await.unwrap();
        out.durable_execution_arn().unwrap().to_owned()
    };
    // A port nothing listens on: the service is gone, the store stays.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let list = durable(&dir, &endpoint, &["list", "--function", "greeter"]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stderr(&list).contains("reading"), "{}", stderr(&list));
    assert!(stdout(&list).contains(&arn) && stdout(&list).contains("SUCCEEDED"), "{}", stdout(&list));
    let history = durable(&dir, &endpoint, &["history", &arn]).await;
    assert!(history.status.success(), "{}", stderr(&history));
    assert!(stdout(&history).contains("greet") && stdout(&history).contains("pause"), "{}", stdout(&history));
    let get = durable(&dir, &endpoint, &["get", &arn]).await;
    assert!(get.status.success() && stdout(&get).contains("Hello, Bo!"), "{}", stdout(&get));
    // Commands that change executions still need the service.
    let stop = durable(&dir, &endpoint, &["stop", &arn]).await;
    assert!(stderr(&stop).contains("start one with `durable serve`"), "{}", stderr(&stop));
    let _ = std::fs::remove_dir_all(dir);
}
