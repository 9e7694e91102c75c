//! Runs the order workflow end to end on the embedded local durable service:
//! `cargo run -p durable-examples --example order-local -- [--db PATH] [--real-time] ['<order json>']`.
//!
//! The service is the one `durable serve` runs (SQLite store, SigV4-checked Lambda API on
//! 127.0.0.1), embedded in this program on an ephemeral port, with its default store
//! `.durable/durable.db`. The workflow is hosted in this process and invoked exactly as Lambda
//! would invoke it; every checkpoint goes over HTTP through `aws-sdk-lambda`.
//!
//! The program starts an execution with Invoke (as `aws lambda invoke` would), prints each
//! operation as it happens, answers the manager's approval callback through
//! SendDurableExecutionCallbackSuccess (as the approver's system would), and ends with the
//! timeline and the result. Time is skipped (the 60 s cooling-off wait ends at once) unless
//! `--real-time` is given. The execution stays in the store: `durable list --function
//! order-workflow` and `durable history ARN` show it afterwards.
//!
//! This is an example target, not a binary of the package, so `durable-local` stays a
//! dev-dependency: the `order-workflow` bootstrap compiles nothing of the local service.

use durable_examples::order::{place_order, Order, Receipt};
use durable_local::server::{self, ServeConfig, StoreLocation, DEFAULT_STORE};
use durable_local::timeline;
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use durable_runtime::protocol::{OperationStatus, OperationType};
use std::path::PathBuf;
use std::time::Duration;

const FUNCTION: &str = "order-workflow";
const USAGE: &str = "usage: order-local [--db PATH] [--real-time] ['<order json>']";

#[tokio::main]
async fn main() -> Result<(), durable_runtime::Error> {
    let (mut db, mut real_time, mut input) = (PathBuf::from(DEFAULT_STORE), false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = PathBuf::from(args.next().ok_or(USAGE)?),
            "--real-time" => real_time = true,
            _ if input.is_none() && !arg.starts_with("--") => input = Some(arg),
            _ => return Err(USAGE.into()),
        }
    }
    let input = input.unwrap_or_else(|| r#"{"order_id":"42","amount":1700}"#.to_owned());
    let _: Order = serde_json::from_str(&input).map_err(|e| format!("the order is not valid: {e}"))?;

    let mut config = ServeConfig::default();
    config.store = StoreLocation::Path(db.clone());
    config.port = 0;
    config.skip_time = !real_time;
    config.credentials_dir = db.parent().map(PathBuf::from);
    let service = server::start(&config).await?;
    service.host_handler(FUNCTION, place_order);
    println!("local durable service on {} (store: {})", service.endpoint(), db.display());
    println!(
        "time: {}",
        if real_time { "real (the 60 s wait takes 60 s)" } else { "skipped (pass --real-time to wait)" }
    );

    let client = service.lambda_client();
    let started = client
        .invoke()
        .function_name(FUNCTION)
        .qualifier("$LATEST")
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(aws_sdk_lambda::primitives::Blob::new(input.into_bytes()))
        .send()
        .await?;
    let arn = started.durable_execution_arn().ok_or("Invoke answered without an execution ARN")?.to_owned();
    println!("execution {arn}");

    let mut seen = timeline::fold(&[]);
    let mut answered = false;
    loop {
        let now = timeline::fold(&service.history_json(&arn));
        for line in now.changes_since(&seen) {
            println!("  {line}");
        }
        seen = now;
        if seen.outcome.is_some() {
            break;
        }
        if !answered {
            if let Some(callback_id) = pending_callback(&service, &arn) {
                println!("  (the manager approves: SendDurableExecutionCallbackSuccess {callback_id})");
                let approval = serde_json::json!({ "approved_by": "ada@example.com" }).to_string();
                client
                    .send_durable_execution_callback_success()
                    .callback_id(callback_id)
                    .result(aws_sdk_lambda::primitives::Blob::new(approval.into_bytes()))
                    .send()
                    .await?;
                answered = true;
            }
        }
        // Wake on the next change (or look again shortly).
        let _ = tokio::time::timeout(Duration::from_millis(250), service.changed()).await;
    }

    println!();
    print!("{}", seen.render(100));
    let execution = client.get_durable_execution().durable_execution_arn(&arn).send().await?;
    println!("status: {}", execution.status().as_str());
    match (execution.result(), execution.error()) {
        (Some(result), _) => {
            let receipt: Receipt = serde_json::from_str(result)?;
            println!("result: {}", serde_json::to_string(&receipt)?);
        }
        (None, Some(error)) => println!("error: {:?}: {:?}", error.error_type(), error.error_message()),
        (None, None) => {}
    }
    println!();
    println!("The execution stays in {}. To see it again:", db.display());
    println!("  cargo run -p durable-local --bin durable -- list --function {FUNCTION}");
    println!("  cargo run -p durable-local --bin durable -- history '{arn}'");
    Ok(())
}

/// The id of the callback the execution waits on, once it has one.
fn pending_callback(service: &durable_local::LocalService, arn: &str) -> Option<String> {
    service
        .service()
        .operations(arn)
        .into_iter()
        .find(|op| op.op_type == OperationType::Callback && op.status == OperationStatus::Started)
        .and_then(|op| op.callback_details.and_then(|details| details.callback_id))
}
