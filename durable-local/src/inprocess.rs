//! A handler of this process as a [`Function`]: the service invokes it through
//! [`lambda::service`](durable_runtime::lambda::service), exactly as Lambda would, with a checkpoint
//! client that reaches the service over HTTP.

use super::function::{Function, InvokeFuture};
use durable_runtime::lambda::{self, DurableService, LambdaContext, LambdaEvent};
use durable_runtime::protocol::ErrorObject;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::Service;

/// `ErrorType` of an invocation whose payload or response is not JSON.
const INVALID_PAYLOAD_ERROR_TYPE: &str = "Runtime.InvalidPayload";

/// A handler run in this process (see the [module docs](self)).
pub(crate) struct InProcess<H, I, O> {
    function: DurableService<H, I, O>,
}

impl<H, I, O> InProcess<H, I, O> {
    pub(crate) fn new(function: DurableService<H, I, O>) -> Self {
        Self { function }
    }
}

fn error(error_type: &str, message: String) -> ErrorObject {
    ErrorObject { error_type: Some(error_type.to_owned()), error_message: Some(message), ..Default::default() }
}

impl<H, I, O> Function for InProcess<H, I, O>
where
    H: durable_runtime::Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    fn invoke<'a>(&'a self, payload: Vec<u8>, request_id: &'a str) -> InvokeFuture<'a> {
        Box::pin(async move {
            let event: serde_json::Value = serde_json::from_slice(&payload)
                .map_err(|e| error(INVALID_PAYLOAD_ERROR_TYPE, format!("the payload is not JSON: {e}")))?;
            let mut context = LambdaContext::default();
            context.request_id = request_id.to_owned();
            let mut function = self.function.clone();
            match function.call(LambdaEvent::new(event, context)).await {
                Ok(value) => serde_json::to_vec(&value)
                    .map_err(|e| error(INVALID_PAYLOAD_ERROR_TYPE, format!("the response is not JSON: {e}"))),
                Err(e) => {
                    // What Lambda records for a function error.
                    let diagnostic = lambda::lambda_runtime::Diagnostic::from(e);
                    Err(error(&diagnostic.error_type, diagnostic.error_message))
                }
            }
        })
    }
}
