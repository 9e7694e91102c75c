//! Hosted functions driven by the service itself: Invoke (sync and async, named), the scheduler's
//! timers and callbacks, StopDurableExecution and ListDurableExecutionsByFunction, all through
//! `aws-sdk-lambda` as a user's tooling calls them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::{Function, InvokeFuture, LocalService};
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use durable_runtime::protocol::ErrorObject;
use durable_runtime::{DurableContext, Error};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::bounded;

async fn greeter(ctx: DurableContext, name: String) -> Result<String, Error> {
    let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).name("greet").await?;
    ctx.wait(Duration::from_secs(3600)).name("an hour").await?;
    Ok(greeting)
}

async fn approval(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").await?;
    let decision = callback.result().await?;
    Ok(format!("approved: {decision}"))
}

async fn failing(_: DurableContext, _: Value) -> Result<String, Error> {
    Err("out of stock".into())
}

fn payload(value: &str) -> aws_sdk_lambda::primitives::Blob {
    aws_sdk_lambda::primitives::Blob::new(value.as_bytes().to_vec())
}

#[tokio::test]
async fn a_synchronous_invoke_answers_with_the_result_when_the_execution_has_finished() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("greeter", greeter);
        server.skip_time(true);
        let client = server.lambda_client();
        let out = client
            .invoke()
            .function_name("greeter")
            .qualifier("$LATEST")
            .payload(payload("\"Ada\""))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status_code(), 200);
        assert_eq!(out.function_error(), None);
        assert_eq!(out.payload().unwrap().as_ref(), b"\"Hello, Ada!\"");
        assert_eq!(out.executed_version(), Some("$LATEST"));
        let arn = out.durable_execution_arn().unwrap().to_owned();
        assert!(arn.contains(":function:greeter:$LATEST/durable-execution/"), "{arn}");
        // The service invoked it twice: before and after the (skipped) hour.
        let history = client.get_durable_execution_history().durable_execution_arn(&arn).send().await.unwrap();
        let types: Vec<&str> = history.events().iter().filter_map(|e| e.event_type().map(|t| t.as_str())).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "StepStarted",
                "StepSucceeded",
                "WaitStarted",
                "InvocationCompleted",
                "WaitSucceeded",
                "InvocationCompleted",
                "ExecutionSucceeded"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_execution_is_a_function_error_of_the_synchronous_invoke() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("failing", failing);
        let out = server.lambda_client().invoke().function_name("failing").qualifier("$LATEST").send().await.unwrap();
        assert_eq!(out.function_error(), Some("Unhandled"));
        let body: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert_eq!(body["errorMessage"], "out of stock", "{body}");
        let arn = out.durable_execution_arn().unwrap();
        assert_eq!(server.service().execution_status(arn).unwrap().to_string(), "FAILED");
    })
    .await;
}

#[tokio::test]
async fn an_event_invoke_returns_at_once_and_the_service_finishes_the_execution() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("approval", approval);
        let client = server.lambda_client();
        let out = client
            .invoke()
            .function_name("approval")
            .qualifier("$LATEST")
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(payload("{}"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status_code(), 202);
        let arn = out.durable_execution_arn().unwrap().to_owned();
        // The callback is created by the first invocation; answer it as a user's system would.
        let id = loop {
            if let Some(id) = server.service().pending_callback(&arn, "approval") {
                break id;
            }
            server.changed().await;
        };
        client
            .send_durable_execution_callback_success()
            .callback_id(&id)
            .result(payload("\"yes\""))
            .send()
            .await
            .unwrap();
        let status = server.finished(&arn).await.unwrap();
        assert_eq!(status.to_string(), "SUCCEEDED");
        let execution = client.get_durable_execution().durable_execution_arn(&arn).send().await.unwrap();
        assert_eq!(execution.result(), Some("\"approved: yes\""));
    })
    .await;
}

