//! The fault matrix: one fault-free run, then one run per (checkpoint call, fault) on a fresh
//! service, each checked against the fault-free run (see [`TestRunner::fault_matrix`]).

use super::world::World;
use super::{invoke_fn, TestError, TestRunner};
use crate::checkpoint::memory::{ExecutionStatus, Fault, HitUpdate, MemoryService};
use crate::invocation::Handler;
use crate::protocol::history::{EventType, HistoryEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One cell of a fault matrix that did not behave like the fault-free run.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultCell {
    /// The checkpoint call the fault hit (0-based, counted over the whole service).
    pub call: usize,
    /// The fault.
    pub fault: Fault,
    /// The updates of the request the fault hit (empty when it never fired, or for a request
    /// without updates).
    pub hit: Vec<HitUpdate>,
    /// How the run differs from the fault-free run, or what is wrong with its history.
    pub differences: Vec<String>,
}

/// What a fault matrix found (see [`TestRunner::fault_matrix`]). Its `Display` is a table of the
/// failing cells.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultReport {
    checkpoint_calls: usize,
    faults: usize,
    cells: usize,
    failures: Vec<FaultCell>,
    elapsed: Duration,
}

impl FaultReport {
    /// How many checkpoint calls the fault-free run made (the positions tried).
    pub fn checkpoint_calls(&self) -> usize {
        self.checkpoint_calls
    }

    /// How many faulted runs there were (positions × faults).
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// The cells that did not behave like the fault-free run, by position then fault.
    pub fn failures(&self) -> &[FaultCell] {
        &self.failures
    }

    /// True when every cell behaved like the fault-free run.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// How long the whole matrix took (real time).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// `Ok` when every cell passed, [`TestError::FaultMatrix`] with this report otherwise (its
    /// message is the table of failing cells).
    pub fn assert_ok(self) -> Result<(), TestError> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(TestError::FaultMatrix(Box::new(self)))
        }
    }
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fault matrix: {} checkpoint calls x {} faults = {} cells, {} failed ({:.0?})",
            self.checkpoint_calls,
            self.faults,
            self.cells,
            self.failures.len(),
            self.elapsed
        )?;
        if self.failures.is_empty() {
            return Ok(());
        }
        let rows: Vec<[String; 4]> = self
            .failures
            .iter()
            .flat_map(|cell| {
                let hit = match cell.hit.as_slice() {
                    [] => "(no update)".to_owned(),
                    updates => updates.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                };
                cell.differences.iter().enumerate().map(move |(i, difference)| {
                    if i == 0 {
                        [cell.call.to_string(), cell.fault.to_string(), hit.clone(), difference.clone()]
                    } else {
                        [String::new(), String::new(), String::new(), difference.clone()]
                    }
                })
            })
            .collect();
        let header = ["call", "fault", "operation hit", "difference"];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: [&str; 4]| {
            writeln!(
                f,
                "{:>w0$}  {:<w1$}  {:<w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        };
        line(f, header)?;
        for row in &rows {
            line(f, [&row[0], &row[1], &row[2], &row[3]])?;
        }
        Ok(())
    }
}

/// What one run ended with.
struct Outcome {
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<String>,
    history: Vec<HistoryEvent>,
    run_error: Option<TestError>,
}

impl Outcome {
    fn describe_status(&self) -> String {
        match &self.error {
            Some(error) => format!("{} ({error})", self.status),
            None => self.status.to_string(),
        }
    }
}

