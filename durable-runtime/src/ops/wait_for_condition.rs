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
use super::step::StepContext;
use super::{decode, decode_with, encode, encode_with, label};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::limits::MAX_STEP_RESULT_BYTES;
use crate::protocol::{
    OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate, StepOptions,
};
use crate::retry::{whole_seconds, Jitter};
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
    /// use durable_runtime::ops::wait_for_condition::WaitStrategy;
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
            ctx: self.clone(),
            op: self.next_id(),
            name: None,
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
    Backoff { done: Predicate<S>, initial: Duration, max: Duration, factor: f64 },
    Custom(Decide<S>),
}

impl<S> Clone for Shape<S> {
    fn clone(&self) -> Self {
        match self {
            Self::Backoff { done, initial, max, factor } => {
                Self::Backoff { done: done.clone(), initial: *initial, max: *max, factor: *factor }
            }
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
            Shape::Backoff { initial, max, factor, .. } => {
                format!("until(initial={initial:?}, max={max:?}, factor={factor})")
            }
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
                initial: Duration::from_secs(5),
                max: Duration::from_secs(300),
                factor: 1.5,
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
        if let Shape::Backoff { initial, .. } = &mut self.shape {
            *initial = delay;
        }
        self
    }

    /// The largest delay ([`until`](Self::until) strategies).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        if let Shape::Backoff { max, .. } = &mut self.shape {
            *max = delay;
        }
        self
    }

    /// The growth factor of the delay (at least 1; [`until`](Self::until) strategies).
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        if let Shape::Backoff { factor: f, .. } = &mut self.shape {
            *f = if factor.is_finite() { factor.max(1.0) } else { 1.0 };
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
            Shape::Backoff { done, initial, max, factor } => {
                if done(state) {
                    return WaitOutcome::Done;
                }
                let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
                let secs = initial.as_secs_f64() * factor.powi(exp);
                Duration::try_from_secs_f64(secs).unwrap_or(*max).min(*max)
            }
            Shape::Custom(decide) => match decide(state, attempt) {
                WaitDecision::Done => return WaitOutcome::Done,
                WaitDecision::Continue(delay) => delay,
            },
        };
        if attempt >= self.max_attempts {
            return WaitOutcome::Exhausted;
        }
        WaitOutcome::ContinueAfter(whole_seconds(self.jitter.apply(delay)))
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
#[must_use = "a wait-for-condition does nothing until it is awaited"]
pub struct WaitForCondition<S, F, W> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    initial_state: S,
    check: F,
    strategy: W,
    serdes: Option<Arc<dyn Serdes<S>>>,
}

impl<S, F, W: fmt::Debug> fmt::Debug for WaitForCondition<S, F, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCondition")
            .field("position", &self.op.positional)
            .field("name", &self.name)
            .field("strategy", &self.strategy)
            .finish_non_exhaustive()
    }
}

