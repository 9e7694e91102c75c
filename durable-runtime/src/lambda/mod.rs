//! The Lambda entry point: [`run`] a durable handler under `lambda_runtime`, or build the
//! [`DurableService`] that `run` registers, for middleware or to drive single invocations in tests and
//! benchmarks.
//!
//! Each invocation receives the service's durable-execution envelope, runs the handler through
//! [`crate::invocation::invoke_envelope`] and answers with the output envelope (`SUCCEEDED`, `FAILED` or
//! `PENDING`). A handler failure is a `FAILED` envelope, a successful Lambda response that ends the
//! execution. Only an [`InvocationError`] (a malformed envelope, or a checkpoint failure that a retry
//! can fix) becomes a Lambda invocation error, which makes the service invoke the function again.
//!
//! [`run`] reads the envelope from the bytes of the request straight into the wire types
//! ([`crate::envelope_from_slice`]): no `serde_json::Value` of the whole envelope is ever built.
//! [`EnvelopeService`] takes an envelope `lambda_runtime` deserialized into the wire types, for
//! middleware; [`DurableService`] takes and answers a `Value`, for callers who hold one.
//!
//! Unless a client is injected, the checkpoint client is an [`AwsCheckpointClient`] built once per
//! process from the environment, on the first invocation.
//!
//! ```no_run
//! use durable_runtime::DurableContext;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
//!     durable_runtime::lambda::run(|_ctx: DurableContext, input: serde_json::Value| async move {
//!         Ok::<_, durable_runtime::Error>(input)
//!     })
//!     .await
//! }
//! ```

use crate::checkpoint::aws::AwsCheckpointClient;
use crate::checkpoint::{BoxFuture, CheckpointClient};
use crate::invocation::{envelope_from_slice, invoke_envelope, Handler, InvocationError, Options};
use crate::protocol::{InvocationInput, InvocationOutput};
use lambda_runtime::LambdaInvocation;
#[doc(no_inline)]
pub use lambda_runtime::{self, Context as LambdaContext, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::OnceCell;

/// The process-wide AWS client, built from the environment on first use.
static AWS_CLIENT: OnceCell<Arc<dyn CheckpointClient>> = OnceCell::const_new();

async fn default_client() -> Arc<dyn CheckpointClient> {
    AWS_CLIENT
        .get_or_init(|| async { Arc::new(AwsCheckpointClient::from_env().await) as Arc<dyn CheckpointClient> })
        .await
        .clone()
}

/// The `tower::Service` of a durable function: one call is one invocation, from the service's
/// envelope (as a JSON value) to the output envelope (as a JSON value). Its
/// [`typed`](Self::typed) form skips the values; [`run`] reads the request bytes itself.
///
/// Cloning is cheap: clones share the handler, the options and the client.
pub struct DurableService<H, I, O> {
    handler: Arc<H>,
    options: Arc<Options>,
    client: Option<Arc<dyn CheckpointClient>>,
    _types: PhantomData<fn(I) -> O>,
}

impl<H, I, O> DurableService<H, I, O> {
    /// Uses `client` for every invocation instead of the AWS client built from the environment, for
    /// example the in-memory service in tests.
    #[must_use]
    pub fn client(mut self, client: Arc<dyn CheckpointClient>) -> Self {
        self.client = Some(client);
        self
    }

    /// Replaces the runtime options.
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.options = Arc::new(options);
        self
    }

    /// The same service over the typed envelope: `lambda_runtime` deserializes the request bytes
    /// straight into an [`InvocationInput`], and the answer is the typed [`InvocationOutput`].
    #[must_use]
    pub fn typed(self) -> EnvelopeService<H, I, O> {
        EnvelopeService { inner: self }
    }

    /// One invocation for `envelope`, with Lambda's `context`.
    fn invocation(
        &self,
        envelope: InvocationInput,
        context: &LambdaContext,
    ) -> BoxFuture<Result<InvocationOutput, InvocationError>>
    where
        H: Handler<I, O>,
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
    {
        let handler = Arc::clone(&self.handler);
        let options = Arc::clone(&self.options);
        let client = self.client.clone();
        let request_id = context.request_id.clone();
        let deadline_ms = context.deadline;
        Box::pin(async move {
            let client = match client {
                Some(client) => client,
                None => default_client().await,
            };
            // Plugins see Lambda's own request id for this invocation.
            let mut options = (*options).clone();
            options.request_id = Some(request_id);
            // Batched updates must be sent before Lambda stops the invocation.
            if deadline_ms > 0 {
                options.deadline = Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(deadline_ms));
            }
            invoke_envelope(&*handler, envelope, client, &options).await
        })
    }
}

/// A [`DurableService`] over the typed envelope: see [`DurableService::typed`].
pub struct EnvelopeService<H, I, O> {
    inner: DurableService<H, I, O>,
}

impl<H, I, O> Clone for EnvelopeService<H, I, O> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<H, I, O> fmt::Debug for EnvelopeService<H, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnvelopeService").field(&self.inner).finish()
    }
}

impl<H, I, O> tower::Service<LambdaEvent<InvocationInput>> for EnvelopeService<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    type Response = InvocationOutput;
    type Error = InvocationError;
    type Future = BoxFuture<Result<InvocationOutput, InvocationError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<InvocationInput>) -> Self::Future {
        self.inner.invocation(event.payload, &event.context)
    }
}

