//! Callbacks, wait-for-callback, chained invoke and wait-for-condition, driven through the test runner
//! against the in-memory service; histories checked against the shapes of the conformance suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::ops::{WaitDecision, WaitStrategy};
use durable_runtime::protocol::{ErrorObject, OperationAction, OperationStatus, OperationType};
use durable_runtime::retry::{Jitter, RetryStrategy};
use durable_runtime::testing::{CallbackAction, ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, DurableError, Error, ErrorKind};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn history_json<T: serde::Serialize>(history: &[T]) -> Vec<Value> {
    history.iter().map(|e| serde_json::to_value(e).unwrap_or_default()).collect()
}

fn events(history: &[Value], event_type: &str) -> Vec<Value> {
    history.iter().filter(|e| e["EventType"] == event_type).cloned().collect()
}

/// `EventType` of every event after `ExecutionStarted`.
fn event_types(history: &[Value]) -> Vec<String> {
    history.iter().skip(1).map(|e| e["EventType"].as_str().unwrap_or_default().to_owned()).collect()
}

fn rejected() -> ErrorObject {
    ErrorObject {
        error_type: Some("RejectedError".into()),
        error_message: Some("not approved".into()),
        error_data: Some("{\"by\":\"ada\"}".into()),
        stack_trace: None,
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ---------------------------------------------------------------------------------------------
// create_callback

async fn approval(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback =
        ctx.create_callback::<String>().name("approval").timeout(secs(3600)).heartbeat_timeout(secs(600)).await?;
    let id = callback.id().to_owned();
    // The id is known before anything else runs: the START was durable at once.
    let sent = ctx.step(move |_| async move { Ok::<_, Error>(id) }).name("send").await?;
    let decision = callback.result().await?;
    Ok(format!("{decision} ({sent})"))
}

#[tokio::test]
async fn a_callback_answered_by_a_responder_returns_the_senders_result() {
    let runner = TestRunner::new(approval).on_callback("approval", CallbackAction::succeed("yes").after(secs(90)));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let history = history_json(result.history());
    let started = &events(&history, "CallbackStarted")[0];
    let id = started["CallbackStartedDetails"]["CallbackId"].as_str().unwrap();
    assert_eq!(result.output::<String>().unwrap(), format!("yes ({id})"));
    assert_eq!(result.callback_id("approval"), Some(id));
    assert_eq!(started["SubType"], "Callback");
    assert_eq!(started["Name"], "approval");
    assert_eq!(started["CallbackStartedDetails"]["Timeout"], 3600);
    assert_eq!(started["CallbackStartedDetails"]["HeartbeatTimeout"], 600);
    assert_eq!(
        event_types(&history),
        [
            "CallbackStarted",
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "CallbackSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    let succeeded = &events(&history, "CallbackSucceeded")[0];
    assert_eq!(succeeded["CallbackSucceededDetails"]["Result"]["Payload"], "\"yes\"");
    let elapsed = succeeded["EventTimestamp"].as_i64().unwrap() - started["EventTimestamp"].as_i64().unwrap();
    assert!((90_000..95_000).contains(&elapsed), "answered 90 s of virtual time later, got {elapsed} ms");
    // The START went out alone and first, before the step: nothing was coalesced behind it.
    let requests = runner.service().requests(result.execution_arn());
    assert_eq!(requests[0].updates.len(), 1);
    assert_eq!(requests[0].updates[0].op_type, OperationType::Callback);
}

#[tokio::test]
async fn a_callback_failure_is_the_senders_error_object_verbatim() {
    let seen: Arc<Mutex<Vec<DurableError>>> = Arc::default();
    let s = seen.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let s = s.clone();
        async move {
            let callback = ctx.create_callback::<String>().name("approval").await?;
            let error = callback.result().await.unwrap_err();
            s.lock().unwrap().push(error.clone());
            Err::<String, _>(error)
        }
    };
    let runner = TestRunner::new(handler).on_callback("approval", CallbackAction::fail(rejected()).after(secs(1)));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap(), rejected());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "the live run and the replay audit");
    assert_eq!(seen[0].kind(), ErrorKind::CallbackFailed);
    assert_eq!(seen[0].error_type(), "RejectedError");
    assert_eq!(seen[0].message(), "not approved");
    assert_eq!(seen[0].error_data(), Some("{\"by\":\"ada\"}"));
    let history = history_json(result.history());
    let failed = &events(&history, "CallbackFailed")[0];
    assert_eq!(failed["CallbackFailedDetails"]["Error"]["Payload"]["ErrorType"], "RejectedError");
}

fn timeout_handler(heartbeat: bool) -> impl Fn(DurableContext, Value) -> futures_box::Boxed<String> + Send + Sync {
    move |ctx: DurableContext, _: Value| {
        Box::pin(async move {
            let builder = ctx.create_callback::<String>().name("approval");
            let builder = if heartbeat { builder.heartbeat_timeout(secs(60)) } else { builder.timeout(secs(300)) };
            let callback = builder.await?;
            match callback.result().await {
                Ok(value) => Ok(value),
                Err(e) if e.kind() == ErrorKind::CallbackTimedOut => Ok(format!("{}: {}", e.error_type(), e.message())),
                Err(e) => Err(e.into()),
            }
        })
    }
}

mod futures_box {
    use std::future::Future;
    use std::pin::Pin;

    pub(crate) type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, durable_runtime::Error>> + Send>>;
}

#[tokio::test]
async fn callback_timeouts_fire_under_skipped_time() {
    for (heartbeat, error_type, after) in [(false, "Callback.Timeout", 300_000), (true, "Callback.Heartbeat", 60_000)] {
        let started = std::time::Instant::now();
        let result = TestRunner::new(timeout_handler(heartbeat)).run(Value::Null).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "virtual time, not real time");
        assert_eq!(result.status(), ExecutionStatus::Succeeded);
        assert!(result.output::<String>().unwrap().starts_with(&format!("{error_type}: ")));
        let history = history_json(result.history());
        assert_eq!(
            event_types(&history),
            ["CallbackStarted", "InvocationCompleted", "CallbackTimedOut", "InvocationCompleted", "ExecutionSucceeded"]
        );
        let timed_out = &events(&history, "CallbackTimedOut")[0];
        assert_eq!(timed_out["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"], error_type);
        let start = events(&history, "CallbackStarted")[0]["EventTimestamp"].as_i64().unwrap();
        let elapsed = timed_out["EventTimestamp"].as_i64().unwrap() - start;
        assert!((after..after + 5_000).contains(&elapsed), "{error_type} after {elapsed} ms");
    }
}

