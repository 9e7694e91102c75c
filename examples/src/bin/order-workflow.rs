//! Runs the order workflow.
//!
//! - Under the Lambda runtime (`AWS_LAMBDA_RUNTIME_API` is set, as in a `cargo lambda build` bootstrap
//!   deployed to AWS or run by `cargo lambda watch`), it serves durable invocations.
//! - `order-workflow local ['{"order_id":"42","amount":1700}']` runs one execution end to end on the
//!   in-process durable service and prints every invocation and the execution history.

use durable_examples::order::{place_order, Order, Receipt};
use durable_runtime::testing::TestRunner;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::Error> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("local") => {
            let input = args.next().unwrap_or_else(|| r#"{"order_id":"42","amount":1700}"#.to_owned());
            let order: Order = serde_json::from_str(&input)?;
            run_locally(order).await
        }
        None if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => {
            durable_runtime::lambda::run(place_order).await.map_err(|e| e as durable_runtime::Error)
        }
        _ => {
            eprintln!("usage: order-workflow local ['<order json>']   (or run it under the Lambda runtime)");
            std::process::exit(2);
        }
    }
}

async fn run_locally(order: Order) -> Result<(), durable_runtime::Error> {
    let runner = TestRunner::new(place_order).function_name("order-workflow");
    let result = runner.run(order).await?;
    for event in result.history() {
        println!("{}", serde_json::to_string(event)?);
    }
    println!("status: {:?} after {} invocations", result.status(), result.invocation_count());
    match result.output::<Receipt>() {
        Ok(receipt) => println!("result: {}", serde_json::to_string(&receipt)?),
        Err(_) => println!("error: {:?}", result.error()),
    }
    Ok(())
}
