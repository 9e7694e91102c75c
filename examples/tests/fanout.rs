//! The thumbnail batch under test: every image gets a thumbnail; up to 20 % broken images are
//! reported and tolerated; beyond that the batch fails; and it survives the fault matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::fanout::{thumbnail_batch, Batch, BatchReport, Image, MAX_CONCURRENCY, TOO_MANY_FAILURES};
use durable_runtime::protocol::history::EventType;
use durable_runtime::protocol::{OperationSubType, OperationType};
use durable_runtime::testing::{ExecutionStatus, TestRunner};

/// Ten images, of which `broken` (by index) are unreadable.
fn batch(broken: &[usize]) -> Batch {
    let images = (0..10)
        .map(|i| Image {
            key: if broken.contains(&i) { format!("img-{i}.corrupt") } else { format!("img-{i}.jpg") },
            bytes: 40_000 + 1_000 * i as u64,
        })
        .collect();
    Batch { batch_id: "b-1".to_owned(), images }
}

#[tokio::test]
async fn every_image_gets_a_thumbnail() {
    let result = TestRunner::new(thumbnail_batch).run(batch(&[])).await.unwrap();
    let report: BatchReport = result.output().unwrap();
    assert_eq!(report.thumbnails.len(), 10);
    assert!(report.failures.is_empty());
    assert_eq!(report.thumbnails[3].key, "thumbs/img-3.webp");
    assert_eq!(report.total_bytes, (0..10).map(|i| (40_000 + 1_000 * i) / 20).sum::<u64>());
    let items = result
        .operations()
        .iter()
        .filter(|op| op.op_type == OperationType::Context && op.sub_type == Some(OperationSubType::MapIteration))
        .count();
    assert_eq!(items, 10, "one child context per image");
}

#[tokio::test]
async fn at_most_three_images_are_in_flight_at_once() {
    let result = TestRunner::new(thumbnail_batch).run(batch(&[5])).await.unwrap();
    let (mut open, mut most) = (0_usize, 0_usize);
    for event in result.history().iter().filter(|e| e.sub_type == Some(OperationSubType::MapIteration)) {
        match event.event_type {
            EventType::ContextStarted => open += 1,
            EventType::ContextSucceeded | EventType::ContextFailed => open -= 1,
            _ => {}
        }
        most = most.max(open);
    }
    assert_eq!(most, MAX_CONCURRENCY, "the history never shows more than the limit in flight");
}

#[tokio::test]
async fn up_to_twenty_percent_broken_images_are_tolerated_and_reported() {
    let result = TestRunner::new(thumbnail_batch).run(batch(&[2, 7])).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let report: BatchReport = result.output().unwrap();
    assert_eq!(report.thumbnails.len(), 8);
    let failed: Vec<&str> = report.failures.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(failed, ["img-2.corrupt", "img-7.corrupt"]);
    assert!(report.failures[0].reason.contains("not a readable image"), "{:?}", report.failures[0]);
}

#[tokio::test]
async fn more_than_twenty_percent_broken_images_fail_the_batch() {
    let result = TestRunner::new(thumbnail_batch).run(batch(&[0, 1, 2])).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some(TOO_MANY_FAILURES));
    assert!(error.error_message.as_deref().unwrap().starts_with("3 of 10 images failed"), "{error:?}");
}

#[tokio::test]
async fn the_batch_survives_every_fault() {
    let report = TestRunner::new(thumbnail_batch).fault_matrix(batch(&[4])).await.unwrap();
    assert!(report.cells() > 20, "{report}");
    report.assert_ok().unwrap();
}