#[tokio::test]
async fn a_named_invoke_is_idempotent_and_another_input_under_the_name_conflicts() {
    bounded(async {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let server = LocalService::start().await.unwrap();
        server.host_handler("count", move |ctx: DurableContext, n: u32| {
            let counted = counted.clone();
            async move {
                ctx.step(move |_| async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(n * 2)
                })
                .await
            }
        });
        let client = server.lambda_client();
        let invoke = |input: &'static str| {
            client
                .invoke()
                .function_name("count")
                .qualifier("$LATEST")
                .durable_execution_name("order-7")
                .payload(payload(input))
                .send()
        };
        let first = invoke("21").await.unwrap();
        let second = invoke("21").await.unwrap();
        assert_eq!(first.durable_execution_arn(), second.durable_execution_arn());
        assert_eq!(second.payload().unwrap().as_ref(), b"42");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the second invoke returned the first execution");
        let conflict = invoke("22").await.unwrap_err().into_service_error();
        assert_eq!(conflict.meta().code(), Some("DurableExecutionAlreadyStartedException"), "{conflict:?}");
    })
    .await;
}

#[tokio::test]
async fn a_durable_function_is_invoked_with_a_qualifier_as_on_aws() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("greeter", greeter);
        server.host_plain("shout", Arc::new(Shout));
        server.skip_time(true);
        let client = server.lambda_client();

        // Unqualified (a name, an ARN, a partial ARN): refused with AWS's error; nothing starts.
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:greeter";
        for unqualified in ["greeter", arn, "123456789012:function:greeter"] {
            let refused = client.invoke().function_name(unqualified).payload(payload("\"Ada\"")).send().await;
            let refused = refused.unwrap_err().into_service_error();
            assert!(refused.is_invalid_parameter_value_exception(), "{unqualified}: {refused:?}");
            assert_eq!(
                refused.meta().message(),
                Some("You cannot invoke a durable function using an unqualified ARN.")
            );
        }
        assert!(server.service().executions().is_empty(), "an unqualified invoke started an execution");

        // `$LATEST`, a version or an alias, in the name, the ARN or the Qualifier parameter.
        let live = format!("{arn}:live");
        let qualified = [
            ("greeter:$LATEST", None),
            ("greeter", Some("$LATEST")),
            ("greeter", Some("1")),
            ("greeter", Some("live")),
            (live.as_str(), None),
            ("123456789012:function:greeter:7", None),
        ];
        for (name, qualifier) in qualified {
            let out = client.invoke().function_name(name).set_qualifier(qualifier.map(str::to_owned));
            let out = out.payload(payload("\"Ada\"")).send().await;
            let out = out.unwrap_or_else(|e| panic!("{name} {qualifier:?}: {:?}", e.into_service_error()));
            assert_eq!(out.payload().unwrap().as_ref(), b"\"Hello, Ada!\"", "{name} {qualifier:?}");
        }
        let malformed = client.invoke().function_name("greeter").qualifier("no such thing").send().await;
        assert!(malformed.unwrap_err().into_service_error().is_invalid_parameter_value_exception());

        // Lookups by function take qualified names too.
        let listed = client.list_durable_executions_by_function().function_name("greeter:live").send().await.unwrap();
        assert_eq!(listed.durable_executions().len(), qualified.len());

        // A plain function (no durable config) is still invoked unqualified, as on AWS.
        let out = client.invoke().function_name("shout").payload(payload("\"hi\"")).send().await.unwrap();
        assert_eq!(out.payload().unwrap().as_ref(), b"\"HI\"");
    })
    .await;
}

#[tokio::test]
async fn invoking_what_is_not_hosted_or_not_json_is_refused() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("greeter", greeter);
        let client = server.lambda_client();
        let missing = client.invoke().function_name("nope").send().await.unwrap_err().into_service_error();
        assert!(missing.is_resource_not_found_exception(), "{missing:?}");
        let garbage = client
            .invoke()
            .function_name("greeter")
            .qualifier("$LATEST")
            .payload(payload("{oops"))
            .send()
            .await
            .unwrap_err();
        assert!(garbage.into_service_error().is_invalid_request_content_exception());
        let big = "\"".to_owned() + &"x".repeat(7 * 1024 * 1024) + "\"";
        let too_large = client
            .invoke()
            .function_name("greeter")
            .qualifier("$LATEST")
            .payload(payload(&big))
            .send()
            .await
            .unwrap_err();
        let too_large = too_large.into_service_error();
        assert!(too_large.is_request_too_large_exception(), "{too_large:?}");
        assert!(server.service().executions().is_empty(), "nothing was started");
    })
    .await;
}

