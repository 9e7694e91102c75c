//! One sandbox: a bootstrap process with a Runtime API listener of its own, so that every request
//! on the listener comes from that process. The process's output is read line by line into the
//! function's [`FunctionLogs`]; its exit fails the invocation in flight with `Runtime.ExitError`.

use super::logs::{FunctionLogs, LogLine, LogStream};
use super::{runtime_api, HostError, HostOptions};
use crate::{FunctionSpec, LOCAL_REGION, RUNTIME_EXIT_ERROR_TYPE};
use durable_runtime::protocol::ErrorObject;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// What an invocation ends with: the response payload, or the error Lambda records.
pub(crate) type Outcome = Result<Vec<u8>, ErrorObject>;

/// Longest output line kept whole; a longer one is split (CloudWatch Logs splits at 256 KiB).
const MAX_LINE_BYTES: usize = 256 * 1024;

/// One invocation, as the process's `next` request receives it.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) request_id: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) deadline_ms: u64,
}

/// What the Runtime API listener, the process monitor and the host share about one sandbox.
pub(crate) struct SandboxShared {
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub(crate) function_arn: String,
    state: Mutex<SandboxState>,
    events: mpsc::Sender<Event>,
    /// Where the process's `next` requests take events from.
    pub(crate) next_events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
}

#[derive(Default)]
struct SandboxState {
    current: Option<InFlight>,
    /// The last invocation handed to the process (output read after its response belongs to it).
    last_request: Option<String>,
    dead: bool,
}

struct InFlight {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
}

impl SandboxShared {
    fn state(&self) -> std::sync::MutexGuard<'_, SandboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The request id of the invocation in flight, or of the last one.
    pub(crate) fn current_request(&self) -> Option<String> {
        self.state().last_request.clone()
    }

    /// Ends the invocation `request_id` with `outcome`; `false` if it is not the one in flight.
    pub(crate) fn finish(&self, request_id: &str, outcome: Outcome) -> bool {
        let mut state = self.state();
        if state.current.as_ref().is_none_or(|c| c.request_id != request_id) {
            return false;
        }
        if let Some(current) = state.current.take() {
            let _ = current.reply.send(outcome);
        }
        true
    }

    /// The runtime reported an initialization error: the sandbox is done for, and the invocation
    /// in flight ends with `error`.
    pub(crate) fn init_failed(&self, error: ErrorObject) {
        let mut state = self.state();
        state.dead = true;
        if let Some(current) = state.current.take() {
            let _ = current.reply.send(Err(error));
        }
    }

    /// The process exited: the invocation in flight ends with `Runtime.ExitError`.
    fn exited(&self, reason: &str) {
        let mut state = self.state();
        state.dead = true;
        if let Some(current) = state.current.take() {
            let _ = current.reply.send(Err(exit_error(&current.request_id, reason)));
        }
    }
}

/// A running bootstrap process and its Runtime API listener. Dropping it kills the process.
pub(crate) struct Sandbox {
    pub(crate) pid: u32,
    pub(crate) shared: Arc<SandboxShared>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    monitor: Mutex<Option<JoinHandle<()>>>,
    server: JoinHandle<()>,
}