#[tokio::test]
async fn heartbeats_keep_a_callback_alive_past_its_heartbeat_timeout() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let callback = ctx.create_callback::<u32>().name("job").heartbeat_timeout(secs(10)).await?;
        Ok::<_, Error>(callback.result().await?)
    };
    let runner =
        TestRunner::new(handler).on_callback("job", CallbackAction::heartbeat_then_succeed(secs(8), secs(8), 42));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 42, "{:?}", result.error());
    assert_eq!(result.invocation_count(), 2, "a heartbeat does not re-invoke");
    let history = history_json(result.history());
    assert!(events(&history, "CallbackTimedOut").is_empty());
    // The same with the conformance shape: a heartbeat responder chained to a success responder.
    let handler = |ctx: DurableContext, _: Value| async move {
        let callback = ctx.create_callback::<u32>().name("job").heartbeat_timeout(secs(10)).await?;
        Ok::<_, Error>(callback.result().await?)
    };
    let runner = TestRunner::new(handler)
        .on_callback("job", CallbackAction::heartbeat().after(secs(9)))
        .on_callback("*", CallbackAction::succeed(7).after(secs(9)));
    assert_eq!(runner.run(Value::Null).await.unwrap().output::<u32>().unwrap(), 7);
}

async fn untimed_approval(ctx: DurableContext, _: Value) -> Result<String, Error> {
    let callback = ctx.create_callback::<String>().name("approval").await?;
    let id = callback.id().to_owned();
    let decision = callback.result().await?;
    Ok(format!("{decision} ({id})"))
}

