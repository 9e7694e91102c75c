//! The local service's store: a SQLite database (bundled SQLite, through `rusqlite`) that journals
//! the in-memory service. Executions, operations, callbacks, timers, invocations and chained
//! invokes are rows, and the history (append-only) is a row per write of the events it appended,
//! LZ4-packed once it is long; every change the service makes is written as one transaction of the
//! rows it touched ([`MemoryService::take_changes`]), so its cost does not depend on the execution's
//! length. A service started on the same database reads every execution back.
//!
//! The database runs in WAL mode with `synchronous = FULL`: a committed transaction survives a
//! power cut, so a change is acknowledged only once it is durable. [`Store::open`] gives the
//! write-ahead log its working size up front, so a commit's fsync covers blocks already written
//! rather than a growing file. The schema is versioned (`PRAGMA user_version`) and migrated on
//! open; see [`SCHEMA_VERSION`].
//!
//! The rows hold live checkpoint tokens, so on Unix the database and its `-wal` and `-shm` files are
//! readable by their owner only (0600), and a directory the store creates for them is 0700.

mod checkpoint;
mod files;
mod packed;
mod schema;
mod write;

pub use schema::SCHEMA_VERSION;

use checkpoint::Checkpointer;
use files::{private_file, private_if_present, reserve_wal, sidecar};
use write::{write_execution, Known};

