//! `invoke`: a chained invoke of another function (durable or not) by name or ARN.
//!
//! Live, the operation sends CHAINED_INVOKE START with the serialized input and the target, then the
//! invocation suspends; the service runs the target and re-invokes the workflow once the target has
//! finished. Replay returns the recorded result, or the target's recorded error.

use super::serdes::Serdes;
use super::shell::{Kind, Plan, Replay, Shell};
use super::{decode_or_json, encode_or_json, recorded_failure, text, MaybeSerdes, INVOKE_PAYLOAD_LIMIT};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, ErrorKind};
use crate::protocol::{ChainedInvokeOptions, OperationAction, OperationStatus, OperationSubType, OperationType};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;

impl DurableContext {
    /// Invokes the function `function_name` (a name, or a function / alias / version ARN) with `input`
    /// serialized as JSON, and returns its result deserialized into `O`. The invocation suspends while
    /// the target runs; a target that fails, times out or is stopped gives an
    /// [`ErrorKind::InvokeFailed`] error carrying the target's `ErrorType` and message.
    ///
    /// ```no_run
    /// use durable_runtime::{DurableContext, Error};
    ///
    /// async fn checkout(ctx: DurableContext, amount: u64) -> Result<String, Error> {
    ///     let receipt: String = ctx
    ///         .invoke::<_, String>("payments", serde_json::json!({ "amount": amount }))
    ///         .name("charge")
    ///         .await?;
    ///     Ok(receipt)
    /// }
    /// # let _ = checkout;
    /// ```
    pub fn invoke<I, O>(&self, function_name: &str, input: I) -> Invoke<I, O>
    where
        I: Serialize + 'static,
        O: DeserializeOwned + Send + 'static,
    {
        Invoke::new(self, function_name, input)
    }
}

/// A chained invoke being configured. Created by [`DurableContext::invoke`]; await it for the
/// target's result.
#[must_use = "a chained invoke does nothing until it is awaited: add `.await`"]
pub struct Invoke<I, O> {
    shell: Shell,
    function_name: String,
    tenant_id: Option<String>,
    input: I,
    payload_serdes: MaybeSerdes<I>,
    result_serdes: MaybeSerdes<O>,
}

impl<I, O> fmt::Debug for Invoke<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shell
            .debug(f, "Invoke")
            .field("function_name", &self.function_name)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

const INVOKE: Kind = Kind {
    op_type: OperationType::ChainedInvoke,
    sub_type: OperationSubType::ChainedInvoke,
    noun: "invoke",
    failure: ErrorKind::InvokeFailed,
    unknown: "which a chained invoke cannot have",
};

impl<I, O> Invoke<I, O>
where
    I: Serialize + 'static,
    O: DeserializeOwned + Send + 'static,
{
    fn new(ctx: &DurableContext, function_name: &str, input: I) -> Self {
        Self {
            shell: Shell::new(ctx, INVOKE),
            function_name: function_name.to_owned(),
            tenant_id: None,
            input,
            payload_serdes: None,
            result_serdes: None,
        }
    }

    /// How the input is written to the request (default: JSON). The target receives this text.
    pub fn payload_serdes(mut self, serdes: impl Serdes<I>) -> Self {
        self.payload_serdes = Some(Arc::new(serdes));
        self
    }

    /// How the target's result is read (default: JSON).
    pub fn result_serdes(mut self, serdes: impl Serdes<O>) -> Self {
        self.result_serdes = Some(Arc::new(serdes));
        self
    }

    /// The operation's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    /// The tenant id the target runs for (multi-tenant functions).
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Serializes the input before the future is created, so the future does not hold `I`.
    fn prepare(self) -> Result<Prepared<O>, DurableError> {
        let Self { shell, function_name, tenant_id, input, payload_serdes, result_serdes } = self;
        let payload = encode_or_json(&payload_serdes, &input, || shell.label()).map_err(|e| {
            DurableError::new(
                ErrorKind::Serialization,
                format!("cannot serialize the input of {}: {}", shell.label(), e.message()),
            )
        })?;
        Ok(Prepared { shell, function_name, tenant_id, payload, result_serdes })
    }
}

struct Prepared<O> {
    shell: Shell,
    function_name: String,
    tenant_id: Option<String>,
    payload: String,
    result_serdes: MaybeSerdes<O>,
}

impl<O: DeserializeOwned + Send + 'static> Prepared<O> {
    async fn run(self) -> Result<O, DurableError> {
        let shell = &self.shell;
        let replay = shell.replay(|record| {
            let Some(record) = record else { return Plan::Live(()) };
            let details = record.chained_invoke_details.as_ref();
            let result = text(details.and_then(|d| d.result.as_ref()));
            let (result, error) = (result.as_deref(), details.and_then(|d| d.error.as_deref()));
            match &record.status {
                OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => Plan::Park,
                OperationStatus::Succeeded => Plan::Done(decode_or_json(&self.result_serdes, result, || shell.label())),
                status if status.is_terminal() => Plan::Done(Err(recorded_failure(
                    ErrorKind::InvokeFailed,
                    error,
                    ErrorKind::InvokeFailed.default_error_type(),
                    || format!("{} ended with status {status}", shell.label()),
                ))),
                other => Plan::Unknown(other.to_string()),
            }
        });
        if let Replay::Recorded(outcome) = replay.await {
            return outcome;
        }
        let Self { shell, function_name, tenant_id, payload, .. } = self;
        if function_name.trim().is_empty() {
            return Err(DurableError::new(
                ErrorKind::InvalidArgument,
                format!("{}: the function name is empty; pass a function name or ARN", shell.label()),
            ));
        }
        let advice = "pass a reference to the data instead";
        let payload = INVOKE_PAYLOAD_LIMIT.check(payload, "input", || shell.label(), advice)?;
        let mut update = shell.update(OperationAction::Start);
        update.payload = Some(payload);
        update.chained_invoke_options = Some(ChainedInvokeOptions { function_name, tenant_id, x_amzn_trace_id: None });
        shell.suspend(update).await
    }
}

impl<I, O> IntoFuture for Invoke<I, O>
where
    I: Serialize + 'static,
    O: DeserializeOwned + Send + 'static,
{
    type Output = Result<O, DurableError>;
    type IntoFuture = BoxFuture<Result<O, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        match self.prepare() {
            Ok(prepared) => Box::pin(prepared.run()),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}
