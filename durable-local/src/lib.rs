//! The embedded local durable service: the durable-execution control plane over real HTTP on
//! `127.0.0.1`, backed by the in-memory service and a SQLite store, and a runner that invokes a
//! handler exactly as Lambda does.
//!
//! - [`LocalService`] serves the control-plane routes of the protocol (§2.1) on an ephemeral port:
//!   `POST …/durable-executions/{arn}/checkpoint`, `GET …/state`, `GET …/durable-executions/{arn}`
//!   (GetDurableExecution), `GET …/history`, and the callback routes
//!   `POST …/durable-execution-callbacks/{id}/succeed|fail|heartbeat`. Errors are AWS JSON errors
//!   (`x-amzn-errortype` header, `__type` and `message` members) with the statuses the real service
//!   uses, so `aws-sdk-lambda` decodes them and [`CheckpointError::classify`] classifies them (a
//!   stale token is HTTP 400 `InvalidParameterValueException` "Invalid Checkpoint Token…", retryable).
//!   Timestamps in responses are epoch seconds.
//! - [`Store`] is a SQLite database (default [`server::DEFAULT_STORE`], `.durable/durable.db`)
//!   that journals the service: executions, operations, history events, callbacks, timers and
//!   invocations are rows, and every change (a checkpoint, a callback answer, an invocation's start
//!   or end, a timer firing) is one transaction of the rows it touched, committed before the
//!   response is sent. A write that fails is answered 503 `ServiceException` (retryable) and
//!   changes nothing: the service is put back to what the database holds. Rejected requests write
//!   nothing. A service started on the same database picks the executions up where they were; an
//!   invocation that was in flight when the service stopped is recorded as failed
//!   (`Local.ServiceStopped`) and the execution is invoked again, as Lambda retries a failed
//!   invocation.
//! - [`LocalRunner`] starts a service and runs a handler end to end through
//!   [`lambda::service`](durable_runtime::lambda::service), with an
//!   [`AwsCheckpointClient`] whose `aws-sdk-lambda` client points at the service: every checkpoint and
//!   state call goes over HTTP. Waits and retry delays take real time unless time skipping is on.
//!   A run returns the in-process runner's [`TestResult`](durable_runtime::testing::TestResult).
//!
//! ```no_run
//! use durable_local::LocalRunner;
//! use durable_runtime::{DurableContext, Error};
//! use std::time::Duration;
//!
//! async fn greet(ctx: DurableContext, name: String) -> Result<String, Error> {
//!     let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await?;
//!     ctx.wait(Duration::from_secs(60)).await?;
//!     Ok(greeting)
//! }
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runner = LocalRunner::new(greet).store(".durable/durable.db").skip_time(true);
//! let result = runner.run("Ada").await?;
//! assert_eq!(result.output::<String>()?, "Hello, Ada!");
//! # Ok(())
//! # }
//! ```
//!
//! Not served: StopDurableExecution, ListDurableExecutionsByFunction. The runner runs one function:
//! a chained invoke of another function stays pending.
//!
//! [`CheckpointError::classify`]: durable_runtime::checkpoint::CheckpointError::classify

mod function;
mod http;
mod routes;
mod runner;
pub mod server;
mod store;

pub use function::{Function, FunctionSpec, InvokeFuture, RUNTIME_EXIT_ERROR_TYPE, TIMEOUT_ERROR_TYPE};
pub use http::Limits;
pub use runner::LocalRunner;
pub use store::{Store, StoreError, SCHEMA_VERSION};

use durable_runtime::checkpoint::aws::{aws_sdk_lambda, AwsCheckpointClient};
use durable_runtime::checkpoint::memory::{MemoryError, MemoryService};
use durable_runtime::protocol::ErrorObject;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// `ErrorType` recorded for an invocation that was in flight when the local service stopped.
pub const SERVICE_STOPPED_ERROR_TYPE: &str = "Local.ServiceStopped";

/// Region of the `aws-sdk-lambda` clients pointed at the local service.
pub const LOCAL_REGION: &str = "us-east-1";

