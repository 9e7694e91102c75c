//! `wait_for_condition`: polls a check until a wait strategy says the condition is met.
//!
//! One STEP with SubType `WaitForCondition` is used as a reducer over a carried state. Each check
//! runs the user's function on the state; the strategy then decides:
//! - continue → RETRY with `Payload` = the new state and `NextAttemptDelaySeconds`, then the
//!   invocation suspends until the service marks the step READY;
//! - done → SUCCEED with the state;
//! - attempts used up → FAIL with `ErrorType` `WaitForCondition.MaxChecksExceeded`.
//!
//! A check that raises fails the operation at once (no retry). The carried state is read from
//! `StepDetails.Result` *before* the next START, because a START clears it.

use super::serdes::Serdes;
use super::shell::{Kind, Plan, Replay, Shell};
use super::step::StepContext;
use super::{decode_or_json, encode_or_json, text, MaybeSerdes, STEP_RESULT_LIMIT};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::{OperationAction, OperationStatus, OperationSubType, OperationType};
use crate::retry::{Backoff, Jitter};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

impl DurableContext {
    /// Polls `check` until a wait strategy is satisfied. `check` receives the current state (first
    /// `initial_state`, then what the previous check returned) and returns the new one; between checks
    /// the invocation suspends for the strategy's delay. Set the strategy with
    /// [`WaitForCondition::until`] or [`WaitForCondition::strategy`] before awaiting.
    ///
    /// ```no_run
    /// use durable_runtime::ops::WaitStrategy;
    /// use durable_runtime::{DurableContext, Error};
    /// use std::time::Duration;
    ///
    /// async fn poll(ctx: DurableContext, _: ()) -> Result<u32, Error> {
    ///     let polls = ctx
    ///         .wait_for_condition(0_u32, |n, _| async move { Ok::<_, Error>(n + 1) })
    ///         .strategy(WaitStrategy::until(|n: &u32| *n >= 3).initial_delay(Duration::from_secs(10)))
    ///         .name("poll")
    ///         .await?;
    ///     Ok(polls)
    /// }
    /// # let _ = poll;
    /// ```
    pub fn wait_for_condition<S, F, Fut, E>(&self, initial_state: S, check: F) -> WaitForCondition<S, F, NoWaitStrategy>
    where
        S: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce(S, CheckContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        WaitForCondition {
            shell: Shell::new(self, WAIT_FOR_CONDITION),
            initial_state,
            check,
            strategy: NoWaitStrategy,
            serdes: None,
        }
    }
}

/// What a strategy decided after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitDecision {
    /// Not yet: check again after this delay (rounded up to whole seconds, at least one).
    Continue(Duration),
    /// The condition is met: the operation returns the state.
    Done,
}

type Predicate<S> = Arc<dyn Fn(&S) -> bool + Send + Sync>;
type Decide<S> = Arc<dyn Fn(&S, u32) -> WaitDecision + Send + Sync>;

enum Shape<S> {
    Backoff { done: Predicate<S>, backoff: Backoff },
    Custom(Decide<S>),
}

impl<S> Clone for Shape<S> {
    fn clone(&self) -> Self {
        match self {
            Self::Backoff { done, backoff } => Self::Backoff { done: done.clone(), backoff: *backoff },
            Self::Custom(decide) => Self::Custom(decide.clone()),
        }
    }
}

/// When a wait-for-condition is done, and how long it waits between checks.
///
/// [`until`](Self::until) checks a predicate on the new state, waiting with exponential backoff in
/// between (defaults: 60 checks, 5 s initial delay, ×1.5, 300 s cap, full jitter).
/// [`from_fn`](Self::from_fn) decides everything in one function of the state and the 1-based check
/// number. Either way [`max_attempts`](Self::max_attempts) bounds the number of checks; when they are
/// used up without the condition being met the operation fails with
/// [`ErrorKind::MaxChecksExceeded`].
pub struct WaitStrategy<S> {
    shape: Shape<S>,
    max_attempts: u32,
    jitter: Jitter,
}

impl<S> Clone for WaitStrategy<S> {
    fn clone(&self) -> Self {
        Self { shape: self.shape.clone(), max_attempts: self.max_attempts, jitter: self.jitter }
    }
}

impl<S> fmt::Debug for WaitStrategy<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = match &self.shape {
            Shape::Backoff { backoff, .. } => format!("until({backoff})"),
            Shape::Custom(_) => "custom".to_owned(),
        };
        f.debug_struct("WaitStrategy")
            .field("shape", &shape)
            .field("max_attempts", &self.max_attempts)
            .field("jitter", &self.jitter)
            .finish()
    }
}

/// What [`WaitStrategy::decide`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Check again after this delay (whole seconds, at least one).
    ContinueAfter(Duration),
    /// The condition is met.
    Done,
    /// The checks are used up and the condition is not met.
    Exhausted,
}

