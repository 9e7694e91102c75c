//! `durable serve`: the local durable service as a program of its own, on a fixed port of
//! `127.0.0.1`, with a store that outlives it.

use super::{Auth, Credentials, FunctionHost, FunctionSpec, Limits, LocalError, LocalService, LogLine, Store};
use durable_runtime::checkpoint::memory::MemoryService;
use std::path::PathBuf;
use std::sync::Arc;

/// The port `durable serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 9070;

/// The store `durable serve` opens unless told otherwise, relative to the current directory.
pub const DEFAULT_STORE: &str = ".durable/durable.db";

/// Where the service keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreLocation {
    /// A SQLite database file (see [`Store::open`]).
    Path(PathBuf),
    /// An in-memory database: nothing outlives the service (tests).
    Memory,
}

/// What `durable serve` runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The store.
    pub store: StoreLocation,
    /// The port on `127.0.0.1` (`0`: an ephemeral one).
    pub port: u16,
    /// Requests must be SigV4-signed with the server's credentials (kept in the store's directory,
    /// created on first start). `false` lets any local process drive executions, and says so in a
    /// warning.
    pub auth: bool,
    /// Timers fire at once while no invocation runs.
    pub skip_time: bool,
    /// The functions hosted as child processes.
    pub functions: Vec<FunctionSpec>,
    /// Client limits.
    pub limits: Limits,
    /// When set, each hosted function's output is also appended to `<log_dir>/<name>.log`, one
    /// line per record (what CloudWatch Logs would hold).
    pub log_dir: Option<PathBuf>,
    /// Where the server's credentials are kept (created on first start); `None`: beside the
    /// store, or fresh ones that live as long as the service with an in-memory store.
    pub credentials_dir: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            store: StoreLocation::Path(PathBuf::from(DEFAULT_STORE)),
            port: DEFAULT_PORT,
            auth: true,
            skip_time: false,
            functions: Vec::new(),
            limits: Limits::default(),
            credentials_dir: None,
            log_dir: None,
        }
    }
}

/// Starts the service described by `config` and returns it running.
pub async fn start(config: &ServeConfig) -> Result<LocalService, LocalError> {
    let location = config.store.clone();
    let store = tokio::task::spawn_blocking(move || match location {
        StoreLocation::Path(path) => Store::open(path),
        StoreLocation::Memory => Store::in_memory(),
    })
    .await
    .map_err(|e| LocalError::Io { context: "opening the store".to_owned(), source: std::io::Error::other(e) })??;
    let auth = match (&config.credentials_dir, config.auth) {
        (_, false) => Auth::Off,
        (Some(dir), true) => Auth::With(Credentials::load_or_create(dir)?),
        (None, true) => Auth::Generated,
    };
    let service =
        LocalService::start_with_auth(MemoryService::new(), Some(store), config.limits, config.port, auth).await?;
    service.skip_time(config.skip_time);
    if let Some(dir) = &config.log_dir {
        std::fs::create_dir_all(dir).map_err(|e| LocalError::io(format!("creating {}", dir.display()), e))?;
    }
    // The bootstraps reach the service with its endpoint, credentials and region.
    let env: Vec<(String, String)> = service.env_vars().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    for spec in &config.functions {
        let host = FunctionHost::start(spec.clone(), env.clone())?;
        if let Some(dir) = &config.log_dir {
            tokio::spawn(write_log(host.logs().subscribe(), dir.join(format!("{}.log", spec.name))));
        }
        if spec.durable {
            service.host(&spec.name, Arc::new(host), spec.execution_timeout);
        } else {
            service.host_plain(&spec.name, Arc::new(host));
        }
    }
    Ok(service)
}

/// Appends every line a function writes to `path`, as it comes.
async fn write_log(mut lines: tokio::sync::broadcast::Receiver<LogLine>, path: PathBuf) {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let Ok(mut file) = options.open(&path) else {
        tracing::error!(path = %path.display(), "cannot open the function log file");
        return;
    };
    loop {
        match lines.recv().await {
            Ok(line) => {
                if writeln!(file, "{}", line.text).is_err() {
                    tracing::error!(path = %path.display(), "cannot write the function log file");
                    return;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(path = %path.display(), missed, "function log lines were dropped");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
