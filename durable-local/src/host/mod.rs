//! Hosting unmodified Lambda bootstraps as child processes through the Lambda Runtime API: the
//! [`FunctionHost`] and its sandboxes ([`process`]), the Runtime API each sandbox serves
//! ([`runtime_api`]), captured output ([`logs`]), and `durable.toml` ([`config`]).

mod config;
mod error;
mod logs;
mod process;
mod runtime_api;

pub use config::load_config;
pub use error::HostError;
pub use logs::{FunctionLogs, LogLine, LogStream};

use crate::{Function, FunctionSpec, InvokeFuture, LocalError, TIMEOUT_ERROR_TYPE};
use durable_runtime::protocol::ErrorObject;
use process::{Event, Outcome, Sandbox};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{oneshot, Semaphore};

/// `ErrorType` of an invocation whose process could not be started.
pub(crate) const INVALID_ENTRYPOINT_ERROR_TYPE: &str = "Runtime.InvalidEntrypoint";

/// How a [`FunctionHost`] runs its processes, beyond the [`FunctionSpec`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HostOptions {
    /// Forward every output line to standard error, prefixed `[NAME]` (default `true`).
    pub forward_logs: bool,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB (default 128). Not enforced.
    pub memory_size_mb: u32,
    /// Output lines kept for [`FunctionHost::logs`] (default 10 000; older lines are dropped).
    pub log_capacity: usize,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self { forward_logs: true, memory_size_mb: 128, log_capacity: 10_000 }
    }
}

impl HostOptions {
    /// Sets [`Self::forward_logs`].
    #[must_use]
    pub fn forward_logs(mut self, forward: bool) -> Self {
        self.forward_logs = forward;
        self
    }

    /// Sets [`Self::memory_size_mb`].
    #[must_use]
    pub fn memory_size_mb(mut self, megabytes: u32) -> Self {
        self.memory_size_mb = megabytes;
        self
    }

    /// Sets [`Self::log_capacity`].
    #[must_use]
    pub fn log_capacity(mut self, lines: usize) -> Self {
        self.log_capacity = lines;
        self
    }
}

/// Runs the processes ("sandboxes") of one Lambda bootstrap, built by `cargo lambda build` or
/// `cargo build`, and invokes them through the Lambda Runtime API.
///
/// Each sandbox gets a Runtime API listener of its own on `127.0.0.1`, so the process behind every
/// request is known. An invocation goes to an idle sandbox, or to a new one while fewer than
/// [`FunctionSpec::max_processes`] run, or waits for one; sandboxes stay warm between invocations.
/// A process gets the spec's environment, then the host's extra environment, then the variables
/// Lambda reserves (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`,
/// `AWS_LAMBDA_FUNCTION_VERSION=$LATEST`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
/// `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// `_HANDLER`, `LAMBDA_TASK_ROOT`); the region is the `AWS_REGION` given in the extra or the
/// spec's environment, else [`LOCAL_REGION`](crate::LOCAL_REGION).
///
/// As in Lambda:
/// - a process that exits during an invocation fails it with `Runtime.ExitError`
///   (`RequestId: … Error: Runtime exited with error: exit status 1`), and the next invocation starts
///   a fresh process;
/// - an invocation still running after [`FunctionSpec::timeout`] is `Sandbox.Timedout`
///   (`RequestId: … Error: Task timed out after 3.00 seconds`), and its process is killed. The
///   timeout counts from the moment the invocation is handed to a sandbox, so a cold start's
///   initialization counts too;
/// - a function error (`/invocation/{id}/error`) is the runtime's `errorType` and `errorMessage`,
///   and the process stays warm;
/// - `/runtime/init/error` fails the invocation with the runtime's error (`Runtime.InitError`), and
///   the process is killed;
/// - a response over 6 MB is `Function.ResponseSizeTooLarge`;
/// - a process that cannot be started is `Runtime.InvalidEntrypoint`.
///
/// Every process is killed when the host is dropped ([`Self::shutdown`] also waits until they are
/// gone). A host killed outright leaves processes whose Runtime API is gone: the runtime's next
/// request fails and the bootstrap exits on its own.
///
/// The processes' output is forwarded to standard error, each line prefixed `[NAME]`
/// ([`HostOptions::forward_logs`]), and kept in [`Self::logs`] for readers (the function's
/// CloudWatch Logs, locally).
///
/// ```no_run
/// use durable_local::{Function, FunctionHost, FunctionSpec, LocalService};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let service = LocalService::start().await?;
/// let env = vec![("AWS_ENDPOINT_URL_LAMBDA".to_owned(), service.endpoint().to_owned())];
/// let host = FunctionHost::start(FunctionSpec::parse_cli("orders=target/lambda/orders/bootstrap")?, env)?;
/// let response = host.invoke(br#"{"order": 1}"#.to_vec(), "request-1").await;
/// println!("{response:?}, output: {:?}", host.logs().stdout());
/// # Ok(())
/// # }
/// ```
pub struct FunctionHost {
    spec: FunctionSpec,
    env: Vec<(String, String)>,
    options: HostOptions,
    logs: Arc<FunctionLogs>,
    /// One permit per process allowed: an invocation holds one while it runs.
    permits: Semaphore,
    pool: Mutex<Pool>,
}

