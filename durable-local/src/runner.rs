//! [`LocalRunner`]: runs a handler end to end on a [`LocalService`], invoking it through
//! [`lambda::service`](durable_runtime::lambda::service) with an `aws-sdk-lambda` checkpoint client pointed at
//! the service, and re-invoking it the way the service does.

use super::inprocess::InProcess;
use super::{driver, LocalError, LocalService};
use durable_runtime::checkpoint::memory::{InvocationRecord, MemoryError};
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::lambda::{self, DurableService};
use durable_runtime::protocol::ids::uuid_v4;
use durable_runtime::testing::{TestResult, DEFAULT_FUNCTION_NAME, DEFAULT_MAX_INVOCATIONS};
use durable_runtime::{Handler, Options};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Called with each invocation's record as soon as it completes.
type InvocationHook = Arc<dyn Fn(&InvocationRecord) + Send + Sync>;

/// Runs a durable handler on an embedded [`LocalService`] (see the [module docs](super)).
///
/// The service starts on first use (an ephemeral port on `127.0.0.1`, the [store](Self::store) if
/// one is set) and stops when the runner is dropped. Per invocation the runner builds the envelope,
/// calls the handler's [`DurableService`] with it (the function's checkpoint and state calls go
/// over HTTP through `aws-sdk-lambda`), and records the outcome; then
/// - the execution finished → done;
/// - the invocation failed (for example a stale checkpoint token) → invoke again at once (after more
///   than five failures in a row the service fails the execution);
/// - PENDING → wait for the next timer (a wait's end, a retry delay, a callback timeout), in real
///   time or, with [`skip_time`](Self::skip_time), by moving the service's clock to it; a callback
///   answered over HTTP wakes the runner early. With nothing that time can wake (a callback without
///   a timeout) the run returns with status RUNNING; [`resume`](Self::resume) continues it.
pub struct LocalRunner<H, I, O> {
    function: DurableService<H, I, O>,
    function_name: String,
    store: Option<PathBuf>,
    skip_time: bool,
    max_invocations: usize,
    on_invocation: Option<InvocationHook>,
    server: OnceCell<LocalService>,
}

impl<H, I, O> fmt::Debug for LocalRunner<H, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRunner")
            .field("function_name", &self.function_name)
            .field("store", &self.store)
            .field("skip_time", &self.skip_time)
            .field("max_invocations", &self.max_invocations)
            .field("server", &self.server.get())
            .finish_non_exhaustive()
    }
}

