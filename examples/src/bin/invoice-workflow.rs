//! The invoice workflow (the caller of the chained pair) as a Lambda bootstrap: `cargo lambda build --release --bin invoice-workflow`, or `cargo build` and
//! `durable serve --function invoice-workflow=target/debug/invoice-workflow`. See `durable_examples::chained` for what it shows.

use durable_examples::chained::create_invoice;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(create_invoice).await
}
