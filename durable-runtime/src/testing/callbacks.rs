//! Callback responders: answers the runner sends, in virtual time, to callbacks when they start.

use crate::checkpoint::memory::MemoryService;
use crate::protocol::{ErrorObject, Operation, OperationStatus, OperationSubType, OperationType, Timestamp};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What a callback's external system does, step by step, each step a delay (virtual time, counted
/// from the callback's start or from the previous step) and an answer.
///
/// ```
/// use durable_runtime::testing::CallbackAction;
/// use std::time::Duration;
///
/// // Approve 30 s after the callback started.
/// let approve = CallbackAction::succeed("approved").after(Duration::from_secs(30));
/// // Heartbeat after 5 s, then approve 5 s later.
/// let slow = CallbackAction::heartbeat()
///     .after(Duration::from_secs(5))
///     .then(CallbackAction::succeed("approved").after(Duration::from_secs(5)));
/// # let _ = (approve, slow);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackAction {
    steps: Vec<(Duration, Answer)>,
}

/// One answer to a callback.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    Succeed(Option<String>),
    Fail(ErrorObject),
    Heartbeat,
}

impl CallbackAction {
    fn one(answer: Answer) -> Self {
        Self { steps: vec![(Duration::ZERO, answer)] }
    }

    /// Answers with success; the result is `value` as compact JSON text.
    pub fn succeed(value: impl Into<serde_json::Value>) -> Self {
        Self::one(Answer::Succeed(Some(value.into().to_string())))
    }

    /// Answers with success and exactly these result bytes (`None`: no result at all).
    pub fn succeed_raw(result: Option<String>) -> Self {
        Self::one(Answer::Succeed(result))
    }

    /// Answers with failure; `error` is recorded verbatim.
    pub fn fail(error: ErrorObject) -> Self {
        Self::one(Answer::Fail(error))
    }

    /// Sends a heartbeat, which re-arms the callback's heartbeat timeout and answers nothing.
    pub fn heartbeat() -> Self {
        Self::one(Answer::Heartbeat)
    }

    /// A heartbeat after `heartbeat_after`, then success with `value` `succeed_after` later.
    pub fn heartbeat_then_succeed(
        heartbeat_after: Duration,
        succeed_after: Duration,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        Self::heartbeat().after(heartbeat_after).then(Self::succeed(value).after(succeed_after))
    }

    /// Delays the last step by `delay` (virtual time) after the previous one, or after the callback
    /// started for the first step.
    pub fn after(mut self, delay: Duration) -> Self {
        if let Some(last) = self.steps.last_mut() {
            last.0 = delay;
        }
        self
    }

    /// Appends the steps of `next`.
    pub fn then(mut self, next: CallbackAction) -> Self {
        self.steps.extend(next.steps);
        self
    }

    /// True when the last step answers the callback (a heartbeat does not).
    fn answers(&self) -> bool {
        self.steps.last().is_some_and(|(_, answer)| *answer != Answer::Heartbeat)
    }
}

type Matcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

struct Responder {
    matcher: Matcher,
    action: CallbackAction,
    used: bool,
}

/// An answer due at a point of virtual time.
#[derive(Debug, Clone)]
pub(super) struct Scheduled {
    pub(super) arn: String,
    pub(super) callback_id: String,
    pub(super) due: Timestamp,
    pub(super) answer: Answer,
}

/// The registered responders and the answers they scheduled.
#[derive(Default)]
pub(super) struct Responders {
    responders: Vec<Responder>,
    seen: HashSet<String>,
    scheduled: Vec<Scheduled>,
}

impl fmt::Debug for Responders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responders")
            .field("responders", &self.responders.len())
            .field("scheduled", &self.scheduled)
            .finish_non_exhaustive()
    }
}

impl Responders {
    /// Registers a responder for callbacks whose name satisfies `matcher`.
    pub(super) fn add(&mut self, matcher: Matcher, action: CallbackAction) {
        self.responders.push(Responder { matcher, action, used: false });
    }

    /// The same responders, none used yet, nothing seen or scheduled: for a run on a fresh service.
    pub(super) fn fresh(&self) -> Self {
        let responders = self
            .responders
            .iter()
            .map(|r| Responder { matcher: r.matcher.clone(), action: r.action.clone(), used: false })
            .collect();
        Self { responders, seen: HashSet::new(), scheduled: Vec::new() }
    }

    /// A matcher for `name`: `*` matches every callback, anything else the exact name.
    pub(super) fn name_matcher(name: String) -> Matcher {
        if name == "*" {
            Arc::new(|_| true)
        } else {
            Arc::new(move |candidate| candidate == name)
        }
    }

    /// Schedules the answers to the callbacks of `arn` that started since the last call. Each callback
    /// takes the first unused responder whose matcher accepts its name; a responder that only
    /// heartbeats does not close the callback, so the next matching responder is chained after it.
    pub(super) fn schedule(&mut self, service: &MemoryService, arn: &str) {
        let operations = service.operations(arn);
        for op in operations.iter().filter(|op| op.op_type == OperationType::Callback) {
            let Some(callback_id) = op.callback_details.as_ref().and_then(|d| d.callback_id.clone()) else {
                continue;
            };
            if op.status != OperationStatus::Started || self.seen.contains(&callback_id) {
                continue;
            }
            self.seen.insert(callback_id.clone());
            let name = callback_name(op, &operations).unwrap_or_default();
            let mut due = op.start_timestamp.unwrap_or_else(|| service.now());
            for responder in self.responders.iter_mut() {
                if responder.used || !(responder.matcher)(&name) {
                    continue;
                }
                responder.used = true;
                for (delay, answer) in &responder.action.steps {
                    due = due.plus(*delay);
                    let scheduled = Scheduled {
                        arn: arn.to_owned(),
                        callback_id: callback_id.clone(),
                        due,
                        answer: answer.clone(),
                    };
                    self.scheduled.push(scheduled);
                }
                if responder.action.answers() {
                    break;
                }
            }
        }
    }

    /// When the next answer for `arn` is due.
    pub(super) fn next_due(&self, arn: &str) -> Option<Timestamp> {
        self.scheduled.iter().filter(|s| s.arn == arn).map(|s| s.due).min()
    }

    /// Removes and returns the answers for `arn` due by `now`, in due order.
    pub(super) fn take_due(&mut self, arn: &str, now: Timestamp) -> Vec<Scheduled> {
        let (mut due, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.scheduled).into_iter().partition(|s| s.arn == arn && s.due <= now);
        self.scheduled = rest;
        due.sort_by_key(|s| s.due);
        due
    }
}

/// A callback's name for matching: its own, or that of the wait-for-callback context around it.
fn callback_name(op: &Operation, operations: &[Operation]) -> Option<String> {
    if let Some(name) = op.name.clone() {
        return Some(name);
    }
    let parent = operations.iter().find(|p| Some(p.id.as_str()) == op.parent_id.as_deref())?;
    (parent.sub_type == Some(OperationSubType::WaitForCallback)).then(|| parent.name.clone()).flatten()
}

/// Sends one scheduled answer. An answer to a callback that already closed (answered or timed out)
/// is dropped, as the real service rejects it.
pub(super) fn send(service: &MemoryService, scheduled: Scheduled) {
    let id = scheduled.callback_id.as_str();
    let _ = match scheduled.answer {
        Answer::Succeed(result) => service.callback_success(id, result),
        Answer::Fail(error) => service.callback_failure(id, error),
        Answer::Heartbeat => service.callback_heartbeat(id),
    };
}
