//! `durable serve`: the local durable service as a program of its own, on a fixed port of
//! `127.0.0.1`, with a store that outlives it.

use super::{FunctionSpec, Limits, LocalError, LocalService, Store};
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
    /// Requests must be SigV4-signed with the server's credentials.
    pub auth: bool,
    /// Timers fire at once while no invocation runs.
    pub skip_time: bool,
    /// The functions hosted as child processes.
    pub functions: Vec<FunctionSpec>,
    /// Client limits.
    pub limits: Limits,
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
    LocalService::start_on_port(MemoryService::new(), Some(store), config.limits, config.port).await
}
