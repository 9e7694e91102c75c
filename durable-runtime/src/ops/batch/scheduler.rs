//! The scheduler of a batch: admits items in order, at most `limit` running at once, polls the
//! running ones in this task, and stops as soon as the batch is complete.

use super::summary::Summary;
use super::{BatchItemStatus, CompletionConfig, CompletionReason};
use crate::checkpoint::BoxFuture;
use crate::error::DurableError;
use std::task::{Context, Poll};

/// How one item ended: its value as replay would see it, with its recorded payload, or its error.
pub(super) type ItemOutcome<R> = Result<(R, String), DurableError>;

/// The future of one running item.
pub(super) type ItemFuture<R> = BoxFuture<ItemOutcome<R>>;

/// Which items run, in what order, how many at once, and what completes the batch.
pub(super) struct Admission {
    /// Item indices, in the order they are admitted.
    order: Vec<usize>,
    /// At most this many items run at once.
    limit: usize,
    /// Items counted as started without being admitted (a recorded decision lists them as still
    /// running when the batch completed).
    never_settled: Vec<usize>,
    /// The completion reason of a recorded decision, which completes the batch once its items have
    /// run; `None`: the completion config decides.
    recorded: Option<CompletionReason>,
}

impl Admission {
    /// Every item, in index order, at most `max_concurrency` at once.
    pub(super) fn all(total: usize, max_concurrency: Option<usize>) -> Self {
        Self {
            order: (0..total).collect(),
            limit: max_concurrency.unwrap_or(usize::MAX),
            never_settled: Vec::new(),
            recorded: None,
        }
    }

    /// Exactly the items a recorded decision lists as settled, all at once, completing as it says.
    pub(super) fn replay(decision: &Summary) -> Self {
        let (settled, never_settled) =
            decision.all.iter().partition::<Vec<_>, _>(|i| i.status != BatchItemStatus::Started);
        Self {
            order: settled.iter().map(|i| i.index).collect(),
            limit: usize::MAX,
            never_settled: never_settled.iter().map(|i| i.index).collect(),
            recorded: Some(decision.completion_reason),
        }
    }
}

/// How the items stood when the batch completed.
pub(super) struct Settled<R> {
    /// Each item's outcome; `None` for an item that did not settle.
    pub(super) outcomes: Vec<Option<ItemOutcome<R>>>,
    /// Which items were started.
    pub(super) started: Vec<bool>,
    /// Why the batch completed.
    pub(super) reason: CompletionReason,
}

/// Runs the `total` items as `admission` says until the batch is complete. `start(index)` creates
/// the future of item `index` (`None`: there is no such item).
pub(super) async fn run<R, S>(total: usize, admission: Admission, completion: &CompletionConfig, start: S) -> Settled<R>
where
    S: FnMut(usize) -> Option<ItemFuture<R>>,
{
    let mut started = vec![false; total];
    for &index in &admission.never_settled {
        if let Some(flag) = started.get_mut(index) {
            *flag = true;
        }
    }
    let mut scheduler = Scheduler {
        admission,
        completion,
        start,
        total,
        next: 0,
        running: Vec::new(),
        outcomes: (0..total).map(|_| None).collect(),
        started,
        tally: Tally::default(),
    };
    let reason = std::future::poll_fn(|cx| scheduler.poll(cx)).await;
    // Items still running stay STARTED; dropping them releases their suspension points.
    let Scheduler { outcomes, started, .. } = scheduler;
    Settled { outcomes, started, reason }
}

/// Settled items, for the completion config.
#[derive(Default)]
struct Tally {
    settled: usize,
    succeeded: usize,
    failed: usize,
}

struct Scheduler<'a, R, S> {
    admission: Admission,
    completion: &'a CompletionConfig,
    start: S,
    total: usize,
    /// The next entry of the admission order.
    next: usize,
    running: Vec<(usize, ItemFuture<R>)>,
    outcomes: Vec<Option<ItemOutcome<R>>>,
    started: Vec<bool>,
    tally: Tally,
}

impl<R, S> Scheduler<'_, R, S>
where
    S: FnMut(usize) -> Option<ItemFuture<R>>,
{
    /// Admits items up to the limit and polls the running ones until none makes progress; ready
    /// once the batch is complete.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<CompletionReason> {
        loop {
            self.admit();
            let mut progressed = false;
            let mut i = 0;
            while let Some((index, fut)) = self.running.get_mut(i) {
                let Poll::Ready(outcome) = fut.as_mut().poll(cx) else {
                    i += 1;
                    continue;
                };
                let index = *index;
                drop(self.running.remove(i));
                progressed = true;
                if let Some(reason) = self.settle(index, outcome) {
                    return Poll::Ready(reason);
                }
            }
            if self.running.is_empty() && self.next >= self.admission.order.len() {
                let reason = self.admission.recorded.or_else(|| self.reason());
                return Poll::Ready(reason.unwrap_or(CompletionReason::AllCompleted));
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    }

    /// Starts items in admission order while fewer than the limit run.
    fn admit(&mut self) {
        while self.running.len() < self.admission.limit {
            let Some(&index) = self.admission.order.get(self.next) else { break };
            self.next += 1;
            let Some(fut) = (self.start)(index) else { continue };
            if let Some(flag) = self.started.get_mut(index) {
                *flag = true;
            }
            self.running.push((index, fut));
        }
    }

    /// Keeps how item `index` ended; `Some(reason)` when that completes the batch. A batch that
    /// follows a recorded decision completes only once all its items have run.
    fn settle(&mut self, index: usize, outcome: ItemOutcome<R>) -> Option<CompletionReason> {
        self.tally.settled += 1;
        match &outcome {
            Ok(_) => self.tally.succeeded += 1,
            Err(_) => self.tally.failed += 1,
        }
        if let Some(slot) = self.outcomes.get_mut(index) {
            *slot = Some(outcome);
        }
        match self.admission.recorded {
            Some(_) => None,
            None => self.reason(),
        }
    }

    /// Why the batch is complete after the items settled so far, if it is.
    fn reason(&self) -> Option<CompletionReason> {
        let Tally { settled, succeeded, failed } = self.tally;
        self.completion.reason(self.total, settled, succeeded, failed)
    }
}
