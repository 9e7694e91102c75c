//! The AI support agent as a Lambda bootstrap: `cargo lambda build --release --bin support-agent`, or `cargo build` and
//! `durable serve --function support-agent=target/debug/support-agent`. See `durable_examples::agent` for what it shows.

use durable_examples::agent::support_agent;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(support_agent).await
}
