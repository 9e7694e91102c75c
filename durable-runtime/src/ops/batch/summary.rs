//! What a batch records as its result: a summary of every started item (status, result or error)
//! and why the batch completed, so replay returns the same [`BatchResult`] without running anything.
//! A summary over the context result limit is recorded as a decision instead (the same without
//! results and errors: which items ran, and how they ended) with `ReplayChildren`; replay then runs
//! exactly those items again, which replay from their own records.

use super::scheduler::Settled;
use super::{BatchItem, BatchItemStatus, BatchResult, BatchSerdes, CompletionReason};
use crate::error::{DurableError, ErrorKind};
use crate::ops::shell::Shell;
use crate::ops::{decode, decode_with, encode, encode_with};
use crate::protocol::limits::MAX_CONTEXT_RESULT_BYTES;
use crate::protocol::ErrorObject;
use serde::{Deserialize, Serialize};

/// The recorded form of a batch result: the summary (with results) or the decision (without).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Summary {
    pub(super) all: Vec<SummaryItem>,
    pub(super) completion_reason: CompletionReason,
}

/// One started item in a [`Summary`].
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SummaryItem {
    pub(super) index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    pub(super) status: BatchItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject>,
}

impl Summary {
    /// The decision: the summary without results and errors.
    fn decision(self) -> Self {
        let all = self.all.into_iter().map(|i| SummaryItem { result: None, error: None, ..i }).collect();
        Self { all, completion_reason: self.completion_reason }
    }
}

/// The result and its summary, from how the items stood when the batch completed (`names`: each
/// item's name). Items never started are left out.
pub(super) fn collect<R>(settled: Settled<R>, names: Vec<Option<String>>) -> (BatchResult<R>, Summary) {
    let Settled { outcomes, started, reason } = settled;
    let mut items = Vec::new();
    let mut all = Vec::new();
    for ((index, outcome), name) in outcomes.into_iter().enumerate().zip(names) {
        if outcome.is_none() && !started.get(index).copied().unwrap_or(false) {
            continue;
        }
        let (status, result, payload, error) = match outcome {
            Some(Ok((value, payload))) => (BatchItemStatus::Succeeded, Some(value), Some(payload), None),
            Some(Err(error)) => (BatchItemStatus::Failed, None, None, Some(error)),
            None => (BatchItemStatus::Started, None, None, None),
        };
        let recorded_error = error.as_ref().map(DurableError::to_object);
        all.push(SummaryItem { index, name: name.clone(), status, result: payload, error: recorded_error });
        items.push(BatchItem { index, name, status, result, error });
    }
    (BatchResult { items, completion_reason: reason }, Summary { all, completion_reason: reason })
}

/// Reads the recorded result of the batch `shell`: through the result serdes, or from the summary.
pub(super) fn read<R: 'static>(
    shell: &Shell,
    payload: Option<&str>,
    serdes: &BatchSerdes<R>,
) -> Result<BatchResult<R>, DurableError> {
    if let Some(result_serdes) = &serdes.result {
        return decode_with(result_serdes.as_ref(), payload, || shell.label());
    }
    let summary: Summary = decode(payload, || shell.label())?;
    let mut items = Vec::with_capacity(summary.all.len());
    for item in summary.all {
        let result = match (&item.status, item.result.as_deref()) {
            (BatchItemStatus::Succeeded, payload) => {
                Some(decode_with(serdes.item.as_ref(), payload, || shell.label())?)
            }
            _ => None,
        };
        let error = item.error.as_ref().map(|e| DurableError::from_object(ErrorKind::ChildFailed, e));
        items.push(BatchItem { index: item.index, name: item.name, status: item.status, result, error });
    }
    Ok(BatchResult { items, completion_reason: summary.completion_reason })
}

/// Records the result of the batch `shell` (through the result serdes, or as `summary`) and
/// returns the result replay will read.
pub(super) async fn record<R: 'static>(
    shell: &Shell,
    result: BatchResult<R>,
    summary: Summary,
    serdes: &BatchSerdes<R>,
) -> Result<BatchResult<R>, DurableError> {
    let payload = match &serdes.result {
        Some(result_serdes) => encode_with(result_serdes.as_ref(), &result, || shell.label())?,
        None => encode(&summary, || shell.label())?,
    };
    if payload.len() > MAX_CONTEXT_RESULT_BYTES {
        let decision = encode(&summary.decision(), || shell.label())?;
        shell.succeed_replaying_children(Some(decision)).await;
        return Ok(result);
    }
    shell.succeed(payload.clone()).await;
    match &serdes.result {
        // What replay will read: the result decoded from exactly the recorded payload.
        Some(result_serdes) => decode_with(result_serdes.as_ref(), Some(&payload), || shell.label()),
        None => Ok(result),
    }
}
