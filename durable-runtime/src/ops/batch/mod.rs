//! The engine shared by `map` and `parallel`: items run as child contexts under one batch context,
//! admitted in index order with at most `max_concurrency` running, until the completion config says
//! the batch is done.
//!
//! Wire shape: the batch is a CONTEXT (`Map` / `Parallel`) whose children are one CONTEXT per item
//! (`MapIteration` / `ParallelBranch`), item *i* at position `<batch>-<i+1>`; the item's own
//! operations are nested under it. With [`Nesting::Flat`] no item context is recorded: the item's
//! operations are numbered under the item's position but report the batch as their parent. The
//! batch records a summary of every started item (status, result or error, completion reason) as its
//! result, so replay returns the same [`BatchResult`] without running anything. A summary over 256 KiB
//! is replaced by a decision record (which items ran, and how they ended) and `ReplayChildren`; replay
//! then re-runs exactly those items, which replay from their own records.
//!
//! This file holds the configuration, the result types and `run_batch`, which replays the batch or
//! runs it: `scheduler.rs` decides when items run, `item.rs` how one runs, `summary.rs` what gets
//! recorded.

mod item;
mod scheduler;
mod summary;

pub(crate) use item::ItemTask;

use super::decode;
use super::serdes::{JsonSerdes, Serdes};
use super::shell::{Kind, Plan, Replay, Shell};
use crate::context::DurableContext;
use crate::engine::ids::{Namespace, OpId};
use crate::error::{DurableError, ErrorKind};
use crate::protocol::{OperationAction, OperationStatus, OperationSubType, OperationType};
use scheduler::Admission;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use summary::Summary;

/// When a batch is complete. Without any criterion, every item runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompletionConfig {
    min_successful: Option<usize>,
    tolerated_failure_count: Option<usize>,
    tolerated_failure_percentage: Option<f64>,
}

impl CompletionConfig {
    /// Every item runs, whatever fails.
    pub fn all() -> Self {
        Self::default()
    }

    /// Stops at the first failure (no failure tolerated).
    pub fn fail_fast() -> Self {
        Self::default().tolerated_failure_count(0)
    }

    /// Complete as soon as `n` items succeeded.
    pub fn min_successful(mut self, n: usize) -> Self {
        self.min_successful = Some(n);
        self
    }

    /// Stop once more than `n` items failed.
    pub fn tolerated_failure_count(mut self, n: usize) -> Self {
        self.tolerated_failure_count = Some(n);
        self
    }

    /// Stop once more than `percent` % of all items failed.
    pub fn tolerated_failure_percentage(mut self, percent: f64) -> Self {
        self.tolerated_failure_percentage = Some(percent);
        self
    }

    /// Why the batch is complete after this tally, if it is.
    fn reason(&self, total: usize, settled: usize, succeeded: usize, failed: usize) -> Option<CompletionReason> {
        let count_exceeded = self.tolerated_failure_count.is_some_and(|n| failed > n);
        let percentage_exceeded = self
            .tolerated_failure_percentage
            .is_some_and(|p| total > 0 && (failed as f64) * 100.0 / (total as f64) > p);
        if count_exceeded || percentage_exceeded {
            Some(CompletionReason::FailureToleranceExceeded)
        } else if self.min_successful.is_some_and(|n| succeeded >= n) {
            Some(CompletionReason::MinSuccessfulReached)
        } else if settled == total {
            Some(CompletionReason::AllCompleted)
        } else {
            None
        }
    }
}

/// Why a batch completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionReason {
    /// Every item settled.
    AllCompleted,
    /// Enough items succeeded.
    MinSuccessfulReached,
    /// Too many items failed.
    FailureToleranceExceeded,
}

/// Whether items get their own recorded context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Nesting {
    /// Each item is a child context (`MapIteration` / `ParallelBranch`).
    #[default]
    Nested,
    /// Items run in virtual contexts: nothing is recorded for the item itself, its operations report
    /// the batch as their parent. Fewer operations; the batch's summary carries the item results.
    Flat,
}