#[tokio::test]
async fn a_test_answers_a_callback_between_run_and_resume() {
    let runner = TestRunner::new(untimed_approval);
    let first = runner.run(Value::Null).await.unwrap();
    assert_eq!(first.status(), ExecutionStatus::Running, "nobody answers and no timer is armed");
    let arn = first.execution_arn().to_owned();
    // Resuming with nothing changed does not invoke again.
    let again = runner.resume(&arn).await.unwrap();
    assert_eq!((again.status(), again.invocation_count()), (ExecutionStatus::Running, 1));
    let id = first.callback_id("approval").unwrap().to_owned();
    runner.send_callback_heartbeat(&id).unwrap();
    runner.send_callback_success(&id, "granted").unwrap();
    let done = runner.resume(&arn).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Succeeded);
    assert_eq!(done.output::<String>().unwrap(), format!("granted ({id})"));
    assert_eq!(done.invocation_count(), 2);
    assert!(runner.send_callback_success(&id, "again").is_err(), "a closed callback rejects answers");
}

#[tokio::test]
async fn a_test_can_fail_a_callback_and_resume() {
    let runner = TestRunner::new(untimed_approval);
    let first = runner.run(Value::Null).await.unwrap();
    let id = first.callback_id("approval").unwrap().to_owned();
    runner.send_callback_failure(&id, rejected()).unwrap();
    let done = runner.resume(first.execution_arn()).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Failed);
    assert_eq!(done.error().unwrap().error_message.as_deref(), Some("not approved"));
}