/// An error of the local service or runner.
#[derive(Debug)]
#[non_exhaustive]
pub enum LocalError {
    /// A file-system or socket operation failed.
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The store could not be opened, written or read back.
    Store(StoreError),
    /// The service refused a call (unknown or finished execution).
    Service(MemoryError),
    /// The run ended without the callback it was to stop at ever waiting for an answer.
    CallbackNotPending {
        /// The callback's name.
        name: String,
        /// The execution.
        arn: String,
    },
    /// The input could not be serialized.
    Input(String),
    /// The execution was still running after the invocation limit.
    MaxInvocations {
        /// The limit.
        limit: usize,
        /// The execution.
        arn: String,
    },
}

impl LocalError {
    fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { context, source } => write!(f, "local durable service: {context}: {source}"),
            Self::Store(e) => write!(f, "local durable store: {e}"),
            Self::Service(e) => write!(f, "local durable service: {e}"),
            Self::CallbackNotPending { name, arn } => {
                write!(f, "execution `{arn}` stopped without a callback named `{name}` waiting for an answer")
            }
            Self::Input(e) => write!(f, "the input does not serialize: {e}"),
            Self::MaxInvocations { limit, arn } => {
                write!(f, "execution `{arn}` still running after {limit} invocations")
            }
        }
    }
}

impl std::error::Error for LocalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Service(e) => Some(e),
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for LocalError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<MemoryError> for LocalError {
    fn from(e: MemoryError) -> Self {
        Self::Service(e)
    }
}

/// What the connection tasks share.
pub(crate) struct Shared {
    pub(crate) service: MemoryService,
    store: Option<Arc<Store>>,
    /// Held while a change is made and committed, so a failed commit puts back exactly the
    /// executions that change touched.
    writing: tokio::sync::Mutex<()>,
    changes: Notify,
}

impl Shared {
    /// Runs `change` on the service, alone, then commits what it changed in one transaction before
    /// returning its output. `Err` when the store could not write it: the service is back to what
    /// the store holds, and the change must not be acknowledged.
    pub(crate) async fn change<T, F: Future<Output = T>>(&self, change: impl FnOnce() -> F) -> Result<T, StoreError> {
        let Some(store) = &self.store else { return Ok(change().await) };
        let _writing = self.writing.lock().await;
        let out = change().await;
        self.commit_locked(store).await?;
        Ok(out)
    }

    /// Commits the service's pending changes (the caller holds `writing`) on a blocking thread.
    async fn commit_locked(&self, store: &Arc<Store>) -> Result<(), StoreError> {
        let (store, service) = (Arc::clone(store), self.service.clone());
        let committed = tokio::task::spawn_blocking(move || store.commit(&service)).await.unwrap_or_else(|e| {
            Err(StoreError::Io { path: PathBuf::new(), context: "committing", source: std::io::Error::other(e) })
        });
        if let Err(e) = &committed {
            tracing::error!(error = %e, "local durable service: store write failed; the change is not acknowledged");
        }
        committed
    }

    /// Wakes whoever waits for a request to change an execution ([`LocalService::changed`]).
    pub(crate) fn notify(&self) {
        self.changes.notify_one();
    }
}

/// The local durable service: the control-plane API on `127.0.0.1` (see the [module docs](self)).
/// Stops when dropped.
pub struct LocalService {
    shared: Arc<Shared>,
    addr: SocketAddr,
    endpoint: String,
    accept: JoinHandle<()>,
}

impl fmt::Debug for LocalService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalService")
            .field("endpoint", &self.endpoint)
            .field("store", &self.shared.store)
            .finish_non_exhaustive()
    }
}

impl LocalService {
    /// Starts a service with no store (state lives as long as the service) on an ephemeral port.
    pub async fn start() -> Result<Self, LocalError> {
        Self::start_on(MemoryService::new(), None).await
    }

    /// Starts a service on the database file `path` (created if needed, see [`Store::open`]), with
    /// every execution the database holds.
    pub async fn start_with_store(path: impl Into<PathBuf>) -> Result<Self, LocalError> {
        let path = path.into();
        let store = tokio::task::spawn_blocking(move || Store::open(path))
            .await
            .map_err(|e| LocalError::io("opening the store", std::io::Error::other(e)))??;
        Self::start_on(MemoryService::new(), Some(store)).await
    }

    /// Starts a service over `service`, persisting to `store` when given (executions in the store
    /// are restored into `service` first).
    pub async fn start_on(service: MemoryService, store: Option<Store>) -> Result<Self, LocalError> {
        Self::start_with_limits(service, store, Limits::default()).await
    }