#[tokio::test]
async fn stop_ends_a_waiting_execution_and_list_filters_and_pages() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("approval", approval);
        server.host_handler("greeter", greeter);
        server.skip_time(true);
        let client = server.lambda_client();
        let event = aws_sdk_lambda::types::InvocationType::Event;
        let mut waiting = Vec::new();
        for _ in 0..3 {
            let out = client
                .invoke()
                .function_name("approval")
                .qualifier("$LATEST")
                .invocation_type(event.clone())
                .send()
                .await
                .unwrap();
            waiting.push(out.durable_execution_arn().unwrap().to_owned());
        }
        client.invoke().function_name("greeter").qualifier("$LATEST").payload(payload("\"Bo\"")).send().await.unwrap();

        let stopped = client.stop_durable_execution().durable_execution_arn(&waiting[0]).send().await.unwrap();
        assert!(stopped.stop_timestamp().secs() > 0);
        assert_eq!(server.finished(&waiting[0]).await.unwrap().to_string(), "STOPPED");
        let again = client.stop_durable_execution().durable_execution_arn(&waiting[0]).send().await.unwrap_err();
        assert_eq!(again.into_service_error().meta().code(), Some("ResourceConflictException"));

        let list = |function: &'static str| client.list_durable_executions_by_function().function_name(function);
        let all = list("approval").send().await.unwrap();
        let arns: Vec<&str> = all.durable_executions().iter().map(|e| e.durable_execution_arn()).collect();
        assert_eq!(arns.len(), 3, "only the approval function's executions");
        assert!(arns.iter().all(|a| waiting.iter().any(|w| w == a)));
        let running = list("approval").statuses(aws_sdk_lambda::types::ExecutionStatus::Running).send().await.unwrap();
        assert_eq!(running.durable_executions().len(), 2);
        let first_page = list("approval").max_items(2).send().await.unwrap();
        assert_eq!(first_page.durable_executions().len(), 2);
        let marker = first_page.next_marker().unwrap().to_owned();
        let second_page = list("approval").max_items(2).marker(marker).send().await.unwrap();
        assert_eq!(second_page.durable_executions().len(), 1);
        assert_eq!(second_page.next_marker(), None);
        let greeter = list("greeter").send().await.unwrap();
        assert_eq!(greeter.durable_executions()[0].status().as_str(), "SUCCEEDED");
        assert!(greeter.durable_executions()[0].end_timestamp().is_some());
    })
    .await;
}

#[tokio::test]
async fn an_execution_past_its_timeout_ends_timed_out() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host("approval", server.in_process(approval), Duration::from_secs(1));
        let out = server.lambda_client().invoke().function_name("approval").qualifier("$LATEST").send().await.unwrap();
        assert_eq!(out.function_error(), Some("Unhandled"));
        let body: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert_eq!(body["errorMessage"], "Execution timed out after 1 seconds.", "{body}");
        let arn = out.durable_execution_arn().unwrap();
        let last = server.service().history(arn).last().map(|e| serde_json::to_value(e).unwrap()).unwrap();
        assert_eq!(last["EventType"], "ExecutionTimedOut");
    })
    .await;
}

/// Fails its first `failures` invocations with a function error, then runs `greeter`.
struct Flaky {
    failures: usize,
    calls: AtomicUsize,
    inner: Arc<dyn Function>,
}

impl Function for Flaky {
    fn invoke<'a>(&'a self, payload: Vec<u8>, request_id: &'a str) -> InvokeFuture<'a> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(ErrorObject {
                    error_type: Some("Runtime.ExitError".into()),
                    error_message: Some("the process exited".into()),
                    ..Default::default()
                });
            }
            self.inner.invoke(payload, request_id).await
        })
    }
}

