//! The runtime half of `#[durable_workflow]` and `#[durable_step]`: the values the attributes turn a
//! call into ([`StepCall`], [`WorkflowCall`]) and the reviewed opt-out of the workflow checks
//! ([`unchecked`]).
//!
//! Everything here is ordinary public API: the attributes only write the calls a user could write by
//! hand.

use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{into_recorded, DurableError, Error, ErrorKind};
use crate::ops::step::StepSemantics;
use crate::retry::RetryStrategy;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::fmt;
use std::future::{Future, IntoFuture};

/// The `ErrorType` of the error a [`StepCall`] yields when it is awaited outside a durable workflow.
pub const NOT_IN_WORKFLOW_ERROR: &str = "NotInWorkflowError";

/// The result type of a step or workflow body: `Result<T, E>` (or an alias of it).
#[diagnostic::on_unimplemented(
    message = "`#[durable_step]` and `#[durable_workflow]` functions must return `Result<T, E>`, not `{Self}`",
    label = "expected `Result<T, E>`",
    note = "return `Result<T, durable_runtime::Error>` and use `?` on fallible calls"
)]
pub trait BodyResult {
    /// The success type `T`.
    type Ok;
    /// The error type `E`.
    type Err;
}

impl<T, E> BodyResult for Result<T, E> {
    type Ok = T;
    type Err = E;
}

/// A call of a `#[durable_step]` function: the step's body with its name and options, not yet run.
///
/// Awaiting it runs the step in the context of the workflow code being awaited in (see
/// [`DurableContext::current`]): the root workflow, a sub-workflow or a child context. It yields
/// `Result<T, DurableError>`, like every durable operation: the body's error of type `E` is recorded
/// as an `ErrorObject` (its short type name as `ErrorType`, its `Display` chain as the message), and
/// the live run and every replay both rebuild the `DurableError` from that record, so they see the
/// same value (`error_type()`, `message()`). `?` turns it into [`Error`].
///
/// Awaited outside a workflow, it yields an error of type [`NOT_IN_WORKFLOW_ERROR`] without running the
/// body. To unit-test the body without durability, use [`run_body`](Self::run_body).
#[must_use = "a step does nothing until it is awaited: add `.await`"]
pub struct StepCall<R> {
    name: &'static str,
    retry: Option<RetryStrategy>,
    semantics: StepSemantics,
    body: BoxFuture<R>,
    compensation: Option<Registration>,
}

/// Registers a compensation from a step's result (passed as `&dyn Any`, the step's `T`).
type Registration = Box<dyn FnOnce(&dyn Any, &DurableContext) + Send>;

impl<R> fmt::Debug for StepCall<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepCall")
            .field("name", &self.name)
            .field("retry", &self.retry)
            .field("semantics", &self.semantics)
            .finish_non_exhaustive()
    }
}

impl<R> StepCall<R> {
    /// A step named `name` whose body is `body` (a lazy future: nothing runs before it is awaited).
    pub fn new(name: &'static str, body: impl Future<Output = R> + Send + 'static) -> Self {
        Self { name, retry: None, semantics: StepSemantics::default(), body: Box::pin(body), compensation: None }
    }

    /// The retry strategy (default: [`RetryStrategy::default`]).
    pub fn retry(mut self, strategy: RetryStrategy) -> Self {
        self.retry = Some(strategy);
        self
    }

    /// The execution semantics (default: at least once per retry).
    pub fn semantics(mut self, semantics: StepSemantics) -> Self {
        self.semantics = semantics;
        self
    }

    /// The step's name, as recorded in the history.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the body once, here, without a workflow: no checkpoint, no retry, no replay. This is how a
    /// step body is unit-tested.
    ///
    #[cfg_attr(feature = "macros", doc = "```")]
    #[cfg_attr(not(feature = "macros"), doc = "```ignore")]
    /// # use durable_runtime::durable_step;
    /// #[durable_step]
    /// async fn double(x: u32) -> Result<u32, durable_runtime::Error> {
    ///     Ok(x * 2)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert_eq!(double(21).run_body().await.ok(), Some(42));
    /// # }
    /// ```
    pub async fn run_body(self) -> R {
        self.body.await
    }
}

impl<T: 'static, E> StepCall<Result<T, E>> {
    /// Registers `undo(&result)` as a compensation once the step succeeded (on the live run and on
    /// every replay), so it runs if the workflow fails later (see [`DurableContext::compensate`]). `undo` is
    /// typically a `#[durable_step]` call: `.compensate(|receipt| refund(receipt.clone()))`, which is
    /// what `#[durable_step(compensate = refund)]` writes.
    pub fn compensate<C, CF, U, UE>(mut self, undo: C) -> Self
    where
        C: FnOnce(&T) -> CF + Send + 'static,
        CF: IntoFuture<Output = Result<U, UE>> + Send + 'static,
        CF::IntoFuture: Send + 'static,
        U: Send + 'static,
        UE: Into<Error> + 'static,
    {
        self.compensation = Some(Box::new(move |out: &dyn Any, ctx: &DurableContext| {
            if let Some(out) = out.downcast_ref::<T>() {
                // Only the call is built here; it becomes a durable operation when the compensation runs.
                let call = undo(out);
                ctx.compensate_with(move |_| call);
            }
        }));
        self
    }
}

