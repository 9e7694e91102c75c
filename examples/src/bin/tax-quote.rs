//! The tax-quote function (the target of the chained pair) as a Lambda bootstrap: `cargo lambda build --release --bin tax-quote`, or `cargo build` and
//! `durable serve --function tax-quote=target/debug/tax-quote`. See `durable_examples::chained` for what it shows.

use durable_examples::chained::quote_tax;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(quote_tax).await
}