    /// [`Self::start_on`] with other client limits (timeouts, connections).
    pub async fn start_with_limits(
        service: MemoryService,
        store: Option<Store>,
        limits: Limits,
    ) -> Result<Self, LocalError> {
        Self::start_on_port(service, store, limits, 0).await
    }

    /// [`Self::start_with_limits`] on `127.0.0.1:port` (`0`: an ephemeral port).
    pub async fn start_on_port(
        service: MemoryService,
        store: Option<Store>,
        limits: Limits,
        port: u16,
    ) -> Result<Self, LocalError> {
        let store = store.map(Arc::new);
        let shared = Arc::new(Shared { service, store, writing: tokio::sync::Mutex::new(()), changes: Notify::new() });
        if let Some(store) = &shared.store {
            let loading = Arc::clone(store);
            let stored = tokio::task::spawn_blocking(move || loading.load_all())
                .await
                .map_err(|e| LocalError::io("loading the store", std::io::Error::other(e)))??;
            let mut stopped = Vec::new();
            for rows in stored {
                if rows.meta.invocation_in_flight() {
                    stopped.push(rows.arn.clone());
                }
                shared.service.restore(rows)?;
            }
            // Restored rows are what the store holds: nothing to write back but these outcomes.
            let _ = shared.service.take_changes();
            for arn in stopped {
                let error = ErrorObject {
                    error_type: Some(SERVICE_STOPPED_ERROR_TYPE.to_owned()),
                    error_message: Some("the local durable service stopped during this invocation".to_owned()),
                    ..Default::default()
                };
                let service = &shared.service;
                shared.change(|| async { service.complete_invocation(&arn, Err(error)) }).await??;
            }
        }
        let bind = format!("127.0.0.1:{port}");
        let listener = TcpListener::bind(&bind).await.map_err(|e| LocalError::io(format!("binding {bind}"), e))?;
        let addr = listener.local_addr().map_err(|e| LocalError::io("reading the bound address", e))?;
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared), limits));
        Ok(Self { shared, addr, endpoint: format!("http://{addr}"), accept })
    }

    /// The socket address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The in-memory service behind the API (inspect state). Change it through [`Self::change`],
    /// which stores the change; a change made directly is stored by the next [`Self::commit`] or
    /// request, and is not rolled back if that write fails.
    pub fn service(&self) -> &MemoryService {
        &self.shared.service
    }

    /// The store, if the service has one.
    pub fn store(&self) -> Option<&Store> {
        self.shared.store.as_deref()
    }

    /// Runs `change` on the service (start an execution, build an envelope, record an outcome, move
    /// the clock), with no request changing it meanwhile, and commits what it changed in one
    /// transaction. If the store cannot write it, the service is put back to what the store holds
    /// and the error is returned.
    pub async fn change<T>(&self, change: impl FnOnce(&MemoryService) -> T) -> Result<T, LocalError> {
        let service = &self.shared.service;
        Ok(self.shared.change(|| async { change(service) }).await?)
    }

    /// Commits the changes made through [`Self::service`] directly (nothing without a store).
    pub async fn commit(&self) -> Result<(), LocalError> {
        self.change(|_| ()).await
    }

    /// Waits until a request changed an execution (a checkpoint or a callback answer).
    pub async fn changed(&self) {
        self.shared.changes.notified().await;
    }

    /// An `aws-sdk-lambda` client for this endpoint, with static test credentials and region
    /// [`LOCAL_REGION`].
    pub fn lambda_client(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.endpoint)
    }

    /// The checkpoint client a function uses to reach this service over HTTP.
    pub fn checkpoint_client(&self) -> AwsCheckpointClient {
        AwsCheckpointClient::from_client(self.lambda_client())
    }

    /// Stops listening. Requests being served finish on their own.
    pub fn shutdown(self) {}
}

impl Drop for LocalService {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// An `aws-sdk-lambda` client for `endpoint`, with static test credentials and region [`LOCAL_REGION`].
pub fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new("AKIDLOCAL", "local-secret", None, None, "durable-local"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, limits: Limits) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    loop {
        // At most `max_connections` at once: the next client waits in the listen backlog.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { return };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move {
                    let response = match http::read(request, &limits).await {
                        Ok(request) => routes::handle(&shared, request).await,
                        Err(response) => response,
                    };
                    Ok::<_, std::convert::Infallible>(response.into_hyper())
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout)
                .max_buf_size(http::MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away or breaks the protocol only ends its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
}
