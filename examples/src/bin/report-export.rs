//! The report export that polls an external job as a Lambda bootstrap: `cargo lambda build --release --bin report-export`, or `cargo build` and
//! `durable serve --function report-export=target/debug/report-export`. See `durable_examples::polling` for what it shows.

use durable_examples::polling::export_report;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(export_report).await
}
