//! `step`: a checkpointed unit of work with retries.
//!
//! Live, an attempt sends START, runs the body and records SUCCEED with the result, RETRY with the
//! error and a delay (then the invocation suspends until the service marks the step READY), or FAIL.
//! On replay a recorded outcome is returned without running the body. The value returned is always
//! the one deserialized from the recorded payload, so the live run and every replay see the same value.

use super::serdes::{JsonSerdes, Serdes};
use super::shell::{Kind, Plan, Replay, Shell};
use super::{decode_with, encode_with, text, STEP_RESULT_LIMIT};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::Execution;
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::{OperationAction, OperationStatus, OperationSubType, OperationType};
use crate::retry::{RetryDecision, RetryStrategy};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

/// When a step body may run again after an invocation died during an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StepSemantics {
    /// The START of an attempt is sent without holding the body back, and an attempt interrupted
    /// before its outcome was recorded runs again. Bodies must tolerate running more than once.
    ///
    /// When the process dies during the body, the START may or may not have reached the service:
    /// if it did, the history shows the attempt started and the next invocation runs it again
    /// (without another START); if it was still queued, the service has no trace of the attempt and
    /// the next invocation runs it as if for the first time. Either way the body runs again and
    /// its outcome is recorded once. A body that needs its START on record before it goes on awaits
    /// [`StepContext::started`].
    #[default]
    AtLeastOncePerRetry,
    /// The START of an attempt is durable before the body runs, and an attempt interrupted before its
    /// outcome was recorded is never run again: it counts as a failed attempt (`StepInterruptedError`)
    /// and the retry strategy decides what happens next.
    AtMostOncePerRetry,
}

/// What a step body is told about the attempt it runs.
#[derive(Clone)]
pub struct StepContext {
    attempt: u32,
    operation_id: String,
    name: Option<String>,
    /// The attempt's START, while it may still be on its way to the service.
    start: Option<(Arc<Execution>, u64)>,
}

impl fmt::Debug for StepContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepContext")
            .field("attempt", &self.attempt)
            .field("operation_id", &self.operation_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    static CURRENT_STEP: StepContext;
}

impl StepContext {
    pub(crate) fn new(attempt: u32, operation_id: String, name: Option<String>) -> Self {
        Self { attempt, operation_id, name, start: None }
    }

    /// The same context, for an attempt whose START was queued as update `seq` of `exec`.
    fn with_start(mut self, exec: &Arc<Execution>, seq: Option<u64>) -> Self {
        self.start = seq.map(|seq| (exec.clone(), seq));
        self
    }

    /// Resolves once the service has acknowledged this attempt's START.
    ///
    /// An at-least-once step sends its START while the body runs, without holding the body back; if
    /// the process dies before the START is acknowledged, the service has no record that the attempt
    /// began, and the next invocation runs the step again as if it never started. Await this in a
    /// body that must not proceed before the attempt is on record (before an action whose repetition
    /// you want visible in the history). For an at-most-once step, and for an attempt that sends no
    /// START, it resolves at once: the START is already durable.
    pub async fn started(&self) {
        if let Some((exec, seq)) = &self.start {
            exec.durable(*seq).await;
        }
    }

    /// The context of the step whose body is running right now, `None` outside a step body. This is
    /// how a `#[durable_step]` function reads its attempt number.
    pub fn current() -> Option<StepContext> {
        CURRENT_STEP.try_with(Clone::clone).ok()
    }

    /// The 1-based attempt number.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The operation id of the step.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// The step's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// A step being configured. Created by [`DurableContext::step`]; await it to run the step.
#[must_use = "a step does nothing until it is awaited: add `.await`"]
pub struct Step<F, S = JsonSerdes> {
    shell: Shell,
    body: F,
    retry: RetryStrategy,
    semantics: StepSemantics,
    serdes: S,
}

const STEP: Kind = Kind {
    op_type: OperationType::Step,
    sub_type: OperationSubType::Step,
    noun: "step",
    failure: ErrorKind::StepFailed,
    unknown: "which this version of the runtime does not know",
};

impl DurableContext {
    /// A checkpointed step: `body` runs until one attempt succeeds or the retry strategy gives up,
    /// and its outcome is recorded. Once recorded, replay returns it without running `body` again.
    ///
    /// The returned builder sets the name, retry strategy and semantics; await it for the result.
    pub fn step<F, Fut, T, E>(&self, body: F) -> Step<F>
    where
        F: FnOnce(StepContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        Step {
            shell: Shell::new(self, STEP),
            body,
            retry: RetryStrategy::default(),
            semantics: StepSemantics::default(),
            serdes: JsonSerdes,
        }
    }
}

impl<F, S> Step<F, S> {
    /// How the result is recorded and read back (default: JSON).
    pub fn serdes<S2>(self, serdes: S2) -> Step<F, S2> {
        let Self { shell, body, retry, semantics, serdes: _ } = self;
        Step { shell, body, retry, semantics, serdes }
    }

    /// The step's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// The retry strategy (default: [`RetryStrategy::default`]).
    pub fn retry(mut self, strategy: RetryStrategy) -> Self {
        self.retry = strategy;
        self
    }

