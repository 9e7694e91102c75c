//! Retry strategies of steps.
//!
//! A strategy decides, after a failed attempt, whether to try again and after how long. Delays are
//! rounded up to whole seconds with a minimum of one second, because that is what the service accepts
//! (`NextAttemptDelaySeconds ≥ 1`). The default, [`RetryStrategy::default`], is the one every durable
//! SDK ships: 6 attempts in all, 5 s initial delay, doubling, capped at 60 s, full jitter.

use crate::error::DurableError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How a delay is randomized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// The computed delay as is.
    None,
    /// A uniformly random delay between 0 and the computed delay.
    #[default]
    Full,
    /// Half the computed delay plus a random part up to the other half.
    Half,
}

impl Jitter {
    fn apply(self, delay: Duration) -> Duration {
        match self {
            Self::None => delay,
            Self::Full => delay.mul_f64(fastrand::f64()),
            Self::Half => delay / 2 + (delay / 2).mul_f64(fastrand::f64()),
        }
    }

    /// The delay to ask the service for: `delay` randomized, then rounded up to whole seconds, at
    /// least one (`NextAttemptDelaySeconds ≥ 1`).
    pub(crate) fn delay(self, delay: Duration) -> Duration {
        let delay = self.apply(delay);
        let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        Duration::from_secs(secs.max(1))
    }
}

/// Exponential backoff: `initial × factor^(n-1)` after the n-th attempt, capped at `max`. The one
/// delay schedule of retry strategies and of the wait strategies of `wait_for_condition`; with
/// [`Jitter::delay`] it gives the delay asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    factor: f64,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration, factor: f64) -> Self {
        let mut backoff = Self { initial, max, factor: 1.0 };
        backoff.set_factor(factor);
        backoff
    }

    /// The growth factor: at least 1, and 1 when it is not finite.
    pub(crate) fn set_factor(&mut self, factor: f64) {
        self.factor = if factor.is_finite() { factor.max(1.0) } else { 1.0 };
    }

    /// The delay after the 1-based `attempt`, before jitter.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.factor.powi(exp);
        Duration::try_from_secs_f64(secs).unwrap_or(self.max).min(self.max)
    }
}

impl fmt::Display for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "initial={:?}, max={:?}, factor={}", self.initial, self.max, self.factor)
    }
}

/// What a strategy decided after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this delay (whole seconds, at least one).
    RetryAfter(Duration),
    /// Give up: the step fails with the last error.
    Stop,
}

type Filter = Arc<dyn Fn(&DurableError) -> bool + Send + Sync>;
type Custom = Arc<dyn Fn(u32, &DurableError) -> RetryDecision + Send + Sync>;

#[derive(Clone)]
enum Shape {
    Exponential(Backoff),
    Linear { initial: Duration, increment: Duration, max: Duration },
    Fixed { delay: Duration },
    None,
    Custom(Custom),
}

/// A retry strategy: a delay shape, a maximum number of attempts, jitter and an optional filter on
/// the error. Build one with [`exponential`](Self::exponential), [`linear`](Self::linear),
/// [`fixed`](Self::fixed), [`none`](Self::none) or [`custom`](Self::custom) and refine it with the
/// setters.
///
/// ```
/// use durable_runtime::retry::{Jitter, RetryStrategy};
/// use std::time::Duration;
///
/// let strategy = RetryStrategy::exponential()
///     .max_attempts(5)
///     .initial_delay(Duration::from_secs(1))
///     .max_delay(Duration::from_secs(60))
///     .jitter(Jitter::None)
///     .retry_if_error_type(|t| t.ends_with("TransientError"));
/// assert_eq!(strategy.attempt_limit(), 5);
/// ```
#[derive(Clone)]
pub struct RetryStrategy {
    shape: Shape,
    max_attempts: u32,
    jitter: Jitter,
    filter: Option<Filter>,
}

impl Default for RetryStrategy {
    /// 6 attempts, 5 s initial delay, ×2, 60 s cap, full jitter.
    fn default() -> Self {
        Self::exponential()
    }
}