impl<H, I, O> TestRunner<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    /// Crash-tests the workflow: runs it once fault-free with `input` and counts its checkpoint
    /// calls N, then once per position k in `0..N` and per fault of [`Fault::all`], each time on a
    /// fresh [`MemoryService`] with [`MemoryService::fault_at`]`(k, fault)`. A cell passes when
    /// its run
    /// - ends with the fault-free run's status, result and error type (a transient fault never
    ///   fails the execution, and a workflow body that has effects outside its steps, or a step
    ///   that is not idempotent, shows up as another result);
    /// - has a consistent history: gapless event ids, at most one terminal event and last, no
    ///   operation completed twice, no step attempt started twice (an at-most-once body never
    ///   runs twice for one attempt).
    ///
    /// Callback responders and chained-invoke targets take part in every run; the service set
    /// with [`with_service`](Self::with_service) does not (each run has a fresh one, without its
    /// page size or latency), nor does the replay audit. Shared state the workflow captures is
    /// reset before each run by [`before_each_run`](Self::before_each_run).
    ///
    /// ```
    /// use durable_runtime::testing::TestRunner;
    /// use durable_runtime::{DurableContext, Error};
    ///
    /// async fn double(ctx: DurableContext, n: u32) -> Result<u32, Error> {
    ///     let a = ctx.step(move |_| async move { Ok::<_, Error>(n * 2) }).name("double").await?;
    ///     Ok(ctx.step(move |_| async move { Ok::<_, Error>(a + 1) }).name("inc").await?)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let report = TestRunner::new(double).fault_matrix(20).await?;
    /// report.assert_ok()?; // fails with a table of the failing cells
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fault_matrix<T: Serialize>(&self, input: T) -> Result<FaultReport, TestError> {
        self.fault_matrix_with(input, Fault::all()).await
    }

    /// Like [`fault_matrix`](Self::fault_matrix) with these faults at every position.
    pub async fn fault_matrix_with<T: Serialize>(
        &self,
        input: T,
        faults: Vec<Fault>,
    ) -> Result<FaultReport, TestError> {
        let started = Instant::now();
        let payload = serde_json::to_string(&input).map_err(|e| TestError::Input(e.to_string()))?;
        let (service, baseline) = self.matrix_run(&payload, None).await;
        if let Some(error) = baseline.run_error {
            return Err(error);
        }
        let checkpoint_calls = service.checkpoint_calls();
        let mut failures = Vec::new();
        for call in 0..checkpoint_calls {
            for fault in &faults {
                let (service, outcome) = self.matrix_run(&payload, Some((call, fault.clone()))).await;
                let differences = compare(&baseline, &outcome);
                if !differences.is_empty() {
                    let hit = service.fault_hits().into_iter().next().map(|h| h.updates).unwrap_or_default();
                    failures.push(FaultCell { call, fault: fault.clone(), hit, differences });
                }
            }
        }
        Ok(FaultReport {
            checkpoint_calls,
            faults: faults.len(),
            cells: checkpoint_calls * faults.len(),
            failures,
            elapsed: started.elapsed(),
        })
    }

    /// One run of the matrix on a fresh service, with `fault` at its position.
    async fn matrix_run(&self, payload: &str, fault: Option<(usize, Fault)>) -> (MemoryService, Outcome) {
        let service = MemoryService::new();
        if let Some((call, fault)) = fault {
            service.fault_at(call, fault);
        }
        if let Some(reset) = &self.before_run {
            reset();
        }
        let responders = Mutex::new(self.lock_responders().fresh());
        // Without a name to check, starting cannot fail; the default timeout is the fallback.
        let arn = service
            .start_execution_named(&self.function_name, None, Some(payload.to_owned()), self.execution_timeout)
            .map_or_else(|_| service.start_execution(&self.function_name, Some(payload.to_owned())), |(arn, _)| arn);
        let handler = invoke_fn(self.handler.clone(), self.options.clone());
        let world = World {
            service: &service,
            max_invocations: self.max_invocations,
            targets: &self.targets,
            responders: &responders,
        };
        let run_error = world.drive(&arn, &handler, None).await.err();
        let error = service.execution_error(&arn).map(|e| {
            format!("{}: {}", e.error_type.as_deref().unwrap_or("Error"), e.error_message.as_deref().unwrap_or(""))
        });
        let outcome = Outcome {
            status: service.execution_status(&arn).unwrap_or(ExecutionStatus::Running),
            result: service.execution_result(&arn),
            error,
            history: service.history(&arn),
            run_error,
        };
        (service, outcome)
    }
}

/// How `cell` differs from `baseline`, and what is wrong with its history.
fn compare(baseline: &Outcome, cell: &Outcome) -> Vec<String> {
    let mut differences = Vec::new();
    if let Some(error) = &cell.run_error {
        differences.push(format!("the run did not complete: {error}"));
    }
    if cell.status != baseline.status {
        differences.push(format!("ended {} instead of {}", cell.describe_status(), baseline.describe_status()));
    } else if cell.result != baseline.result {
        let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "(none)".to_owned());
        differences.push(format!("result {} instead of {}", show(&cell.result), show(&baseline.result)));
    } else if error_type(cell) != error_type(baseline) {
        differences.push(format!("ended {} instead of {}", cell.describe_status(), baseline.describe_status()));
    }
    differences.extend(history_problems(&cell.history));
    differences
}

fn error_type(outcome: &Outcome) -> Option<&str> {
    outcome.error.as_deref().map(|e| e.split(':').next().unwrap_or(e))
}

/// What is inconsistent in `history`: gaps in the event ids, terminal events other than one last
/// one, an operation completed twice, a step attempt started twice.
pub(super) fn history_problems(history: &[HistoryEvent]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some((i, event)) = history.iter().enumerate().find(|(i, e)| e.event_id != *i as u64 + 1) {
        problems.push(format!("history event #{} has EventId {} (ids must be gapless from 1)", i + 1, event.event_id));
    }
    let terminal: Vec<usize> = history
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                e.event_type,
                EventType::ExecutionSucceeded
                    | EventType::ExecutionFailed
                    | EventType::ExecutionTimedOut
                    | EventType::ExecutionStopped
            )
        })
        .map(|(i, _)| i)
        .collect();
    if terminal.len() > 1 {
        problems.push(format!("{} terminal execution events", terminal.len()));
    } else if terminal.first().is_some_and(|&i| i + 1 != history.len()) {
        problems.push("events after the terminal execution event".to_owned());
    }
    let mut closed: HashMap<&str, &EventType> = HashMap::new();
    let mut step_open: HashMap<&str, bool> = HashMap::new();
    for event in history {
        let Some(id) = event.id.as_deref() else { continue };
        let kind = event.event_type.as_str();
        if kind.starts_with("Execution") {
            continue;
        }
        if event.event_type == EventType::StepStarted {
            if step_open.insert(id, true) == Some(true) {
                problems.push(format!(
                    "step `{}` ({id}): an attempt started twice (event {})",
                    event.name.as_deref().unwrap_or("?"),
                    event.event_id
                ));
            }
            continue;
        }
        let retry = event.details.retry_details.as_ref().is_some_and(|r| r.next_attempt_delay_seconds.is_some());
        let closing = ["Succeeded", "Failed", "TimedOut", "Stopped", "Cancelled"].iter().any(|s| kind.ends_with(s));
        if event.event_type == EventType::StepSucceeded || event.event_type == EventType::StepFailed {
            step_open.insert(id, false);
        }
        if closing && !retry {
            if let Some(first) = closed.insert(id, &event.event_type) {
                problems.push(format!(
                    "`{}` ({id}) completed twice: {first} then {kind} (event {})",
                    event.name.as_deref().unwrap_or("?"),
                    event.event_id
                ));
            }
        }
    }
    problems
}
