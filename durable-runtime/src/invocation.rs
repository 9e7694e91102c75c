//! One invocation: parse the envelope, load the state, drive the handler and the checkpoint queue
//! together, and answer with an envelope. Shared by the Lambda entry point and the test runner.

use crate::checkpoint::{Batching, BoxFuture, CheckpointClient, CheckpointError};
use crate::context::DurableContext;
use crate::engine::Execution;
use crate::error::{DurableError, Error, ErrorKind};
use crate::protocol::ids::uuid_v4;
use crate::protocol::limits::MAX_INLINE_RESULT_BYTES;
use crate::protocol::{
    CheckpointRequest, ErrorObject, ExecutionState, InvocationInput, InvocationOutput, Operation, OperationAction,
    OperationType, OperationUpdate, Timestamp,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

/// A durable workflow handler: an async function of a [`DurableContext`] and the user's input.
///
/// Implemented for every `Fn(DurableContext, I) -> impl Future<Output = Result<O, E>>` with
/// `E: Into<Error>`; `#[durable_workflow]` functions are such functions.
pub trait Handler<I, O>: Send + Sync + 'static {
    /// Runs the workflow body.
    fn call(&self, ctx: DurableContext, input: I) -> BoxFuture<Result<O, Error>>;
}

impl<F, Fut, I, O, E> Handler<I, O> for F
where
    F: Fn(DurableContext, I) -> Fut + Send + Sync + 'static,
    Fut: IntoFuture<Output = Result<O, E>>,
    Fut::IntoFuture: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    fn call(&self, ctx: DurableContext, input: I) -> BoxFuture<Result<O, Error>> {
        let fut = self(ctx, input).into_future();
        Box::pin(async move {
            fut.await.map_err(|e| -> Error { Box::new(crate::error::into_recorded(e, ErrorKind::HandlerFailed)) })
        })
    }
}

/// Why an invocation could not produce an envelope. The Lambda entry point reports it as an
/// invocation error, which makes the service retry the invocation.
#[derive(Debug)]
#[non_exhaustive]
pub enum InvocationError {
    /// The event is not a valid durable-execution envelope.
    Envelope(String),
    /// A checkpoint or state call failed in a way a retry can fix.
    Checkpoint(CheckpointError),
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(msg) => write!(f, "invalid durable-execution envelope: {msg}"),
            Self::Checkpoint(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for InvocationError {}

/// Options of the runtime.
///
/// ```
/// # use durable_runtime::Options;
/// let options = Options::default().log_replay(true);
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Options {
    pub(crate) plugins: Vec<Arc<dyn crate::plugin::Plugin>>,
    pub(crate) log_replay: bool,
    /// The Lambda request id of this invocation, when the host knows it.
    pub(crate) request_id: Option<String>,
    /// How the outcomes of at-least-once steps are batched; `None`: every update is sent at once.
    pub(crate) batching: Option<Batching>,
    /// When this invocation's Lambda deadline falls, when the host knows it.
    pub(crate) deadline: Option<std::time::SystemTime>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("plugins", &self.plugins.len())
            .field("log_replay", &self.log_replay)
            .field("batching", &self.batching)
            .finish()
    }
}

impl Options {
    /// Registers a [`Plugin`](crate::plugin::Plugin); plugins are called in registration order.
    #[must_use]
    pub fn plugin(mut self, plugin: Arc<dyn crate::plugin::Plugin>) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// Keeps the `tracing` records that workflow code emits while replaying (default: they are
    /// suppressed; see [`crate::logging`]).
    #[must_use]
    pub fn log_replay(mut self, keep: bool) -> Self {
        self.log_replay = keep;
        self
    }

    /// Turns checkpoint batching for at-least-once steps on with these limits, or off with `None`.
    ///
    /// Off by default: with batching on, a crash re-runs every at-least-once step whose result had
    /// not been sent yet (up to [`Batching::max_delay`] of work), where without it only the step
    /// that was running re-runs. That is within the at-least-once contract, but it changes what a
    /// workflow written for the default sees after a crash (a finished saga compensation, say, runs
    /// again), so it is a choice to make per function. See [`Batching`].
    #[must_use]
    pub fn batching(mut self, batching: impl Into<Option<Batching>>) -> Self {
        self.batching = batching.into();
        self
    }

    /// The batching in effect, if any.
    pub fn batching_limits(&self) -> Option<Batching> {
        self.batching
    }

