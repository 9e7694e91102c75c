//! Saga compensation: undo actions registered as a workflow makes progress, run when it fails.
//!
//! A workflow registers a compensation after the work it undoes has succeeded (`ctx.compensate(..)`,
//! or `#[durable_step(compensate = undo)]`, which registers `undo(result)` when the step succeeds).
//! When the workflow body returns an error, the runtime runs the registered compensations **last in,
//! first out**, each as a checkpointed step (or as the durable operations it is made of), and then
//! fails the execution with the body's error. A compensation that fails after its retries is recorded
//! as failed and the remaining ones still run.
//!
//! Replay makes this crash-safe: every invocation replays the body, which registers the same
//! compensations in the same order and fails with the same recorded error; compensations that already
//! completed replay from their records, and the one that was interrupted resumes.
//!
//! Registrations are read from the body as it runs, so they must happen where the body always runs:
//! in the workflow's root context. A child context (a sub-workflow, a map item, a parallel branch)
//! whose result is recorded is not re-run on replay, so a compensation registered inside it would be
//! lost on the invocation that needs it; registering there fails the execution with an error saying so.

use crate::checkpoint::BoxFuture;
use crate::context::{scoped, DurableContext};
use crate::error::{DurableError, Error, ErrorKind};
use crate::ops::step::StepContext;
use crate::retry::RetryStrategy;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

type Compensation = Box<dyn FnOnce(DurableContext) -> BoxFuture<Result<(), Error>> + Send>;

/// The compensations registered so far in one invocation, in registration order.
#[derive(Default)]
pub(crate) struct Saga {
    compensations: Mutex<Vec<Compensation>>,
}

impl fmt::Debug for Saga {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.compensations.lock().map(|c| c.len()).unwrap_or(0);
        f.debug_struct("Saga").field("compensations", &count).finish()
    }
}

impl DurableContext {
    /// Registers a compensation: if the workflow body fails, `body` runs as a checkpointed step named
    /// `name` (with the default retry strategy), after the compensations registered later than it.
    /// Register it right after the work it undoes succeeded, in the workflow's root context.
    ///
    /// A workflow registers a compensation after the work it undoes has succeeded (`ctx.compensate(..)`,
    /// or `#[durable_step(compensate = undo)]`, which registers `undo(result)` when the step succeeds).
    /// When the workflow body returns an error, the runtime runs the registered compensations **last in,
    /// first out**, each as a checkpointed step (or as the durable operations it is made of), and then
    /// fails the execution with the body's error. A compensation that fails after its retries is recorded
    /// as failed and the remaining ones still run.
    ///
    /// Replay makes this crash-safe: every invocation replays the body, which registers the same
    /// compensations in the same order and fails with the same recorded error; compensations that already
    /// completed replay from their records, and the one that was interrupted resumes.
    ///
    /// Registrations are read from the body as it runs, so they must happen where the body always runs:
    /// in the workflow's root context. A child context (a sub-workflow, a map item, a parallel branch)
    /// whose result is recorded is not re-run on replay, so a compensation registered inside it would be
    /// lost on the invocation that needs it; registering there fails the execution with an error saying so.
    pub fn compensate<F, Fut, E>(&self, name: impl Into<String>, body: F)
    where
        F: FnOnce(StepContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        let name = name.into();
        self.compensate_with(move |ctx: DurableContext| async move {
            ctx.step(body).name(name).retry(RetryStrategy::default()).await.map_err(|e| Box::new(e) as Error)
        });
    }

    /// Registers a compensation made of durable operations, such as a `#[durable_step]` call:
    /// `compensate_with(move |_| refund(receipt))`. It runs in the root context when the workflow body
    /// fails, after the compensations registered later than it.
    pub fn compensate_with<F, Fut, T, E>(&self, compensation: F)
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: std::future::IntoFuture<Output = Result<T, E>> + Send + 'static,
        Fut::IntoFuture: Send + 'static,
        T: Send + 'static,
        E: Into<Error> + 'static,
    {
        if let Some(owner) = self.ns.owner() {
            let error = DurableError::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a compensation was registered inside the child context at position {}; register \
                     compensations in the workflow's root context (after the child returns), because a \
                     child whose result is recorded does not run again on replay",
                    owner.positional
                ),
            );
            // The execution now fails with this error, whatever the workflow does next.
            let _halted = self.exec.halt(error);
            return;
        }
        let boxed: Compensation = Box::new(move |ctx| {
            let fut = compensation(ctx).into_future();
            Box::pin(async move { fut.await.map(|_| ()).map_err(Into::into) })
        });
        if let Ok(mut list) = self.saga.compensations.lock() {
            list.push(boxed);
        }
    }
}

/// Runs the registered compensations last in, first out, in the root context `ctx`.
pub(crate) async fn run_compensations(ctx: &DurableContext) {
    loop {
        let next = ctx.saga.compensations.lock().ok().and_then(|mut list| list.pop());
        let Some(compensation) = next else { break };
        // A failed compensation is recorded by its own step; the others still run.
        let _ = scoped(ctx.clone(), compensation(ctx.clone())).await;
    }
}