impl fmt::Debug for RetryStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = match &self.shape {
            Shape::Exponential(backoff) => format!("exponential({backoff})"),
            Shape::Linear { initial, increment, max } => {
                format!("linear(initial={initial:?}, increment={increment:?}, max={max:?})")
            }
            Shape::Fixed { delay } => format!("fixed({delay:?})"),
            Shape::None => "none".to_owned(),
            Shape::Custom(_) => "custom".to_owned(),
        };
        f.debug_struct("RetryStrategy")
            .field("shape", &shape)
            .field("max_attempts", &self.max_attempts)
            .field("jitter", &self.jitter)
            .field("filtered", &self.filter.is_some())
            .finish()
    }
}

impl RetryStrategy {
    /// Exponential backoff with the defaults: 6 attempts, 5 s initial delay, ×2, 60 s cap, full jitter.
    pub fn exponential() -> Self {
        Self {
            shape: Shape::Exponential(Backoff::new(Duration::from_secs(5), Duration::from_secs(60), 2.0)),
            max_attempts: 6,
            jitter: Jitter::Full,
            filter: None,
        }
    }

    /// Delays growing by `increment` after each attempt: `initial`, `initial + increment`, …, capped at
    /// 60 s unless [`max_delay`](Self::max_delay) says otherwise. 6 attempts, no jitter.
    pub fn linear(initial: Duration, increment: Duration) -> Self {
        Self {
            shape: Shape::Linear { initial, increment, max: Duration::from_secs(60) },
            max_attempts: 6,
            jitter: Jitter::None,
            filter: None,
        }
    }

    /// The same delay between all attempts. 6 attempts, no jitter.
    pub fn fixed(delay: Duration) -> Self {
        Self { shape: Shape::Fixed { delay }, max_attempts: 6, jitter: Jitter::None, filter: None }
    }

    /// No retries: the first failure is final.
    pub fn none() -> Self {
        Self { shape: Shape::None, max_attempts: 1, jitter: Jitter::None, filter: None }
    }

    /// A strategy computed by `decide(attempt, error)`, where `attempt` is the 1-based attempt that
    /// just failed. The attempt limit and filter still apply on top of it.
    pub fn custom(decide: impl Fn(u32, &DurableError) -> RetryDecision + Send + Sync + 'static) -> Self {
        Self { shape: Shape::Custom(Arc::new(decide)), max_attempts: u32::MAX, jitter: Jitter::None, filter: None }
    }

