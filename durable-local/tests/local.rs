//! The embedded local durable service: workflows run end to end over HTTP (every checkpoint and state
//! call through `aws-sdk-lambda`), histories equal to the in-process test runner's, stale tokens,
//! a restart on the same store, and callbacks answered through the HTTP callback routes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::{LocalRunner, LocalService};
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use durable_runtime::checkpoint::{CheckpointClient, ErrorClass};
use durable_runtime::protocol::{CheckpointRequest, Operation, OperationType};
use durable_runtime::testing::{ExecutionStatus, MemoryService, TestRunner, DEFAULT_FUNCTION_NAME};
use durable_runtime::{DurableContext, Error};
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

mod common;
use common::{bounded, store_dir};

/// The database file in `dir`.
fn db(dir: &std::path::Path) -> PathBuf {
    dir.join("durable.db")
}

/// Rows per table of the database at `path`, read through a connection of its own.
fn row_counts(path: &std::path::Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    ["executions", "operations", "event_batches", "callbacks", "timers", "invocations", "chained_invokes"]
        .iter()
        .map(|table| {
            let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
            ((*table).to_owned(), n)
        })
        .collect()
}

/// A step, a 30 s wait and a child context with a step; counts the runs of the first step.
fn workflow(
    greets: Arc<AtomicUsize>,
) -> impl Fn(DurableContext, String) -> std::pin::Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>
       + Send
       + Sync
       + 'static {
    move |ctx: DurableContext, name: String| {
        let greets = greets.clone();
        Box::pin(async move {
            let greeting = ctx
                .step(move |_| async move {
                    greets.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(format!("Hello, {name}"))
                })
                .name("greet")
                .await?;
            ctx.wait(Duration::from_secs(30)).name("pause").await?;
            let inner = ctx
                .run_in_child_context(|child| async move {
                    child.step(|_| async { Ok::<_, Error>("inner".to_owned()) }).name("inner-step").await
                })
                .name("group")
                .await?;
            Ok(format!("{greeting}/{inner}"))
        })
    }
}

/// Answers the callback `id` with `"yes"` over HTTP, as an approver's system would.
async fn approve(client: &aws_sdk_lambda::Client, id: &str) {
    let yes = aws_sdk_lambda::primitives::Blob::new(b"\"yes\"".to_vec());
    client.send_durable_execution_callback_success().callback_id(id).result(yes).send().await.unwrap();
}

