//! Callbacks: `create_callback` hands out an id that an external system answers, and
//! `wait_for_callback` wraps a callback and the step that submits its id in one child context.
//!
//! The CALLBACK START is made durable at once, because the service mints the `CallbackId` and returns
//! it in the checkpoint response. A recorded callback returns its id whatever its status, so the code
//! between creating a callback and awaiting its result replays identically; a failure or timeout
//! surfaces from [`Callback::result`].
//!
//! `wait_for_callback` has the wire shape of the official SDKs: a CONTEXT with SubType
//! `WaitForCallback`, holding the CALLBACK (child position 1) and the submitter STEP (position 2).

use super::child::{self, ChildContext};
use super::serdes::Serdes;
use super::shell::{Kind, Plan, Replay, Shell};
use super::{decode_or_json, recorded_failure, MaybeSerdes};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, Error, ErrorKind, CALLBACK_TIMEOUT_ERROR_TYPE};
use crate::ops::step::StepContext;
use crate::protocol::{CallbackOptions, OperationAction, OperationStatus, OperationSubType, OperationType, Payload};
use crate::retry::RetryStrategy;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

impl DurableContext {
    /// Creates a callback: the service mints an id to hand to an external system, which answers with
    /// `SendDurableExecutionCallbackSuccess` / `Failure` / `Heartbeat`. Await the builder for the
    /// [`Callback`], then [`Callback::result`] for the answer, deserialized from JSON into `T`.
    ///
    /// ```no_run
    /// use durable_runtime::{DurableContext, Error};
    /// use std::time::Duration;
    ///
    /// async fn approve(ctx: DurableContext, _: ()) -> Result<String, Error> {
    ///     let callback = ctx.create_callback::<String>().name("approval").timeout(Duration::from_secs(3600)).await?;
    ///     let id = callback.id().to_owned();
    ///     ctx.step(move |_| async move { Ok::<_, Error>(format!("sent {id} to the approver")) }).await?;
    ///     Ok(callback.result().await?)
    /// }
    /// # let _ = approve;
    /// ```
    pub fn create_callback<T>(&self) -> CreateCallback<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        CreateCallback::new(self)
    }

    /// Creates a callback and runs `submitter` with its id as a step (with its own retry strategy),
    /// then waits for the answer. Everything happens in one child context with SubType
    /// `WaitForCallback`, so once the answer is recorded replay returns it without running anything.
    ///
    /// Errors: [`ErrorKind::CallbackTimedOut`] when the callback timed out, [`ErrorKind::CallbackFailed`]
    /// when the sender answered with a failure (its `ErrorType` and message kept verbatim) or the
    /// submitter failed.
    pub fn wait_for_callback<T, F, Fut, E>(&self, submitter: F) -> WaitForCallback<T, F>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce(String, StepContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        WaitForCallback::new(self, submitter)
    }
}

/// How long a callback may stay unanswered, and go without a heartbeat.
#[derive(Debug, Clone, Copy, Default)]
struct Timeouts {
    answer: Option<Duration>,
    heartbeat: Option<Duration>,
}

impl Timeouts {
    /// The `CallbackOptions` of a START, omitted when no timeout is set.
    fn options(self) -> Option<CallbackOptions> {
        // Whole seconds, rounded up; zero and absent both mean "no timeout".
        let seconds = |timeout: Option<Duration>| timeout.map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let (answer, heartbeat) = (seconds(self.answer), seconds(self.heartbeat));
        (answer > 0 || heartbeat > 0).then_some(CallbackOptions {
            timeout_seconds: (answer > 0).then_some(answer),
            heartbeat_timeout_seconds: (heartbeat > 0).then_some(heartbeat),
        })
    }
}

/// A callback being configured. Created by [`DurableContext::create_callback`]; await it for the
/// [`Callback`].
#[must_use = "a callback is not created until the builder is awaited: add `.await`"]
pub struct CreateCallback<T> {
    shell: Shell,
    timeouts: Timeouts,
    serdes: MaybeSerdes<T>,
}

impl<T> fmt::Debug for CreateCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shell
            .debug(f, "CreateCallback")
            .field("timeout", &self.timeouts.answer)
            .field("heartbeat_timeout", &self.timeouts.heartbeat)
            .finish()
    }
}

