//! Polling: start a report export on an external service, then poll its status with growing
//! delays until it is done; if it is still not done after the last check, cancel it and report the
//! timeout.
//!
//! What it shows:
//! - `ctx.wait_for_condition(initial_state, check)`: one durable operation whose check runs as a
//!   step attempt and carries its state (the job's last status) from one check to the next. Between
//!   checks the function is not running: the service re-invokes it when the delay is up.
//! - `WaitStrategy::until(done)` with exponential backoff: 5 s, 10 s, 20 s, 40 s, then 60 s,
//!   [`MAX_CHECKS`] checks in all. No jitter: one workflow polls one job, so there is no herd of
//!   pollers to spread out (add `.jitter(Jitter::Full)` when many executions poll one service).
//! - The timeout path: when the checks are used up the operation fails with
//!   [`ErrorKind::MaxChecksExceeded`], which the workflow matches to cancel the job.
//!
//! The report service is a deterministic stand-in: an export of `rows` rows needs
//! `rows / ROWS_PER_CHECK + 1` checks to finish; an export of more than [`MAX_ROWS`] rows fails.
//!
//! Run it on the local service (`--skip-time` jumps over the delays):
//!
//! ```text
//! cargo build -p durable-examples --bin report-export
//! durable serve --skip-time --function report-export=target/debug/report-export &
//! durable invoke report-export '{"export_id":"x-1","rows":700000}'
//! ```
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin report-export` (see `deploy/`). Tests:
//! `examples/tests/polling.rs`.

use durable_runtime::ops::WaitStrategy;
use durable_runtime::retry::Jitter;
use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error, ErrorKind, StepContext};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How many checks before giving up.
pub const MAX_CHECKS: u32 = 8;
/// The stand-in service finishes this many rows between two checks.
pub const ROWS_PER_CHECK: u64 = 250_000;
/// The stand-in service fails exports larger than this.
pub const MAX_ROWS: u64 = 100_000_000;

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportRequest {
    /// The export's id.
    pub export_id: String,
    /// How many rows the report has.
    pub rows: u64,
}

/// An export job's status as the report service tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobStatus {
    /// Not started yet.
    Queued,
    /// Running.
    Running {
        /// Rows written so far.
        rows_done: u64,
    },
    /// Done: the file can be downloaded.
    Done {
        /// Where.
        url: String,
    },
    /// The job failed.
    Failed {
        /// Why.
        reason: String,
    },
}

impl JobStatus {
    /// True when polling can stop.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::Failed { .. })
    }
}

/// The state carried from one check to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poll {
    /// The job being polled.
    pub job_id: String,
    /// Its total size.
    pub rows: u64,
    /// Its last status.
    pub status: JobStatus,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ExportOutcome {
    /// The export is ready.
    Ready {
        /// Where to download it.
        url: String,
    },
    /// The report service failed the job.
    Failed {
        /// Why.
        reason: String,
    },
    /// The job did not finish within [`MAX_CHECKS`] checks and was cancelled.
    TimedOut {
        /// The cancelled job.
        job_id: String,
    },
}

/// Submits the export job (a step: replay does not submit it again).
#[durable_step]
pub async fn start_export(request: ExportRequest) -> Result<String, Error> {
    Ok(format!("job-{}", request.export_id))
}

/// Asks the report service for the job's status (the stand-in: progress grows with each check).
pub async fn job_status(poll: Poll, check: u32) -> Result<Poll, Error> {
    let status = if poll.rows > MAX_ROWS {
        JobStatus::Failed { reason: format!("{} rows is more than the service exports", poll.rows) }
    } else {
        let rows_done = u64::from(check.saturating_sub(1)) * ROWS_PER_CHECK;
        if rows_done >= poll.rows {
            JobStatus::Done { url: format!("https://reports.example.com/{}.csv", poll.job_id) }
        } else if rows_done == 0 {
            JobStatus::Queued
        } else {
            JobStatus::Running { rows_done }
        }
    };
    Ok(Poll { status, ..poll })
}

/// Cancels a job that took too long.
#[durable_step]
pub async fn cancel_export(job_id: String) -> Result<(), Error> {
    eprintln!("cancelled export job {job_id}");
    Ok(())
}

/// The polling strategy: done when the status is final, 5 s after the first check, doubling up to
/// 60 s, [`MAX_CHECKS`] checks.
pub fn poll_strategy() -> WaitStrategy<Poll> {
    WaitStrategy::until(|poll: &Poll| poll.status.is_final())
        .initial_delay(Duration::from_secs(5))
        .backoff_factor(2.0)
        .max_delay(Duration::from_secs(60))
        .max_attempts(MAX_CHECKS)
        .jitter(Jitter::None)
}

/// The workflow.
#[durable_workflow]
pub async fn export_report(ctx: DurableContext, request: ExportRequest) -> Result<ExportOutcome, Error> {
    let job_id = start_export(request.clone()).await?;
    let initial = Poll { job_id: job_id.clone(), rows: request.rows, status: JobStatus::Queued };
    let polled = ctx
        .wait_for_condition(initial, |poll, check: StepContext| async move {
            // Each check is one step attempt: it may do I/O, and its attempt number counts checks.
            job_status(poll, check.attempt()).await
        })
        .strategy(poll_strategy())
        .name("export-status")
        .await;
    match polled {
        Ok(Poll { status: JobStatus::Done { url }, .. }) => Ok(ExportOutcome::Ready { url }),
        Ok(Poll { status: JobStatus::Failed { reason }, .. }) => Ok(ExportOutcome::Failed { reason }),
        Ok(poll) => Err(DurableError::with_type("UnexpectedStatus", format!("{:?}", poll.status)).into()),
        // The timeout path: the checks are used up.
        Err(error) if error.kind() == ErrorKind::MaxChecksExceeded => {
            cancel_export(job_id.clone()).await?;
            Ok(ExportOutcome::TimedOut { job_id })
        }
        Err(error) => Err(error.into()),
    }
}
