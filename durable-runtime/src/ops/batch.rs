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

use super::child::ChildContext;
use super::serdes::{JsonSerdes, Serdes};
use super::{decode, decode_with, encode, encode_with, label};
use crate::checkpoint::BoxFuture;
use crate::context::{scoped, DurableContext};
use crate::engine::ids::{Namespace, OpId};
use crate::engine::{Expected, Halted};
use crate::error::{into_recorded, DurableError, Error, ErrorKind};
use crate::protocol::limits::MAX_CONTEXT_RESULT_BYTES;
use crate::protocol::{
    ContextOptions, ErrorObject, OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::IntoFuture;
use std::sync::Arc;
use std::task::Poll;

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
    pub fn throw_if_error(&self) -> Result<(), DurableError> {
        match self.errors().first() {
            Some(error) => Err((*error).clone()),
            None => Ok(()),
        }
    }

    /// The successful results in index order, or the first error.
    pub fn into_results(self) -> Result<Vec<R>, DurableError> {
        self.throw_if_error()?;
        Ok(self.items.into_iter().filter_map(|i| i.result).collect())
    }
}

/// The recorded form of a batch result: the summary (with results) or the decision record (without).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    all: Vec<SummaryItem>,
    completion_reason: CompletionReason,
}

#[derive(Debug, Serialize, Deserialize)]
struct SummaryItem {
    index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    status: BatchItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject>,
}

/// One item to run: its name and its body.
pub(crate) struct ItemTask<R> {
    pub(crate) name: Option<String>,
    pub(crate) run: Box<dyn FnOnce(DurableContext) -> BoxFuture<Result<R, Error>> + Send>,
}