impl<S> WaitStrategy<S> {
    /// Done when `done(&state)` is true; exponential backoff in between (60 checks, 5 s initial delay,
    /// ×1.5, 300 s cap, full jitter).
    pub fn until(done: impl Fn(&S) -> bool + Send + Sync + 'static) -> Self {
        Self {
            shape: Shape::Backoff {
                done: Arc::new(done),
                backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300), 1.5),
            },
            max_attempts: 60,
            jitter: Jitter::Full,
        }
    }

    /// Decided by `decide(&state, check)`, where `check` is the 1-based number of the check that just
    /// ran. No jitter and no attempt limit unless set.
    pub fn from_fn(decide: impl Fn(&S, u32) -> WaitDecision + Send + Sync + 'static) -> Self {
        Self { shape: Shape::Custom(Arc::new(decide)), max_attempts: u32::MAX, jitter: Jitter::None }
    }

    /// Total number of checks, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay after the first check ([`until`](Self::until) strategies).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        if let Shape::Backoff { backoff, .. } = &mut self.shape {
            backoff.initial = delay;
        }
        self
    }

    /// The largest delay ([`until`](Self::until) strategies).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        if let Shape::Backoff { backoff, .. } = &mut self.shape {
            backoff.max = delay;
        }
        self
    }

    /// The growth factor of the delay (at least 1; [`until`](Self::until) strategies).
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        if let Shape::Backoff { backoff, .. } = &mut self.shape {
            backoff.set_factor(factor);
        }
        self
    }

    /// The jitter applied to each delay.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Decides after the 1-based check `attempt` produced `state`.
    pub fn decide(&self, state: &S, attempt: u32) -> WaitOutcome {
        let delay = match &self.shape {
            Shape::Backoff { done, backoff } => {
                if done(state) {
                    return WaitOutcome::Done;
                }
                backoff.delay(attempt)
            }
            Shape::Custom(decide) => match decide(state, attempt) {
                WaitDecision::Done => return WaitOutcome::Done,
                WaitDecision::Continue(delay) => delay,
            },
        };
        if attempt >= self.max_attempts {
            return WaitOutcome::Exhausted;
        }
        WaitOutcome::ContinueAfter(self.jitter.delay(delay))
    }
}

/// What a check is told about the attempt it runs: the same as a step body (the check is one step
/// attempt), with [`attempt`](StepContext::attempt) the 1-based number of the check.
pub type CheckContext = StepContext;

/// The strategy slot of a [`WaitForCondition`] before a strategy was chosen: such a builder cannot
/// be awaited. Call [`WaitForCondition::until`] or [`WaitForCondition::strategy`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWaitStrategy;

/// A wait-for-condition being configured. Created by [`DurableContext::wait_for_condition`]; choose a
/// strategy, then await it for the final state.
#[must_use = "a wait-for-condition does nothing until it is awaited: add `.await`"]
pub struct WaitForCondition<S, F, W> {
    shell: Shell,
    initial_state: S,
    check: F,
    strategy: W,
    serdes: MaybeSerdes<S>,
}

impl<S, F, W: fmt::Debug> fmt::Debug for WaitForCondition<S, F, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shell.debug(f, "WaitForCondition").field("strategy", &self.strategy).finish_non_exhaustive()
    }
}

const WAIT_FOR_CONDITION: Kind = Kind {
    op_type: OperationType::Step,
    sub_type: OperationSubType::WaitForCondition,
    noun: "wait_for_condition",
    failure: ErrorKind::ConditionCheckFailed,
    unknown: "which a wait-for-condition step cannot have",
};

impl<S, F, W> WaitForCondition<S, F, W> {
    /// The operation's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// The wait strategy.
    pub fn strategy(self, strategy: WaitStrategy<S>) -> WaitForCondition<S, F, WaitStrategy<S>> {
        let Self { shell, initial_state, check, serdes, .. } = self;
        WaitForCondition { shell, initial_state, check, strategy, serdes }
    }

    /// How the carried state is recorded and read back (default: JSON).
    pub fn serdes(mut self, serdes: impl Serdes<S>) -> Self
    where
        S: 'static,
    {
        self.serdes = Some(Arc::new(serdes));
        self
    }

    /// Shorthand for `.strategy(WaitStrategy::until(done))`, the default backoff.
    pub fn until(self, done: impl Fn(&S) -> bool + Send + Sync + 'static) -> WaitForCondition<S, F, WaitStrategy<S>> {
        self.strategy(WaitStrategy::until(done))
    }
}

/// Where the live run of a wait-for-condition starts: a check on the carried state (`None`: the
/// initial state), sending its START first unless it was already sent.
struct Check<S> {
    carried: Option<S>,
    attempt: u32,
    send_start: bool,
}

