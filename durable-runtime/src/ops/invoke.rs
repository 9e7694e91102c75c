//! `invoke`: a chained invoke of another function (durable or not) by name or ARN.
//!
//! Live, the operation sends CHAINED_INVOKE START with the serialized input and the target, then the
//! invocation suspends; the service runs the target and re-invokes the workflow once the target has
//! finished. Replay returns the recorded result, or the target's recorded error.

use super::serdes::Serdes;
use super::{decode, decode_with, encode, encode_with, label};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{DurableError, ErrorKind};
use crate::protocol::limits::MAX_PAYLOAD_BYTES;
use crate::protocol::{
    ChainedInvokeOptions, ErrorObject, OperationAction, OperationStatus, OperationSubType, OperationType,
    OperationUpdate,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
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
#[must_use = "a chained invoke does nothing until it is awaited"]
pub struct Invoke<I, O> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    function_name: String,
    tenant_id: Option<String>,
    input: I,
    payload_serdes: Option<Arc<dyn Serdes<I>>>,
    result_serdes: Option<Arc<dyn Serdes<O>>>,
    output: PhantomData<fn() -> O>,
}

impl<I, O> fmt::Debug for Invoke<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoke")
            .field("position", &self.op.positional)
            .field("name", &self.name)
            .field("function_name", &self.function_name)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

enum Plan<O> {
    Done(Result<O, DurableError>),
    Start,
    Park,
    Unknown(String),
}

impl<I, O> Invoke<I, O>
where
    I: Serialize + 'static,
    O: DeserializeOwned + Send + 'static,
{
    fn new(ctx: &DurableContext, function_name: &str, input: I) -> Self {
        Self {
            ctx: ctx.clone(),
            op: ctx.next_id(),
            name: None,
            function_name: function_name.to_owned(),
            tenant_id: None,
            input,
            payload_serdes: None,
            result_serdes: None,
            output: PhantomData,
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
        self.name = Some(name.into());
        self
    }

    /// The tenant id the target runs for (multi-tenant functions).
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Serializes the input before the future is created, so the future does not hold `I`.
    fn prepare(self) -> Result<Prepared<O>, DurableError> {
        let what = label("invoke", self.name.as_deref(), &self.op.positional);
        let encoded = match &self.payload_serdes {
            Some(serdes) => encode_with(serdes.as_ref(), &self.input, || what.clone()),
            None => encode(&self.input, &what),
        };
        let payload = encoded.map_err(|e| {
            DurableError::new(
                ErrorKind::Serialization,
                format!("cannot serialize the input of {what}: {}", e.message()),
            )
        })?;
        Ok(Prepared {
            ctx: self.ctx,
            op: self.op,
            name: self.name,
            function_name: self.function_name,
            tenant_id: self.tenant_id,
            payload,
            what,
            result_serdes: self.result_serdes,
            output: PhantomData,
        })
    }
}

struct Prepared<O> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    function_name: String,
    tenant_id: Option<String>,
    payload: String,
    what: String,
    result_serdes: Option<Arc<dyn Serdes<O>>>,
    output: PhantomData<fn() -> O>,
}

impl<O: DeserializeOwned + Send + 'static> Prepared<O> {
    async fn run(self) -> Result<O, DurableError> {
        let exec = self.ctx.exec.clone();
        let what = self.what.as_str();
        let expected = Expected {
            op_type: OperationType::ChainedInvoke,
            sub_type: OperationSubType::ChainedInvoke,
            name: self.name.as_deref(),
        };
        let plan = exec.with_record(&self.op, &expected, |record| {
            let Some(record) = record else { return Plan::Start };
            let details = record.chained_invoke_details.clone().unwrap_or_default();
            match &record.status {
                OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => Plan::Park,
                OperationStatus::Succeeded => Plan::Done(match &self.result_serdes {
                    Some(serdes) => decode_with(serdes.as_ref(), details.result.as_deref(), || what.to_owned()),
                    None => decode(details.result.as_deref(), what),
                }),
                status if status.is_terminal() => {
                    let error = details.error.unwrap_or_else(|| ErrorObject {
                        error_type: Some(ErrorKind::InvokeFailed.default_error_type().to_owned()),
                        error_message: Some(format!("{what} ended with status {status}")),
                        ..Default::default()
                    });
                    Plan::Done(Err(DurableError::from_object(ErrorKind::InvokeFailed, &error)))
                }
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
                    format!("{what} has status `{status}`, which a chained invoke cannot have"),
                );
                match exec.halt(error).await {}
            }
            Plan::Start => {
                if self.function_name.trim().is_empty() {
                    return Err(DurableError::new(
                        ErrorKind::InvalidArgument,
                        format!("{what}: the function name is empty; pass a function name or ARN"),
                    ));
                }
                if self.payload.len() > MAX_PAYLOAD_BYTES {
                    return Err(DurableError::new(
                        ErrorKind::PayloadTooLarge,
                        format!(
                            "the input of {what} is {} bytes, over the chained invoke payload limit of \
                             {MAX_PAYLOAD_BYTES} bytes (1 MB); pass a reference to the data instead",
                            self.payload.len()
                        ),
                    ));
                }
                let mut update =
                    OperationUpdate::new(&*self.op.id, OperationType::ChainedInvoke, OperationAction::Start);
                update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
                update.name = self.name.clone();
                update.sub_type = Some(OperationSubType::ChainedInvoke);
                update.payload = Some(self.payload);
                update.chained_invoke_options = Some(ChainedInvokeOptions {
                    function_name: self.function_name,
                    tenant_id: self.tenant_id,
                    x_amzn_trace_id: None,
                });
                exec.enqueue(update);
                match exec.park().await {}
            }
        }
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