/// How one item of a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchItemStatus {
    /// The item returned a value.
    Succeeded,
    /// The item failed.
    Failed,
    /// The item was still running when the batch completed; it never finishes.
    Started,
}

/// One started item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem<R> {
    /// The item's index in the input.
    pub index: usize,
    /// The item's name, if it has one.
    pub name: Option<String>,
    /// How it ended.
    pub status: BatchItemStatus,
    /// Its result, when it succeeded.
    pub result: Option<R>,
    /// Its error, when it failed.
    pub error: Option<DurableError>,
}

/// The outcome of a `map` or `parallel`: every started item in index order, and why the batch
/// completed. Items that were never started (the batch completed first) are not listed.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult<R> {
    items: Vec<BatchItem<R>>,
    completion_reason: CompletionReason,
}

impl<R> BatchResult<R> {
    /// A batch result from its items (for a custom serdes of the whole result).
    pub fn new(items: Vec<BatchItem<R>>, completion_reason: CompletionReason) -> Self {
        Self { items, completion_reason }
    }

    /// A batch in which every item succeeded, with these results in index order.
    pub fn from_results(results: impl IntoIterator<Item = R>) -> Self {
        let items = results
            .into_iter()
            .enumerate()
            .map(|(index, result)| BatchItem {
                index,
                name: None,
                status: BatchItemStatus::Succeeded,
                result: Some(result),
                error: None,
            })
            .collect();
        Self { items, completion_reason: CompletionReason::AllCompleted }
    }

    /// Every started item, in index order.
    pub fn items(&self) -> &[BatchItem<R>] {
        &self.items
    }

    /// Why the batch completed.
    pub fn completion_reason(&self) -> CompletionReason {
        self.completion_reason
    }

    /// True when at least one item failed.
    pub fn has_failure(&self) -> bool {
        self.items.iter().any(|i| i.status == BatchItemStatus::Failed)
    }

    /// `Failed` when an item failed, else `Succeeded`.
    pub fn status(&self) -> BatchItemStatus {
        if self.has_failure() {
            BatchItemStatus::Failed
        } else {
            BatchItemStatus::Succeeded
        }
    }

    /// The items that succeeded.
    pub fn succeeded(&self) -> Vec<&BatchItem<R>> {
        self.items.iter().filter(|i| i.status == BatchItemStatus::Succeeded).collect()
    }

    /// The items that failed.
    pub fn failed(&self) -> Vec<&BatchItem<R>> {
        self.items.iter().filter(|i| i.status == BatchItemStatus::Failed).collect()
    }

    /// The items still running when the batch completed.
    pub fn started(&self) -> Vec<&BatchItem<R>> {
        self.items.iter().filter(|i| i.status == BatchItemStatus::Started).collect()
    }

    /// The errors of the failed items, in index order.
    pub fn errors(&self) -> Vec<&DurableError> {
        self.items.iter().filter_map(|i| i.error.as_ref()).collect()
    }

    /// The results of the successful items, in index order.
    pub fn results(&self) -> Vec<&R> {
        self.items.iter().filter_map(|i| i.result.as_ref()).collect()
    }

    /// Number of items that succeeded.
    pub fn success_count(&self) -> usize {
        self.succeeded().len()
    }

    /// Number of items that failed.
    pub fn failure_count(&self) -> usize {
        self.failed().len()
    }

    /// Number of items started.
    pub fn total_count(&self) -> usize {
        self.items.len()
    }

    /// The first failed item's error, if any item failed.
    pub fn require_success(&self) -> Result<(), DurableError> {
        match self.errors().first() {
            Some(error) => Err((*error).clone()),
            None => Ok(()),
        }
    }

    /// The successful results in index order, or the first error.
    pub fn into_results(self) -> Result<Vec<R>, DurableError> {
        self.require_success()?;
        Ok(self.items.into_iter().filter_map(|i| i.result).collect())
    }
}