impl<S, F, W> WaitForCondition<S, F, W> {
    /// The operation's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The wait strategy.
    pub fn strategy(self, strategy: WaitStrategy<S>) -> WaitForCondition<S, F, WaitStrategy<S>> {
        let Self { ctx, op, name, initial_state, check, serdes, .. } = self;
        WaitForCondition { ctx, op, name, initial_state, check, strategy, serdes }
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

enum Plan<S> {
    Done(Result<S, DurableError>),
    Park,
    /// Run a check on the carried state (`None`: the initial state).
    Check {
        carried: Option<S>,
        attempt: u32,
        send_start: bool,
    },
    Unknown(String),
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
        let exec = self.ctx.exec.clone();
        let what = label("wait_for_condition", self.name.as_deref(), &self.op.positional);
        let expected = Expected {
            op_type: OperationType::Step,
            sub_type: OperationSubType::WaitForCondition,
            name: self.name.as_deref(),
        };
        let plan = exec.with_record(&self.op, &expected, |record| {
            let Some(record) = record else { return Plan::Check { carried: None, attempt: 1, send_start: true } };
            let details = record.step_details.clone().unwrap_or_default();
            let attempt = details.attempt.unwrap_or(0).saturating_add(1);
            match &record.status {
                OperationStatus::Succeeded => Plan::Done(read_state(&self.serdes, details.result.as_deref(), &what)),
                OperationStatus::Failed => {
                    let error = details.error.unwrap_or_default();
                    Plan::Done(Err(DurableError::from_object(ErrorKind::ConditionCheckFailed, &error)))
                }
                OperationStatus::Pending => Plan::Park,
                status @ (OperationStatus::Ready | OperationStatus::Started) => {
                    // The carried state, read before the START that clears it. An interrupted check
                    // (STARTED) has lost it to its START and starts over from the initial state.
                    let carried = match details.result.as_deref() {
                        Some(payload) => match read_state(&self.serdes, Some(payload), &what) {
                            Ok(state) => Some(state),
                            Err(error) => return Plan::Done(Err(error)),
                        },
                        None => None,
                    };
                    Plan::Check { carried, attempt, send_start: *status == OperationStatus::Ready }
                }
                other => Plan::Unknown(other.to_string()),
            }
        });
        let Some(plan) = plan else { match Halted.await {} };
        let (carried, attempt, send_start) = match plan {
            Plan::Done(outcome) => return outcome,
            Plan::Park => match exec.park().await {},
            Plan::Unknown(status) => {
                let error = DurableError::new(
                    ErrorKind::UnknownStatus,
                    format!("{what} has status `{status}`, which a wait-for-condition step cannot have"),
                );
                match exec.halt(error).await {}
            }
            Plan::Check { carried, attempt, send_start } => (carried, attempt, send_start),
        };
        let Self { ctx, op, name, initial_state, check, strategy, serdes } = self;
        let tail = Tail { ctx, op, name, what };
        if send_start {
            exec.enqueue(tail.update(OperationAction::Start));
        }
        let state = carried.unwrap_or(initial_state);
        let check_ctx = StepContext::new(attempt, tail.op.id.to_string(), tail.name.clone());
        let outcome = {
            let _busy = exec.busy();
            check(state, check_ctx).await
        };
        let state = match outcome {
            Ok(state) => state,
            Err(error) => {
                let object = error_object_of(error, ErrorKind::ConditionCheckFailed.default_error_type());
                return tail.fail(DurableError::from_object(ErrorKind::ConditionCheckFailed, &object)).await;
            }
        };
        let payload = match write_state(&serdes, &state, &tail.what) {
            Ok(payload) => payload,
            Err(error) => return tail.fail(error).await,
        };
        if payload.len() > MAX_STEP_RESULT_BYTES {
            let error = DurableError::new(
                ErrorKind::PayloadTooLarge,
                format!(
                    "the state of {} is {} bytes, over the step result limit of {MAX_STEP_RESULT_BYTES} bytes \
                     (256 KiB); carry a smaller state",
                    tail.what,
                    payload.len()
                ),
            );
            return tail.fail(error).await;
        }
        match strategy.decide(&state, attempt) {
            WaitOutcome::ContinueAfter(delay) => {
                let mut update = tail.update(OperationAction::Retry);
                update.payload = Some(payload);
                update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(delay.as_secs().max(1)) });
                exec.enqueue(update);
                match exec.park().await {}
            }
            WaitOutcome::Done => {
                let mut update = tail.update(OperationAction::Succeed);
                update.payload = Some(payload.clone());
                let seq = exec.enqueue(update);
                exec.durable(seq).await;
                // What replay will read: the state decoded from exactly the recorded payload.
                read_state(&serdes, Some(&payload), &tail.what)
            }
            WaitOutcome::Exhausted => {
                let error = DurableError::new(
                    ErrorKind::MaxChecksExceeded,
                    format!("{} did not meet its condition after {attempt} checks", tail.what),
                );
                tail.fail(error).await
            }
        }
    }
}

fn read_state<S: DeserializeOwned + 'static>(
    serdes: &Option<Arc<dyn Serdes<S>>>,
    payload: Option<&str>,
    what: &str,
) -> Result<S, DurableError> {
    match serdes {
        Some(serdes) => decode_with(serdes.as_ref(), payload, || what.to_owned()),
        None => decode(payload, what),
    }
}

fn write_state<S: Serialize + 'static>(
    serdes: &Option<Arc<dyn Serdes<S>>>,
    state: &S,
    what: &str,
) -> Result<String, DurableError> {
    match serdes {
        Some(serdes) => encode_with(serdes.as_ref(), state, || what.to_owned()),
        None => encode(state, what),
    }
}

// The builder without its check and strategy, for what happens after the check ran.
struct Tail {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    what: String,
}

impl Tail {
    fn update(&self, action: OperationAction) -> OperationUpdate {
        let mut update = OperationUpdate::new(&*self.op.id, OperationType::Step, action);
        update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
        update.name = self.name.clone();
        update.sub_type = Some(OperationSubType::WaitForCondition);
        update
    }

    async fn fail<S>(self, error: DurableError) -> Result<S, DurableError> {
        let object = error.to_object();
        let mut update = self.update(OperationAction::Fail);
        update.error = Some(object.clone());
        let seq = self.ctx.exec.enqueue(update);
        self.ctx.exec.durable(seq).await;
        // What replay will rebuild from the record, so the live run sees the same error.
        Err(DurableError::from_object(ErrorKind::ConditionCheckFailed, &object))
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