    /// Sets the Lambda deadline of the invocation these options run (the Lambda entry point sets it
    /// from the invocation's context): batched updates are sent before it.
    #[must_use]
    pub fn deadline(mut self, deadline: Option<std::time::SystemTime>) -> Self {
        self.deadline = deadline;
        self
    }
}

/// Runs one invocation of `handler` for the envelope `event`, talking to `client`, and returns the
/// output envelope as JSON.
///
/// `Err` means the invocation itself failed and should be retried by the service (a malformed
/// envelope, or a checkpoint failure that a retry can fix); failures of the execution are `Ok` FAILED
/// envelopes. A caller holding the envelope's bytes should deserialize them into an
/// [`InvocationInput`] and call [`invoke_envelope`], which skips the intermediate `Value`.
pub async fn invoke<H, I, O>(
    handler: &H,
    event: serde_json::Value,
    client: Arc<dyn CheckpointClient>,
    options: &Options,
) -> Result<serde_json::Value, InvocationError>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let envelope: InvocationInput =
        serde_json::from_value(event).map_err(|e| InvocationError::Envelope(e.to_string()))?;
    let output = invoke_envelope(handler, envelope, client, options).await?;
    serde_json::to_value(output)
        .map_err(|e| InvocationError::Envelope(format!("cannot encode the output envelope: {e}")))
}

/// Deserializes an invocation envelope from the bytes of a request, as the Lambda entry point does.
///
/// The bytes are checked to be UTF-8 once, as a whole, and the JSON is then read as text, which
/// spares checking every string of the envelope again (faster than `serde_json::from_slice`,
/// which checks each string it reads).
pub fn envelope_from_slice(bytes: &[u8]) -> Result<InvocationInput, InvocationError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| InvocationError::Envelope(format!("the request body is not UTF-8 text: {e}")))?;
    serde_json::from_str(text).map_err(|e| InvocationError::Envelope(e.to_string()))
}

/// [`invoke`] for an envelope already deserialized into the wire types, answering with the typed
/// output envelope. This is the path of the Lambda entry point, which deserializes the event
/// straight from the bytes it receives.
pub async fn invoke_envelope<H, I, O>(
    handler: &H,
    envelope: InvocationInput,
    client: Arc<dyn CheckpointClient>,
    options: &Options,
) -> Result<InvocationOutput, InvocationError>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    invoke_tracked(handler, envelope, client, options, false).await.map(|(output, _)| output)
}

/// [`invoke_envelope`], also returning the ids of the recorded operations the code reached, in
/// order, when `track_visits` is set (the test runner's replay audit).
pub(crate) async fn invoke_tracked<H, I, O>(
    handler: &H,
    envelope: InvocationInput,
    client: Arc<dyn CheckpointClient>,
    options: &Options,
    track_visits: bool,
) -> Result<(InvocationOutput, Vec<Arc<str>>), InvocationError>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    let InvocationInput { durable_execution_arn, checkpoint_token, initial_execution_state, .. } = envelope;
    let operations =
        load_operations(&durable_execution_arn, &checkpoint_token, initial_execution_state, client.as_ref()).await?;
    let input = find_input(&operations)?;
    let start_info = (!options.plugins.is_empty())
        .then(|| invocation_start_info(&durable_execution_arn, &operations, options.request_id.clone()));
    let mut exec = Execution::new(durable_execution_arn, checkpoint_token, operations, client)
        .with_plugins(options.plugins.clone(), options.log_replay)
        .with_batching(options.batching, options.deadline);
    if track_visits {
        exec = exec.tracking_visits();
    }
    let exec = Arc::new(exec);
    if let Some(info) = &start_info {
        exec.hooks.emit(|p| p.on_invocation_start(info));
        for op in info.updated_operations.iter().filter(|op| op.status.as_ref().is_some_and(|s| s.is_terminal())) {
            exec.hooks.emit(|p| p.on_operation_end(op));
        }
    }
    let output =
        match serde_json::from_str::<I>(input.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("null")) {
            Err(e) => InvocationOutput::failed(
                DurableError::new(ErrorKind::Serialization, format!("cannot deserialize the execution input: {e}"))
                    .to_object(),
            ),
            Ok(input) => {
                let ctx = DurableContext::root(exec.clone());
                let call = handler.call(ctx.clone(), input);
                let saga_ctx = ctx.clone();
                let body = crate::context::scoped(ctx, async move {
                    let outcome = call.await;
                    if outcome.is_err() {
                        crate::ops::saga::run_compensations(&saga_ctx).await;
                    }
                    outcome
                });
                drive(exec.clone(), Box::pin(body)).await?
            }
        };
    if let Some(start) = start_info {
        let info = crate::plugin::InvocationEndInfo {
            execution_arn: start.execution_arn,
            request_id: start.request_id,
            is_first_invocation: start.is_first_invocation,
            operations_count: exec.operations_count(),
            execution_start_timestamp: start.execution_start_timestamp,
            status: output.status,
            error: output.error.clone(),
        };
        exec.hooks.emit(|p| p.on_invocation_end(&info));
    }
    Ok((output, exec.visited()))
}