impl Sandbox {
    /// Starts a process of `spec` with its own Runtime API listener.
    pub(crate) async fn spawn(
        spec: &FunctionSpec,
        extra_env: &[(String, String)],
        options: &HostOptions,
        logs: &Arc<FunctionLogs>,
    ) -> Result<Self, HostError> {
        let spawn_error =
            |source: io::Error| HostError::Spawn { function: spec.name.clone(), command: spec.command.clone(), source };
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(spawn_error)?;
        let addr = listener.local_addr().map_err(spawn_error)?;
        let region = lookup(extra_env, "AWS_REGION")
            .or_else(|| lookup(&spec.env, "AWS_REGION"))
            .unwrap_or(LOCAL_REGION)
            .to_owned();

        let mut command = tokio::process::Command::new(&spec.command);
        command
            .args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // One invocation at a time per process, as in Lambda's default mode.
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .envs(extra_env.iter().map(|(k, v)| (k, v)))
            .envs(lambda_env(spec, options, &region, &addr.to_string()));
        let mut child = command.spawn().map_err(spawn_error)?;
        let pid = child.id().unwrap_or_default();

        let (events, next_events) = mpsc::channel(1);
        let shared = Arc::new(SandboxShared {
            function_arn: format!("arn:aws:lambda:{region}:000000000000:function:{}", spec.name),
            state: Mutex::new(SandboxState::default()),
            events,
            next_events: tokio::sync::Mutex::new(next_events),
        });
        let forward = options.forward_logs.then(|| spec.name.clone());
        if let Some(stdout) = child.stdout.take() {
            let reader = LineReader { pid, stream: LogStream::Stdout, forward: forward.clone() };
            tokio::spawn(reader.run(stdout, Arc::clone(&shared), Arc::clone(logs)));
        }
        if let Some(stderr) = child.stderr.take() {
            let reader = LineReader { pid, stream: LogStream::Stderr, forward };
            tokio::spawn(reader.run(stderr, Arc::clone(&shared), Arc::clone(logs)));
        }
        let server = tokio::spawn(runtime_api::serve(listener, Arc::clone(&shared)));
        let (kill, killed) = oneshot::channel::<()>();
        let monitor_shared = Arc::clone(&shared);
        let monitor = tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                // An explicit kill, or the sandbox was dropped.
                _ = killed => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            monitor_shared.exited(&exit_reason(status));
        });
        Ok(Self { pid, shared, kill: Mutex::new(Some(kill)), monitor: Mutex::new(Some(monitor)), server })
    }

    /// Hands `event` to the process; `false` if the process is gone (the reply is dropped).
    pub(crate) fn assign(&self, event: Event, reply: oneshot::Sender<Outcome>) -> bool {
        let mut state = self.shared.state();
        if state.dead || state.current.is_some() {
            return false;
        }
        let request_id = event.request_id.clone();
        if self.shared.events.try_send(event).is_err() {
            return false;
        }
        state.last_request = Some(request_id.clone());
        state.current = Some(InFlight { request_id, reply });
        true
    }

    /// Forgets the invocation in flight (it timed out), so that killing the process does not end it.
    pub(crate) fn abandon(&self) {
        self.shared.state().current = None;
    }

    /// Whether the process exited or failed to initialize.
    pub(crate) fn is_dead(&self) -> bool {
        self.shared.state().dead
    }

    /// Kills the process (once it is reaped, the sandbox is dead).
    pub(crate) fn kill(&self) {
        if let Some(kill) = self.kill.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = kill.send(());
        }
        self.server.abort();
    }

    /// Kills the process and waits until it is reaped.
    pub(crate) async fn kill_and_wait(&self) {
        self.kill();
        let monitor = self.monitor.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(monitor) = monitor {
            let _ = monitor.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The variables Lambda sets for a function, pointing the runtime at `runtime_api`.
fn lambda_env(spec: &FunctionSpec, options: &HostOptions, region: &str, runtime_api: &str) -> Vec<(String, String)> {
    let handler = spec.command.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let task_root = spec
        .command
        .parent()
        .map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()))
        .unwrap_or_default();
    let pairs = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", options.memory_size_mb.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", spec.name)),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", region.to_owned()),
        ("AWS_DEFAULT_REGION", region.to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("_HANDLER", handler),
        ("LAMBDA_TASK_ROOT", path_text(&task_root)),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The last value of `name` in `env`.
fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A log stream name shaped like Lambda's: `2025/01/31/[$LATEST]<32 hex digits>`.
fn log_stream_name() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let (year, month, day) =
        durable_runtime::protocol::civil_from_days(i64::try_from(now.as_secs() / 86_400).unwrap_or_default());
    let id = durable_runtime::protocol::ids::uuid_v4().replace('-', "");
    format!("{year:04}/{month:02}/{day:02}/[$LATEST]{id}")
}

