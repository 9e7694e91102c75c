//! Checkpoints of the write-ahead log, on a thread of their own.
//!
//! SQLite checkpoints on its own after the commit that takes the log past 1,000 pages, in that
//! commit: the request waiting for it also waits while about 4 MiB of pages are copied into the
//! database file and that file is fsynced (16 ms on this project's development machine). The store
//! turns that off for its writing connection and checkpoints here instead, on a second connection:
//! a passive checkpoint copies what the log holds while writes go on, then, once the log is past
//! [`RESTART_PAGES`], a restarting one copies the few pages written meanwhile (holding the write
//! lock for that long only) so that the next write starts the log again from its beginning, inside
//! the bytes reserved for it.

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread looks for written pages.
const INTERVAL: Duration = Duration::from_millis(100);

/// Log pages from which the log is restarted: half of SQLite's automatic checkpoint threshold,
/// which the log is reserved for.
pub(super) const RESTART_PAGES: i64 = 500;

/// The checkpointing thread; stopped and joined when dropped.
pub(super) struct Checkpointer {
    /// Set by every commit, cleared by the thread when it looks.
    written: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a second connection to the database at `path` and starts the thread.
    pub(super) fn start(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let location = path.display().to_string();
        let sql = |e| StoreError::sqlite(&location, "opening the checkpoint connection", e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(busy_timeout).map_err(sql)?;
        let written = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let seen = Arc::clone(&written);
        let thread = std::thread::Builder::new()
            .name("durable-checkpoint".to_owned())
            .spawn(move || loop {
                match stopped.recv_timeout(INTERVAL) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                if seen.swap(false, Ordering::AcqRel) {
                    if let Err(error) = checkpoint(&conn) {
                        // The log grows until a later pass succeeds; nothing written is lost.
                        tracing::warn!(%error, location = %location, "local durable service: checkpoint failed");
                        seen.store(true, Ordering::Release);
                    }
                }
            })
            .map_err(|e| StoreError::io(path, "starting the checkpoint thread", e))?;
        Ok(Self { written, stop: Some(stop), thread: Some(thread) })
    }

    /// Notes that a commit wrote pages to the log.
    pub(super) fn written(&self) {
        self.written.store(true, Ordering::Release);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One pass: copies the log into the database, and restarts the log once it is long.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    let pages = |mode: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| row.get::<_, i64>(1))
    };
    if pages("PASSIVE")? >= RESTART_PAGES {
        pages("RESTART")?;
    }
    Ok(())
}