impl<T, E> IntoFuture for StepCall<Result<T, E>>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Some(ctx) = DurableContext::current() else {
            let error = DurableError::with_type(
                NOT_IN_WORKFLOW_ERROR,
                format!(
                    "step `{}` was awaited outside a durable workflow; await it inside a `#[durable_workflow]` \
                     function, or call `.run_body()` to run its body without durability",
                    self.name
                ),
            );
            return Box::pin(std::future::ready(Err(error)));
        };
        let body = self.body;
        let mut step = ctx.step(move |_| body).name(self.name).semantics(self.semantics);
        if let Some(retry) = self.retry {
            step = step.retry(retry);
        }
        let compensation = self.compensation;
        Box::pin(async move {
            let value = step.await?;
            if let Some(register) = compensation {
                register(&value as &dyn Any, &ctx);
            }
            Ok(value)
        })
    }
}

type WorkflowBody<R> = Box<dyn FnOnce(DurableContext) -> BoxFuture<R> + Send>;

/// A call of a `#[durable_workflow]` function, not yet run.
///
/// Called by the runtime as the handler (no workflow is running yet), awaiting it runs the body in the
/// context it was given. Awaited inside a running workflow (`inner(ctx.clone(), input).await?`), it runs
/// as a sub-workflow: a child context of `ctx` named after the function, whose result is recorded, so
/// replay does not run its body again.
///
/// It yields `Result<O, DurableError>`; as for [`StepCall`], the error keeps the `ErrorType` and
/// message of the body's error, live and on replay.
#[must_use = "a workflow does nothing until it is awaited: add `.await`"]
pub struct WorkflowCall<R> {
    name: &'static str,
    ctx: DurableContext,
    body: WorkflowBody<R>,
}

impl<R> fmt::Debug for WorkflowCall<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowCall").field("name", &self.name).field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl<R> WorkflowCall<R> {
    /// The workflow named `name` with context `ctx` and body `body`.
    pub fn new<F, Fut>(name: &'static str, ctx: DurableContext, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        Self { name, ctx, body: Box::new(move |ctx| Box::pin(body(ctx))) }
    }

    /// The workflow's name: the name of its child context when it runs as a sub-workflow.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<O, E> IntoFuture for WorkflowCall<Result<O, E>>
where
    O: Serialize + DeserializeOwned + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<O, DurableError>;
    type IntoFuture = BoxFuture<Result<O, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { name, ctx, body } = self;
        if DurableContext::current().is_some() {
            let child = ctx.run_in_child_context(body).name(name);
            Box::pin(child.into_future())
        } else {
            let run = body(ctx);
            Box::pin(async move { run.await.map_err(|e| into_recorded(e, ErrorKind::HandlerFailed)) })
        }
    }
}

/// Marks one expression of a `#[durable_workflow]` body as reviewed: the determinism checks skip it,
/// and awaiting it is allowed even though it is not a durable operation.
///
/// Use it for the rare exception that is safe to repeat on every replay (reading a cache, logging
/// through an async sink). What it computes is **not** recorded: it runs again on every replay, and
/// if its result steers which durable operations run, replay breaks. Prefer a `#[durable_step]`.
///
#[cfg_attr(feature = "macros", doc = "```")]
#[cfg_attr(not(feature = "macros"), doc = "```ignore")]
/// # use durable_runtime::{durable_workflow, unchecked, DurableContext, Error};
/// # async fn warm_cache() {}
/// #[durable_workflow]
/// async fn report(_ctx: DurableContext, n: u32) -> Result<u32, Error> {
///     unchecked(warm_cache()).await; // reviewed: idempotent, result unused
///     let started = unchecked(std::time::Instant::now()).into_inner(); // reviewed: only logged
///     let _ = started;
///     Ok(n)
/// }
/// # fn main() { let _ = report; }
/// ```
pub fn unchecked<T>(value: T) -> Unchecked<T> {
    Unchecked(value)
}

/// A value or future exempted from the workflow checks by [`unchecked`].
#[must_use = "`unchecked` does nothing by itself: await it, or call `into_inner`"]
#[derive(Debug, Clone, Copy)]
pub struct Unchecked<T>(T);

impl<T> Unchecked<T> {
    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: IntoFuture> IntoFuture for Unchecked<T> {
    type Output = T::Output;
    type IntoFuture = T::IntoFuture;

    fn into_future(self) -> Self::IntoFuture {
        self.0.into_future()
    }
}