#[tokio::test]
async fn a_failed_callback_still_returns_its_id_and_fails_only_its_result() {
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let i = ids.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let i = i.clone();
        async move {
            let callback = ctx.create_callback::<String>().name("approval").await?;
            i.lock().unwrap().push(callback.id().to_owned());
            ctx.wait(secs(10)).await?;
            match callback.result().await {
                Ok(v) => Ok::<_, Error>(v),
                Err(e) => Ok(format!("caught {}", e.error_type())),
            }
        }
    };
    let runner = TestRunner::new(handler).on_callback("approval", CallbackAction::fail(rejected()).after(secs(1)));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "caught RejectedError");
    assert_eq!(result.invocation_count(), 3, "the answer and the wait each re-invoke");
    let ids = ids.lock().unwrap();
    assert_eq!(ids.len(), 4, "three invocations and the replay audit");
    assert!(ids.iter().all(|id| id == &ids[0]));
    let history = history_json(result.history());
    assert_eq!(
        event_types(&history),
        [
            "CallbackStarted",
            "WaitStarted",
            "InvocationCompleted",
            "CallbackFailed",
            "InvocationCompleted",
            "WaitSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// wait_for_callback

#[tokio::test]
async fn wait_for_callback_has_the_wire_shape_of_the_official_sdks() {
    let submitted: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = submitted.clone();
    let handler = move |ctx: DurableContext, name: String| {
        let s = s.clone();
        async move {
            let value: Value = ctx
                .wait_for_callback(move |callback_id, _step| async move {
                    s.lock().unwrap().push(callback_id);
                    Ok::<_, Error>(())
                })
                .name(name)
                .await?;
            Ok::<_, Error>(value["status"].clone())
        }
    };
    let runner = TestRunner::new(handler)
        .on_callback("cb-name", CallbackAction::succeed_raw(Some("{\"status\": \"approved\"}".into())).after(secs(1)));
    let result = runner.run("cb-name").await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "approved");
    let history = history_json(result.history());
    assert_eq!(
        event_types(&history),
        [
            "ContextStarted",
            "CallbackStarted",
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "CallbackSucceeded",
            "ContextSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    let context = &history[1];
    assert_eq!((&context["SubType"], &context["Name"]), (&json!("WaitForCallback"), &json!("cb-name")));
    let ctx_id = context["Id"].clone();
    for event in history[2..7].iter().filter(|e| e["EventType"] != "InvocationCompleted") {
        assert_eq!(event["ParentId"], ctx_id, "{event}");
        assert!(event.get("Name").is_none(), "inner operations are unnamed: {event}");
    }
    assert_eq!(history[2]["SubType"], "Callback");
    assert_eq!(history[3]["SubType"], "Step");
    assert_eq!(history[6]["CallbackSucceededDetails"]["Result"]["Payload"], "{\"status\": \"approved\"}");
    assert_eq!(history[7]["Id"], ctx_id);
    let callback_id = history[2]["CallbackStartedDetails"]["CallbackId"].as_str().unwrap();
    assert_eq!(*submitted.lock().unwrap(), [callback_id], "the submitter ran once, with the minted id");
    assert_eq!(result.callback_id("cb-name"), Some(callback_id));
    // Child positions 1 and 2 under the context.
    let ops = result.operations();
    assert_eq!(ops[1].op_type, OperationType::Callback);
    assert_eq!(ops[2].op_type, OperationType::Step);
}

#[tokio::test]
async fn wait_for_callback_submitter_retries_then_fails_the_operation() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let value: String = ctx
            .wait_for_callback(|_, _| async { Err::<(), _>(DurableError::with_type("SubmitError", "queue down")) })
            .name("approval")
            .retry(RetryStrategy::fixed(secs(1)).max_attempts(2))
            .await?;
        Ok::<_, Error>(value)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("SubmitError"));
    let history = history_json(result.history());
    assert_eq!(
        event_types(&history),
        [
            "ContextStarted",
            "CallbackStarted",
            "StepStarted",
            "StepFailed",
            "InvocationCompleted",
            "StepStarted",
            "StepFailed",
            "ContextFailed",
            "InvocationCompleted",
            "ExecutionFailed"
        ]
    );
    assert_eq!(history[4]["StepFailedDetails"]["RetryDetails"]["NextAttemptDelaySeconds"], 1);
}

#[tokio::test]
async fn wait_for_callback_timeouts_and_failures_can_be_caught() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let timed_out = ctx
            .wait_for_callback::<String, _, _, _>(|_, _| async { Ok::<_, Error>(()) })
            .name("first")
            .timeout(secs(3))
            .await
            .unwrap_err();
        let failed = ctx
            .wait_for_callback::<String, _, _, _>(|_, _| async { Ok::<_, Error>(()) })
            .name("second")
            .heartbeat_timeout(secs(30))
            .await
            .unwrap_err();
        Ok::<_, Error>(vec![
            format!("{:?} {}", timed_out.kind(), timed_out.error_type()),
            format!("{:?} {} {}", failed.kind(), failed.error_type(), failed.message()),
        ])
    };
    let runner = TestRunner::new(handler).on_callback("second", CallbackAction::fail(rejected()).after(secs(2)));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        result.output::<Vec<String>>().unwrap(),
        ["CallbackTimedOut Callback.Timeout", "CallbackFailed RejectedError not approved"]
    );
    let history = history_json(result.history());
    let failed = events(&history, "ContextFailed");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["ContextFailedDetails"]["Error"]["Payload"]["ErrorType"], "Callback.Timeout");
}

// ---------------------------------------------------------------------------------------------
// invoke

async fn echo_after_a_wait(ctx: DurableContext, input: Value) -> Result<Value, Error> {
    ctx.wait(secs(1)).await?;
    Ok(input)
}

