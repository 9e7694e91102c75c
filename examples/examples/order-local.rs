//! Runs the order workflow end to end on the local durable service:
//! `cargo run -p durable-examples --example order-local -- [--db PATH] [--real-time] ['<order json>']`.
//!
//! The service serves the control-plane API over HTTP on 127.0.0.1 and keeps every execution in the
//! SQLite database PATH (default `.durable/durable.db` under the current directory). The function is invoked through the same
//! `lambda::service` path as on AWS, and every checkpoint goes over HTTP through `aws-sdk-lambda`.
//! Time is skipped (the 60 s wait completes at once) unless `--real-time` is given. It prints each
//! invocation's outcome, the history and the result.
//!
//! This is an example target, not a binary of the package, so `durable-local` stays a
//! dev-dependency: the `order-workflow` bootstrap compiles nothing of the local service.

use durable_examples::order::{place_order, Order, Receipt};
use durable_local::server::DEFAULT_STORE;
use durable_local::LocalRunner;
use durable_runtime::testing::InvocationRecord;

const USAGE: &str = "usage: order-local [--db PATH] [--real-time] ['<order json>']";

#[tokio::main]
async fn main() -> Result<(), durable_runtime::Error> {
    let (mut store, mut real_time, mut input) = (DEFAULT_STORE.to_owned(), false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => store = args.next().ok_or(USAGE)?,
            "--real-time" => real_time = true,
            _ if input.is_none() && !arg.starts_with("--") => input = Some(arg),
            _ => return Err(USAGE.into()),
        }
    }
    let input = input.unwrap_or_else(|| r#"{"order_id":"42","amount":1700}"#.to_owned());
    let order: Order = serde_json::from_str(&input)?;
    run_locally(order, &store, real_time).await
}

fn print_invocation(record: &InvocationRecord) {
    let outcome = match (&record.error, &record.output) {
        (Some(error), _) => format!("failed ({})", error.error_type.as_deref().unwrap_or("error")),
        (None, Some(output)) => format!("{:?}", output.status).to_uppercase(),
        (None, None) => "no output".to_owned(),
    };
    let millis = record.end_timestamp.since(record.start_timestamp).as_millis();
    println!("invocation {}: {outcome} in {millis} ms", record.request_id);
}

async fn run_locally(order: Order, store: &str, real_time: bool) -> Result<(), durable_runtime::Error> {
    let runner = LocalRunner::new(place_order)
        .function_name("order-workflow")
        .store(store)
        .skip_time(!real_time)
        .on_invocation(print_invocation);
    let server = runner.server().await?;
    println!("local durable service on {} (database: {store})", server.endpoint());
    if real_time {
        println!("time: real (waits and retry delays take their full duration)");
    } else {
        println!("time: skipped (waits and retry delays complete at once; pass --real-time to wait)");
    }
    let arn = runner.start(order).await?;
    println!("execution {arn}");
    let result = runner.resume(&arn).await?;
    println!("history:");
    for event in result.history() {
        println!("  {}", serde_json::to_string(event)?);
    }
    println!("status: {:?} after {} invocations", result.status(), result.invocations().len());
    match result.output::<Receipt>() {
        Ok(receipt) => println!("result: {}", serde_json::to_string(&receipt)?),
        Err(error) => println!("error: {error}"),
    }
    Ok(())
}
