//! Replay-safe values and `wait_until`.
//!
//! [`now`](DurableContext::now), [`uuid`](DurableContext::uuid),
//! [`random_u64`](DurableContext::random_u64) and [`random_f64`](DurableContext::random_f64) are each
//! one step (named `now`, `uuid`, `random` unless renamed) that computes the value once and records
//! it; every replay returns the recorded value.
//!
//! [`wait_until`](DurableContext::wait_until) is one child context (named `wait-until` unless renamed)
//! holding a `now` step and, when the target is in the future, a WAIT for the whole seconds left,
//! computed from the recorded `now` so it is the same on every replay. A target in the past (or less
//! than a millisecond ahead) returns at once without a WAIT.

use super::child::{self, ChildContext};
use super::shell::Shell;
use super::step::Step;
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, Error};
use crate::ops::step::StepContext;
use crate::protocol::ids::uuid_v4;
use crate::protocol::Timestamp;
use crate::retry::RetryStrategy;
use std::future::IntoFuture;
use std::time::{Duration, SystemTime};

type Body<R> = Box<dyn FnOnce(StepContext) -> BoxFuture<Result<R, Error>> + Send>;

/// A value computed once and recorded by a step. Created by [`DurableContext::now`],
/// [`DurableContext::uuid`], [`DurableContext::random_u64`] or [`DurableContext::random_f64`]; await
/// it for the value.
#[must_use = "a recorded value does nothing until it is awaited: add `.await`"]
pub struct Recorded<T, R = T> {
    step: Step<Body<R>>,
    map: fn(R) -> T,
}

impl<T, R> Recorded<T, R> {
    fn new(ctx: &DurableContext, name: &str, compute: fn() -> R, map: fn(R) -> T) -> Self
    where
        R: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    {
        let body: Body<R> = Box::new(move |_| Box::pin(async move { Ok(compute()) }));
        Self { step: ctx.step(body).name(name).retry(RetryStrategy::none()), map }
    }

    /// The step's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.step = self.step.name(name);
        self
    }
}

impl<T, R> IntoFuture for Recorded<T, R>
where
    T: Send + 'static,
    R: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { step, map } = self;
        Box::pin(async move { step.await.map(map) })
    }
}

fn now_millis() -> i64 {
    Timestamp::from(SystemTime::now()).as_millis()
}

fn to_system_time(millis: i64) -> SystemTime {
    Timestamp::from_millis(millis).into()
}

fn identity<T>(value: T) -> T {
    value
}

impl DurableContext {
    /// The current time, recorded once (to the millisecond) by a step named `now`: every replay sees
    /// the same instant.
    pub fn now(&self) -> Recorded<SystemTime, i64> {
        Recorded::new(self, "now", now_millis, to_system_time)
    }

    /// A random UUID (version 4, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`), recorded once by a step
    /// named `uuid`.
    pub fn uuid(&self) -> Recorded<String> {
        Recorded::new(self, "uuid", uuid_v4, identity)
    }

    /// A random `u64`, recorded once by a step named `random`.
    pub fn random_u64(&self) -> Recorded<u64> {
        Recorded::new(self, "random", || fastrand::u64(..), identity)
    }

    /// A random `f64` in `[0, 1)`, recorded once by a step named `random`.
    pub fn random_f64(&self) -> Recorded<f64> {
        Recorded::new(self, "random", fastrand::f64, identity)
    }

    /// Waits until `target` (a [`SystemTime`] or a [`Timestamp`]). See [`WaitUntil`]: the time left
    /// is computed once from a recorded `now` and rounded up to whole seconds; a target already past
    /// returns at once.
    pub fn wait_until(&self, target: impl Into<Timestamp>) -> WaitUntil {
        WaitUntil { shell: child::named(self, "wait-until"), target: target.into() }
    }
}

/// A wait until a point in time, being configured. Created by [`DurableContext::wait_until`]; await it
/// to wait.
///
/// [`wait_until`](DurableContext::wait_until) is one child context (named `wait-until` unless renamed)
/// holding a `now` step and, when the target is in the future, a WAIT for the whole seconds left,
/// computed from the recorded `now` so it is the same on every replay. A target in the past (or less
/// than a millisecond ahead) returns at once without a WAIT.
#[must_use = "a wait does nothing until it is awaited: add `.await`"]
pub struct WaitUntil {
    shell: Shell,
    target: Timestamp,
}

impl WaitUntil {
    /// The name of the context (default `wait-until`), recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }
}

impl IntoFuture for WaitUntil {
    type Output = Result<(), DurableError>;
    type IntoFuture = BoxFuture<Result<(), DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { shell, target } = self;
        let body = move |child: DurableContext| async move {
            let now = child.now().await?;
            let left = SystemTime::from(target).duration_since(now).unwrap_or(Duration::ZERO);
            if left >= Duration::from_millis(1) {
                child.wait(left).await?;
            }
            Ok::<_, DurableError>(())
        };
        ChildContext::in_shell(shell, body).into_future()
    }
}