/// The setters `map` and `parallel` share, written once: `$kind` names the operation ("map") and
/// `$unit` its parts ("item"). The builder must have the fields `spec` (a [`BatchSpec`]) and
/// `serdes` (a [`BatchSerdes`]).
macro_rules! batch_setters {
    ($kind:literal, $unit:literal, $R:ty) => {
        #[doc = concat!("The ", $kind, "'s name, recorded in the history and checked on replay.")]
        pub fn name(mut self, name: impl Into<String>) -> Self {
            self.spec.shell.name = Some(name.into());
            self
        }

        #[doc = concat!("At most `n` ", $unit, "s run at once (at least 1; unlimited by default). A suspended ")]
        #[doc = concat!($unit, " keeps its slot.")]
        pub fn max_concurrency(mut self, n: usize) -> Self {
            self.spec.max_concurrency = Some(n);
            self
        }

        #[doc = concat!("When the ", $kind, " is complete (default: when every ", $unit, " settled).")]
        pub fn completion(mut self, config: $crate::ops::batch::CompletionConfig) -> Self {
            self.spec.completion = config;
            self
        }

        #[doc = concat!("Whether ", $unit, "s get their own recorded context (default [`Nesting::Nested`](")]
        #[doc = "crate::ops::batch::Nesting::Nested))."]
        pub fn nesting(mut self, nesting: $crate::ops::batch::Nesting) -> Self {
            self.spec.nesting = nesting;
            self
        }

        #[doc = concat!("How each ", $unit, "'s result is recorded and read back (default: JSON).")]
        pub fn item_serdes(mut self, serdes: impl $crate::ops::serdes::Serdes<$R>) -> Self {
            self.serdes.item = ::std::sync::Arc::new(serdes);
            self
        }

        #[doc = concat!("How the whole result is recorded and read back, instead of the built-in summary of every ", $unit)]
        #[doc = "(see [`BatchResult::new`](crate::ops::batch::BatchResult::new) and"]
        #[doc = "[`BatchResult::from_results`](crate::ops::batch::BatchResult::from_results) to rebuild one)."]
        pub fn serdes(mut self, serdes: impl $crate::ops::serdes::Serdes<$crate::ops::batch::BatchResult<$R>>) -> Self {
            self.serdes.result = Some(::std::sync::Arc::new(serdes));
            self
        }
    };
}
pub(crate) use batch_setters;

/// How a batch's items and its whole result are recorded.
pub(crate) struct BatchSerdes<R> {
    /// Each item's result.
    pub(crate) item: Arc<dyn Serdes<R>>,
    /// The whole result, instead of the built-in summary.
    pub(crate) result: Option<Arc<dyn Serdes<BatchResult<R>>>>,
}

impl<R: Serialize + DeserializeOwned + 'static> Default for BatchSerdes<R> {
    fn default() -> Self {
        Self { item: Arc::new(JsonSerdes), result: None }
    }
}

/// A batch: the batch operation and how its items run.
pub(crate) struct BatchSpec {
    pub(crate) shell: Shell,
    /// The SubType of each item's context.
    item_sub_type: OperationSubType,
    pub(crate) max_concurrency: Option<usize>,
    pub(crate) completion: CompletionConfig,
    pub(crate) nesting: Nesting,
}

impl BatchSpec {
    /// A batch at the next position of `ctx`: a context with SubType `sub_type` (`Map`), named
    /// `noun` in messages (`map`), whose items are contexts with SubType `item_sub_type`.
    pub(crate) fn new(
        ctx: &DurableContext,
        noun: &'static str,
        sub_type: OperationSubType,
        item_sub_type: OperationSubType,
    ) -> Self {
        let kind = Kind {
            op_type: OperationType::Context,
            sub_type,
            noun,
            failure: ErrorKind::ChildFailed,
            unknown: "which a batch cannot have",
        };
        Self {
            shell: Shell::new(ctx, kind),
            item_sub_type,
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
        }
    }
}