impl<S, F, Fut, E> IntoFuture for WaitForCondition<S, F, WaitStrategy<S>>
where
    S: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce(S, CheckContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<S, E>> + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<S, DurableError>;
    type IntoFuture = BoxFuture<Result<S, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<S, F, Fut, E> WaitForCondition<S, F, WaitStrategy<S>>
where
    S: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce(S, CheckContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<S, E>> + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    async fn run(self) -> Result<S, DurableError> {
        let shell = &self.shell;
        let read = |payload: Option<&str>| decode_or_json(&self.serdes, payload, || shell.label());
        let replay = shell.replay(|record| {
            let Some(record) = record else {
                return Plan::Live(Check { carried: None, attempt: 1, send_start: true });
            };
            let details = record.step_details.as_ref();
            let attempt = details.and_then(|d| d.attempt).unwrap_or(0).saturating_add(1);
            let state = text(details.and_then(|d| d.result.as_ref()));
            let state = state.as_deref();
            match &record.status {
                OperationStatus::Succeeded => Plan::Done(read(state)),
                OperationStatus::Failed => shell.failed(details.and_then(|d| d.error.as_deref())),
                OperationStatus::Pending => Plan::Park,
                // The carried state, read before the START that clears it. An interrupted check
                // (STARTED) has lost it to its START and starts over from the initial state.
                status @ (OperationStatus::Ready | OperationStatus::Started) => {
                    match state.map(|state| read(Some(state))).transpose() {
                        Ok(carried) => {
                            Plan::Live(Check { carried, attempt, send_start: *status == OperationStatus::Ready })
                        }
                        Err(error) => Plan::Done(Err(error)),
                    }
                }
                other => Plan::Unknown(other.to_string()),
            }
        });
        let Check { carried, attempt, send_start } = match replay.await {
            Replay::Recorded(outcome) => return outcome,
            Replay::Live(check) => check,
        };
        let Self { shell, initial_state, check, strategy, serdes } = self;
        if send_start {
            shell.send(shell.update(OperationAction::Start));
        }
        let state = carried.unwrap_or(initial_state);
        let check_ctx = StepContext::new(attempt, shell.op.id.to_string(), shell.name.clone());
        let outcome = {
            let _busy = shell.ctx.exec.busy();
            check(state, check_ctx).await
        };
        let state = match outcome {
            Ok(state) => state,
            Err(error) => {
                return shell.fail(error_object_of(error, ErrorKind::ConditionCheckFailed.default_error_type())).await;
            }
        };
        let payload = encode_or_json(&serdes, &state, || shell.label())
            .and_then(|payload| STEP_RESULT_LIMIT.check(payload, "state", || shell.label(), "carry a smaller state"));
        let payload = match payload {
            Ok(payload) => payload,
            Err(error) => return shell.fail(error.to_object()).await,
        };
        match strategy.decide(&state, attempt) {
            WaitOutcome::ContinueAfter(delay) => {
                let mut update = shell.retry(delay);
                update.payload = Some(payload);
                shell.suspend(update).await
            }
            WaitOutcome::Done => {
                shell.succeed(payload.clone()).await;
                // What replay will read: the state decoded from exactly the recorded payload.
                decode_or_json(&serdes, Some(&payload), || shell.label())
            }
            WaitOutcome::Exhausted => {
                let error = DurableError::new(
                    ErrorKind::MaxChecksExceeded,
                    format!("{} did not meet its condition after {attempt} checks", shell.label()),
                );
                shell.fail(error.to_object()).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_backs_off_and_exhausts() {
        let s = WaitStrategy::until(|n: &u32| *n >= 10)
            .initial_delay(Duration::from_secs(2))
            .backoff_factor(2.0)
            .max_delay(Duration::from_secs(5))
            .max_attempts(4)
            .jitter(Jitter::None);
        assert_eq!(s.decide(&1, 1), WaitOutcome::ContinueAfter(Duration::from_secs(2)));
        assert_eq!(s.decide(&2, 2), WaitOutcome::ContinueAfter(Duration::from_secs(4)));
        assert_eq!(s.decide(&3, 3), WaitOutcome::ContinueAfter(Duration::from_secs(5)));
        assert_eq!(s.decide(&4, 4), WaitOutcome::Exhausted);
        assert_eq!(s.decide(&10, 4), WaitOutcome::Done, "a met condition wins over the limit");
    }

    #[test]
    fn default_jitter_stays_within_the_delay_and_at_least_one_second() {
        let s = WaitStrategy::until(|_: &()| false);
        for _ in 0..200 {
            match s.decide(&(), 1) {
                WaitOutcome::ContinueAfter(d) => assert!((1..=5).contains(&d.as_secs()), "{d:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn function_form_decides_and_rounds_up() {
        let s = WaitStrategy::from_fn(|state: &String, attempt| {
            if state == "ready" {
                WaitDecision::Done
            } else {
                WaitDecision::Continue(Duration::from_millis(200 * u64::from(attempt)))
            }
        });
        assert_eq!(s.decide(&"pending".to_owned(), 1), WaitOutcome::ContinueAfter(Duration::from_secs(1)));
        assert_eq!(s.decide(&"pending".to_owned(), 8), WaitOutcome::ContinueAfter(Duration::from_secs(2)));
        assert_eq!(s.decide(&"ready".to_owned(), 9), WaitOutcome::Done);
        let limited = s.max_attempts(2);
        assert_eq!(limited.decide(&"pending".to_owned(), 2), WaitOutcome::Exhausted);
    }
}