use durable_runtime::checkpoint::memory::{
    ChainedInvocation, ExecutionChanges, ExecutionMeta, InvocationRecord, MemoryService, OperationRow,
};
use durable_runtime::protocol::history::HistoryEvent;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How long a write waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An error of the store.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A file-system operation on the database or its directory failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed.
    Sqlite {
        /// The database file (`:memory:` for an in-memory database).
        location: String,
        /// What was being done.
        context: &'static str,
        /// The error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was made by a newer version: its schema version is one this build does not know.
    UnsupportedSchema {
        /// The database file.
        location: String,
        /// Its schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest version this build knows ([`SCHEMA_VERSION`]).
        supported: i64,
    },
    /// A row does not read back as what was written.
    Corrupt {
        /// The execution.
        arn: String,
        /// What is wrong.
        message: String,
    },
    /// A write would not append to an execution's history in order: the history only grows, one
    /// event id after the other, and an event id is never written twice.
    HistoryOutOfOrder {
        /// The execution.
        arn: String,
        /// The event id that comes next in the stored history.
        expected: u64,
        /// The event id the write had there.
        found: u64,
    },
    /// A value does not fit the store's keys: an execution past the 2,147,483,647th, an operation
    /// index or a history event id past 4,294,967,295.
    OutOfRange {
        /// The execution.
        arn: String,
        /// What does not fit.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// A write failed because a test asked for it ([`Store::fail_next_writes`]).
    Injected,
}

impl StoreError {
    fn sqlite(location: &str, context: &'static str, source: rusqlite::Error) -> Self {
        Self::Sqlite { location: location.to_owned(), context, source: Box::new(source) }
    }

    fn io(path: &Path, context: &'static str, source: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), context, source }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, context, source } => write!(f, "{context} {}: {source}", path.display()),
            Self::Sqlite { location, context, source } => write!(f, "{context} in {location}: {source}"),
            Self::UnsupportedSchema { location, found, supported } => write!(
                f,
                "{location} has schema version {found}, newer than this build's {supported}: \
                 use the newer version of durable that made it, or another database"
            ),
            Self::Corrupt { arn, message } => write!(f, "the stored rows of `{arn}` are corrupt: {message}"),
            Self::HistoryOutOfOrder { arn, expected, found } => write!(
                f,
                "the history of `{arn}` only grows in order: event {expected} comes next, the write had event {found}"
            ),
            Self::OutOfRange { arn, what, value } => {
                write!(f, "`{arn}` cannot be stored: {what} {value} is beyond what the store can key")
            }
            Self::Injected => f.write_str("injected store write failure"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Sqlite { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The SQLite store: the durable journal of a [`MemoryService`].
///
/// Every change is written by [`Store::commit`] as one transaction of the rows it touched, so its
/// cost does not depend on the execution's length; [`Store::load_all`] reads every execution back.
/// On disk the database runs in WAL mode with `synchronous = FULL` (a committed change survives a
/// power cut), its schema is versioned ([`SCHEMA_VERSION`]) and migrated on open, and on Unix its
/// files are 0600 and a directory the store creates for it 0700: the rows hold live checkpoint
/// tokens.
pub struct Store {
    /// The file, `None` in memory.
    path: Option<PathBuf>,
    location: String,
    conn: Mutex<Connection>,
    /// What is stored of each execution written since the store opened (by row id), as of the last
    /// commit: a write then needs no query for it. Locked only under `conn`.
    known: Mutex<HashMap<i64, Known>>,
    fail_next: AtomicUsize,
    /// Checkpoints the log off the writes' path (a store opened to write a file).
    checkpointer: Option<Checkpointer>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("location", &self.location).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database file `path`, creating it (and its directory, 0700) if needed, and brings
    /// its schema up to date. Fails with [`StoreError::UnsupportedSchema`] for a database made by a
    /// newer version.
    ///
    /// The write-ahead log is given the size it reaches between automatic checkpoints (about 4 MiB)
    /// up front, so that commits overwrite blocks already written instead of growing the file, which
    /// costs each commit's fsync more; and the log is checkpointed on a thread of the store's own,
    /// on a second connection, rather than in the commit that fills it (see
    /// [`Store::open_to_read`] for a store that only reads).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Self::open_with(path.into(), true)
    }

    /// Opens the database file `path` as [`Store::open`] does, for reading it: the write-ahead log
    /// is not made larger in advance.
    pub fn open_to_read(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Self::open_with(path.into(), false)
    }

    fn open_with(path: PathBuf, writing: bool) -> Result<Self, StoreError> {
        private_file(&path)?;
        let location = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| StoreError::sqlite(&location, "opening", e))?;
        let mut store = Self::configure(conn, Some(path.clone()), location)?;
        for suffix in ["-wal", "-shm"] {
            private_if_present(&sidecar(&path, suffix))?;
        }
        if writing {
            let mut conn = store.conn.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(error) = reserve_wal(&mut conn, &path) {
                // Only the speed of the first commits depends on it.
                tracing::warn!(%error, "local durable service: the write-ahead log keeps growing as it is written");
            }
            match Checkpointer::start(&path, BUSY_TIMEOUT) {
                Ok(checkpointer) => {
                    conn.pragma_update(None, "wal_autocheckpoint", 0)
                        .map_err(|e| StoreError::sqlite(&store.location, "moving checkpoints off the writes", e))?;
                    drop(conn);
                    store.checkpointer = Some(checkpointer);
                }
                // SQLite keeps checkpointing in the commit that fills the log.
                Err(error) => tracing::warn!(%error, "local durable service: checkpoints stay on the writes' path"),
            }
        }
        Ok(store)
    }

    /// A database in memory: nothing outlives the store (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let location = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|e| StoreError::sqlite(&location, "opening", e))?;
        Self::configure(conn, None, location)
    }

    fn configure(mut conn: Connection, path: Option<PathBuf>, location: String) -> Result<Self, StoreError> {
        let at = location.as_str();
        let sql = |context| move |e| StoreError::sqlite(at, context, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql("setting the busy timeout"))?;
        // In memory the journal mode stays MEMORY; on disk WAL, and FULL: acknowledged means durable.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(sql("enabling WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql("setting synchronous"))?;
        schema::migrate(&mut conn, at)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Self {
            path,
            location,
            conn: Mutex::new(conn),
            known: Mutex::new(HashMap::new()),
            fail_next: AtomicUsize::new(0),
            checkpointer: None,
        })
    }

    /// The database file, `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Makes the next `n` writes fail after writing their rows and before committing, as a full disk
    /// or an I/O error would: nothing of them is stored (fault injection for tests).
    pub fn fail_next_writes(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Writes `changes` in one transaction: all of them or, on error, none.
    pub fn write(&self, changes: &[ExecutionChanges]) -> Result<(), StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |context| move |e| StoreError::sqlite(&self.location, context, e);
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a write"))?;
        let mut written = Vec::with_capacity(changes.len());
        for execution in changes {
            written.push(write_execution(&tx, execution, &self.location, &known)?);
        }
        let injected = self.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if injected {
            // Dropping the transaction rolls it back.
            return Err(StoreError::Injected);
        }
        tx.commit().map_err(sql("committing"))?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.written();
        }
        // Only committed rows count: a failed write leaves what is known as it was.
        known.extend(written);
        Ok(())
    }

    /// Every execution in the store, in the order they were first stored.
    pub fn load_all(&self) -> Result<Vec<ExecutionChanges>, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = |context| move |e| StoreError::sqlite(&self.location, context, e);
        let mut statement = conn.prepare("SELECT id, arn, meta FROM executions ORDER BY id").map_err(sql("reading"))?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)))
            .map_err(sql("reading"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql("reading"))?;
        rows.into_iter().map(|(id, arn, meta)| read_execution(&conn, id, arn, &meta, &self.location)).collect()
    }

    /// The stored rows of the execution `arn`, `None` when it was never stored.
    pub fn load(&self, arn: &str) -> Result<Option<ExecutionChanges>, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let found = conn
            .query_row("SELECT id, meta FROM executions WHERE arn = ?1", [arn], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .optional()
            .map_err(|e| StoreError::sqlite(&self.location, "reading", e))?;
        found.map(|(id, meta)| read_execution(&conn, id, arn.to_owned(), &meta, &self.location)).transpose()
    }

    /// Writes what changed in `service` since it was last written; on failure restores the changed
    /// executions from the store, so the service holds exactly what the store holds.
    pub fn commit(&self, service: &MemoryService) -> Result<(), StoreError> {
        let changes = service.take_changes();
        if changes.is_empty() {
            return Ok(());
        }
        match self.write(&changes) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.reload(service, changes.iter().map(|c| c.arn.as_str()));
                Err(error)
            }
        }
    }

    /// Puts the executions `arns` of `service` back to what the store holds (an execution the store
    /// does not have is forgotten), after a write of their changes failed.
    pub fn reload<'a>(&self, service: &MemoryService, arns: impl IntoIterator<Item = &'a str>) {
        for arn in arns {
            match self.load(arn) {
                Ok(Some(rows)) => {
                    if let Err(e) = service.restore(rows) {
                        tracing::error!(%arn, error = %e, "cannot restore an execution");
                    }
                }
                Ok(None) => service.forget(arn),
                Err(e) => tracing::error!(%arn, error = %e, "cannot reload an execution"),
            }
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, arn: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt { arn: arn.to_owned(), message: format!("{what} does not parse: {e}") })
}