/// How the live run of a batch goes.
struct Run {
    /// The START is not recorded yet.
    send_start: bool,
    /// The result is to be recorded (false when replay rebuilds a `ReplayChildren` result).
    record: bool,
    /// The recorded decision a `ReplayChildren` replay follows.
    decision: Option<Summary>,
}

/// Runs (or replays) a batch.
/// The replay check of a recorded batch against the items the code has now: a recorded item index
/// past the end, or a batch that ran every item with another count of items, means the code changed.
fn item_count_mismatch<R>(shell: &Shell, batch: &BatchResult<R>, items: usize) -> Option<DurableError> {
    let recorded = batch.items().len();
    let past_end = batch.items().iter().any(|item| item.index >= items);
    let all_ran = batch.completion_reason() == CompletionReason::AllCompleted;
    (past_end || (all_ran && recorded != items)).then(|| {
        DurableError::new(
            ErrorKind::NonDeterministic,
            format!(
                "{} was recorded with {recorded} item(s) (completed: {:?}) but the code now has {items}; the \
                 workflow changed in a way that breaks replay",
                shell.label(),
                batch.completion_reason()
            ),
        )
    })
}

pub(crate) async fn run_batch<R>(
    spec: BatchSpec,
    mut tasks: Vec<ItemTask<R>>,
    serdes: BatchSerdes<R>,
) -> Result<BatchResult<R>, DurableError>
where
    R: Send + 'static,
{
    let shell = &spec.shell;
    if spec.max_concurrency == Some(0) {
        return Err(DurableError::new(
            ErrorKind::InvalidArgument,
            format!("{}: `max_concurrency` must be at least 1; leave it unset for no limit", shell.label()),
        ));
    }
    let replay = shell.replay(|record| {
        let Some(record) = record else { return Plan::Live(Run { send_start: true, record: true, decision: None }) };
        let details = record.context_details.as_ref();
        let payload = details.and_then(|d| d.result.as_ref()).map(crate::protocol::Payload::text);
        let payload = payload.as_deref();
        match &record.status {
            OperationStatus::Succeeded if details.and_then(|d| d.replay_children) == Some(true) => {
                match decode(payload, || shell.label()) {
                    Ok(decision) => Plan::Live(Run { send_start: false, record: false, decision: Some(decision) }),
                    Err(error) => Plan::Done(Err(error)),
                }
            }
            OperationStatus::Succeeded => Plan::Done(summary::read(shell, payload, &serdes)),
            OperationStatus::Failed => shell.failed(details.and_then(|d| d.error.as_deref())),
            OperationStatus::Started => Plan::Live(Run { send_start: false, record: true, decision: None }),
            other => Plan::Unknown(other.to_string()),
        }
    });
    let Run { send_start, record, decision } = match replay.await {
        Replay::Recorded(outcome) => {
            if let Some(error) = outcome.as_ref().ok().and_then(|batch| item_count_mismatch(shell, batch, tasks.len()))
            {
                return shell.halt(error).await;
            }
            return outcome;
        }
        Replay::Live(run) => run,
    };
    if send_start {
        shell.send(shell.update(OperationAction::Start));
    }

    let total = tasks.len();
    let admission = match &decision {
        None => Admission::all(total, spec.max_concurrency),
        Some(decision) => Admission::replay(decision),
    };
    let names: Vec<Option<String>> = tasks.iter_mut().map(|t| t.name.take()).collect();
    // Item positions are claimed up front, in index order, whatever order items run in.
    let items = Namespace::child_of(shell.op.clone());
    let mut pending: Vec<Option<(OpId, ItemTask<R>)>> = tasks.into_iter().map(|t| Some((items.next(), t))).collect();
    let start = |index: usize| {
        let (item_op, task) = pending.get_mut(index)?.take()?;
        let name = names.get(index).cloned().flatten();
        Some(task.start(&spec, item_op, name, serdes.item.clone()))
    };
    let settled = scheduler::run(total, admission, &spec.completion, start).await;

    let (result, summary) = summary::collect(settled, names);
    if !record {
        return Ok(result);
    }
    summary::record(shell, result, summary, &serdes).await
}