#[tokio::test]
async fn failed_invocations_are_retried_and_more_than_five_in_a_row_fail_the_execution() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.skip_time(true);
        let flaky = Arc::new(Flaky { failures: 2, calls: AtomicUsize::new(0), inner: server.in_process(greeter) });
        server.host("flaky", flaky.clone(), Duration::from_secs(7200));
        let out = server
            .lambda_client()
            .invoke()
            .function_name("flaky")
            .qualifier("$LATEST")
            .payload(payload("\"Cy\""))
            .send()
            .await;
        let out = out.unwrap();
        assert_eq!(out.payload().unwrap().as_ref(), b"\"Hello, Cy!\"");
        let arn = out.durable_execution_arn().unwrap();
        let errors: Vec<Option<String>> = server
            .service()
            .invocations(arn)
            .iter()
            .map(|i| i.error.as_ref().and_then(|e| e.error_type.clone()))
            .collect();
        assert_eq!(errors, [Some("Runtime.ExitError".into()), Some("Runtime.ExitError".into()), None, None]);

        let broken =
            Arc::new(Flaky { failures: usize::MAX, calls: AtomicUsize::new(0), inner: server.in_process(greeter) });
        server.host("broken", broken.clone(), Duration::from_secs(7200));
        let out = server
            .lambda_client()
            .invoke()
            .function_name("broken")
            .qualifier("$LATEST")
            .payload(payload("\"Di\""))
            .send()
            .await;
        assert_eq!(out.unwrap().function_error(), Some("Unhandled"));
        assert_eq!(broken.calls.load(Ordering::SeqCst), 6, "five retries after the first failure");
    })
    .await;
}

async fn caller(ctx: DurableContext, name: String) -> Result<String, Error> {
    let greeting: String = ctx.invoke("greeter", name).name("ask the greeter").await?;
    let missing: Result<String, _> = ctx.invoke("nobody", "x".to_owned()).name("ask nobody").await;
    Ok(format!("{greeting} / {}", missing.unwrap_or_else(|e| e.to_string())))
}

#[tokio::test]
async fn a_chained_invoke_runs_the_target_as_an_execution_of_its_own() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_handler("greeter", greeter);
        server.host_handler("caller", caller);
        server.skip_time(true);
        let client = server.lambda_client();
        let out = client
            .invoke()
            .function_name("caller")
            .qualifier("$LATEST")
            .payload(payload("\"Eve\""))
            .send()
            .await
            .unwrap();
        let result: String = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert!(result.starts_with("Hello, Eve! / "), "{result}");
        assert!(result.contains("Function not found"), "{result}");
        let greeter = client
            .list_durable_executions_by_function()
            .function_name("greeter")
            .qualifier("$LATEST")
            .send()
            .await
            .unwrap();
        assert_eq!(greeter.durable_executions().len(), 1);
        assert_eq!(greeter.durable_executions()[0].status().as_str(), "SUCCEEDED");
    })
    .await;
}

async fn pause(ctx: DurableContext, _: Value) -> Result<String, Error> {
    ctx.wait(Duration::from_secs(2)).name("pause").await?;
    Ok("woke up".to_owned())
}

