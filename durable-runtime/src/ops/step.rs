//! `step`: a checkpointed unit of work with retries.
//!
//! Live, an attempt sends START, runs the body and records SUCCEED with the result, RETRY with the
//! error and a delay (then the invocation suspends until the service marks the step READY), or FAIL.
//! On replay a recorded outcome is returned without running the body. The value returned is always
//! the one deserialized from the recorded payload, so the live run and every replay see the same value.

use super::serdes::{JsonSerdes, Serdes};
use super::{decode_with, encode_with, label};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::limits::MAX_STEP_RESULT_BYTES;
use crate::protocol::{
    OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate, StepOptions,
};
use crate::retry::{RetryDecision, RetryStrategy};
use std::future::{Future, IntoFuture};

/// When a step body may run again after an invocation died during an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StepSemantics {
    /// The START of an attempt is sent without holding the body back, and an attempt interrupted
    /// before its outcome was recorded runs again. Bodies must tolerate running more than once.
    #[default]
    AtLeastOncePerRetry,
    /// The START of an attempt is durable before the body runs, and an attempt interrupted before its
    /// outcome was recorded is never run again: it counts as a failed attempt (`StepInterruptedError`)
    /// and the retry strategy decides what happens next.
    AtMostOncePerRetry,
}

/// What a step body is told about the attempt it runs.
#[derive(Debug, Clone)]
pub struct StepContext {
    attempt: u32,
    operation_id: String,
    name: Option<String>,
}

tokio::task_local! {
    static CURRENT_STEP: StepContext;
}

impl StepContext {
    pub(crate) fn new(attempt: u32, operation_id: String, name: Option<String>) -> Self {
        Self { attempt, operation_id, name }
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
#[must_use = "a step does nothing until it is awaited"]
pub struct Step<F, S = JsonSerdes> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    body: F,
    retry: RetryStrategy,
    semantics: StepSemantics,
    serdes: S,
}

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
        Step::new(self, body)
    }
}