#[tokio::test]
async fn invoking_a_durable_workflow_runs_it_as_its_own_execution() {
    let handler = |ctx: DurableContext, input: String| async move {
        let echoed: String = ctx.invoke("echo", input).await?;
        Ok::<_, Error>(echoed)
    };
    let runner = TestRunner::new(handler).register_workflow("echo", echo_after_a_wait);
    let result = runner.run("abc12345").await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "abc12345");
    let history = history_json(result.history());
    assert_eq!(
        event_types(&history),
        [
            "ChainedInvokeStarted",
            "InvocationCompleted",
            "ChainedInvokeSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    let started = &history[1];
    assert_eq!(started["SubType"], "ChainedInvoke");
    let details = &started["ChainedInvokeStartedDetails"];
    assert_eq!(details["FunctionName"], "echo");
    assert_eq!(details["Input"]["Payload"], "\"abc12345\"");
    assert_eq!(details["ExecutedVersion"], "$LATEST");
    assert!(details.get("TenantId").is_none());
    assert_eq!(history[3]["ChainedInvokeSucceededDetails"]["Result"]["Payload"], "\"abc12345\"");
    // The target is a real execution of its own on the same service, re-invoked after its wait.
    let target = details["DurableExecutionArn"].as_str().unwrap();
    assert!(target.starts_with("arn:aws:lambda:") && target.contains(":function:echo:"), "{target}");
    let service = runner.service();
    assert_eq!(service.execution_status(target), Some(ExecutionStatus::Succeeded));
    assert_eq!(service.invocations(target).len(), 2);
    let target_history = history_json(&service.history(target));
    assert_eq!(events(&target_history, "WaitSucceeded").len(), 1);
    let link = service.chained_invocation_of(target).unwrap();
    assert_eq!(link.caller_arn, result.execution_arn());
}

#[tokio::test]
async fn an_invoke_by_arn_with_a_tenant_id_reaches_the_registered_stub() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let out: Value = ctx
            .invoke("arn:aws:lambda:us-east-1:123456789012:function:tenant-echo:prod", json!({"n": 1}))
            .name("call")
            .tenant_id("tenant-7")
            .await?;
        Ok::<_, Error>(out)
    };
    let runner = TestRunner::new(handler).register_stub("tenant-echo", |input| Ok(json!({"got": input})));
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(result.output::<Value>().unwrap(), json!({"got": {"n": 1}}));
    let history = history_json(result.history());
    let started = &events(&history, "ChainedInvokeStarted")[0];
    assert_eq!(started["Name"], "call");
    let details = &started["ChainedInvokeStartedDetails"];
    assert_eq!(details["TenantId"], "tenant-7");
    assert_eq!(details["FunctionName"], "arn:aws:lambda:us-east-1:123456789012:function:tenant-echo:prod");
    let target = details["DurableExecutionArn"].as_str().unwrap();
    assert_eq!(runner.service().execution_status(target), Some(ExecutionStatus::Succeeded));
    let update = &runner.service().requests(result.execution_arn())[0].updates[0];
    assert_eq!(update.action, OperationAction::Start);
    assert_eq!(update.payload.as_deref(), Some("{\"n\":1}"));
    assert_eq!(update.chained_invoke_options.as_ref().unwrap().tenant_id.as_deref(), Some("tenant-7"));
}

#[tokio::test]
async fn a_failing_target_fails_the_invoke_and_replay_keeps_the_cached_outcome() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let error = ctx.invoke::<_, Value>("boom", Value::Null).await.unwrap_err();
        let missing = ctx.invoke::<_, Value>("nobody", 1).await.unwrap_err();
        ctx.wait(secs(1)).await?;
        Ok::<_, Error>(vec![
            format!("{:?} {} {}", error.kind(), error.error_type(), error.message()),
            format!("{:?} {}", missing.kind(), missing.error_type()),
        ])
    };
    let runner = TestRunner::new(handler).register_stub("boom", |_| {
        Err(ErrorObject {
            error_type: Some("Kaboom".into()),
            error_message: Some("target threw".into()),
            ..Default::default()
        })
    });
    let result = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        result.output::<Vec<String>>().unwrap(),
        ["InvokeFailed Kaboom target threw", "InvokeFailed ResourceNotFoundException"]
    );
    let history = history_json(result.history());
    let failed = events(&history, "ChainedInvokeFailed");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["ChainedInvokeFailedDetails"]["Error"]["Payload"]["ErrorType"], "Kaboom");
    assert_eq!(runner.service().chained_invocations(result.execution_arn()).len(), 2, "targets ran once each");
    assert_eq!(result.invocation_count(), 4);
}

