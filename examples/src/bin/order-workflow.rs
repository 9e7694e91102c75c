//! The order workflow as a Lambda bootstrap: build it with `cargo lambda build --release` and deploy
//! it as a durable function (see `deploy/`). It serves durable invocations through the Lambda
//! runtime; `cargo run -p durable-examples --example order-local` runs the same workflow on the
//! local durable service.

use durable_examples::order::place_order;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(place_order).await
}