/// The service-assigned shape of each event: type, id, operation id, name, parent, subtype.
fn shape(history: &[impl serde::Serialize]) -> Vec<[Value; 6]> {
    history
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            [
                v["EventType"].clone(),
                v["EventId"].clone(),
                v.get("Id").cloned().unwrap_or(Value::Null),
                v.get("Name").cloned().unwrap_or(Value::Null),
                v.get("ParentId").cloned().unwrap_or(Value::Null),
                v.get("SubType").cloned().unwrap_or(Value::Null),
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_workflow_runs_to_succeeded_over_http_with_the_test_runners_history() {
    bounded(async {
        let runner = LocalRunner::new(workflow(Arc::default())).skip_time(true);
        let result = runner.run("Ada").await.unwrap();
        assert_eq!(result.status(), ExecutionStatus::Succeeded);
        assert_eq!(result.output::<String>().unwrap(), "Hello, Ada/inner");
        assert_eq!(result.invocations().len(), 2);

        let expected = TestRunner::new(workflow(Arc::default())).run("Ada").await.unwrap();
        let (mut ours, mut theirs) = (shape(result.history()), shape(expected.history()));
        // Execution ids and names are random per execution.
        for rows in [&mut ours, &mut theirs] {
            for row in rows.iter_mut().filter(|r| r[0] == "ExecutionStarted" || r[0] == "ExecutionSucceeded") {
                row[2] = Value::Null;
                row[3] = Value::Null;
            }
        }
        assert_eq!(ours, theirs);

        // Both runners return the same result type: operations without the EXECUTION one, and
        // execution ARNs with the same default function name.
        let kinds = |ops: &[Operation]| ops.iter().map(|o| (o.op_type.clone(), o.name.clone())).collect::<Vec<_>>();
        assert_eq!(kinds(result.operations()), kinds(expected.operations()));
        assert!(result.operations().iter().all(|op| op.op_type != OperationType::Execution));
        for arn in [result.execution_arn(), expected.execution_arn()] {
            assert!(arn.contains(&format!(":function:{DEFAULT_FUNCTION_NAME}:")), "{arn}");
        }

        // The read routes answer aws-sdk-lambda as the service does (timestamps in epoch seconds).
        let server = runner.server().await.unwrap();
        let client = server.lambda_client();
        let arn = result.execution_arn();
        let execution = client.get_durable_execution().durable_execution_arn(arn).send().await.unwrap();
        assert_eq!(execution.status().as_str(), "SUCCEEDED");
        assert_eq!(execution.result(), Some("\"Hello, Ada/inner\""));
        let started = result.execution_operation().unwrap().start_timestamp.unwrap();
        assert_eq!(execution.start_timestamp().secs(), started.as_millis() / 1000);
        let history = client.get_durable_execution_history().durable_execution_arn(arn).send().await.unwrap();
        let types: Vec<&str> = history.events().iter().filter_map(|e| e.event_type().map(|t| t.as_str())).collect();
        let expected_types: Vec<String> = result
            .history()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap()["EventType"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, expected_types);
        let missing = client.get_durable_execution().durable_execution_arn("arn:aws:lambda:nope").send().await;
        let error = missing.unwrap_err().into_service_error();
        assert!(error.is_resource_not_found_exception(), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn the_runs_of_a_runner_share_one_client_and_its_connections() {
    bounded(async {
        let runner = LocalRunner::new(workflow(Arc::default())).skip_time(true);
        for name in ["Ada", "Grace", "Edsger"] {
            let result = runner.run(name).await.unwrap();
            assert_eq!(result.output::<String>().unwrap(), format!("Hello, {name}/inner"));
        }
        // Making a client builds a TLS configuration from the system's root certificates; the
        // service hands out one, whose pool keeps the connection between runs.
        let server = runner.server().await.unwrap();
        let (a, b) = (server.lambda_client(), server.lambda_client());
        assert!(std::ptr::eq(a.config(), b.config()));
    })
    .await;
}

#[tokio::test]
async fn a_stale_token_over_http_is_retried_by_reinvocation() {
    bounded(async {
        let service: Arc<OnceLock<MemoryService>> = Arc::default();
        let expired = Arc::new(AtomicBool::new(false));
        let (s, e) = (service.clone(), expired.clone());
        let handler = move |ctx: DurableContext, _: Value| {
            let (s, e) = (s.clone(), e.clone());
            async move {
                ctx.step(move |_| async move {
                    // Once: rotate the token behind the invocation's back, so the step's SUCCEED
                    // checkpoint is answered 400 "Invalid Checkpoint Token".
                    if !e.swap(true, Ordering::SeqCst) {
                        let service = s.get().unwrap();
                        for arn in service.executions() {
                            service.expire_token(&arn);
                        }
                    }
                    Ok::<_, Error>(7)
                })
                .name("work")
                .await
            }
        };
        let runner = LocalRunner::new(handler).skip_time(true);
        service.set(runner.server().await.unwrap().service().clone()).unwrap();
        let result = runner.run(Value::Null).await.unwrap();
        assert_eq!(result.status(), ExecutionStatus::Succeeded);
        assert_eq!(result.output::<u32>().unwrap(), 7);
        let invocations = result.invocations();
        assert_eq!(invocations.len(), 2);
        let error = invocations[0].error.as_ref().expect("the first invocation failed");
        assert_eq!(error.error_type.as_deref(), Some("Durable.CheckpointError"));
        assert!(error.error_message.as_deref().unwrap().contains("Invalid Checkpoint Token"), "{error:?}");
        assert!(invocations[1].error.is_none());

        // The error as aws-sdk-lambda sees it: 400 InvalidParameterValueException, retryable.
        let client = runner.server().await.unwrap().checkpoint_client();
        let request = CheckpointRequest { checkpoint_token: "stale".into(), client_token: None, updates: vec![] };
        let err = client.checkpoint(result.execution_arn(), request).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(400), Some("InvalidParameterValueException")));
        assert_eq!(err.class(), ErrorClass::Retryable);
    })
    .await;
}

#[tokio::test]
async fn a_new_service_on_the_same_store_resumes_the_execution() {
    bounded(async {
        let dir = store_dir("restart");
        let greets = Arc::new(AtomicUsize::new(0));

        // Real time: the run suspends at its 30 s wait and sleeps; stop it (and its service) there.
        let first = LocalRunner::new(workflow(greets.clone())).store(db(&dir));
        let arn = first.start("Ada").await.unwrap();
        let stopped = tokio::time::timeout(Duration::from_secs(3), first.resume(&arn)).await;
        assert!(stopped.is_err(), "the run should still be waiting");
        let endpoint = first.server().await.unwrap().endpoint().to_owned();
        drop(first);
        assert!(tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://")).await.is_err());
        assert_eq!(greets.load(Ordering::SeqCst), 1);

        let second = LocalRunner::new(workflow(greets.clone())).store(db(&dir)).skip_time(true);
        assert_eq!(second.executions().await.unwrap(), vec![arn.clone()]);
        let result = second.resume(&arn).await.unwrap();
        assert_eq!(result.status(), ExecutionStatus::Succeeded);
        assert_eq!(result.output::<String>().unwrap(), "Hello, Ada/inner");
        assert_eq!(greets.load(Ordering::SeqCst), 1, "the recorded step is replayed, not run again");
        assert_eq!(result.invocations().len(), 2);
        drop(second);

        // A third service sees the finished execution.
        let history = result.history().to_vec();
        let third = LocalService::start_with_store(db(&dir)).await.unwrap();
        assert_eq!(third.service().execution_status(&arn), Some(ExecutionStatus::Succeeded));
        assert_eq!(third.service().history(&arn), history, "the history reads back event for event");
        assert_eq!(third.service().invocations(&arn), result.invocations());
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

async fn approval(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").await?;
    let decision = callback.result().await?;
    Ok(format!("approved: {decision}"))
}

#[tokio::test]
async fn callbacks_are_answered_through_the_http_routes() {
    bounded(async {
        let runner = LocalRunner::new(approval).skip_time(true);
        let waiting = runner.run(Value::Null).await.unwrap();
        assert_eq!(waiting.status(), ExecutionStatus::Running);
        let id = waiting.callback_id("approval").unwrap().to_owned();

        let client = runner.server().await.unwrap().lambda_client();
        client.send_durable_execution_callback_heartbeat().callback_id(&id).send().await.unwrap();
        approve(&client, &id).await;
        let again = client
            .send_durable_execution_callback_success()
            .callback_id(&id)
            .result(aws_sdk_lambda::primitives::Blob::new(b"\"twice\"".to_vec()))
            .send()
            .await;
        assert_eq!(again.unwrap_err().raw_response().map(|r| r.status().as_u16()), Some(400));
        let unknown = client.send_durable_execution_callback_heartbeat().callback_id("nope").send().await;
        assert!(unknown.unwrap_err().into_service_error().is_resource_not_found_exception());

        let result = runner.resume(waiting.execution_arn()).await.unwrap();
        assert_eq!(result.status(), ExecutionStatus::Succeeded);
        assert_eq!(result.output::<String>().unwrap(), "approved: yes");

        // Failure through the `fail` route.
        let failing = runner.run(Value::Null).await.unwrap();
        let id = failing.callback_id("approval").unwrap().to_owned();
        let error =
            aws_sdk_lambda::types::ErrorObject::builder().error_type("Rejected").error_message("not today").build();
        client.send_durable_execution_callback_failure().callback_id(&id).error(error).send().await.unwrap();
        let result = runner.resume(failing.execution_arn()).await.unwrap();
        assert_eq!(result.status(), ExecutionStatus::Failed);
        assert_eq!(result.error().unwrap().error_type.as_deref(), Some("Rejected"));
        assert_eq!(result.error().unwrap().error_message.as_deref(), Some("not today"));
    })
    .await;
}

async fn approval_within_an_hour(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").timeout(Duration::from_secs(3600)).await?;
    let decision = callback.result().await?;
    Ok(format!("approved: {decision}"))
}

#[tokio::test]
async fn with_skipped_time_a_callback_is_answered_before_its_timeout() {
    bounded(async {
        let runner = LocalRunner::new(approval_within_an_hour).skip_time(true);
        let arn = runner.start(Value::Null).await.unwrap();
        let waiting = runner.resume_until_callback(&arn, "approval").await.unwrap();
        assert_eq!(waiting.status(), ExecutionStatus::Running, "the hour has not been skipped");
        let id = waiting.callback_id("approval").unwrap().to_owned();
        let client = runner.server().await.unwrap().lambda_client();
        approve(&client, &id).await;
        let result = runner.resume(&arn).await.unwrap();
        assert_eq!(result.output::<String>().unwrap(), "approved: yes");

        // Without stopping at the callback, skipped time runs past the timeout.
        let timed_out = runner.run(Value::Null).await.unwrap();
        assert_eq!(timed_out.status(), ExecutionStatus::Failed);
        let missing = runner.resume_until_callback(timed_out.execution_arn(), "approval").await;
        assert!(matches!(missing, Err(durable_local::LocalError::CallbackNotPending { .. })), "{missing:?}");
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    bounded(async {
        let dir = store_dir("private");
        let runner = LocalRunner::new(approval).store(db(&dir)).skip_time(true);
        let waiting = runner.run(Value::Null).await.unwrap();
        assert_eq!(waiting.status(), ExecutionStatus::Running);
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        assert_eq!(files, ["credentials", "durable.db", "durable.db-shm", "durable.db-wal"]);
        for file in files {
            assert_eq!(mode(&dir.join(&file)), 0o600, "{file}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

/// A checkpoint request carrying `update` alone.
fn one_update(
    checkpoint_token: String,
    client_token: Option<String>,
    update: durable_runtime::protocol::OperationUpdate,
) -> CheckpointRequest {
    CheckpointRequest { checkpoint_token, client_token, updates: vec![update] }
}

#[tokio::test]
async fn rejected_checkpoints_do_not_grow_the_store() {
    use durable_runtime::protocol::{OperationAction, OperationType, OperationUpdate};
    bounded(async {
        let dir = store_dir("rejected");
        let runner = LocalRunner::new(approval).store(db(&dir)).skip_time(true);
        let waiting = runner.run(Value::Null).await.unwrap();
        let arn = waiting.execution_arn().to_owned();
        let server = runner.server().await.unwrap();
        let wal = dir.join("durable.db-wal");
        let (rows, wal_size) = (row_counts(&db(&dir)), std::fs::metadata(&wal).unwrap().len());
        let meta = server.store().unwrap().load(&arn).unwrap().unwrap().meta;
        let client = server.checkpoint_client();
        for _ in 0..50 {
            let mut update = OperationUpdate::new("stale", OperationType::Step, OperationAction::Succeed);
            update.payload = Some("x".repeat(10 * 1024));
            let refused = client.checkpoint(&arn, one_update("stale-token".to_owned(), None, update)).await;
            assert!(refused.is_err(), "a stale token is refused");
        }
        // A callback answer to an unknown id is refused too.
        let unknown =
            server.lambda_client().send_durable_execution_callback_heartbeat().callback_id("nope").send().await;
        assert!(unknown.is_err());
        assert_eq!(row_counts(&db(&dir)), rows, "refused requests add no rows");
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), wal_size, "nor write anything");
        let stored = server.store().unwrap().load(&arn).unwrap().unwrap().meta;
        assert_eq!(format!("{stored:?}"), format!("{meta:?}"));
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn a_checkpoint_the_store_cannot_write_is_answered_503_and_leaves_no_trace() {
    use durable_runtime::protocol::{OperationAction, OperationType, OperationUpdate};
    bounded(async {
        let dir = store_dir("unwritable");
        let server = LocalService::start_with_store(db(&dir)).await.unwrap();
        let arn = server.change(|s| s.start_execution("f", Some("null".to_owned()))).await.unwrap();
        let token = server.change(|s| s.invocation_input(&arn)).await.unwrap().unwrap().checkpoint_token;
        let (operations, history) = (server.service().operations(&arn), server.service().history(&arn));
        let rows = row_counts(&db(&dir));

        // Every attempt the SDK makes fails to commit: 503 ServiceException, retryable.
        server.store().unwrap().fail_next_writes(100);
        let mut start = OperationUpdate::new("a", OperationType::Step, OperationAction::Start);
        start.name = Some("charge".to_owned());
        let request = one_update(token.clone(), Some("first".to_owned()), start);
        let error = server.checkpoint_client().checkpoint(&arn, request.clone()).await.unwrap_err();
        assert_eq!((error.status(), error.code()), (Some(503), Some("ServiceException")), "{error}");
        assert_eq!(error.class(), ErrorClass::Retryable, "{error}");
        assert!(error.message().contains("could not record"), "{error}");

        // Nothing of it in memory (same operations, history and token) nor in the database.
        assert_eq!(server.service().operations(&arn), operations);
        assert_eq!(server.service().history(&arn), history);
        assert_eq!(row_counts(&db(&dir)), rows);
        // What a restarted service would load (read through a second connection).
        let stored = durable_local::Store::open(db(&dir)).unwrap().load(&arn).unwrap().unwrap();
        let ids: Vec<&str> = stored.operations.iter().map(|op| op.id()).collect();
        assert_eq!(ids, operations.iter().map(|op| op.id.as_str()).collect::<Vec<_>>());
        assert_eq!(stored.events, history);

        // Once the fault clears, the client's retry of the same request is applied.
        server.store().unwrap().fail_next_writes(0);
        let response = server.checkpoint_client().checkpoint(&arn, request).await.unwrap();
        assert!(response.checkpoint_token.is_some());
        let charge = server.service().operation(&arn, "a").expect("the retried START is applied");
        assert_eq!(charge.name.as_deref(), Some("charge"));
        drop(server);
        let restarted = LocalService::start_with_store(db(&dir)).await.unwrap();
        assert!(restarted.service().operation(&arn, "a").is_some(), "and stored");
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

/// A batch of checkpoints: its answer is made while the store commits, and the write runs on the
/// request's own worker thread (a multi-threaded runtime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_checkpoint_the_store_cannot_write_is_answered_503_and_its_retry_is_stored() {
    use durable_runtime::protocol::{OperationAction, OperationUpdate};
    bounded(async {
        let dir = store_dir("unwritable-batch");
        let server = LocalService::start_with_store(db(&dir)).await.unwrap();
        let arn = server.change(|s| s.start_execution("f", Some("null".to_owned()))).await.unwrap();
        let token = server.change(|s| s.invocation_input(&arn)).await.unwrap().unwrap().checkpoint_token;
        let rows = row_counts(&db(&dir));
        let updates: Vec<OperationUpdate> = (0..40)
            .flat_map(|i| {
                let mut done = OperationUpdate::new(format!("s{i}"), OperationType::Step, OperationAction::Succeed);
                done.payload = Some(i.to_string());
                [OperationUpdate::new(format!("s{i}"), OperationType::Step, OperationAction::Start), done]
            })
            .collect();
        let request = CheckpointRequest { checkpoint_token: token, client_token: Some("batch".to_owned()), updates };

        server.store().unwrap().fail_next_writes(100);
        let error = server.checkpoint_client().checkpoint(&arn, request.clone()).await.unwrap_err();
        assert_eq!((error.status(), error.code()), (Some(503), Some("ServiceException")), "{error}");
        assert!(server.service().operation(&arn, "s0").is_none(), "nothing of it in memory");
        assert_eq!(row_counts(&db(&dir)), rows, "nor in the database");

        server.store().unwrap().fail_next_writes(0);
        let response = server.checkpoint_client().checkpoint(&arn, request).await.unwrap();
        let answered = response.new_execution_state.unwrap().operations;
        assert_eq!(answered.iter().filter(|op| op.op_type == OperationType::Step).count(), 40, "the whole answer");
        drop(server);
        let restarted = LocalService::start_with_store(db(&dir)).await.unwrap();
        let stored = restarted.service().operation(&arn, "s39").expect("stored");
        assert_eq!(stored.step_details.and_then(|d| d.result).map(|r| r.text().into_owned()).as_deref(), Some("39"));
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn concurrent_checkpoints_in_a_failed_group_commit_are_all_refused_and_the_rest_are_stored() {
    use durable_runtime::protocol::{OperationAction, OperationType, OperationUpdate};
    bounded(async {
        let dir = store_dir("group-failure");
        let server = LocalService::start_with_store(db(&dir)).await.unwrap();
        let mut started = Vec::new();
        for i in 0..20 {
            let arn = server.change(|s| s.start_execution(&format!("f{i}"), Some("null".to_owned()))).await.unwrap();
            let token = server.change(|s| s.invocation_input(&arn)).await.unwrap().unwrap().checkpoint_token;
            started.push((arn, token));
        }
        // One transaction fails; the requests it held, and those made while it was undone, fail with it.
        server.store().unwrap().fail_next_writes(1);
        let mut calls = tokio::task::JoinSet::new();
        // A client that does not retry, so each answer is the answer to one attempt.
        let config = server
            .lambda_client()
            .config()
            .to_builder()
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .build();
        let once = durable_runtime::checkpoint::aws::AwsCheckpointClient::from_client(
            aws_sdk_lambda::Client::from_conf(config),
        );
        let once = Arc::new(once);
        for (arn, token) in &started {
            let client = once.clone();
            let (arn, request) = (
                arn.clone(),
                one_update(token.clone(), None, OperationUpdate::new("a", OperationType::Step, OperationAction::Start)),
            );
            calls.spawn(async move {
                let outcome = client.checkpoint(&arn, request.clone()).await;
                (arn, request, outcome)
            });
        }
        let mut refused = Vec::new();
        let mut accepted = 0;
        while let Some(done) = calls.join_next().await {
            let (arn, request, outcome) = done.unwrap();
            match outcome {
                Ok(_) => accepted += 1,
                Err(error) => {
                    assert_eq!((error.status(), error.code()), (Some(503), Some("ServiceException")), "{error}");
                    refused.push((arn, request));
                }
            }
        }
        eprintln!("{} of 20 concurrent checkpoints refused with the failed transaction", refused.len());
        assert!(!refused.is_empty(), "the failed transaction answered nobody 200");
        assert_eq!(accepted + refused.len(), 20);
        // Answered 200 if and only if stored: what a restarted service loads agrees with the answers.
        let reader = durable_local::Store::open(db(&dir)).unwrap();
        for (arn, _) in &started {
            let was_refused = refused.iter().any(|(r, _)| r == arn);
            let stored = reader.load(arn).unwrap().unwrap().operations.iter().any(|op| op.id() == "a");
            let in_memory = server.service().operation(arn, "a").is_some();
            assert_eq!(stored, !was_refused, "{arn}: stored {stored}, refused {was_refused}");
            assert_eq!(in_memory, stored, "{arn}: the service holds what the store holds");
        }
        // The clients' retries of the refused requests go through.
        for (arn, request) in refused {
            server.checkpoint_client().checkpoint(&arn, request).await.unwrap();
        }
        drop(server);
        let restarted = LocalService::start_with_store(db(&dir)).await.unwrap();
        for (arn, _) in &started {
            assert!(restarted.service().operation(arn, "a").is_some(), "{arn} stored after the retry");
        }
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn a_restart_keeps_a_pending_callback_that_is_then_answered_over_http() {
    bounded(async {
        let dir = store_dir("callback-restart");
        let first = LocalRunner::new(approval).store(db(&dir)).skip_time(true);
        let waiting = first.run(Value::Null).await.unwrap();
        assert_eq!(waiting.status(), ExecutionStatus::Running);
        let arn = waiting.execution_arn().to_owned();
        let id = waiting.callback_id("approval").unwrap().to_owned();
        let history = waiting.history().to_vec();
        drop(first);

        let second = LocalRunner::new(approval).store(db(&dir)).skip_time(true);
        let server = second.server().await.unwrap();
        assert_eq!(server.service().history(&arn), history);
        assert_eq!(server.service().pending_callback(&arn, "approval").as_deref(), Some(id.as_str()));
        approve(&server.lambda_client(), &id).await;
        let result = second.resume(&arn).await.unwrap();
        assert_eq!(result.output::<String>().unwrap(), "approved: yes");
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn reopening_a_database_is_idempotent_and_a_newer_schema_is_refused() {
    use durable_local::{Store, StoreError, SCHEMA_VERSION};
    let dir = store_dir("schema");
    let path = db(&dir);
    let version = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
    };
    drop(Store::open(&path).unwrap());
    assert_eq!(version(&path), SCHEMA_VERSION);
    let store = Store::open(&path).unwrap();
    assert_eq!(version(&path), SCHEMA_VERSION);
    assert!(store.load_all().unwrap().is_empty());
    drop(store);

    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    match Store::open(&path) {
        Err(StoreError::UnsupportedSchema { found, supported, .. }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected UnsupportedSchema, got {other:?}"),
    }
    let error = LocalService::start_with_store(&path).await.unwrap_err();
    assert!(error.to_string().contains("newer"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_serve_config_with_an_in_memory_database_runs_a_workflow() {
    use durable_local::server::{self, ServeConfig, StoreLocation};
    bounded(async {
        let mut config = ServeConfig::default();
        config.store = StoreLocation::Memory;
        config.port = 0;
        let service = server::start(&config).await.unwrap();
        assert!(service.store().is_some_and(|s| s.path().is_none()));
        let arn = service.change(|s| s.start_execution("f", Some("null".to_owned()))).await.unwrap();
        assert_eq!(service.store().unwrap().load_all().unwrap().len(), 1);
        assert_eq!(service.store().unwrap().load(&arn).unwrap().unwrap().events.len(), 1);
    })
    .await;
}

/// A request that leads a group commit and is then dropped (its client timed out and closed the
/// connection) while the transaction runs: the commit still ends, and the other request it carried
/// is answered with the transaction's outcome. Here the transaction fails, so that request is
/// refused, and neither the store nor the service holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_commit_whose_leader_gives_up_still_answers_its_group_truthfully() {
    bounded(async {
        let dir = store_dir("abandoned-leader");
        let server = Arc::new(LocalService::start_with_store(db(&dir)).await.unwrap());
        server.store().unwrap().fail_next_writes(1);
        // The leader's change is large, so its transaction takes a while, and it holds the service
        // for 20 ms, so that the second change is made before the leader takes the changes to
        // write: both are in the one transaction, which fails.
        let mut random = vec![0u8; 2_500_000];
        getrandom::fill(&mut random).unwrap();
        let noise: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let input = serde_json::to_string(&noise).unwrap();
        let leader = {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                let change = server.change(move |s| {
                    let arn = s.start_execution("leader", Some(input));
                    std::thread::sleep(Duration::from_millis(20));
                    arn
                });
                // Gives up while its transaction runs.
                tokio::time::timeout(Duration::from_millis(30), change).await
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let carried = server.change(|s| s.start_execution("carried", Some("null".to_owned()))).await;
        // On this project's machine the leader gives up while its transaction is written (a
        // faster disk may end it first, and the test then checks the plain path).
        let _gave_up = leader.await.unwrap();
        // Whatever was answered Ok is stored, and the service holds what the store holds. (Before
        // the commit was a task of its own, the next request led a commit of nothing and the
        // carried change was answered Ok, though the transaction that held it had failed.)
        server.commit().await.unwrap();
        let reader = durable_local::Store::open_to_read(db(&dir)).unwrap();
        let stored: Vec<String> = reader.load_all().unwrap().into_iter().map(|e| e.arn).collect();
        if let Ok(arn) = &carried {
            assert!(stored.contains(arn), "the carried change was answered Ok but is not stored");
        }
        let mut held = server.service().executions();
        held.sort();
        let mut stored_sorted = stored.clone();
        stored_sorted.sort();
        assert_eq!(held, stored_sorted, "the service holds what the store holds");
        // The service goes on.
        let arn = server.change(|s| s.start_execution("after", Some("null".to_owned()))).await.unwrap();
        assert!(reader.load(&arn).unwrap().is_some());
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}