#[tokio::test]
async fn an_uncaught_target_failure_fails_the_caller_and_invokes_nest() {
    async fn inner(ctx: DurableContext, n: u32) -> Result<u32, Error> {
        let doubled = ctx.step(move |_| async move { Ok::<_, Error>(n * 2) }).await?;
        if doubled > 10 {
            return Err(DurableError::with_type("TooBig", format!("{doubled}")).into());
        }
        Ok(doubled)
    }
    async fn middle(ctx: DurableContext, n: u32) -> Result<u32, Error> {
        let child = ctx
            .run_in_child_context(move |child| async move { child.invoke::<_, u32>("inner", n).await })
            .name("wrapper")
            .await?;
        Ok(child + 1)
    }
    let handler = |ctx: DurableContext, n: u32| async move { Ok::<_, Error>(ctx.invoke::<_, u32>("middle", n).await?) };
    let runner = TestRunner::new(handler).register_workflow("middle", middle).register_workflow("inner", inner);
    assert_eq!(runner.run(3).await.unwrap().output::<u32>().unwrap(), 7);
    let failed = runner.run(6).await.unwrap();
    assert_eq!(failed.status(), ExecutionStatus::Failed);
    assert_eq!(failed.error().unwrap().error_type.as_deref(), Some("TooBig"));
}

// ---------------------------------------------------------------------------------------------
// wait_for_condition

#[tokio::test]
async fn wait_for_condition_polls_with_carried_state_like_conformance_6_1() {
    let attempts: Arc<Mutex<Vec<(u32, u32)>>> = Arc::default();
    let a = attempts.clone();
    let handler = move |ctx: DurableContext, threshold: u32| {
        let a = a.clone();
        async move {
            let n = ctx
                .wait_for_condition(0_u32, move |n, check| async move {
                    a.lock().unwrap().push((check.attempt(), n));
                    Ok::<_, Error>(n + 1)
                })
                .strategy(
                    WaitStrategy::until(move |n: &u32| *n >= threshold).initial_delay(secs(2)).jitter(Jitter::None),
                )
                .await?;
            Ok::<_, Error>(n)
        }
    };
    let runner = TestRunner::new(handler);
    let result = runner.run(3).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 3);
    assert_eq!(*attempts.lock().unwrap(), [(1, 0), (2, 1), (3, 2)], "each check saw the carried state");
    assert_eq!(result.invocation_count(), 3);
    let history = history_json(result.history());
    assert_eq!(
        event_types(&history),
        [
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    for event in &history[1..=8] {
        if event["EventType"] != "InvocationCompleted" {
            assert_eq!(event["SubType"], "WaitForCondition");
        }
    }
    assert_eq!(history[1]["StepStartedDetails"], json!({}));
    let succeeded = events(&history, "StepSucceeded");
    let payloads: Vec<_> = succeeded.iter().map(|e| e["StepSucceededDetails"]["Result"]["Payload"].clone()).collect();
    assert_eq!(payloads, [json!("1"), json!("2"), json!("3")]);
    assert_eq!(succeeded[0]["StepSucceededDetails"]["RetryDetails"]["NextAttemptDelaySeconds"], 2);
    assert_eq!(succeeded[1]["StepSucceededDetails"]["RetryDetails"]["NextAttemptDelaySeconds"], 3, "×1.5, rounded up");
    assert!(succeeded[2]["StepSucceededDetails"]["RetryDetails"].get("NextAttemptDelaySeconds").is_none());
    // On the wire: RETRY with the state as Payload, no Error, and a delay.
    let retries: Vec<_> = runner
        .service()
        .requests(result.execution_arn())
        .into_iter()
        .flat_map(|r| r.updates)
        .filter(|u| u.action == OperationAction::Retry)
        .collect();
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0].payload.as_deref(), Some("1"));
    assert!(retries[0].error.is_none());
    assert_eq!(retries[0].step_options.unwrap().next_attempt_delay_seconds, Some(2));
    assert_eq!(result.operations()[0].status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn wait_for_condition_already_satisfied_checks_once() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let n = ctx
            .wait_for_condition(5_u32, |n, _| async move { Ok::<_, Error>(n) })
            .name("poll")
            .until(|n| *n >= 5)
            .await?;
        Ok::<_, Error>(n)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<u32>().unwrap(), 5);
    assert_eq!(result.invocation_count(), 1);
    assert_eq!(result.operation("poll").unwrap().op_type, OperationType::Step);
}

