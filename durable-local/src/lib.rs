//! The local durable service, as a library and as the `durable` command (`durable serve`): the
//! Lambda API of durable functions over real HTTP on `127.0.0.1`, backed by the in-memory service
//! and a SQLite store, hosting functions (Lambda bootstraps run through the Runtime API by a
//! [`FunctionHost`], or handlers of this process) and driving their executions with a scheduler,
//! and a runner that invokes one handler exactly as Lambda does.
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
//! - Every request but `/health` must be SigV4-signed with the service's own [`Credentials`]
//!   (generated from the operating system's random generator; with a store, kept in its directory
//!   and reused), or it is answered 403 with the AWS error (`MissingAuthenticationTokenException`,
//!   `UnrecognizedClientException`, `InvalidSignatureException`). [`LocalService::env_exports`]
//!   gives the shell lines that point the aws CLI or an SDK at the service; [`Auth::Off`] turns the
//!   check off, with a warning.
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
//! - Functions hosted by the service ([`LocalService::host`], [`LocalService::host_handler`]) are
//!   started by Invoke (`POST /2015-03-31/functions/{name}/invocations`, `RequestResponse` or
//!   `Event`, answering with `X-Amz-Durable-Execution-Arn`) and driven by the service's scheduler:
//!   it invokes an execution whenever the service would, fires timers (in real or
//!   [skipped](LocalService::skip_time) time), retries failed invocations and enforces execution
//!   timeouts. StopDurableExecution and ListDurableExecutionsByFunction are served too, and a
//!   chained invoke between hosted functions runs the target as an execution of its own.
//!
//! A [`LocalRunner`] drives its one function itself: a chained invoke from it stays pending.
//!
//! [`CheckpointError::classify`]: durable_runtime::checkpoint::CheckpointError::classify

pub mod auth;
mod driver;
mod error;
mod function;
mod host;
mod http;
mod inprocess;
mod lambda_api;
mod routes;
mod runner;
pub mod server;
mod shared;
mod sigv4;
mod store;
pub mod timeline;
mod web;

pub use auth::{env_exports, Credentials, CredentialsError};

pub use error::LocalError;
pub use function::{Function, FunctionSpec, InvokeFuture, RUNTIME_EXIT_ERROR_TYPE, TIMEOUT_ERROR_TYPE};
pub use host::{load_config, FunctionHost, FunctionLogs, HostError, HostOptions, LogLine, LogStream};
pub use http::Limits;
pub use runner::LocalRunner;
pub(crate) use shared::Shared;
pub use sigv4::MAX_SKEW;
pub use store::{Store, StoreError, SCHEMA_VERSION};

use durable_runtime::checkpoint::aws::{aws_sdk_lambda, AwsCheckpointClient};
use durable_runtime::checkpoint::memory::{ExecutionStatus, MemoryError, MemoryService};
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::protocol::ErrorObject;
use durable_runtime::Handler;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// `ErrorType` recorded for an invocation that was in flight when the local service stopped.
pub const SERVICE_STOPPED_ERROR_TYPE: &str = "Local.ServiceStopped";

/// Region of the `aws-sdk-lambda` clients pointed at the local service.
pub const LOCAL_REGION: &str = "us-east-1";

/// The credentials clients sign with when the service checks nothing ([`Auth::Off`]): SDKs and the
/// aws CLI refuse to send a request without some.
const UNCHECKED_ACCESS_KEY_ID: &str = "AKIDLOCAL";
const UNCHECKED_SECRET: &str = "local-secret";

/// How a service authenticates requests.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// SigV4 with the credentials of the store directory (created there on first start), or, without
    /// a store, fresh random ones. The default.
    #[default]
    Generated,
    /// SigV4 with these credentials.
    With(Credentials),
    /// No check: any process on this machine can drive executions. Logged as a warning.
    Off,
}

/// The local durable service: the control-plane API on `127.0.0.1` (see the [module docs](self)).
/// Stops when dropped.
pub struct LocalService {
    shared: Arc<Shared>,
    addr: SocketAddr,
    endpoint: String,
    accept: JoinHandle<()>,
    scheduler: JoinHandle<()>,
    /// The client of [`Self::lambda_client`], made on first use.
    client: std::sync::OnceLock<aws_sdk_lambda::Client>,
}

