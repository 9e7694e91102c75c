//! The scheduled reminder as a Lambda bootstrap: `cargo lambda build --release --bin reminder-workflow`, or `cargo build` and
//! `durable serve --function reminder-workflow=target/debug/reminder-workflow`. See `durable_examples::reminder` for what it shows.

use durable_examples::reminder::send_reminder_at;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(send_reminder_at).await
}
