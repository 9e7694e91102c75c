//! The report export under test: polling stops when the job is done, with delays that double up to
//! the cap; a job that never finishes in time takes the timeout path and is cancelled; a failed job
//! is reported; and the poll survives the fault matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::polling::{export_report, ExportOutcome, ExportRequest, MAX_CHECKS, MAX_ROWS, ROWS_PER_CHECK};
use durable_runtime::testing::{ExecutionStatus, TestResult, TestRunner};

fn request(rows: u64) -> ExportRequest {
    ExportRequest { export_id: "x-1".to_owned(), rows }
}

/// The delays (seconds) the poll asked for between its checks, in order.
fn delays(result: &TestResult) -> Vec<u64> {
    let poll = result.operation("export-status").unwrap().id.clone();
    result
        .history()
        .iter()
        .filter(|e| e.id.as_deref() == Some(poll.as_str()))
        .filter_map(|e| e.details.retry_details.as_ref().and_then(|r| r.next_attempt_delay_seconds))
        .collect()
}

#[tokio::test]
async fn polling_stops_when_the_job_is_done_with_growing_delays() {
    // 700,000 rows: done at the 4th check.
    let result = TestRunner::new(export_report).run(request(3 * ROWS_PER_CHECK - 50_000)).await.unwrap();
    let outcome: ExportOutcome = result.output().unwrap();
    assert_eq!(outcome, ExportOutcome::Ready { url: "https://reports.example.com/job-x-1.csv".to_owned() });
    assert_eq!(delays(&result), [5, 10, 20]);
    assert!(result.operation("cancel_export").is_none());
}

#[tokio::test]
async fn a_job_that_never_finishes_in_time_is_cancelled() {
    let result = TestRunner::new(export_report).run(request(50 * ROWS_PER_CHECK)).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let outcome: ExportOutcome = result.output().unwrap();
    assert_eq!(outcome, ExportOutcome::TimedOut { job_id: "job-x-1".to_owned() });
    let delays = delays(&result);
    assert_eq!(delays, [5, 10, 20, 40, 60, 60, 60], "doubling, capped at 60 s");
    assert_eq!(delays.len() as u32, MAX_CHECKS - 1);
    assert!(result.operation("cancel_export").is_some(), "the timeout path cancels the job");
}

#[tokio::test]
async fn a_failed_job_is_reported_without_more_polling() {
    let result = TestRunner::new(export_report).run(request(MAX_ROWS + 1)).await.unwrap();
    let outcome: ExportOutcome = result.output().unwrap();
    assert!(matches!(outcome, ExportOutcome::Failed { .. }), "{outcome:?}");
    assert!(delays(&result).is_empty());
}

#[tokio::test]
async fn the_poll_survives_every_fault_on_both_paths() {
    let runner = TestRunner::new(export_report);
    let report = runner.fault_matrix(request(2 * ROWS_PER_CHECK)).await.unwrap();
    assert!(report.checkpoint_calls() >= 4, "{report}");
    report.assert_ok().unwrap();
    runner.fault_matrix(request(50 * ROWS_PER_CHECK)).await.unwrap().assert_ok().unwrap();
}
