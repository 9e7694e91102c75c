//! Fan-out / fan-in: make thumbnails for a batch of uploaded images, a few at a time, tolerate a
//! small share of broken images, and aggregate the results into one report.
//!
//! What it shows:
//! - `ctx.map(items, f)` runs `f` once per image, each in its own child context, so the steps of
//!   one image are recorded under it and a retried or resumed batch does not redo finished images.
//! - `.max_concurrency(MAX_CONCURRENCY)` keeps at most that many images in flight (be kind to the
//!   image service).
//! - `CompletionConfig::all().tolerated_failure_percentage(..)`: a few failed images are reported,
//!   not fatal; once more than [`TOLERATED_FAILURE_PERCENT`] % of the batch failed, the map stops
//!   starting new images and the workflow fails the batch with `TooManyFailures`.
//! - The [`BatchResult`](durable_runtime::ops::BatchResult) lists every started image with its
//!   result or error; the workflow folds it into a [`BatchReport`].
//!
//! The thumbnailer is a stand-in: an image with zero bytes or a key ending in `.corrupt` fails.
//!
//! Run it on the local service:
//!
//! ```text
//! cargo build -p durable-examples --bin thumbnail-batch
//! durable serve --function thumbnail-batch=target/debug/thumbnail-batch &
//! durable invoke thumbnail-batch '{"batch_id":"b-1","images":[{"key":"a.jpg","bytes":52000},
//!     {"key":"b.jpg","bytes":61000},{"key":"c.jpg","bytes":48000},{"key":"d.jpg","bytes":0},
//!     {"key":"e.jpg","bytes":75000},{"key":"f.jpg","bytes":50000}]}'
//! ```
//!
//! One broken image in six (17 %) is reported in `failures`; make it two (33 %) and the batch fails
//! with `TooManyFailures`.
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin thumbnail-batch` (see `deploy/`). Tests:
//! `examples/tests/fanout.rs`.

use durable_runtime::ops::{CompletionConfig, CompletionReason};
use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error};
use serde::{Deserialize, Serialize};

/// At most this many images are processed at once.
pub const MAX_CONCURRENCY: usize = 3;
/// The batch fails once more than this share of its images failed.
pub const TOLERATED_FAILURE_PERCENT: f64 = 20.0;
/// The `ErrorType` of a batch with too many failed images.
pub const TOO_MANY_FAILURES: &str = "TooManyFailures";

/// One uploaded image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Its object key.
    pub key: String,
    /// Its size.
    pub bytes: u64,
}

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    /// The batch's id.
    pub batch_id: String,
    /// The images.
    pub images: Vec<Image>,
}

/// A thumbnail made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    /// The source image's key.
    pub source: String,
    /// The thumbnail's key.
    pub key: String,
    /// Its size.
    pub bytes: u64,
}

/// An image that could not be processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The image's key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// The batch's id.
    pub batch_id: String,
    /// The thumbnails, in input order.
    pub thumbnails: Vec<Thumbnail>,
    /// The images that failed, in input order.
    pub failures: Vec<Failure>,
    /// The thumbnails' total size.
    pub total_bytes: u64,
}

/// Makes one thumbnail (the stand-in for a call to an image service). A short retry covers the
/// service's transient errors; a broken image still fails after it.
#[durable_step(retry = fixed(delay = "2s", max_attempts = 2))]
pub async fn make_thumbnail(image: Image) -> Result<Thumbnail, Error> {
    if image.bytes == 0 || image.key.ends_with(".corrupt") {
        return Err(DurableError::with_type("UnreadableImage", format!("{} is not a readable image", image.key)).into());
    }
    let stem = image.key.rsplit_once('.').map_or(image.key.as_str(), |(stem, _)| stem);
    Ok(Thumbnail { key: format!("thumbs/{stem}.webp"), bytes: (image.bytes / 20).max(1), source: image.key })
}

/// The workflow.
#[durable_workflow]
pub async fn thumbnail_batch(ctx: DurableContext, batch: Batch) -> Result<BatchReport, Error> {
    let keys: Vec<String> = batch.images.iter().map(|image| image.key.clone()).collect();
    let results = ctx
        .map(batch.images, |_item_ctx, image, _index| async move {
            // A step awaited inside an item is recorded under that item's context.
            make_thumbnail(image).await
        })
        .name("thumbnails")
        .item_name(|image, _| image.key.clone())
        .max_concurrency(MAX_CONCURRENCY)
        .completion(CompletionConfig::all().tolerated_failure_percentage(TOLERATED_FAILURE_PERCENT))
        .await?;

    let failures: Vec<Failure> = results
        .failed()
        .into_iter()
        .map(|item| Failure {
            key: keys.get(item.index).cloned().unwrap_or_default(),
            reason: item.error.as_ref().map(|e| e.message().to_owned()).unwrap_or_default(),
        })
        .collect();
    if results.completion_reason() == CompletionReason::FailureToleranceExceeded {
        let failed: Vec<&str> = failures.iter().map(|f| f.key.as_str()).collect();
        let message = format!(
            "{} of {} images failed (more than {TOLERATED_FAILURE_PERCENT}%): {}",
            failures.len(),
            keys.len(),
            failed.join(", ")
        );
        return Err(DurableError::with_type(TOO_MANY_FAILURES, message).into());
    }
    let thumbnails: Vec<Thumbnail> = results.results().into_iter().cloned().collect();
    let total_bytes = thumbnails.iter().map(|t| t.bytes).sum();
    Ok(BatchReport { batch_id: batch.batch_id, thumbnails, failures, total_bytes })
}