#[derive(Default)]
struct Pool {
    /// Sandboxes waiting for an invocation, most recently used last.
    idle: Vec<Arc<Sandbox>>,
    /// Every sandbox not yet retired.
    all: Vec<Arc<Sandbox>>,
}

impl fmt::Debug for FunctionHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionHost").field("spec", &self.spec).field("pids", &self.pids()).finish_non_exhaustive()
    }
}

impl FunctionHost {
    /// Hosts `spec`, with `env` added to every process's environment after the spec's own (the
    /// service's `AWS_ENDPOINT_URL_LAMBDA`, credentials and region). Processes start on demand.
    ///
    /// Fails when the spec is invalid or its command cannot be run (it names the path and says
    /// what to do).
    pub fn start(spec: FunctionSpec, env: Vec<(String, String)>) -> Result<Self, LocalError> {
        Self::start_with_options(spec, env, HostOptions::default())
    }

    /// [`Self::start`] with other [`HostOptions`].
    pub fn start_with_options(
        spec: FunctionSpec,
        env: Vec<(String, String)>,
        options: HostOptions,
    ) -> Result<Self, LocalError> {
        let invalid = |message: String| HostError::Spec { function: spec.name.clone(), message };
        config::check_name(&spec.name).map_err(|m| invalid(format!("invalid name: {m}")))?;
        if spec.max_processes == 0 {
            return Err(invalid("`max_processes` must be at least 1".to_owned()).into());
        }
        if spec.timeout.is_zero() {
            return Err(invalid("the timeout must be more than zero".to_owned()).into());
        }
        process::resolve_command(&spec.command).map_err(|source| HostError::Spawn {
            function: spec.name.clone(),
            command: spec.command.clone(),
            source,
        })?;
        Ok(Self {
            permits: Semaphore::new(spec.max_processes),
            logs: Arc::new(FunctionLogs::new(options.log_capacity)),
            pool: Mutex::new(Pool::default()),
            spec,
            env,
            options,
        })
    }

    /// The hosted function.
    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// The output of the function's processes.
    pub fn logs(&self) -> &FunctionLogs {
        &self.logs
    }

    /// The ids of the processes running now (idle or busy).
    pub fn pids(&self) -> Vec<u32> {
        self.pool().all.iter().filter(|s| !s.is_dead()).map(|s| s.pid).collect()
    }