impl<H, I, O> Clone for DurableService<H, I, O> {
    fn clone(&self) -> Self {
        Self {
            handler: Arc::clone(&self.handler),
            options: Arc::clone(&self.options),
            client: self.client.clone(),
            _types: PhantomData,
        }
    }
}

impl<H, I, O> fmt::Debug for DurableService<H, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableService")
            .field("handler", &std::any::type_name::<H>())
            .field("client", &if self.client.is_some() { "injected" } else { "aws (from the environment)" })
            .finish_non_exhaustive()
    }
}

impl<H, I, O> tower::Service<LambdaEvent<serde_json::Value>> for DurableService<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    type Response = serde_json::Value;
    type Error = InvocationError;
    type Future = BoxFuture<Result<serde_json::Value, InvocationError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<serde_json::Value>) -> Self::Future {
        let envelope = serde_json::from_value::<InvocationInput>(event.payload);
        let invocation = envelope.map(|envelope| self.invocation(envelope, &event.context));
        Box::pin(async move {
            let output = invocation.map_err(|e| InvocationError::Envelope(e.to_string()))?.await?;
            serde_json::to_value(output)
                .map_err(|e| InvocationError::Envelope(format!("cannot encode the output envelope: {e}")))
        })
    }
}

/// Lambda reports an invocation error with a type and a message; these name what failed.
impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(error: InvocationError) -> Self {
        let error_type = match &error {
            InvocationError::Envelope(_) => "Durable.InvalidEnvelope",
            InvocationError::Checkpoint(_) => "Durable.CheckpointError",
            #[allow(unreachable_patterns)]
            _ => "Durable.InvocationError",
        };
        lambda_runtime::Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

/// The service of `handler`, with default options and the AWS client from the environment (what
/// [`run`] runs);
/// set others with [`DurableService::options`] and [`DurableService::client`].
///
/// Drive one invocation with `service.call(LambdaEvent::new(envelope, LambdaContext::default()))`
/// (`tower::Service` in scope, e.g. through `lambda_runtime::Service`).
pub fn service<H, I, O>(handler: H) -> DurableService<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    DurableService {
        handler: Arc::new(handler),
        options: Arc::new(Options::default()),
        client: None,
        _types: PhantomData,
    }
}

/// Runs `handler` as the Lambda function of this process, until the runtime stops.
pub async fn run<H, I, O>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    run_with_options(handler, Options::default()).await
}

/// [`run`] with explicit options.
pub async fn run_with_options<H, I, O>(handler: H, options: Options) -> Result<(), lambda_runtime::Error>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let service = BodyService { inner: service(handler).options(options) };
    lambda_runtime::Runtime::new(service)
        .layer(HandOverLayer)
        .layer(lambda_runtime::layers::TracingLayer::new())
        .run()
        .await
}

thread_local! {
    /// The body of the invocation being dispatched, from [`HandOver`] to [`BodyService`]: both run
    /// in the same synchronous `call` chain of `lambda_runtime`'s services.
    static BODY: RefCell<Option<bytes::Bytes>> = const { RefCell::new(None) };
}

/// Takes the request body before `lambda_runtime` deserializes it (into nothing: the body it sees is
/// `null`) and hands it to [`BodyService`], which reads the envelope with [`envelope_from_slice`]:
/// one UTF-8 check of the whole body instead of one per string, and no path tracking.
struct HandOverLayer;

impl<S> tower::Layer<S> for HandOverLayer {
    type Service = HandOver<S>;

    fn layer(&self, inner: S) -> HandOver<S> {
        HandOver { inner }
    }
}

/// The service of [`HandOverLayer`].
struct HandOver<S> {
    inner: S,
}

impl<S: tower::Service<LambdaInvocation>> tower::Service<LambdaInvocation> for HandOver<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: LambdaInvocation) -> Self::Future {
        let body = std::mem::replace(&mut request.body, bytes::Bytes::from_static(b"null"));
        BODY.with(|slot| *slot.borrow_mut() = Some(body));
        let future = self.inner.call(request);
        // Whatever `BodyService` did not take (it was not called) goes now.
        BODY.with(|slot| slot.borrow_mut().take());
        future
    }
}

/// The handler [`run`] registers under [`HandOverLayer`]: it takes the body handed over and runs
/// the invocation.
struct BodyService<H, I, O> {
    inner: DurableService<H, I, O>,
}

impl<H, I, O> tower::Service<LambdaEvent<serde::de::IgnoredAny>> for BodyService<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    type Response = InvocationOutput;
    type Error = InvocationError;
    type Future = BoxFuture<Result<InvocationOutput, InvocationError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<serde::de::IgnoredAny>) -> Self::Future {
        let body = BODY.with(|slot| slot.borrow_mut().take());
        let envelope = body
            .ok_or_else(|| InvocationError::Envelope("the request body did not reach the durable handler".to_owned()));
        match envelope.and_then(|body| envelope_from_slice(&body)) {
            Ok(envelope) => self.inner.invocation(envelope, &event.context),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}

/// [`run`] on a Tokio runtime of its own, for a `main` without `#[tokio::main]` (and without a direct
/// `tokio` dependency). Blocks until the Lambda runtime stops.
///
/// ```no_run
/// use durable_runtime::{DurableContext, Error};
///
/// async fn echo(_ctx: DurableContext, input: serde_json::Value) -> Result<serde_json::Value, Error> {
///     Ok(input)
/// }
///
/// fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
///     durable_runtime::lambda::start(echo)
/// }
/// ```
pub fn start<H, I, O>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(handler))
}

#[cfg(test)]
mod tests;
