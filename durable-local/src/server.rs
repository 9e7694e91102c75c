//! `durable serve`: the local durable service as a program of its own, on a fixed port of
//! `127.0.0.1`, with a store that outlives it.

use super::{Auth, Credentials, FileStore, FunctionSpec, Limits, LocalError, LocalService};
use durable_runtime::checkpoint::memory::MemoryService;
use std::path::PathBuf;

/// The port `durable serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 9070;

/// The store `durable serve` opens unless told otherwise, relative to the current directory.
pub const DEFAULT_STORE: &str = ".durable/durable.db";

/// Where the service keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreLocation {
    /// A database file (its directory is created, readable by its owner only).
    Path(PathBuf),
    /// Nothing outlives the service (tests).
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
        }
    }
}

/// Starts the service described by `config` and returns it running.
pub async fn start(config: &ServeConfig) -> Result<LocalService, LocalError> {
    let store = match &config.store {
        StoreLocation::Path(path) => {
            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
            Some(FileStore::open(dir)?)
        }
        StoreLocation::Memory => None,
    };
    let auth = match (&config.credentials_dir, config.auth) {
        (_, false) => Auth::Off,
        (Some(dir), true) => Auth::With(Credentials::load_or_create(dir)?),
        (None, true) => Auth::Generated,
    };
    let service = LocalService::start_with_auth(MemoryService::new(), store, config.limits, config.port, auth).await?;
    service.skip_time(config.skip_time);
    Ok(service)
}