    /// Kills every process and waits until they are gone.
    pub async fn shutdown(self) {
        let sandboxes = std::mem::take(&mut self.pool().all);
        for sandbox in &sandboxes {
            sandbox.kill_and_wait().await;
        }
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(&self, payload: Vec<u8>, request_id: &str) -> Outcome {
        // At most `max_processes` invocations hold a sandbox; the rest wait here, first come first served.
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(host_error("Runtime.Unavailable", "the function host is shutting down".to_owned()));
        };
        let deadline_ms = epoch_ms(SystemTime::now() + self.spec.timeout);
        let (sandbox, reply) = loop {
            let sandbox = match self.take_idle() {
                Some(sandbox) => sandbox,
                None => self.spawn().await?,
            };
            let (reply, outcome) = oneshot::channel();
            let event = Event { request_id: request_id.to_owned(), payload: payload.clone(), deadline_ms };
            if sandbox.assign(event, reply) {
                break (sandbox, outcome);
            }
            // It died while idle: retire it and try another.
            self.retire(&sandbox);
        };
        // If the caller stops waiting, the process is still busy with the invocation: retire it.
        let mut guard = Retire { host: self, sandbox: Some(&sandbox) };
        let outcome = match tokio::time::timeout(self.spec.timeout, reply).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(process::exit_error(request_id, "Runtime exited without providing a reason")),
            Err(_) => {
                // Killed below by the guard; forgetting the invocation first keeps the exit from answering it.
                sandbox.abandon();
                let seconds = self.spec.timeout.as_secs_f64();
                let message = format!("RequestId: {request_id} Error: Task timed out after {seconds:.2} seconds");
                return Err(host_error(TIMEOUT_ERROR_TYPE, message));
            }
        };
        if !sandbox.is_dead() {
            guard.sandbox = None;
            self.pool().idle.push(Arc::clone(&sandbox));
        }
        drop(guard);
        outcome
    }

    /// The most recently used idle sandbox still alive; dead ones found on the way are retired.
    fn take_idle(&self) -> Option<Arc<Sandbox>> {
        let mut pool = self.pool();
        while let Some(sandbox) = pool.idle.pop() {
            if !sandbox.is_dead() {
                return Some(sandbox);
            }
            pool.all.retain(|s| !Arc::ptr_eq(s, &sandbox));
        }
        None
    }

    async fn spawn(&self) -> Result<Arc<Sandbox>, ErrorObject> {
        let sandbox = Sandbox::spawn(&self.spec, &self.env, &self.options, &self.logs)
            .await
            .map_err(|e| host_error(INVALID_ENTRYPOINT_ERROR_TYPE, e.to_string()))?;
        let sandbox = Arc::new(sandbox);
        self.pool().all.push(Arc::clone(&sandbox));
        Ok(sandbox)
    }

    /// Kills `sandbox` and forgets it.
    fn retire(&self, sandbox: &Arc<Sandbox>) {
        let mut pool = self.pool();
        pool.all.retain(|s| !Arc::ptr_eq(s, sandbox));
        pool.idle.retain(|s| !Arc::ptr_eq(s, sandbox));
        drop(pool);
        sandbox.kill();
    }
}

impl Function for FunctionHost {
    fn invoke<'a>(&'a self, payload: Vec<u8>, request_id: &'a str) -> InvokeFuture<'a> {
        Box::pin(self.run(payload, request_id))
    }
}

impl Drop for FunctionHost {
    fn drop(&mut self) {
        for sandbox in std::mem::take(&mut self.pool().all) {
            sandbox.kill();
        }
    }
}

/// Retires a sandbox unless disarmed (`sandbox: None`).
struct Retire<'a> {
    host: &'a FunctionHost,
    sandbox: Option<&'a Arc<Sandbox>>,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox {
            self.host.retire(sandbox);
        }
    }
}

fn host_error(error_type: &str, message: String) -> ErrorObject {
    ErrorObject { error_type: Some(error_type.to_owned()), error_message: Some(message), ..Default::default() }
}

fn epoch_ms(time: SystemTime) -> u64 {
    u64::try_from(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis()).unwrap_or(u64::MAX)
}