fn read_execution(
    conn: &Connection,
    id: i64,
    arn: String,
    meta: &str,
    location: &str,
) -> Result<ExecutionChanges, StoreError> {
    let sql = |e| StoreError::sqlite(location, "reading", e);
    let meta: ExecutionMeta = parse(meta, &arn, "the execution")?;
    if !meta.is_supported() {
        return Err(StoreError::Corrupt { arn, message: "unsupported row version".to_owned() });
    }
    let texts = |query: &str| -> Result<Vec<String>, StoreError> {
        let mut statement = conn.prepare_cached(query).map_err(sql)?;
        let rows = statement.query_map([id], |row| row.get::<_, String>(0)).map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    };
    let (first, last) = schema::slots(id);
    let operations = conn
        .prepare_cached("SELECT entry FROM operations WHERE slot BETWEEN ?1 AND ?2 ORDER BY slot")
        .and_then(|mut s| s.query_map([first, last], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>())
        .map_err(sql)?
        .iter()
        .map(|t| parse::<OperationRow>(t, &arn, "an operation"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut events: Vec<HistoryEvent> = Vec::new();
    let batches = {
        let mut statement = conn
            .prepare_cached(
                "SELECT slot & 0xffffffff, last_event_id, events FROM event_batches WHERE slot BETWEEN ?1 AND ?2
                 ORDER BY slot",
            )
            .map_err(sql)?;
        let rows = statement
            .query_map([first, last], |row| {
                let events = packed::unpack(row.get_ref(2)?);
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, events))
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)?
    };
    for (first, last, text) in batches {
        let text = text.map_err(|e| StoreError::Corrupt {
            arn: arn.clone(),
            message: format!("the history events batched from {first} {e}"),
        })?;
        let batch: Vec<HistoryEvent> = parse(&text, &arn, "a batch of history events")?;
        let ids = (batch.first().map(|e| e.event_id as i64), batch.last().map(|e| e.event_id as i64));
        if ids != (Some(first), Some(last)) {
            let message = format!("the history events batched as {first}..={last} are {ids:?}");
            return Err(StoreError::Corrupt { arn, message });
        }
        events.extend(batch);
    }
    let invocations = texts("SELECT record FROM invocations WHERE exec = ?1 ORDER BY seq")?
        .iter()
        .map(|t| parse::<InvocationRecord>(t, &arn, "an invocation"))
        .collect::<Result<Vec<_>, _>>()?;
    let link = conn
        .prepare_cached("SELECT link FROM chained_invokes WHERE target_arn = ?1")
        .and_then(|mut s| s.query_row([&arn], |row| row.get::<_, String>(0)).optional())
        .map_err(sql)?
        .map(|t| parse::<ChainedInvocation>(&t, &arn, "a chained invoke"))
        .transpose()?;
    Ok(ExecutionChanges::from_rows(arn, meta, operations, events, invocations, link))
}

#[cfg(test)]
mod tests;