const CALLBACK: Kind = Kind {
    op_type: OperationType::Callback,
    sub_type: OperationSubType::Callback,
    noun: "callback",
    failure: ErrorKind::CallbackFailed,
    unknown: "which a callback cannot have",
};

impl<T> CreateCallback<T> {
    fn new(ctx: &DurableContext) -> Self {
        Self { shell: Shell::new(ctx, CALLBACK), timeouts: Timeouts::default(), serdes: None }
    }

    /// How the sender's answer is read (default: JSON). The answer is the raw text the external
    /// system sent, so a custom serdes can accept formats other than JSON.
    pub fn serdes(mut self, serdes: impl Serdes<T>) -> Self
    where
        T: 'static,
    {
        self.serdes = Some(Arc::new(serdes));
        self
    }

    /// The callback's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// How long the callback may stay unanswered (rounded up to whole seconds; zero means no limit).
    /// When it elapses the result is an [`ErrorKind::CallbackTimedOut`] error with `ErrorType`
    /// `Callback.Timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.answer = Some(timeout);
        self
    }

    /// How long the callback may go without a heartbeat or answer (rounded up to whole seconds; zero
    /// means no limit). When it elapses the result is an [`ErrorKind::CallbackTimedOut`] error with
    /// `ErrorType` `Callback.Heartbeat`.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.heartbeat = Some(timeout);
        self
    }

    async fn run(self) -> Result<Callback<T>, DurableError> {
        let shell = &self.shell;
        // A recorded callback returns its id whatever its status.
        let replay = shell.replay(|record| match record {
            Some(record) => Plan::Done(Ok(callback_id_of(record))),
            None => Plan::Live(()),
        });
        let callback_id = match replay.await {
            Replay::Recorded(callback_id) => callback_id?,
            Replay::Live(()) => {
                let mut update = shell.update(OperationAction::Start);
                update.callback_options = self.timeouts.options();
                shell.checkpoint(update).await;
                shell.ctx.exec.read(&shell.op.id, |record| record.and_then(callback_id_of))
            }
        };
        let Some(callback_id) = callback_id else {
            let error = DurableError::new(
                ErrorKind::UnknownStatus,
                format!(
                    "{} has no CallbackId in the execution state; the service must mint one at START",
                    shell.label()
                ),
            );
            return shell.halt(error).await;
        };
        let Self { shell, serdes, .. } = self;
        Ok(Callback { op_id: shell.op.id.to_string(), what: shell.label(), ctx: shell.ctx, callback_id, serdes })
    }
}

/// The `CallbackId` of a recorded callback, `None` when the record has none.
fn callback_id_of(record: &crate::protocol::Operation) -> Option<String> {
    record.callback_details.as_ref().and_then(|d| d.callback_id.clone()).filter(|id| !id.is_empty())
}

impl<T> IntoFuture for CreateCallback<T>
where
    T: DeserializeOwned + Send + 'static,
{
    type Output = Result<Callback<T>, DurableError>;
    type IntoFuture = BoxFuture<Result<Callback<T>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A created callback: its id, and its answer through [`Callback::result`].
pub struct Callback<T> {
    ctx: DurableContext,
    op_id: String,
    what: String,
    callback_id: String,
    serdes: MaybeSerdes<T>,
}

impl<T> Clone for Callback<T> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            op_id: self.op_id.clone(),
            what: self.what.clone(),
            callback_id: self.callback_id.clone(),
            serdes: self.serdes.clone(),
        }
    }
}