    /// The execution semantics (default: at least once per retry).
    pub fn semantics(mut self, semantics: StepSemantics) -> Self {
        self.semantics = semantics;
        self
    }
}

/// Where the live run of a step starts.
enum Resume {
    /// Run attempt `attempt`, sending its START first unless it was already sent.
    Attempt { attempt: u32, send_start: bool },
    /// Attempt `attempt` was interrupted and must not run again (at most once per retry).
    Interrupted { attempt: u32 },
}

impl<F, S, Fut, T, E> IntoFuture for Step<F, S>
where
    F: FnOnce(StepContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    S: Serdes<T>,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

// What running needs; `Send + 'static` on top of it is for boxing the future (see `IntoFuture`).
impl<F, S, Fut, T, E> Step<F, S>
where
    F: FnOnce(StepContext) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    S: Serdes<T>,
    E: Into<Error>,
{
    // Not an `async fn`: that would keep `self` twice in the future (the argument and its local
    // copy), and this future is moved into a box for every step, replayed or not. Written as a block
    // it is 944 bytes instead of 1,272 (a `Box<dyn FnOnce>` body): under the allocator's 1 KiB
    // cache limit, so its box no longer takes the slow path of a large allocation.
    #[allow(clippy::manual_async_fn)]
    fn run(self) -> impl Future<Output = Result<T, DurableError>> {
        async move {
            let shell = &self.shell;
            let replay = shell.replay(|record| {
                let Some(record) = record else { return Plan::Live(Resume::Attempt { attempt: 1, send_start: true }) };
                let details = record.step_details.as_ref();
                let attempt = details.and_then(|d| d.attempt).unwrap_or(0) + 1;
                match &record.status {
                    OperationStatus::Succeeded => Plan::Done(decode_with(
                        &self.serdes,
                        text(details.and_then(|d| d.result.as_ref())).as_deref(),
                        || shell.label(),
                    )),
                    OperationStatus::Failed => shell.failed(details.and_then(|d| d.error.as_deref())),
                    OperationStatus::Pending => Plan::Park,
                    OperationStatus::Ready => Plan::Live(Resume::Attempt { attempt, send_start: true }),
                    OperationStatus::Started => Plan::Live(match self.semantics {
                        StepSemantics::AtLeastOncePerRetry => Resume::Attempt { attempt, send_start: false },
                        StepSemantics::AtMostOncePerRetry => Resume::Interrupted { attempt },
                    }),
                    other => Plan::Unknown(other.to_string()),
                }
            });
            // The live paths are boxed: their futures are large, and inline they would make every
            // step's future (moved into its box once per step, replayed or not) as large as they are.
            match replay.await {
                Replay::Recorded(outcome) => outcome,
                Replay::Live(Resume::Attempt { attempt, send_start }) => {
                    Box::pin(self.attempt(attempt, send_start)).await
                }
                Replay::Live(Resume::Interrupted { attempt }) => {
                    let error = DurableError::new(
                        ErrorKind::StepInterrupted,
                        format!(
                            "attempt {attempt} of {} was interrupted before its outcome was recorded",
                            shell.label()
                        ),
                    );
                    Box::pin(after_failure(shell, &self.retry, attempt, error)).await
                }
            }
        }
    }

    async fn attempt(self, attempt: u32, send_start: bool) -> Result<T, DurableError> {
        let Self { shell, body, retry, semantics, serdes } = self;
        let exec = &shell.ctx.exec;
        let mut start_seq = None;
        if send_start {
            let start = shell.update(OperationAction::Start);
            match semantics {
                StepSemantics::AtLeastOncePerRetry => start_seq = Some(shell.send_batched(start)),
                StepSemantics::AtMostOncePerRetry => shell.checkpoint(start).await,
            }
        }
        let step_ctx =
            StepContext::new(attempt, shell.op.id.to_string(), shell.name.clone()).with_start(exec, start_seq);
        let hook = crate::plugin::attempt_start(
            &exec.hooks,
            (&shell.op.id, shell.op.parent_id.as_deref()),
            shell.name.as_deref(),
            attempt,
            attempt > 1 || !send_start,
        );
        let outcome = {
            let _busy = exec.busy();
            CURRENT_STEP.scope(step_ctx.clone(), body(step_ctx)).await
        };
        match outcome {
            Ok(value) => {
                crate::plugin::attempt_end(&exec.hooks, hook, None);
                let advice = "return a smaller value or store it elsewhere and return a reference";
                let payload = encode_with(&serdes, &value, || shell.label())
                    .and_then(|payload| STEP_RESULT_LIMIT.check(payload, "result", || shell.label(), advice));
                let payload = match payload {
                    Ok(payload) => payload,
                    Err(error) => return shell.fail(error.to_object()).await,
                };
                if semantics == StepSemantics::AtLeastOncePerRetry && exec.batching() {
                    // The result rides with later updates (see `Batching`); a crash before they are
                    // sent runs this attempt again, as at-least-once allows.
                    let mut update = shell.update(OperationAction::Succeed);
                    update.payload = Some(payload.clone());
                    shell.send_batched(update);
                } else {
                    shell.succeed(payload.clone()).await;
                }
                // The value replay will see: decoded from exactly the recorded payload.
                decode_with(&serdes, Some(&payload), || shell.label())
            }
            Err(error) => {
                let object = error_object_of(error, "Error");
                crate::plugin::attempt_end(&exec.hooks, hook, Some(&object));
                let error = DurableError::from_object(ErrorKind::StepFailed, &object);
                after_failure(&shell, &retry, attempt, error).await
            }
        }
    }
}

/// After attempt `attempt` failed with `error`: RETRY and suspend, or FAIL, as `retry` decides.
async fn after_failure<T>(
    shell: &Shell,
    retry: &RetryStrategy,
    attempt: u32,
    error: DurableError,
) -> Result<T, DurableError> {
    match retry.decide(attempt, &error) {
        RetryDecision::RetryAfter(delay) => {
            let mut update = shell.retry(delay);
            update.error = Some(error.to_object());
            shell.suspend(update).await
        }
        RetryDecision::Stop => shell.fail(error.to_object()).await,
    }
}
