//! Custom serdes per operation: what is recorded is the serializer's output, and live runs and replays
//! both read values back through the deserializer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_runtime::ops::serdes::{from_fns, Serdes};
use durable_runtime::ops::BatchResult;
use durable_runtime::protocol::{OperationSubType, OperationType};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{DurableContext, Error};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Records strings upper-cased as raw text; reads raw text back.
fn upper() -> impl Serdes<String> {
    from_fns(|s: &String| Ok(s.to_uppercase()), |p: Option<&str>| Ok(p.unwrap_or_default().to_owned()))
}

/// `wrapped:<v>` and back.
fn wrapped() -> impl Serdes<String> {
    from_fns(
        |s: &String| Ok(format!("wrapped:{s}")),
        |p: Option<&str>| {
            let p = p.unwrap_or_default();
            p.strip_prefix("wrapped:").map(str::to_owned).ok_or_else(|| Error::from(format!("not wrapped: {p}")))
        },
    )
}

/// The whole map result as `OPSERDE:a,b`.
fn opserde() -> impl Serdes<BatchResult<String>> {
    from_fns(
        |r: &BatchResult<String>| {
            Ok(format!("OPSERDE:{}", r.results().into_iter().cloned().collect::<Vec<_>>().join(",")))
        },
        |p: Option<&str>| {
            let body = p.and_then(|p| p.strip_prefix("OPSERDE:")).ok_or_else(|| Error::from("not OPSERDE"))?;
            Ok(BatchResult::from_results(body.split(',').map(str::to_owned)))
        },
    )
}

fn payloads(result: &durable_runtime::testing::TestResult, event_type: &str) -> Vec<String> {
    result
        .history()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["EventType"] == event_type)
        .map(|e| {
            let details = &e[format!("{event_type}Details")];
            details["Result"]["Payload"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_step_records_what_its_serdes_writes_and_replays_through_it() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let handler = move |ctx: DurableContext, input: String| {
        let s = s.clone();
        async move {
            let value = ctx.step(move |_| async move { Ok::<_, Error>(input) }).serdes(upper()).await?;
            s.lock().unwrap().push(value.clone());
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(value)
        }
    };
    let result = TestRunner::new(handler).run("hello world").await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "HELLO WORLD");
    assert_eq!(payloads(&result, "StepSucceeded"), vec!["HELLO WORLD"]);
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["HELLO WORLD"; 3],
        "live, replay and the replay audit read the payload back"
    );
}

#[tokio::test]
async fn a_child_context_result_uses_its_serdes() {
    let handler = |ctx: DurableContext, input: String| async move {
        let value = ctx
            .run_in_child_context(
                move |ctx| async move { ctx.step(move |_| async move { Ok::<_, Error>(input) }).await },
            )
            .serdes(upper())
            .await?;
        Ok::<_, Error>(value)
    };
    let result = TestRunner::new(handler).run("hello child").await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "HELLO CHILD");
    assert_eq!(payloads(&result, "StepSucceeded"), vec!["\"hello child\""]);
    assert_eq!(payloads(&result, "ContextSucceeded"), vec!["HELLO CHILD"]);
}

#[tokio::test]
async fn map_items_and_the_whole_map_result_use_their_serdes_also_on_replay() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let handler = move |ctx: DurableContext, _: Value| {
        let r = r.clone();
        async move {
            let batch = ctx
                .map(vec!["x".to_owned(), "y".to_owned()], move |_, item: String, _| {
                    r.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, Error>(item.to_uppercase()) }
                })
                .max_concurrency(1)
                .item_serdes(wrapped())
                .serdes(opserde())
                .await?;
            ctx.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(batch.into_results()?)
        }
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    assert_eq!(result.output::<Vec<String>>().unwrap(), vec!["X", "Y"]);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "replay reads the map result through its serdes");
    assert_eq!(payloads(&result, "ContextSucceeded"), vec!["wrapped:X", "wrapped:Y", "OPSERDE:X,Y"]);
}

#[tokio::test]
async fn parallel_branch_serdes() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let batch = ctx
            .parallel::<String>()
            .branch(|_| async { Ok::<_, Error>("x".to_owned()) })
            .branch(|_| async { Ok::<_, Error>("y".to_owned()) })
            .item_serdes(wrapped())
            .await?;
        Ok::<_, Error>(batch.into_results()?)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<Vec<String>>().unwrap(), vec!["x", "y"]);
    let branch_payloads: Vec<String> = payloads(&result, "ContextSucceeded").into_iter().take(2).collect();
    assert_eq!(branch_payloads, vec!["wrapped:x", "wrapped:y"]);
}

#[tokio::test]
async fn invoke_payload_and_result_serdes() {
    let handler = |ctx: DurableContext, _: Value| async move {
        let out: String = ctx
            .invoke::<String, String>("shout", "hello".to_owned())
            .payload_serdes(upper())
            .result_serdes(from_fns(
                |s: &String| Ok(s.clone()),
                |p: Option<&str>| Ok(format!("<{}>", p.unwrap_or_default())),
            ))
            .await?;
        Ok::<_, Error>(out)
    };
    let result = TestRunner::new(handler)
        .register_stub("shout", |input: Value| Ok(Value::String(format!("got {input}"))))
        .run(Value::Null)
        .await
        .unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let history: Vec<Value> = result.history().iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let started = history.iter().find(|e| e["EventType"] == "ChainedInvokeStarted").unwrap();
    assert_eq!(started["ChainedInvokeStartedDetails"]["Input"]["Payload"], "HELLO");
    let out = result.output::<String>().unwrap();
    assert!(out.starts_with('<') && out.ends_with('>'), "{out}");
}

#[tokio::test]
async fn wait_for_condition_state_serdes() {
    let state_serdes = || {
        from_fns(
            |s: &String| Ok(format!("len={}:{s}", s.len())),
            |p: Option<&str>| {
                let p = p.unwrap_or_default();
                p.split_once(':').map(|(_, s)| s.to_owned()).ok_or_else(|| Error::from("bad state"))
            },
        )
    };
    let handler = move |ctx: DurableContext, _: Value| async move {
        let state = ctx
            .wait_for_condition(String::new(), |state: String, _| async move { Ok::<_, Error>(state + "x") })
            .until(|s: &String| s.len() >= 2)
            .serdes(state_serdes())
            .await?;
        Ok::<_, Error>(state)
    };
    let result = TestRunner::new(handler).run(Value::Null).await.unwrap();
    assert_eq!(result.output::<String>().unwrap(), "xx");
    assert_eq!(payloads(&result, "StepSucceeded"), vec!["len=1:x", "len=2:xx"]);
    let op = result.operations().iter().find(|o| o.op_type == OperationType::Step).unwrap();
    assert_eq!(op.sub_type, Some(OperationSubType::WaitForCondition));
}
