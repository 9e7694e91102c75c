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

use super::child::ChildContext;
use super::label;
use super::serdes::Serdes;
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{DurableError, Error, ErrorKind, CALLBACK_TIMEOUT_ERROR_TYPE};
use crate::ops::step::StepContext;
use crate::protocol::{
    CallbackOptions, ErrorObject, OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate,
};
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

/// Whole seconds of a timeout, rounded up; zero and absent both mean "no timeout".
fn timeout_seconds(timeout: Option<Duration>) -> u64 {
    timeout.map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

/// The `CallbackOptions` of a START, omitted when no timeout is set.
fn callback_options(timeout: Option<Duration>, heartbeat: Option<Duration>) -> Option<CallbackOptions> {
    let (timeout, heartbeat) = (timeout_seconds(timeout), timeout_seconds(heartbeat));
    (timeout > 0 || heartbeat > 0).then_some(CallbackOptions {
        timeout_seconds: (timeout > 0).then_some(timeout),
        heartbeat_timeout_seconds: (heartbeat > 0).then_some(heartbeat),
    })
}

/// A callback being configured. Created by [`DurableContext::create_callback`]; await it for the
/// [`Callback`].
#[must_use = "a callback is not created until the builder is awaited"]
pub struct CreateCallback<T> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    serdes: Option<Arc<dyn Serdes<T>>>,
    result: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for CreateCallback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateCallback")
            .field("position", &self.op.positional)
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .finish()
    }
}

impl<T> CreateCallback<T> {
    fn new(ctx: &DurableContext) -> Self {
        Self {
            ctx: ctx.clone(),
            op: ctx.next_id(),
            name: None,
            timeout: None,
            heartbeat_timeout: None,
            serdes: None,
            result: PhantomData,
        }
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
        self.name = Some(name.into());
        self
    }

    /// How long the callback may stay unanswered (rounded up to whole seconds; zero means no limit).
    /// When it elapses the result is an [`ErrorKind::CallbackTimedOut`] error with `ErrorType`
    /// `Callback.Timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long the callback may go without a heartbeat or answer (rounded up to whole seconds; zero
    /// means no limit). When it elapses the result is an [`ErrorKind::CallbackTimedOut`] error with
    /// `ErrorType` `Callback.Heartbeat`.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    async fn run(self) -> Result<Callback<T>, DurableError> {
        let exec = self.ctx.exec.clone();
        let what = label("callback", self.name.as_deref(), &self.op.positional);
        let expected = Expected {
            op_type: OperationType::Callback,
            sub_type: OperationSubType::Callback,
            name: self.name.as_deref(),
        };
        let recorded = exec.with_record(&self.op, &expected, |record| record.map(callback_id_of));
        let Some(recorded) = recorded else { match Halted.await {} };
        let callback_id = match recorded {
            Some(id) => id,
            None => {
                let mut update = OperationUpdate::new(&*self.op.id, OperationType::Callback, OperationAction::Start);
                update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
                update.name = self.name.clone();
                update.sub_type = Some(OperationSubType::Callback);
                update.callback_options = callback_options(self.timeout, self.heartbeat_timeout);
                let seq = exec.enqueue(update);
                exec.durable(seq).await;
                exec.read(&self.op.id, |record| record.and_then(callback_id_of))
            }
        };
        let Some(callback_id) = callback_id else {
            let error = DurableError::new(
                ErrorKind::UnknownStatus,
                format!("{what} has no CallbackId in the execution state; the service must mint one at START"),
            );
            match exec.halt(error).await {}
        };
        Ok(Callback {
            ctx: self.ctx,
            op_id: self.op.id.to_string(),
            what,
            callback_id,
            serdes: self.serdes,
            result: PhantomData,
        })
    }
}

/// `Some(CallbackId)` of a recorded callback; `Some(None)`-like absence is reported by the caller.
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
    serdes: Option<Arc<dyn Serdes<T>>>,
    result: PhantomData<fn() -> T>,
}

impl<T> Clone for Callback<T> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            op_id: self.op_id.clone(),
            what: self.what.clone(),
            callback_id: self.callback_id.clone(),
            serdes: self.serdes.clone(),
            result: PhantomData,
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
        match status {
            OperationStatus::Started => match exec.park().await {},
            OperationStatus::Succeeded => match &self.serdes {
                Some(serdes) => super::decode_with(serdes.as_ref(), details.result.as_deref(), || self.what.clone()),
                None => super::decode(details.result.as_deref(), &self.what),
            },
            OperationStatus::Failed => {
                let error = details.error.unwrap_or_else(|| ErrorObject {
                    error_type: Some(ErrorKind::CallbackFailed.default_error_type().to_owned()),
                    error_message: Some(format!("{} failed", self.what)),
                    ..Default::default()
                });
                Err(DurableError::from_object(ErrorKind::CallbackFailed, &error))
            }
            OperationStatus::TimedOut => {
                let error = details.error.unwrap_or_else(|| ErrorObject {
                    error_type: Some(CALLBACK_TIMEOUT_ERROR_TYPE.to_owned()),
                    error_message: Some(format!("{} timed out", self.what)),
                    ..Default::default()
                });
                Err(DurableError::from_object(ErrorKind::CallbackTimedOut, &error))
            }
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
#[must_use = "a callback result does nothing until it is awaited"]
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
#[must_use = "a wait-for-callback does nothing until it is awaited"]
pub struct WaitForCallback<T, F> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    retry: RetryStrategy,
    submitter: F,
    result: PhantomData<fn() -> T>,
}

impl<T, F> fmt::Debug for WaitForCallback<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCallback")
            .field("position", &self.op.positional)
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<T, F> WaitForCallback<T, F> {
    fn new(ctx: &DurableContext, submitter: F) -> Self {
        Self {
            ctx: ctx.clone(),
            op: ctx.next_id(),
            name: None,
            timeout: None,
            heartbeat_timeout: None,
            retry: RetryStrategy::default(),
            submitter,
            result: PhantomData,
        }
    }

    /// The name of the wrapping context, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The callback's overall timeout (see [`CreateCallback::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The callback's heartbeat timeout (see [`CreateCallback::heartbeat_timeout`]).
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
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
        let Self { ctx, op, name, timeout, heartbeat_timeout, retry, submitter, .. } = self;
        let body = move |child: DurableContext| async move {
            let mut create = child.create_callback::<T>();
            create.timeout = timeout;
            create.heartbeat_timeout = heartbeat_timeout;
            let callback = create.await?;
            let callback_id = callback.id().to_owned();
            child.step(move |step| submitter(callback_id, step)).retry(retry).await?;
            callback.result().await
        };
        let child = ChildContext::with_op(&ctx, op, OperationSubType::WaitForCallback, name, body);
        Box::pin(async move {
            child.await.map_err(|error| match error.kind() {
                ErrorKind::ChildFailed => DurableError::from_object(ErrorKind::CallbackFailed, &error.to_object()),
                _ => error,
            })
        })
    }
}
