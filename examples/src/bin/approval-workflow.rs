//! The human-approval workflow as a Lambda bootstrap: `cargo lambda build --release --bin approval-workflow`, or `cargo build` and
//! `durable serve --function approval-workflow=target/debug/approval-workflow`. See `durable_examples::approval` for what it shows.

use durable_examples::approval::approve_expense;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(approve_expense).await
}