impl<H, I, O> LocalRunner<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    /// A runner for `handler`: no store, real time.
    pub fn new(handler: H) -> Self {
        Self {
            function: lambda::service(handler),
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            store: None,
            skip_time: false,
            max_invocations: DEFAULT_MAX_INVOCATIONS,
            on_invocation: None,
            server: OnceCell::new(),
        }
    }

    /// Keeps executions in the SQLite database file `path` (created if needed, see
    /// [`Store::open`](crate::Store::open)) and picks up the executions already there.
    #[must_use]
    pub fn store(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = Some(path.into());
        self
    }

    /// `true`: waits and retry delays complete at once (the service's clock jumps to the next timer;
    /// recorded durations stay the real ones). `false` (the default): they take real time.
    #[must_use]
    pub fn skip_time(mut self, skip: bool) -> Self {
        self.skip_time = skip;
        self
    }

    /// The function name in execution ARNs (default [`DEFAULT_FUNCTION_NAME`]).
    #[must_use]
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = name.into();
        self
    }

    /// Gives up with [`LocalError::MaxInvocations`] after `n` invocations in one call (default
    /// [`DEFAULT_MAX_INVOCATIONS`]).
    #[must_use]
    pub fn max_invocations(mut self, n: usize) -> Self {
        self.max_invocations = n;
        self
    }

    /// The runtime options every invocation uses.
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.function = self.function.options(options);
        self
    }

    /// Calls `hook` with each invocation's record as soon as the invocation completes.
    #[must_use]
    pub fn on_invocation(mut self, hook: impl Fn(&InvocationRecord) + Send + Sync + 'static) -> Self {
        self.on_invocation = Some(Arc::new(hook));
        self
    }

    /// The running service, started on first use.
    pub async fn server(&self) -> Result<&LocalService, LocalError> {
        self.server
            .get_or_try_init(|| async {
                match &self.store {
                    Some(path) => LocalService::start_with_store(path.clone()).await,
                    None => LocalService::start().await,
                }
            })
            .await
    }

    /// Starts an execution with `input` (serialized to JSON) and runs it until it finishes, or
    /// suspends with nothing that time can wake. The result is the in-process runner's
    /// [`TestResult`].
    pub async fn run<T: Serialize>(&self, input: T) -> Result<TestResult, LocalError> {
        let arn = self.start(input).await?;
        self.resume(&arn).await
    }

    /// Starts an execution with `input` without invoking it; returns its ARN.
    pub async fn start<T: Serialize>(&self, input: T) -> Result<String, LocalError> {
        let payload = serde_json::to_string(&input).map_err(|e| LocalError::Input(e.to_string()))?;
        let server = self.server().await?;
        server.change(|service| service.start_execution(&self.function_name, Some(payload))).await
    }

    /// Runs the execution `arn` (started by [`Self::start`], or found in the store) until it
    /// finishes or suspends with nothing that time can wake.
    pub async fn resume(&self, arn: &str) -> Result<TestResult, LocalError> {
        self.drive(arn, None).await
    }

    /// Runs the execution `arn` until the callback named `name` waits for an answer, and stops there
    /// before time moves on (with skipped time, its timeout has not fired). Answer it over HTTP or
    /// through the service, then [`resume`](Self::resume). Fails with
    /// [`LocalError::CallbackNotPending`] when the run ends without that callback waiting.
    pub async fn resume_until_callback(&self, arn: &str, name: &str) -> Result<TestResult, LocalError> {
        let result = self.drive(arn, Some(name)).await?;
        let server = self.server().await?;
        if server.service().pending_callback(arn, name).is_some() {
            return Ok(result);
        }
        Err(LocalError::CallbackNotPending { name: name.to_owned(), arn: arn.to_owned() })
    }

    async fn drive(&self, arn: &str, until_callback: Option<&str>) -> Result<TestResult, LocalError> {
        let server = self.server().await?;
        let service = server.service();
        let client: Arc<dyn CheckpointClient> = Arc::new(server.checkpoint_client());
        let function = InProcess::new(self.function.clone().client(client));
        let mut invocations = 0;
        loop {
            let status = service
                .execution_status(arn)
                .ok_or_else(|| LocalError::Service(MemoryError::UnknownExecution(arn.to_owned())))?;
            if status.is_terminal() {
                break;
            }
            if service.needs_invocation(arn) {
                if invocations >= self.max_invocations {
                    return Err(LocalError::MaxInvocations { limit: self.max_invocations, arn: arn.to_owned() });
                }
                invocations += 1;
                self.invoke_once(server, &function, arn).await?;
                continue;
            }
            if until_callback.is_some_and(|name| service.pending_callback(arn, name).is_some()) {
                break;
            }
            let Some(wake) = service.next_timer(arn) else { break };
            if self.skip_time {
                server.change(|service| service.advance_to(arn, wake)).await?;
            } else {
                let delay = wake.since(service.now());
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = server.changed() => {}
                }
                server.change(|service| service.advance(Duration::ZERO)).await?;
            }
        }
        Ok(TestResult::collect(service, arn))
    }

    /// The ARNs of the executions the service holds (those of the store included), sorted.
    pub async fn executions(&self) -> Result<Vec<String>, LocalError> {
        let mut arns = self.server().await?.service().executions();
        arns.sort();
        Ok(arns)
    }

    async fn invoke_once(
        &self,
        server: &LocalService,
        function: &InProcess<H, I, O>,
        arn: &str,
    ) -> Result<(), LocalError> {
        let service = server.service();
        let envelope = server.change(|service| service.invocation_input(arn)).await??;
        let request_id = service.current_request_id(arn).unwrap_or_else(uuid_v4);
        let outcome = driver::invoke_durable(function, &envelope, &request_id).await;
        server.change(|service| service.complete_invocation(arn, outcome)).await??;
        if let (Some(hook), Some(record)) = (&self.on_invocation, service.invocations(arn).last()) {
            hook(record);
        }
        Ok(())
    }
}