/// The setters `map` and `parallel` share, written once: `$kind` names the operation ("map") and
/// `$unit` its parts ("item"). The builder must have the fields `name`, `max_concurrency`,
/// `completion`, `nesting` and `serdes` (a [`BatchSerdes`]).
macro_rules! batch_setters {
    ($kind:literal, $unit:literal, $R:ty) => {
        #[doc = concat!("The ", $kind, "'s name, recorded in the history and checked on replay.")]
        pub fn name(mut self, name: impl Into<String>) -> Self {
            self.name = Some(name.into());
            self
        }

        #[doc = concat!("At most `n` ", $unit, "s run at once (at least 1; unlimited by default). A suspended ")]
        #[doc = concat!($unit, " keeps its slot.")]
        pub fn max_concurrency(mut self, n: usize) -> Self {
            self.max_concurrency = Some(n);
            self
        }

        #[doc = concat!("When the ", $kind, " is complete (default: when every ", $unit, " settled).")]
        pub fn completion(mut self, config: $crate::ops::batch::CompletionConfig) -> Self {
            self.completion = config;
            self
        }

        #[doc = concat!("Whether ", $unit, "s get their own recorded context (default [`Nesting::Nested`](")]
        #[doc = "crate::ops::batch::Nesting::Nested))."]
        pub fn nesting(mut self, nesting: $crate::ops::batch::Nesting) -> Self {
            self.nesting = nesting;
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

/// What kind of batch this is.
pub(crate) struct BatchSpec {
    pub(crate) kind: &'static str,
    pub(crate) name: Option<String>,
    pub(crate) sub_type: OperationSubType,
    pub(crate) item_sub_type: OperationSubType,
    pub(crate) max_concurrency: Option<usize>,
    pub(crate) completion: CompletionConfig,
    pub(crate) nesting: Nesting,
}

enum Plan<R> {
    Done(Result<BatchResult<R>, DurableError>),
    Run { send_start: bool, record: bool, only: Option<Summary> },
}

type ItemFuture<R> = BoxFuture<Result<(R, String), DurableError>>;

/// Runs (or replays) a batch at `op`.
pub(crate) async fn run_batch<R>(
    ctx: DurableContext,
    op: OpId,
    spec: BatchSpec,
    mut tasks: Vec<ItemTask<R>>,
    serdes: BatchSerdes<R>,
) -> Result<BatchResult<R>, DurableError>
where
    R: Send + 'static,
{
    let what = label(spec.kind, spec.name.as_deref(), &op.positional);
    if spec.max_concurrency == Some(0) {
        return Err(DurableError::new(
            ErrorKind::InvalidArgument,
            format!("{what}: `max_concurrency` must be at least 1; leave it unset for no limit"),
        ));
    }
    let exec = ctx.exec.clone();
    let expected =
        Expected { op_type: OperationType::Context, sub_type: spec.sub_type.clone(), name: spec.name.as_deref() };
    let plan = exec.with_record(&op, &expected, |record| {
        let Some(record) = record else { return Ok(Plan::Run { send_start: true, record: true, only: None }) };
        let details = record.context_details.as_ref();
        let payload = details.and_then(|d| d.result.as_deref());
        match &record.status {
            OperationStatus::Succeeded if details.and_then(|d| d.replay_children) == Some(true) => {
                let decision: Summary = decode(payload, &what)?;
                Ok(Plan::Run { send_start: false, record: false, only: Some(decision) })
            }
            OperationStatus::Succeeded => match &serdes.result {
                Some(result_serdes) => Ok(Plan::Done(decode_with(result_serdes.as_ref(), payload, || what.clone()))),
                None => {
                    let summary: Summary = decode(payload, &what)?;
                    Ok(Plan::Done(from_summary(summary, serdes.item.as_ref(), &what)))
                }
            },
            OperationStatus::Failed => {
                let error = details.and_then(|d| d.error.clone()).unwrap_or_default();
                Ok(Plan::Done(Err(DurableError::from_object(ErrorKind::ChildFailed, &error))))
            }
            OperationStatus::Started => Ok(Plan::Run { send_start: false, record: true, only: None }),
            other => Err(DurableError::new(
                ErrorKind::UnknownStatus,
                format!("{what} has status `{other}`, which a batch cannot have"),
            )),
        }
    });
    let plan = match plan {
        None => match Halted.await {},
        Some(Err(error)) if error.kind() == ErrorKind::UnknownStatus => match exec.halt(error).await {},
        Some(Err(error)) => return Err(error),
        Some(Ok(plan)) => plan,
    };
    let (send_start, record, only) = match plan {
        Plan::Done(outcome) => return outcome,
        Plan::Run { send_start, record, only } => (send_start, record, only),
    };
    let update = |action| {
        let mut update = OperationUpdate::new(&*op.id, OperationType::Context, action);
        update.parent_id = op.parent_id.as_deref().map(str::to_owned);
        update.name = spec.name.clone();
        update.sub_type = Some(spec.sub_type.clone());
        update
    };
    if send_start {
        exec.enqueue(update(OperationAction::Start));
    }

    // Item positions are claimed up front, in index order, whatever order items run in.
    let batch_ns = Namespace::child_of(op.clone());
    let item_ops: Vec<OpId> = (0..tasks.len()).map(|_| batch_ns.next()).collect();
    let total = tasks.len();
    let names: Vec<Option<String>> = tasks.iter_mut().map(|t| t.name.take()).collect();

    // Which items to admit, in order, and how replayed-from-decision items that never settled end.
    let (admission, never_settled): (Vec<usize>, Vec<usize>) = match &only {
        None => ((0..total).collect(), Vec::new()),
        Some(decision) => (
            decision.all.iter().filter(|i| i.status != BatchItemStatus::Started).map(|i| i.index).collect(),
            decision.all.iter().filter(|i| i.status == BatchItemStatus::Started).map(|i| i.index).collect(),
        ),
    };
    let limit = if only.is_some() { usize::MAX } else { spec.max_concurrency.unwrap_or(usize::MAX) };
    let mut tasks: Vec<Option<ItemTask<R>>> = tasks.into_iter().map(Some).collect();
    let mut outcomes: Vec<Option<Result<(R, String), DurableError>>> = (0..total).map(|_| None).collect();
    let mut started: Vec<bool> = vec![false; total];
    for index in &never_settled {
        if let Some(flag) = started.get_mut(*index) {
            *flag = true;
        }
    }
    let mut running: Vec<(usize, ItemFuture<R>)> = Vec::new();
    let mut next = 0usize;
    let (mut succeeded, mut failed, mut settled) = (0usize, 0usize, 0usize);
    let forced_reason = only.as_ref().map(|d| d.completion_reason);

    let reason = std::future::poll_fn(|cx| loop {
        // Admit items up to the concurrency limit.
        while running.len() < limit && next < admission.len() {
            let index = admission[next];
            next += 1;
            let Some(task) = tasks.get_mut(index).and_then(Option::take) else { continue };
            let Some(item_op) = item_ops.get(index).cloned() else { continue };
            if let Some(flag) = started.get_mut(index) {
                *flag = true;
            }
            let name = names.get(index).cloned().flatten();
            let fut = start_item(&ctx, &op, item_op, &spec, name, task, serdes.item.clone(), &what);
            running.push((index, fut));
        }
        let mut progressed = false;
        let mut i = 0;
        while i < running.len() {
            let (index, fut) = &mut running[i];
            match fut.as_mut().poll(cx) {
                Poll::Pending => i += 1,
                Poll::Ready(outcome) => {
                    let index = *index;
                    drop(running.remove(i));
                    progressed = true;
                    settled += 1;
                    match &outcome {
                        Ok(_) => succeeded += 1,
                        Err(_) => failed += 1,
                    }
                    if let Some(slot) = outcomes.get_mut(index) {
                        *slot = Some(outcome);
                    }
                    if forced_reason.is_none() {
                        if let Some(reason) = spec.completion.reason(total, settled, succeeded, failed) {
                            return Poll::Ready(reason);
                        }
                    }
                }
            }
        }
        if running.is_empty() && next >= admission.len() {
            let reason = forced_reason
                .or_else(|| spec.completion.reason(total, settled, succeeded, failed))
                .unwrap_or(CompletionReason::AllCompleted);
            return Poll::Ready(reason);
        }
        if !progressed {
            return Poll::Pending;
        }
    })
    .await;
    // Items still running stay STARTED; dropping them releases their suspension points.
    drop(running);

    let mut items = Vec::new();
    let mut summary = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let was_started = started.get(index).copied().unwrap_or(false);
        if !was_started && outcome.is_none() {
            continue;
        }
        let name = names.get(index).cloned().flatten();
        let (item, recorded) = match outcome {
            Some(Ok((value, payload))) => (
                BatchItem {
                    index,
                    name: name.clone(),
                    status: BatchItemStatus::Succeeded,
                    result: Some(value),
                    error: None,
                },
                SummaryItem { index, name, status: BatchItemStatus::Succeeded, result: Some(payload), error: None },
            ),
            Some(Err(error)) => (
                BatchItem {
                    index,
                    name: name.clone(),
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(error.clone()),
                },
                SummaryItem {
                    index,
                    name,
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(error.to_object()),
                },
            ),
            None => (
                BatchItem { index, name: name.clone(), status: BatchItemStatus::Started, result: None, error: None },
                SummaryItem { index, name, status: BatchItemStatus::Started, result: None, error: None },
            ),
        };
        items.push(item);
        summary.push(recorded);
    }
    let result = BatchResult { items, completion_reason: reason };
    if !record {
        return Ok(result);
    }
    let summary = Summary { all: summary, completion_reason: reason };
    let payload = match &serdes.result {
        Some(result_serdes) => encode_with(result_serdes.as_ref(), &result, || what.clone())?,
        None => encode(&summary, &what)?,
    };
    let mut update = update(OperationAction::Succeed);
    if payload.len() > MAX_CONTEXT_RESULT_BYTES {
        let decision = Summary {
            all: summary.all.into_iter().map(|i| SummaryItem { result: None, error: None, ..i }).collect(),
            completion_reason: reason,
        };
        update.payload = Some(encode(&decision, &what)?);
        update.context_options = Some(ContextOptions { replay_children: Some(true) });
    } else {
        update.payload = Some(payload.clone());
    }
    let seq = exec.enqueue(update);
    exec.durable(seq).await;
    match &serdes.result {
        // What replay will read: the result decoded from exactly the recorded payload.
        Some(result_serdes) if payload.len() <= MAX_CONTEXT_RESULT_BYTES => {
            decode_with(result_serdes.as_ref(), Some(&payload), || what.clone())
        }
        _ => Ok(result),
    }
}

/// The future of one item: a child context (nested) or a virtual context (flat). Resolves to the
/// value as replay would see it, with its recorded payload.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the arguments
fn start_item<R>(
    ctx: &DurableContext,
    batch: &OpId,
    item_op: OpId,
    spec: &BatchSpec,
    name: Option<String>,
    task: ItemTask<R>,
    item_serdes: Arc<dyn Serdes<R>>,
    what: &str,
) -> ItemFuture<R>
where
    R: Send + 'static,
{
    let what = format!("{what}, item {}", item_op.positional);
    match spec.nesting {
        Nesting::Nested => {
            let child = ChildContext::with_op(ctx, item_op, spec.item_sub_type.clone(), name, task.run)
                .serdes(item_serdes.clone());
            let fut = child.into_future();
            Box::pin(async move {
                let value: R = fut.await?;
                let payload = encode_with(item_serdes.as_ref(), &value, || what.clone())?;
                Ok((value, payload))
            })
        }
        Nesting::Flat => {
            let item_ctx = ctx.with_namespace(Namespace::virtual_at(item_op, Some(batch.id.clone())));
            let body = (task.run)(item_ctx.clone());
            Box::pin(async move {
                let value = scoped(item_ctx, body).await.map_err(|e| into_recorded(e, ErrorKind::ChildFailed))?;
                let payload = encode_with(item_serdes.as_ref(), &value, || what.clone())?;
                let value = decode_with(item_serdes.as_ref(), Some(&payload), || what.clone())?;
                Ok((value, payload))
            })
        }
    }
}

fn from_summary<R: 'static>(
    summary: Summary,
    item_serdes: &dyn Serdes<R>,
    what: &str,
) -> Result<BatchResult<R>, DurableError> {
    let mut items = Vec::with_capacity(summary.all.len());
    for item in summary.all {
        let result = match (&item.status, item.result.as_deref()) {
            (BatchItemStatus::Succeeded, payload) => Some(decode_with(item_serdes, payload, || what.to_owned())?),
            _ => None,
        };
        let error = item.error.as_ref().map(|e| DurableError::from_object(ErrorKind::ChildFailed, e));
        items.push(BatchItem { index: item.index, name: item.name, status: item.status, result, error });
    }
    Ok(BatchResult { items, completion_reason: summary.completion_reason })
}
