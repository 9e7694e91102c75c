//! Checkpoints of the write-ahead log, on a thread of their own.
//!
//! SQLite checkpoints on its own after the commit that takes the log past 1,000 pages, in that
//! commit: the request waiting for it also waits while about 4 MiB of pages are copied into the
//! database file and that file is fsynced (16 ms on this project's development machine). The store
//! turns that off for its writing connection and checkpoints here instead, on a second connection,
//! where the copying and its fsync compete with writes as little as they can:
//!
//! - once writes pause for a [`TICK`], everything written is copied and the log restarted, so the
//!   next burst of writes starts at the log's beginning, inside the bytes reserved for it;
//! - while writes go on, every [`BUSY_PASS`] ticks a passive pass copies what the log holds without
//!   stopping them, and past [`RESTART_PAGES`] a restarting one copies the few pages written
//!   meanwhile (holding the write lock for that long only) so that the log starts again.
//!
//! With nothing written since the last pass the thread sleeps until a commit wakes it.

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread looks at the writes while some are not checkpointed.
const TICK: Duration = Duration::from_millis(20);

/// Ticks of continuous writing between two passes.
const BUSY_PASS: u32 = 5;

/// Log pages from which a pass restarts the log while writes go on: half of SQLite's automatic
/// checkpoint threshold, which the log is reserved for.
pub(super) const RESTART_PAGES: i64 = 500;

/// What the writing connection tells the thread.
struct Writes {
    /// Commits so far.
    count: AtomicU64,
    /// Set by the first commit after a pass; the commit that sets it wakes the thread.
    pending: AtomicBool,
}

/// The checkpointing thread; stopped and joined when dropped.
pub(super) struct Checkpointer {
    writes: Arc<Writes>,
    wake: Option<mpsc::Sender<()>>,
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
        let writes = Arc::new(Writes { count: AtomicU64::new(0), pending: AtomicBool::new(false) });
        let (wake, woken) = mpsc::channel::<()>();
        let seen = Arc::clone(&writes);
        let thread = std::thread::Builder::new()
            .name("durable-checkpoint".to_owned())
            .spawn(move || run(&conn, &seen, &woken, &location))
            .map_err(|e| StoreError::io(path, "starting the checkpoint thread", e))?;
        Ok(Self { writes, wake: Some(wake), thread: Some(thread) })
    }

    /// Notes that a commit wrote pages to the log.
    pub(super) fn written(&self) {
        self.writes.count.fetch_add(1, Ordering::AcqRel);
        if !self.writes.pending.swap(true, Ordering::AcqRel) {
            if let Some(wake) = &self.wake {
                let _ = wake.send(());
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: sleeps until a commit, then checkpoints as the module says; returns when the store
/// is dropped.
fn run(conn: &Connection, writes: &Writes, woken: &mpsc::Receiver<()>, location: &str) {
    loop {
        if !writes.pending.load(Ordering::Acquire) && woken.recv().is_err() {
            return;
        }
        let mut busy_ticks = 0;
        let mut last = writes.count.load(Ordering::Acquire);
        loop {
            std::thread::sleep(TICK);
            // Wake-ups sent meanwhile are not needed: this loop runs until nothing is pending.
            loop {
                match woken.try_recv() {
                    Ok(()) => {}
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            let now = writes.count.load(Ordering::Acquire);
            let idle = now == last;
            last = now;
            busy_ticks += 1;
            if !idle && busy_ticks < BUSY_PASS {
                continue;
            }
            busy_ticks = 0;
            // Commits from here on are left for the next pass.
            writes.pending.store(false, Ordering::Release);
            if let Err(error) = checkpoint(conn, idle) {
                // The log grows until a later pass succeeds; nothing written is lost.
                tracing::warn!(%error, %location, "local durable service: checkpoint failed");
                writes.pending.store(true, Ordering::Release);
            }
            if !writes.pending.load(Ordering::Acquire) {
                break;
            }
        }
    }
}

/// One pass: copies the log into the database, then restarts the log when writes have paused
/// (`idle`) or it is long.
fn checkpoint(conn: &Connection, idle: bool) -> rusqlite::Result<()> {
    let pages = |mode: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| row.get::<_, i64>(1))
    };
    let log = pages("PASSIVE")?;
    if log > 0 && (idle || log >= RESTART_PAGES) {
        pages("RESTART")?;
    }
    Ok(())
}