/// The `Runtime.ExitError` of the invocation `request_id`.
pub(crate) fn exit_error(request_id: &str, reason: &str) -> ErrorObject {
    ErrorObject {
        error_type: Some(RUNTIME_EXIT_ERROR_TYPE.to_owned()),
        error_message: Some(format!("RequestId: {request_id} Error: {reason}")),
        ..Default::default()
    }
}

/// Lambda's words for how a runtime process ended.
fn exit_reason(status: io::Result<ExitStatus>) -> String {
    let status = match status {
        Ok(status) => status,
        Err(e) => return format!("Runtime exited with error: {e}"),
    };
    match status.code() {
        Some(0) => "Runtime exited without providing a reason".to_owned(),
        Some(code) => format!("Runtime exited with error: exit status {code}"),
        None => format!("Runtime exited with error: signal: {}", signal_name(status)),
    }
}

#[cfg(unix)]
fn signal_name(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(6) => "aborted".to_owned(),
        Some(7) => "bus error".to_owned(),
        Some(9) => "killed".to_owned(),
        Some(11) => "segmentation fault".to_owned(),
        Some(15) => "terminated".to_owned(),
        Some(n) => n.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(not(unix))]
fn signal_name(_status: ExitStatus) -> String {
    "unknown".to_owned()
}

/// Reads one output stream of a process into the function's logs, line by line.
struct LineReader {
    pid: u32,
    stream: LogStream,
    /// The function name, when lines are also forwarded to standard error.
    forward: Option<String>,
}

impl LineReader {
    async fn run(self, output: impl AsyncRead + Unpin, shared: Arc<SandboxShared>, logs: Arc<FunctionLogs>) {
        let mut reader = BufReader::new(output);
        let mut line = Vec::new();
        loop {
            let buffer = match reader.fill_buf().await {
                Ok(buffer) if !buffer.is_empty() => buffer,
                _ => break,
            };
            let (take, ends_line) = match buffer.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buffer.len(), false),
            };
            let n = take.min(MAX_LINE_BYTES - line.len());
            line.extend_from_slice(buffer.get(..n).unwrap_or_default());
            reader.consume(n);
            if (ends_line && n == take) || line.len() >= MAX_LINE_BYTES {
                self.emit(&mut line, &shared, &logs);
            }
        }
        if !line.is_empty() {
            self.emit(&mut line, &shared, &logs);
        }
    }

    fn emit(&self, line: &mut Vec<u8>, shared: &SandboxShared, logs: &FunctionLogs) {
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let text = String::from_utf8_lossy(line).into_owned();
        line.clear();
        if let Some(name) = &self.forward {
            // Not `eprintln!`, which panics when standard error is closed.
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "[{name}] {text}");
        }
        logs.push(LogLine { pid: self.pid, stream: self.stream, request_id: shared.current_request(), text });
    }
}

/// Finds the executable `command` names (searching `PATH` for a bare name), or says why it cannot run.
pub(crate) fn resolve_command(command: &Path) -> io::Result<PathBuf> {
    if command.components().count() > 1 || command.is_absolute() {
        return check_executable(command).map(|()| command.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|candidate| check_executable(candidate).is_ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not found on PATH"))
}

fn check_executable(path: &Path) -> io::Result<()> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o111 == 0 {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "not executable"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(durable_runtime::protocol::civil_from_days(0), (1970, 1, 1));
        assert_eq!(durable_runtime::protocol::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(durable_runtime::protocol::civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn missing_commands_are_not_found() {
        let error = resolve_command(Path::new("target/lambda/nothing-here/bootstrap")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(resolve_command(Path::new("sh")).is_ok());
    }
}