#[tokio::test]
async fn wait_for_condition_fails_when_its_checks_run_out() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let n = ctx
            .wait_for_condition(0_u32, |n, _| async move { Ok::<_, Error>(n + 1) })
            .strategy(WaitStrategy::until(|_: &u32| false).max_attempts(3).initial_delay(secs(1)).jitter(Jitter::None))
            .await;
        let error = n.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MaxChecksExceeded);
        Err::<u32, _>(error)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("WaitForCondition.MaxChecksExceeded"));
    let history = history_json(result.history());
    let types = event_types(&history);
    assert_eq!(types.iter().filter(|t| *t == "StepStarted").count(), 3);
    assert_eq!(types.iter().filter(|t| *t == "StepSucceeded").count(), 2);
    assert_eq!(history[8]["EventType"], "StepFailed", "EventId 9 as in conformance 6-6");
    assert_eq!(history[8]["SubType"], "WaitForCondition");
    assert_eq!(history[8]["StepFailedDetails"]["Error"]["Payload"]["ErrorType"], "WaitForCondition.MaxChecksExceeded");
}

#[tokio::test]
async fn a_raising_check_fails_at_once_and_can_be_caught() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let error = ctx
            .wait_for_condition(0_u32, |_, _| async {
                Err::<u32, _>(DurableError::with_type("ProbeError", "probe down"))
            })
            .until(|_| false)
            .await
            .unwrap_err();
        assert_eq!((error.kind(), error.error_type()), (ErrorKind::ConditionCheckFailed, "ProbeError"));
        Ok::<_, Error>("recovered")
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "recovered");
    assert_eq!(result.invocation_count(), 1, "no retry");
    let history = history_json(result.history());
    assert_eq!(event_types(&history), ["StepStarted", "StepFailed", "InvocationCompleted", "ExecutionSucceeded"]);
    assert_eq!(history[2]["StepFailedDetails"]["Error"]["Payload"]["ErrorMessage"], "probe down");
}

#[tokio::test]
async fn the_function_form_decides_with_object_state() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Job {
        status: String,
        polls: u32,
    }
    let handler = |ctx: DurableContext, _: Value| async move {
        let job = ctx
            .wait_for_condition(Job { status: "queued".into(), polls: 0 }, |job, _| async move {
                let polls = job.polls + 1;
                let status = if polls == 3 { "done" } else { "running" };
                Ok::<_, Error>(Job { status: status.into(), polls })
            })
            .strategy(WaitStrategy::from_fn(|job: &Job, attempt| {
                if job.status == "done" {
                    WaitDecision::Done
                } else {
                    WaitDecision::Continue(Duration::from_millis(1500 * u64::from(attempt)))
                }
            }))
            .name("job")
            .await?;
        Ok::<_, Error>(job)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<Job>().unwrap(), Job { status: "done".into(), polls: 3 });
    let history = history_json(result.history());
    let delays: Vec<_> = events(&history, "StepSucceeded")
        .iter()
        .map(|e| e["StepSucceededDetails"]["RetryDetails"]["NextAttemptDelaySeconds"].clone())
        .collect();
    assert_eq!(delays, [json!(2), json!(3), Value::Null], "1.5 s and 3 s, whole seconds rounded up");
}