#[tokio::test]
async fn a_timer_armed_before_a_restart_fires_after_it() {
    bounded(async {
        let dir = std::env::temp_dir().join(format!("durable-timer-{}", durable_runtime::protocol::ids::uuid_v4()));
        let db = dir.join("durable.db");
        let arn = {
            let server = LocalService::start_with_store(&db).await.unwrap();
            server.host_handler("pause", pause);
            let client = server.lambda_client();
            let event = aws_sdk_lambda::types::InvocationType::Event;
            let out = client
                .invoke()
                .function_name("pause")
                .qualifier("$LATEST")
                .invocation_type(event)
                .send()
                .await
                .unwrap();
            let arn = out.durable_execution_arn().unwrap().to_owned();
            // Until the first invocation has ended with the wait armed.
            while server.service().invocations(&arn).is_empty() {
                let _ = tokio::time::timeout(Duration::from_millis(50), server.changed()).await;
            }
            arn
        };
        // A new service on the same database, as after `durable serve` restarts.
        let server = LocalService::start_with_store(&db).await.unwrap();
        assert!(server.service().next_timer(&arn).is_some(), "the wait is armed after the restart");
        server.host_handler("pause", pause);
        assert_eq!(server.finished(&arn).await.unwrap().to_string(), "SUCCEEDED");
        assert_eq!(server.service().execution_result(&arn).as_deref(), Some("\"woke up\""));
        let types: Vec<String> =
            server.history_json(&arn).iter().map(|e| e["EventType"].as_str().unwrap_or_default().to_owned()).collect();
        assert!(types.contains(&"WaitSucceeded".to_owned()), "{types:?}");
        drop(server);
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

/// A plain (not durable) Lambda function: upper-cases a JSON string, fails on anything else.
struct Shout;

impl Function for Shout {
    fn invoke<'a>(&'a self, payload: Vec<u8>, _request_id: &'a str) -> InvokeFuture<'a> {
        Box::pin(async move {
            match serde_json::from_slice::<String>(&payload) {
                Ok(text) => Ok(serde_json::to_vec(&text.to_uppercase()).unwrap_or_default()),
                Err(_) => Err(ErrorObject {
                    error_type: Some("NotText".into()),
                    error_message: Some("give me a string".into()),
                    ..Default::default()
                }),
            }
        })
    }
}

async fn asks_shout(ctx: DurableContext, text: String) -> Result<String, Error> {
    let loud: String = ctx.invoke("shout", text).name("shout").await?;
    let refused: Result<String, _> = ctx.invoke("shout", 42).name("shout a number").await;
    Ok(format!("{loud} / {}", refused.unwrap_err()))
}

#[tokio::test]
async fn a_plain_function_answers_invoke_and_chained_invokes() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_plain("shout", Arc::new(Shout));
        server.host_handler("asks", asks_shout);
        let client = server.lambda_client();

        // Invoke of a plain function: its response, no durable execution.
        let out = client.invoke().function_name("shout").payload(payload("\"hi\"")).send().await.unwrap();
        assert_eq!(out.payload().unwrap().as_ref(), b"\"HI\"");
        assert_eq!(out.durable_execution_arn(), None);
        let failed = client.invoke().function_name("shout").payload(payload("1")).send().await.unwrap();
        assert_eq!(failed.function_error(), Some("Unhandled"));
        assert!(server.service().executions().is_empty());

        // A chained invoke of it completes with its response, or fails with its error.
        let out = client
            .invoke()
            .function_name("asks")
            .qualifier("$LATEST")
            .payload(payload("\"hey\""))
            .send()
            .await
            .unwrap();
        let result: String = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert!(result.starts_with("HEY / ") && result.contains("give me a string"), "{result}");
        let history = server.history_json(out.durable_execution_arn().unwrap());
        let types: Vec<&str> = history.iter().filter_map(|e| e["EventType"].as_str()).collect();
        assert!(types.contains(&"ChainedInvokeSucceeded") && types.contains(&"ChainedInvokeFailed"), "{types:?}");
    })
    .await;
}

/// Invokes `shout` with a number (which fails at once), and keeps its invocation busy with a slow
/// step in a parallel branch, so the target would finish first if it started at once.
async fn invokes_while_busy(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let settled = ctx
        .all_settled(|ctx| {
            (
                ctx.invoke::<_, String>("shout", 42).name("shout a number"),
                ctx.step(|_| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok::<_, Error>("slow".to_owned())
                })
                .name("slow"),
            )
        })
        .await?;
    Ok(format!("{settled:?}"))
}

#[tokio::test]
async fn a_chained_invoke_completes_after_the_callers_invocation_in_the_history() {
    bounded(async {
        let server = LocalService::start().await.unwrap();
        server.host_plain("shout", Arc::new(Shout));
        server.host_handler("busy", invokes_while_busy);
        let out = server
            .lambda_client()
            .invoke()
            .function_name("busy")
            .qualifier("$LATEST")
            .payload(payload("{}"))
            .send()
            .await
            .unwrap();
        let history = server.history_json(out.durable_execution_arn().unwrap());
        let types: Vec<&str> = history.iter().filter_map(|e| e["EventType"].as_str()).collect();
        let completed = types.iter().position(|t| *t == "InvocationCompleted").expect("an invocation ended");
        let failed = types.iter().position(|t| *t == "ChainedInvokeFailed").expect("the invoke failed");
        assert!(completed < failed, "the target ran while its caller's invocation did: {types:?}");
    })
    .await;
}