/// What the invocation-start hook is told, when plugins are registered.
fn invocation_start_info(
    arn: &str,
    operations: &[Operation],
    request_id: Option<String>,
) -> crate::plugin::InvocationStartInfo {
    crate::plugin::InvocationStartInfo {
        execution_arn: arn.to_owned(),
        request_id: request_id.unwrap_or_else(uuid_v4),
        is_first_invocation: operations.iter().all(|op| op.op_type == OperationType::Execution),
        operations_count: operations.len(),
        updated_operations: crate::plugin::externally_updated(operations),
        execution_start_timestamp: operations
            .iter()
            .find(|op| op.op_type == OperationType::Execution)
            .and_then(|op| op.start_timestamp),
    }
}

/// Reads every page of the initial state and validates the operation types.
async fn load_operations(
    arn: &str,
    token: &str,
    first_page: ExecutionState,
    client: &dyn CheckpointClient,
) -> Result<Vec<Operation>, InvocationError> {
    let mut marker = first_page.next_page().map(str::to_owned);
    let mut operations = first_page.operations;
    while let Some(m) = marker {
        let page = client.get_state(arn, token, Some(&m)).await.map_err(InvocationError::Checkpoint)?;
        marker = page.next_page().map(str::to_owned);
        operations.extend(page.operations);
    }
    if let Some(op) = operations.iter().find(|op| op.op_type.is_unknown()) {
        return Err(InvocationError::Envelope(format!(
            "operation `{}` has unknown Type `{}`; expected one of EXECUTION, CONTEXT, STEP, WAIT, CALLBACK, CHAINED_INVOKE",
            op.id, op.op_type
        )));
    }
    Ok(operations)
}

/// The user's input: `ExecutionDetails.InputPayload` of the EXECUTION operation.
fn find_input(operations: &[Operation]) -> Result<Option<String>, InvocationError> {
    let execution = operations.iter().find(|op| op.op_type == OperationType::Execution).ok_or_else(|| {
        InvocationError::Envelope("the execution state has no EXECUTION operation, so there is no input".to_owned())
    })?;
    Ok(execution.execution_details.as_ref().and_then(|d| d.input_payload.as_ref()).map(|p| p.text().into_owned()))
}

enum Outcome<O> {
    Finished(Result<O, Error>),
    Suspended,
    Halted(DurableError),
}