impl<F> Step<F> {
    pub(crate) fn new(ctx: &DurableContext, body: F) -> Self {
        Self {
            ctx: ctx.clone(),
            op: ctx.next_id(),
            name: None,
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
        let Self { ctx, op, name, body, retry, semantics, serdes: _ } = self;
        Step { ctx, op, name, body, retry, semantics, serdes }
    }

    /// The step's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
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

    fn update(&self, action: OperationAction) -> OperationUpdate {
        let mut update = OperationUpdate::new(&*self.op.id, OperationType::Step, action);
        update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
        update.name = self.name.clone();
        update.sub_type = Some(OperationSubType::Step);
        update
    }

    fn label(&self) -> String {
        label("step", self.name.as_deref(), &self.op.positional)
    }
}

enum Plan<T> {
    Done(Result<T, DurableError>),
    Park,
    Attempt { attempt: u32, send_start: bool },
    Interrupted { attempt: u32 },
    Unknown(String),
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

impl<F, S, Fut, T, E> Step<F, S>
where
    F: FnOnce(StepContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    S: Serdes<T>,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    async fn run(self) -> Result<T, DurableError> {
        let exec = self.ctx.exec.clone();
        let expected =
            Expected { op_type: OperationType::Step, sub_type: OperationSubType::Step, name: self.name.as_deref() };
        let semantics = self.semantics;
        let plan = exec.with_record(&self.op, &expected, |record| {
            let Some(record) = record else { return Plan::Attempt { attempt: 1, send_start: true } };
            let details = record.step_details.as_ref();
            let finished = details.and_then(|d| d.attempt).unwrap_or(0);
            match &record.status {
                OperationStatus::Succeeded => {
                    Plan::Done(decode_with(&self.serdes, details.and_then(|d| d.result.as_deref()), || self.label()))
                }
                OperationStatus::Failed => {
                    let error = details.and_then(|d| d.error.clone()).unwrap_or_default();
                    Plan::Done(Err(DurableError::from_object(ErrorKind::StepFailed, &error)))
                }
                OperationStatus::Pending => Plan::Park,
                OperationStatus::Ready => Plan::Attempt { attempt: finished + 1, send_start: true },
                OperationStatus::Started => match semantics {
                    StepSemantics::AtLeastOncePerRetry => Plan::Attempt { attempt: finished + 1, send_start: false },
                    StepSemantics::AtMostOncePerRetry => Plan::Interrupted { attempt: finished + 1 },
                },
                other => Plan::Unknown(other.to_string()),
            }
        });
        let Some(plan) = plan else { match Halted.await {} };
        match plan {
            Plan::Done(outcome) => outcome,
            Plan::Park => match exec.park().await {},
            Plan::Unknown(status) => {
                let error = DurableError::new(
                    ErrorKind::UnknownStatus,
                    format!("{} has status `{status}`, which this version of the runtime does not know", self.label()),
                );
                match exec.halt(error).await {}
            }
            Plan::Interrupted { attempt } => {
                let error = DurableError::new(
                    ErrorKind::StepInterrupted,
                    format!("attempt {attempt} of {} was interrupted before its outcome was recorded", self.label()),
                );
                self.after_failure(attempt, error).await
            }
            Plan::Attempt { attempt, send_start } => self.attempt(attempt, send_start).await,
        }
    }

    async fn attempt(self, attempt: u32, send_start: bool) -> Result<T, DurableError> {
        let exec = self.ctx.exec.clone();
        if send_start {
            let seq = exec.enqueue(self.update(OperationAction::Start));
            if self.semantics == StepSemantics::AtMostOncePerRetry {
                exec.durable(seq).await;
            }
        }
        let step_ctx = StepContext { attempt, operation_id: self.op.id.to_string(), name: self.name.clone() };
        let what = self.label();
        let hook = crate::plugin::attempt_start(
            &exec.hooks,
            (&self.op.id, self.op.parent_id.as_deref()),
            self.name.as_deref(),
            attempt,
            attempt > 1 || !send_start,
        );
        let Self { body, serdes, .. } = self;
        let outcome = {
            let _busy = exec.busy();
            CURRENT_STEP.scope(step_ctx.clone(), body(step_ctx)).await
        };
        let this = StepTail { ctx: self.ctx, op: self.op, name: self.name, retry: self.retry };
        match outcome {
            Ok(value) => {
                crate::plugin::attempt_end(&exec.hooks, hook, None);
                let payload = match encode_with(&serdes, &value, || what.clone()) {
                    Ok(payload) => payload,
                    Err(error) => return this.fail(error).await,
                };
                if payload.len() > MAX_STEP_RESULT_BYTES {
                    let error = DurableError::new(
                        ErrorKind::PayloadTooLarge,
                        format!(
                            "the result of {what} is {} bytes, over the step result limit of {MAX_STEP_RESULT_BYTES} \
                             bytes (256 KiB); return a smaller value or store it elsewhere and return a reference",
                            payload.len()
                        ),
                    );
                    return this.fail(error).await;
                }
                let mut update = this.update(OperationAction::Succeed);
                update.payload = Some(payload.clone());
                let seq = exec.enqueue(update);
                exec.durable(seq).await;
                // The value replay will see: decoded from exactly the recorded payload.
                decode_with(&serdes, Some(&payload), || what.clone())
            }
            Err(error) => {
                let object = error_object_of(error, "Error");
                crate::plugin::attempt_end(&exec.hooks, hook, Some(&object));
                let error = DurableError::from_object(ErrorKind::StepFailed, &object);
                this.after_failure(attempt, error).await
            }
        }
    }
}

// `Step` without its body, for what happens after the body ran.
struct StepTail {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    retry: RetryStrategy,
}

impl StepTail {
    fn update(&self, action: OperationAction) -> OperationUpdate {
        let mut update = OperationUpdate::new(&*self.op.id, OperationType::Step, action);
        update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
        update.name = self.name.clone();
        update.sub_type = Some(OperationSubType::Step);
        update
    }

    async fn after_failure<T>(self, attempt: u32, error: DurableError) -> Result<T, DurableError> {
        match self.retry.decide(attempt, &error) {
            RetryDecision::RetryAfter(delay) => {
                let mut update = self.update(OperationAction::Retry);
                update.error = Some(error.to_object());
                update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(delay.as_secs()) });
                self.ctx.exec.enqueue(update);
                match self.ctx.exec.park().await {}
            }
            RetryDecision::Stop => self.fail(error).await,
        }
    }

    async fn fail<T>(self, error: DurableError) -> Result<T, DurableError> {
        let object = error.to_object();
        let mut update = self.update(OperationAction::Fail);
        update.error = Some(object.clone());
        let seq = self.ctx.exec.enqueue(update);
        self.ctx.exec.durable(seq).await;
        // What replay will rebuild from the record, so the live run sees the same error.
        Err(DurableError::from_object(ErrorKind::StepFailed, &object))
    }
}

impl<F, S, Fut, T, E> Step<F, S>
where
    F: FnOnce(StepContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    S: Serdes<T>,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    async fn after_failure(self, attempt: u32, error: DurableError) -> Result<T, DurableError> {
        let tail = StepTail { ctx: self.ctx, op: self.op, name: self.name, retry: self.retry };
        tail.after_failure(attempt, error).await
    }
}