impl<T> fmt::Debug for Callback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback").field("callback_id", &self.callback_id).field("operation_id", &self.op_id).finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> Callback<T> {
    /// The id the service minted, for the external system that answers the callback.
    pub fn id(&self) -> &str {
        &self.callback_id
    }

    /// The answer: await it. While the callback is unanswered the invocation suspends (the service
    /// re-invokes the workflow once it is answered or times out). Success deserializes the sender's
    /// result as JSON (no result reads as `null`); a failure is the sender's `ErrorObject` verbatim
    /// ([`ErrorKind::CallbackFailed`]); a timeout is [`ErrorKind::CallbackTimedOut`].
    pub fn result(&self) -> CallbackResult<T> {
        CallbackResult { callback: self.clone() }
    }

    async fn outcome(self) -> Result<T, DurableError> {
        let exec = self.ctx.exec.clone();
        let record = exec.read(&self.op_id, |r| r.map(|r| (r.status.clone(), r.callback_details.clone())));
        let Some((status, details)) = record else {
            let error = DurableError::new(
                ErrorKind::UnknownStatus,
                format!("{} is missing from the execution state after it was created", self.what),
            );
            match exec.halt(error).await {}
        };
        let details = details.unwrap_or_default();
        let what = || format!("{} (callback id `{}`)", self.what, self.callback_id);
        match status {
            OperationStatus::Started => match exec.park().await {},
            OperationStatus::Succeeded => {
                decode_or_json(&self.serdes, details.result.as_ref().map(Payload::text).as_deref(), what)
            }
            OperationStatus::Failed => Err(recorded_failure(
                ErrorKind::CallbackFailed,
                details.error.as_deref(),
                ErrorKind::CallbackFailed.default_error_type(),
                || format!("{} failed", self.what),
            )),
            OperationStatus::TimedOut => Err(recorded_failure(
                ErrorKind::CallbackTimedOut,
                details.error.as_deref(),
                CALLBACK_TIMEOUT_ERROR_TYPE,
                || format!("{} timed out", self.what),
            )),
            other if other.is_terminal() => {
                Err(DurableError::new(ErrorKind::CallbackFailed, format!("{} ended with status {other}", self.what)))
            }
            other => {
                let error = DurableError::new(
                    ErrorKind::UnknownStatus,
                    format!("{} has status `{other}`, which a callback cannot have", self.what),
                );
                match exec.halt(error).await {}
            }
        }
    }
}

/// The answer of a callback. Created by [`Callback::result`]; await it.
#[must_use = "a callback result does nothing until it is awaited: add `.await`"]
pub struct CallbackResult<T> {
    callback: Callback<T>,
}

impl<T> fmt::Debug for CallbackResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackResult").field("callback_id", &self.callback.callback_id).finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for CallbackResult<T> {
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.callback.outcome())
    }
}

/// A wait-for-callback being configured. Created by [`DurableContext::wait_for_callback`]; await it
/// for the callback's answer.
#[must_use = "a wait-for-callback does nothing until it is awaited: add `.await`"]
pub struct WaitForCallback<T, F> {
    shell: Shell,
    timeouts: Timeouts,
    retry: RetryStrategy,
    submitter: F,
    result: PhantomData<fn() -> T>,
}

impl<T, F> fmt::Debug for WaitForCallback<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shell
            .debug(f, "WaitForCallback")
            .field("timeout", &self.timeouts.answer)
            .field("heartbeat_timeout", &self.timeouts.heartbeat)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<T, F> WaitForCallback<T, F> {
    fn new(ctx: &DurableContext, submitter: F) -> Self {
        Self {
            shell: Shell::new(
                ctx,
                Kind {
                    noun: "wait-for-callback",
                    unknown: "which a wait-for-callback cannot have",
                    ..child::kind(OperationSubType::WaitForCallback)
                },
            ),
            timeouts: Timeouts::default(),
            retry: RetryStrategy::default(),
            submitter,
            result: PhantomData,
        }
    }

    /// The name of the wrapping context, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// The callback's overall timeout (see [`CreateCallback::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.answer = Some(timeout);
        self
    }

    /// The callback's heartbeat timeout (see [`CreateCallback::heartbeat_timeout`]).
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.heartbeat = Some(timeout);
        self
    }

    /// The retry strategy of the submitter step (default: [`RetryStrategy::default`]).
    pub fn retry(mut self, strategy: RetryStrategy) -> Self {
        self.retry = strategy;
        self
    }
}

impl<T, F, Fut, E> IntoFuture for WaitForCallback<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce(String, StepContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { shell, timeouts, retry, submitter, .. } = self;
        let label = shell.label();
        let body = move |child: DurableContext| async move {
            let mut create = child.create_callback::<T>();
            create.timeouts = timeouts;
            let mut callback = create.await?;
            // Messages about the answer name the wait-for-callback the user wrote.
            callback.what = label;
            let callback_id = callback.id().to_owned();
            child.step(move |step| submitter(callback_id, step)).retry(retry).await?;
            callback.result().await
        };
        let child = ChildContext::in_shell(shell, body);
        Box::pin(async move {
            child.await.map_err(|error| match error.kind() {
                ErrorKind::ChildFailed => DurableError::from_object(ErrorKind::CallbackFailed, &error.to_object()),
                _ => error,
            })
        })
    }
}
