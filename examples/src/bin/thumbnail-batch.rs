//! The fan-out / fan-in thumbnail batch as a Lambda bootstrap: `cargo lambda build --release --bin thumbnail-batch`, or `cargo build` and
//! `durable serve --function thumbnail-batch=target/debug/thumbnail-batch`. See `durable_examples::fanout` for what it shows.

use durable_examples::fanout::thumbnail_batch;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(thumbnail_batch).await
}
