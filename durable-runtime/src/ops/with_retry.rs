//! `with_retry`: a block of durable operations retried as a unit.
//!
//! The block is one child context (SubType `RunInChildContext`, named `with-retry` unless renamed).
//! Attempt *n* runs in its own nested child context named `attempt-n`, so each attempt's operations
//! get fresh ids; a failed attempt records its failure. After a failure the [`RetryStrategy`] decides:
//! retry after a delay, waited durably as a WAIT named `retry-delay-n` (the invocation suspends), or
//! give up with the last error, which the outer context records.
//!
//! ```text
//! with-retry            CONTEXT
//!   attempt-1           CONTEXT  FAILED   (its operations under it)
//!   retry-delay-1       WAIT
//!   attempt-2           CONTEXT  SUCCEEDED
//! ```
//!
//! Replay is exact: recorded attempts return their outcome without running the block, and the
//! strategy's decision is recomputed from the recorded error (a random jitter only affects the
//! duration of a WAIT not yet recorded). The strategy must decide the same way for the same attempt and
//! error; the built-in ones do.

use super::child::{self, ChildContext};
use super::shell::Shell;
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, Error};
use crate::retry::{RetryDecision, RetryStrategy};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

/// A block retried as a unit, being configured. Created by [`DurableContext::with_retry`]; await it
/// for the result of the first attempt that succeeds.
///
/// The block is one child context (SubType `RunInChildContext`, named `with-retry` unless renamed).
/// Attempt *n* runs in its own nested child context named `attempt-n`, so each attempt's operations
/// get fresh ids; a failed attempt records its failure. After a failure the [`RetryStrategy`] decides:
/// retry after a delay, waited durably as a WAIT named `retry-delay-n` (the invocation suspends), or
/// give up with the last error, which the outer context records.
///
/// ```text
/// with-retry            CONTEXT
/// attempt-1           CONTEXT  FAILED   (its operations under it)
/// retry-delay-1       WAIT
/// attempt-2           CONTEXT  SUCCEEDED
/// ```
///
/// Replay is exact: recorded attempts return their outcome without running the block, and the
/// strategy's decision is recomputed from the recorded error (a random jitter only affects the
/// duration of a WAIT not yet recorded). The strategy must decide the same way for the same attempt and
/// error; the built-in ones do.
#[must_use = "a with_retry block does nothing until it is awaited: add `.await`"]
pub struct WithRetry<F> {
    shell: Shell,
    retry: RetryStrategy,
    body: F,
}

impl<F> WithRetry<F> {
    /// The name of the outer context (default `with-retry`), recorded and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// The retry strategy (default: [`RetryStrategy::default`]).
    pub fn retry(mut self, strategy: RetryStrategy) -> Self {
        self.retry = strategy;
        self
    }
}

impl DurableContext {
    /// Runs `body(ctx, attempt)` (attempt numbers start at 1) until an attempt succeeds or the retry
    /// strategy gives up, each attempt in its own child context so its operations get fresh ids.
    /// Delays between attempts are durable waits. See [`WithRetry`].
    pub fn with_retry<F, Fut, T, E>(&self, body: F) -> WithRetry<F>
    where
        F: Fn(DurableContext, u32) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        WithRetry { shell: child::named(self, "with-retry"), retry: RetryStrategy::default(), body }
    }
}

impl<F, Fut, T, E> IntoFuture for WithRetry<F>
where
    F: Fn(DurableContext, u32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { shell, retry, body } = self;
        let body = Arc::new(body);
        let outer = move |outer: DurableContext| async move {
            let mut attempt: u32 = 1;
            loop {
                let body = body.clone();
                let run = move |inner: DurableContext| body(inner, attempt);
                let outcome: Result<T, DurableError> =
                    outer.run_in_child_context(run).name(format!("attempt-{attempt}")).await;
                let error = match outcome {
                    Ok(value) => return Ok(value),
                    Err(error) => error,
                };
                match retry.decide(attempt, &error) {
                    RetryDecision::Stop => return Err(error),
                    RetryDecision::RetryAfter(delay) => {
                        outer.wait(delay).name(format!("retry-delay-{attempt}")).await?;
                    }
                }
                attempt = attempt.saturating_add(1);
            }
        };
        ChildContext::in_shell(shell, outer).into_future()
    }
}