/// Polls the handler and the checkpoint queue in one task until the handler finishes, the execution
/// must suspend, or something fatal happened; then flushes and builds the envelope.
async fn drive<O: Serialize>(
    exec: Arc<Execution>,
    body: BoxFuture<Result<O, Error>>,
) -> Result<InvocationOutput, InvocationError> {
    let mut body = Some(body);
    let mut pump = Pump::default();
    let outcome = std::future::poll_fn(|cx| {
        exec.set_driver(cx.waker());
        loop {
            if let Some(error) = exec.fatal() {
                return Poll::Ready(Outcome::Halted(error));
            }
            if exec.failure().is_some() {
                return Poll::Ready(Outcome::Suspended);
            }
            if let Some(fut) = body.as_mut() {
                if let Poll::Ready(result) = fut.as_mut().poll(cx) {
                    body = None;
                    return Poll::Ready(Outcome::Finished(result));
                }
            }
            if exec.fatal().is_some() {
                continue;
            }
            if pump.poll(&exec, cx) {
                continue;
            }
            if exec.suspendable() {
                return Poll::Ready(Outcome::Suspended);
            }
            return Poll::Pending;
        }
    })
    .await;
    // The handler may hold operations that count as parked; drop it before flushing.
    drop(body);
    let output = match outcome {
        Outcome::Suspended => InvocationOutput::pending(),
        Outcome::Halted(error) => InvocationOutput::failed(error.to_object()),
        Outcome::Finished(Err(error)) => InvocationOutput::failed(handler_error_object(error)),
        Outcome::Finished(Ok(value)) => match serde_json::to_string(&value) {
            Err(e) => InvocationOutput::failed(
                DurableError::new(ErrorKind::Serialization, format!("cannot serialize the workflow's result: {e}"))
                    .to_object(),
            ),
            Ok(result) if envelope_size(&result) > MAX_INLINE_RESULT_BYTES => {
                let mut update = OperationUpdate::new(
                    format!("execution-result-{}", Timestamp::now().as_millis()),
                    OperationType::Execution,
                    OperationAction::Succeed,
                );
                update.payload = Some(result);
                exec.enqueue(update);
                InvocationOutput::succeeded(String::new())
            }
            Ok(result) => InvocationOutput::succeeded(result),
        },
    };
    exec.flush_all();
    std::future::poll_fn(|cx| {
        exec.set_driver(cx.waker());
        while pump.poll(&exec, cx) {}
        if exec.failure().is_some() || exec.flushed() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    match exec.failure() {
        Some(error) if error.is_retryable() => Err(InvocationError::Checkpoint(error)),
        Some(error) => {
            Ok(InvocationOutput::failed(DurableError::new(ErrorKind::CheckpointFailed, error.to_string()).to_object()))
        }
        None => Ok(output),
    }
}

/// Bytes of the SUCCEEDED envelope carrying `result` (the result is escaped once more inside it).
fn envelope_size(result: &str) -> usize {
    serde_json::to_vec(&InvocationOutput::succeeded(result.to_owned())).map_or(usize::MAX, |v| v.len())
}

fn handler_error_object(error: Error) -> ErrorObject {
    match error.downcast::<DurableError>() {
        Ok(durable) => durable.to_object(),
        Err(other) => crate::error::error_object_of(other, ErrorKind::HandlerFailed.default_error_type()),
    }
}

type RequestFuture = BoxFuture<Result<(Option<String>, Vec<Operation>), CheckpointError>>;

/// Sends queued updates, one request at a time (a token is single-use).
#[derive(Default)]
struct Pump {
    in_flight: Option<(u64, RequestFuture)>,
    /// Wakes the driver when batched updates are due (see [`Batching`]).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Pump {
    /// Advances the in-flight request and starts the next one. True when a request completed, so the
    /// handler should be polled again (an operation may be waiting for exactly that).
    fn poll(&mut self, exec: &Arc<Execution>, cx: &mut std::task::Context<'_>) -> bool {
        let mut completed = false;
        loop {
            if let Some((end_seq, fut)) = self.in_flight.as_mut() {
                match fut.as_mut().poll(cx) {
                    Poll::Pending => return completed,
                    Poll::Ready(outcome) => {
                        exec.complete_request(*end_seq, outcome);
                        self.in_flight = None;
                        completed = true;
                    }
                }
            }
            let Some((batch, token)) = exec.next_request() else {
                let Some(due) = exec.hold_until() else {
                    self.timer = None;
                    return completed;
                };
                let due = tokio::time::Instant::from_std(due);
                match self.timer.as_mut() {
                    Some(timer) if timer.deadline() == due => {}
                    Some(timer) => timer.as_mut().reset(due),
                    None => self.timer = Some(Box::pin(tokio::time::sleep_until(due))),
                }
                match self.timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => {
                        self.timer = None;
                        continue;
                    }
                    _ => return completed,
                }
            };
            // The idempotency token is minted once per request; every transport retry reuses it.
            let request =
                CheckpointRequest { checkpoint_token: token, client_token: Some(uuid_v4()), updates: batch.updates };
            self.in_flight = Some((batch.end_seq, send(exec.client.clone(), exec.arn.clone(), request)));
        }
    }
}

/// One checkpoint call, followed by `GetDurableExecutionState` pages when the response was truncated.
fn send(client: Arc<dyn CheckpointClient>, arn: String, request: CheckpointRequest) -> RequestFuture {
    Box::pin(async move {
        let response = client.checkpoint(&arn, request).await?;
        let token = response.checkpoint_token;
        let state = response.new_execution_state.unwrap_or_default();
        let mut marker = state.next_page().map(str::to_owned);
        let mut operations = state.operations;
        while let (Some(m), Some(t)) = (marker.take(), token.as_deref()) {
            let page = client.get_state(&arn, t, Some(&m)).await?;
            marker = page.next_page().map(str::to_owned);
            operations.extend(page.operations);
        }
        Ok((token, operations))
    })
}
