//! The trip-booking saga as a Lambda bootstrap: `cargo lambda build --release --bin trip-booking`, or `cargo build` and
//! `durable serve --function trip-booking=target/debug/trip-booking`. See `durable_examples::saga` for what it shows.

use durable_examples::saga::book_trip;

#[tokio::main]
async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
    durable_runtime::lambda::run(book_trip).await
}