    /// Total number of attempts, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first delay (exponential and linear shapes).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        match &mut self.shape {
            Shape::Exponential(Backoff { initial, .. }) | Shape::Linear { initial, .. } => *initial = delay,
            Shape::Fixed { delay: d } => *d = delay,
            Shape::None | Shape::Custom(_) => {}
        }
        self
    }

    /// The largest delay (exponential and linear shapes).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        if let Shape::Exponential(Backoff { max, .. }) | Shape::Linear { max, .. } = &mut self.shape {
            *max = delay;
        }
        self
    }

    /// The growth factor of the exponential shape (at least 1).
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        if let Shape::Exponential(backoff) = &mut self.shape {
            backoff.set_factor(factor);
        }
        self
    }

    /// The jitter applied to each computed delay.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Retries only errors for which `filter` returns true; others fail the step at once.
    pub fn retry_if(mut self, filter: impl Fn(&DurableError) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Retries only errors whose `ErrorType` satisfies `filter`.
    pub fn retry_if_error_type(self, filter: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.retry_if(move |e| filter(e.error_type()))
    }

    /// The configured attempt limit.
    pub fn attempt_limit(&self) -> u32 {
        self.max_attempts
    }

    /// Decides after the 1-based `attempt` failed with `error`.
    pub fn decide(&self, attempt: u32, error: &DurableError) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::Stop;
        }
        if let Some(filter) = &self.filter {
            if !filter(error) {
                return RetryDecision::Stop;
            }
        }
        let base = match &self.shape {
            Shape::Exponential(backoff) => backoff.delay(attempt),
            Shape::Linear { initial, increment, max } => {
                initial.saturating_add(increment.saturating_mul(attempt.saturating_sub(1))).min(*max)
            }
            Shape::Fixed { delay } => *delay,
            Shape::None => return RetryDecision::Stop,
            Shape::Custom(decide) => match decide(attempt, error) {
                RetryDecision::RetryAfter(d) => d,
                RetryDecision::Stop => return RetryDecision::Stop,
            },
        };
        RetryDecision::RetryAfter(self.jitter.delay(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn err() -> DurableError {
        DurableError::new(ErrorKind::StepFailed, "boom")
    }

    fn delays(s: &RetryStrategy) -> Vec<u64> {
        (1..=10)
            .map_while(|a| match s.decide(a, &err()) {
                RetryDecision::RetryAfter(d) => Some(d.as_secs()),
                RetryDecision::Stop => None,
            })
            .collect()
    }

    #[test]
    fn default_is_six_attempts_five_seconds_doubling_capped_with_full_jitter() {
        let s = RetryStrategy::default();
        assert_eq!(s.attempt_limit(), 6);
        for _ in 0..200 {
            let d = delays(&s);
            assert_eq!(d.len(), 5, "6 attempts = 5 retries");
            let caps = [5, 10, 20, 40, 60];
            for (got, cap) in d.iter().zip(caps) {
                assert!((1..=cap).contains(got), "{got} not in 1..={cap}");
            }
        }
    }

    #[test]
    fn exponential_without_jitter_is_exact() {
        let s = RetryStrategy::exponential()
            .initial_delay(Duration::from_secs(2))
            .backoff_factor(3.0)
            .max_attempts(4)
            .jitter(Jitter::None);
        assert_eq!(delays(&s), vec![2, 6, 18]);
    }

    #[test]
    fn backoff_is_capped_and_its_factor_kept_sane() {
        let backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(10), 3.0);
        let delays: Vec<u64> = (1..=4).map(|a| backoff.delay(a).as_secs()).collect();
        assert_eq!(delays, vec![2, 6, 10, 10]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(10), "overflow is the cap");
        let flat = Backoff::new(Duration::from_secs(2), Duration::from_secs(10), f64::NAN);
        assert_eq!(flat.delay(5), Duration::from_secs(2), "a factor that is not finite is 1");
        assert_eq!(Jitter::None.delay(Duration::from_millis(1)), Duration::from_secs(1));
    }

    #[test]
    fn half_jitter_stays_in_the_upper_half() {
        let s = RetryStrategy::fixed(Duration::from_secs(10)).jitter(Jitter::Half).max_attempts(2);
        for _ in 0..200 {
            let d = delays(&s);
            assert!((5..=10).contains(&d[0]), "{d:?}");
        }
    }

    #[test]
    fn linear_fixed_and_none() {
        let s = RetryStrategy::linear(Duration::from_secs(1), Duration::from_secs(2)).max_attempts(4);
        assert_eq!(delays(&s), vec![1, 3, 5]);
        let s = RetryStrategy::fixed(Duration::from_millis(1500)).max_attempts(3);
        assert_eq!(delays(&s), vec![2, 2], "rounded up to whole seconds");
        assert!(delays(&RetryStrategy::none()).is_empty());
        let s = RetryStrategy::fixed(Duration::ZERO).max_attempts(2);
        assert_eq!(delays(&s), vec![1], "at least one second");
    }

    #[test]
    fn filter_on_error_type() {
        let s = RetryStrategy::fixed(Duration::from_secs(1)).retry_if_error_type(|t| t.ends_with("TransientError"));
        assert_eq!(
            s.decide(1, &DurableError::with_type("NetTransientError", "x")),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(s.decide(1, &DurableError::with_type("Fatal", "x")), RetryDecision::Stop);
    }
}