impl fmt::Debug for LocalService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalService")
            .field("endpoint", &self.endpoint)
            .field("store", &self.shared.store)
            .field("auth", &self.shared.auth)
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
        Self::start_with_auth(service, store, limits, port, Auth::Generated).await
    }

    /// [`Self::start_on_port`] with the given authentication ([`Auth::Generated`] everywhere else).
    pub async fn start_with_auth(
        service: MemoryService,
        store: Option<Store>,
        limits: Limits,
        port: u16,
        auth: Auth,
    ) -> Result<Self, LocalError> {
        let auth = match auth {
            Auth::Generated => Some(match store.as_ref().and_then(|s| s.path()).and_then(Path::parent) {
                Some(dir) => Credentials::load_or_create(dir)?,
                None => Credentials::generate()?,
            }),
            Auth::With(credentials) => Some(credentials),
            Auth::Off => None,
        };
        let store = store.map(Arc::new);
        let web = web::Web::new()?;
        let shared = Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            service,
            store,
            auth,
            writing: tokio::sync::Mutex::new(()),
            generation: std::sync::atomic::AtomicU64::new(0),
            commits: std::sync::Mutex::new(shared::Commits::default()),
            leader: Arc::new(tokio::sync::Mutex::new(())),
            committed: tokio::sync::watch::Sender::new(0),
            changes: Notify::new(),
            revision: tokio::sync::watch::Sender::new(0),
            driver: driver::Driver::default(),
            web,
        });
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
                shared.change(|| async { service.interrupt_invocation(&arn, error) }).await??;
            }
        }
        let bind = format!("127.0.0.1:{port}");
        let listener = TcpListener::bind(&bind).await.map_err(|e| LocalError::io(format!("binding {bind}"), e))?;
        let addr = listener.local_addr().map_err(|e| LocalError::io("reading the bound address", e))?;
        let endpoint = format!("http://{addr}");
        if shared.auth.is_none() {
            tracing::warn!(
                %endpoint,
                "local durable service: authentication is OFF: any process on this machine can start, drive, \
                 answer and read durable executions through this endpoint"
            );
        }
        let accept = tokio::spawn(http::accept_loop(listener, Arc::clone(&shared), limits));
        let scheduler = tokio::spawn(driver::run(Arc::clone(&shared)));
        Ok(Self { shared, addr, endpoint, accept, scheduler, client: std::sync::OnceLock::new() })
    }

    /// A service over the executions of the database at `path`, for reading them while no service
    /// runs on it: loaded once, nothing written back (an invocation that was in flight stays so),
    /// nothing scheduled, on an ephemeral port with fresh credentials.
    pub async fn open_read_only(path: impl Into<PathBuf>) -> Result<Self, LocalError> {
        let path = path.into();
        let stored = tokio::task::spawn_blocking(move || Store::open_to_read(path).and_then(|store| store.load_all()))
            .await
            .map_err(|e| LocalError::io("loading the store", std::io::Error::other(e)))??;
        let service = MemoryService::new();
        for rows in stored {
            service.restore(rows)?;
        }
        let _ = service.take_changes();
        Self::start_on(service, None).await
    }

    /// The socket address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The web page's address with its secret token, `http://127.0.0.1:<port>/?token=…`: opening it
    /// exchanges the token for a session cookie (see `durable serve`). Treat it as a password.
    pub fn web_url(&self) -> String {
        format!("{}/?token={}", self.endpoint, self.shared.web.token())
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

    /// The credentials requests must be signed with; `None` when the service checks nothing
    /// ([`Auth::Off`]).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.shared.auth.as_ref()
    }

    /// The credentials clients sign with: the service's, or placeholder ones when it checks nothing.
    pub fn client_credentials(&self) -> Credentials {
        self.shared.auth.clone().unwrap_or_else(|| Credentials::new(UNCHECKED_ACCESS_KEY_ID, UNCHECKED_SECRET))
    }

    /// The environment variables that point the aws CLI or an AWS SDK at this service (endpoint,
    /// [client credentials](Self::client_credentials), region), for child processes.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        auth::env_vars(&self.endpoint, &self.client_credentials())
    }

    /// [`Self::env_vars`] as the `export NAME='value'` lines `durable env` prints.
    pub fn env_exports(&self) -> String {
        env_exports(&self.endpoint, &self.client_credentials())
    }

    /// An `aws-sdk-lambda` client for this endpoint, signing with the [client
    /// credentials](Self::client_credentials), in region [`LOCAL_REGION`]. Every call returns the
    /// same client (a cheap handle), so its callers share one pool of connections: making a client
    /// builds a TLS configuration from the system's root certificates, which took 6 % of the CPU of
    /// the store bench's concurrent runs when each execution made its own.
    pub fn lambda_client(&self) -> aws_sdk_lambda::Client {
        self.client.get_or_init(|| lambda_client(&self.endpoint, &self.client_credentials())).clone()
    }

    /// The checkpoint client a function uses to reach this service over HTTP.
    pub fn checkpoint_client(&self) -> AwsCheckpointClient {
        AwsCheckpointClient::from_client(self.lambda_client())
    }

    /// Hosts `function` under `name`: Invoke starts executions of it, and the service invokes them
    /// whenever they need it (see [`Self::host_handler`] for a handler of this process).
    /// `execution_timeout` is the executions' `ExecutionTimeout`; past it they end TIMED_OUT.
    pub fn host(&self, name: &str, function: Arc<dyn Function>, execution_timeout: Duration) {
        let hosted = driver::Hosted { function, execution_timeout: execution_timeout.as_secs().max(1), durable: true };
        self.shared.driver.host(name, hosted);
    }

    /// Hosts a plain (not durable) Lambda function under `name`: Invoke answers with its response
    /// (no durable execution), and a chained invoke of it completes with its response or error.
    pub fn host_plain(&self, name: &str, function: Arc<dyn Function>) {
        let execution_timeout = FunctionSpec::DEFAULT_EXECUTION_TIMEOUT.as_secs();
        self.shared.driver.host(name, driver::Hosted { function, execution_timeout, durable: false });
    }

    /// Hosts a handler of this process under `name`, invoked as Lambda would invoke it (through
    /// [`lambda::service`](durable_runtime::lambda::service)), its checkpoints going over HTTP,
    /// with the default execution timeout (one day).
    pub fn host_handler<H, I, O>(&self, name: &str, handler: H)
    where
        H: Handler<I, O>,
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
    {
        self.host(name, self.in_process(handler), FunctionSpec::DEFAULT_EXECUTION_TIMEOUT);
    }

    /// A handler of this process as a [`Function`] of this service, for [`Self::host`]: invoked
    /// through [`lambda::service`](durable_runtime::lambda::service), its checkpoints going over HTTP.
    pub fn in_process<H, I, O>(&self, handler: H) -> Arc<dyn Function>
    where
        H: Handler<I, O>,
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
    {
        let client: Arc<dyn CheckpointClient> = Arc::new(self.checkpoint_client());
        let function = durable_runtime::lambda::service(handler).client(client);
        Arc::new(inprocess::InProcess::new(function))
    }

    /// The names of the hosted functions, sorted.
    pub fn functions(&self) -> Vec<String> {
        self.shared.driver.function_names()
    }

    /// `true`: while no invocation of a hosted function runs, the clock jumps to the next timer
    /// (waits and retry delays complete at once; recorded durations stay the real ones).
    pub fn skip_time(&self, skip: bool) {
        self.shared.driver.set_skip_time(skip);
    }

    /// The history of the execution `arn` as GetDurableExecutionHistory answers it (JSON events,
    /// timestamps in epoch seconds), all of it; empty for an unknown execution.
    pub fn history_json(&self, arn: &str) -> Vec<serde_json::Value> {
        routes::api_history(&self.shared.service, arn)
    }

    /// Waits until the execution `arn` has finished; its status then.
    pub async fn finished(&self, arn: &str) -> Result<ExecutionStatus, LocalError> {
        wait_finished(&self.shared, arn).await
    }

    /// Stops listening. Requests being served finish on their own.
    pub fn shutdown(self) {}
}

/// Waits until the execution `arn` has finished.
pub(crate) async fn wait_finished(shared: &Shared, arn: &str) -> Result<ExecutionStatus, LocalError> {
    let mut revisions = shared.revision.subscribe();
    loop {
        let status = shared
            .service
            .execution_status(arn)
            .ok_or_else(|| LocalError::Service(MemoryError::UnknownExecution(arn.to_owned())))?;
        if status.is_terminal() {
            return Ok(status);
        }
        // Marks the current revision seen before looking again, so no change is missed.
        if revisions.changed().await.is_err() {
            return Err(LocalError::Service(MemoryError::UnknownExecution(arn.to_owned())));
        }
    }
}

impl Drop for LocalService {
    fn drop(&mut self) {
        self.accept.abort();
        self.scheduler.abort();
    }
}

/// An `aws-sdk-lambda` client for `endpoint`, signing with `credentials`, in region [`LOCAL_REGION`].
pub fn lambda_client(endpoint: &str, credentials: &Credentials) -> aws_sdk_lambda::Client {
    use aws_sdk_lambda::config::{BehaviorVersion, Region};
    let provider = aws_sdk_lambda::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        None,
        None,
        "durable-local",
    );
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(provider)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}
