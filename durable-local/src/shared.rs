//! What the connection tasks, the scheduler and the service share: the in-memory service, the
//! store with its group commit, the credentials, and the signals of change.

use super::{driver, Credentials, Store, StoreError};
use durable_runtime::checkpoint::memory::MemoryService;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::Arc;
use tokio::sync::Notify;

/// What the connection tasks share.
pub(crate) struct Shared {
    /// This, for the tasks it starts.
    pub(crate) me: std::sync::Weak<Shared>,
    pub(crate) service: MemoryService,
    pub(crate) store: Option<Arc<Store>>,
    /// The credentials requests must be signed with; `None`: no check.
    pub(crate) auth: Option<Credentials>,
    /// Held while a change is made (and while a failed commit is undone), so changes apply one at
    /// a time and each gets a generation number.
    pub(crate) writing: tokio::sync::Mutex<()>,
    /// The generation of the last change made.
    pub(crate) generation: std::sync::atomic::AtomicU64,
    /// Group commit: what is committed, and which transactions failed.
    pub(crate) commits: std::sync::Mutex<Commits>,
    /// Group commit: held by the one commit under way, of everything changed so far.
    pub(crate) leader: Arc<tokio::sync::Mutex<()>>,
    /// Group commit: the last generation committed (or given up), sent after each commit, once its
    /// leader has let go of [`Self::leader`].
    pub(crate) committed: tokio::sync::watch::Sender<u64>,
    /// Wakes a [`LocalRunner`](crate::LocalRunner) waiting for a change.
    pub(crate) changes: Notify,
    /// Counts changes, for every request waiting for one (a synchronous Invoke).
    pub(crate) revision: tokio::sync::watch::Sender<u64>,
    /// The hosted functions and their scheduler.
    pub(crate) driver: driver::Driver,
    /// The web page's token and sessions.
    pub(crate) web: crate::web::Web,
}

impl Shared {
    /// Runs `change` on the service, alone, then commits what it changed in one transaction before
    /// returning its output, and wakes whoever waits for changes. `Err` when the store could not
    /// write it: the service is back to what the store holds, and the change must not be
    /// acknowledged.
    pub(crate) async fn change<T, F: Future<Output = T>>(&self, change: impl FnOnce() -> F) -> Result<T, StoreError> {
        let (out, pending) = self.make(change).await;
        if let Some((store, generation)) = pending {
            self.settle(&store, generation).await?;
        }
        self.notify();
        Ok(out)
    }

    /// [`Self::change`], and `prepare` turns its output into the answer (say, serializes it). When
    /// `aside` says the output is large, that runs on another thread while the store commits: the
    /// answer is ready when the change is durable, and is dropped if it is not. A small answer is
    /// made after the commit, where handing it to another thread would cost more than it saves.
    /// `Ok(None)` when `prepare` did not finish (it panicked).
    pub(crate) async fn change_then<T, U, F>(
        &self,
        change: impl FnOnce() -> F,
        aside: impl FnOnce(&T) -> bool,
        prepare: impl FnOnce(T) -> U + Send + 'static,
    ) -> Result<Option<U>, StoreError>
    where
        T: Send + 'static,
        U: Send + 'static,
        F: Future<Output = T>,
    {
        let (out, pending) = self.make(change).await;
        let Some((store, generation)) = pending else {
            self.notify();
            return Ok(Some(prepare(out)));
        };
        if !aside(&out) {
            self.settle(&store, generation).await?;
            self.notify();
            return Ok(Some(prepare(out)));
        }
        let prepared = tokio::task::spawn_blocking(move || prepare(out));
        self.settle(&store, generation).await?;
        self.notify();
        Ok(prepared.await.ok())
    }

    /// Makes `change` alone; with a store, also returns the store and the change's generation, to
    /// commit.
    async fn make<T, F: Future<Output = T>>(&self, change: impl FnOnce() -> F) -> (T, Option<(Arc<Store>, u64)>) {
        let Some(store) = &self.store else { return (change().await, None) };
        let _writing = self.writing.lock().await;
        let out = change().await;
        (out, Some((Arc::clone(store), self.generation.fetch_add(1, AtomicOrdering::SeqCst) + 1)))
    }

    /// Commits through `generation`; wakes whoever waits for changes when that failed (the service
    /// was put back).
    async fn settle(&self, store: &Arc<Store>, generation: u64) -> Result<(), StoreError> {
        let committed = self.commit_through(store, generation).await;
        if committed.is_err() {
            self.notify();
        }
        committed
    }

    /// Returns once every change up to `generation` is committed (`Err` if the transaction that
    /// held it failed). Group commit: the first request to get here leads, committing in one
    /// transaction everything changed so far, while later changes wait for that commit to end and
    /// then one of them leads the next, so concurrent requests share the cost of a durable write.
    /// The waiters do not queue for the lead: each looks at what is committed when a commit ends,
    /// and those it covers return at once instead of taking the lead in turn.
    async fn commit_through(&self, store: &Arc<Store>, generation: u64) -> Result<(), StoreError> {
        let mut ended = self.committed.subscribe();
        loop {
            if *ended.borrow_and_update() >= generation {
                return self.commits().outcome(generation);
            }
            if let Ok(lock) = Arc::clone(&self.leader).try_lock_owned() {
                let shared = self.me.upgrade().ok_or_else(shutting_down)?;
                let lead = Lead { lock: Some(lock), shared: Arc::clone(&shared) };
                let store = Arc::clone(store);
                // The commit is a task of its own: it ends, and tells the waiters, even when this
                // request is dropped (its client went away).
                let outcome = tokio::spawn(async move {
                    let outcome =
                        if shared.commits().committed >= generation { Ok(()) } else { shared.lead(&store).await };
                    drop(lead);
                    outcome
                })
                .await
                .unwrap_or_else(|e| Err(not_committed(e.to_string())));
                return outcome.and_then(|()| self.commits().outcome(generation));
            }
            // A commit is under way: its end is sent once its leader has let go.
            if ended.changed().await.is_err() {
                return Err(shutting_down());
            }
        }
    }

    fn commits(&self) -> std::sync::MutexGuard<'_, Commits> {
        self.commits.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits everything changed so far, as the leader of a group commit.
    async fn lead(&self, store: &Arc<Store>) -> Result<(), StoreError> {
        let (upto, changes) = {
            let _writing = self.writing.lock().await;
            (self.generation.load(AtomicOrdering::SeqCst), self.service.take_changes())
        };
        let writer = Arc::clone(store);
        let rows: usize = changes.iter().map(|c| c.operations.len() + c.events.len()).sum();
        let large = rows >= LARGE_WRITE_ROWS;
        let written = blocking(large, move || match writer.write(&changes) {
            Ok(()) => {
                // Freeing the rows of a large write takes a while: not while the request waits.
                if large {
                    drop(tokio::task::spawn_blocking(move || drop(changes)));
                }
                Ok(())
            }
            Err(e) => Err((e, changes)),
        })
        .await
        .unwrap_or_else(|e| Err((not_committed(e), Vec::new())));
        let Err((error, batch)) = written else {
            self.commits().committed = upto;
            return Ok(());
        };
        tracing::error!(%error, "local durable service: store write failed; the changes are not acknowledged");
        // Undo every change the store does not have: those of the failed transaction and those
        // made since, which were applied over them. All of them fail.
        let _writing = self.writing.lock().await;
        let upto = self.generation.load(AtomicOrdering::SeqCst);
        let (reloading, service) = (Arc::clone(store), self.service.clone());
        let undone = tokio::task::spawn_blocking(move || {
            let mut arns: Vec<String> = batch.into_iter().map(|c| c.arn).collect();
            arns.extend(service.take_changes().into_iter().map(|c| c.arn));
            arns.sort();
            arns.dedup();
            reloading.reload(&service, arns.iter().map(String::as_str));
        })
        .await;
        if let Err(e) = undone {
            tracing::error!(error = %e, "local durable service: undoing a failed write did not finish");
        }
        let mut commits = self.commits();
        let after = commits.committed;
        if commits.failed.len() >= MAX_FAILED_RANGES {
            // Whoever waited on the oldest failures has long been answered.
            commits.failed.remove(0);
        }
        commits.failed.push((after, upto));
        commits.committed = upto;
        Err(error)
    }

    /// Wakes whoever waits for a change: a [`LocalRunner`](crate::LocalRunner) ([`LocalService::changed`](crate::LocalService::changed)), a synchronous
    /// Invoke, the scheduler.
    pub(crate) fn notify(&self) {
        self.changes.notify_one();
        self.revision.send_modify(|n| *n = n.wrapping_add(1));
        self.driver.wake();
    }
}

/// The error of a change that was not committed, for `reason`.
fn not_committed(reason: impl Into<String>) -> StoreError {
    StoreError::Io { path: PathBuf::new(), context: "committing", source: std::io::Error::other(reason.into()) }
}

fn shutting_down() -> StoreError {
    not_committed("the service is shutting down")
}

/// The lead of a group commit. Dropped, even by a panic, it lets go of the lead and then sends
/// what is committed, so every waiter looks again and one of them can lead the next commit.
struct Lead {
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
    shared: Arc<Shared>,
}

impl Drop for Lead {
    fn drop(&mut self) {
        drop(self.lock.take());
        let upto = self.shared.commits().committed;
        self.shared.committed.send_replace(upto);
    }
}

/// From this many operations and history events, a store write is large (see [`blocking`]).
const LARGE_WRITE_ROWS: usize = 64;

/// Runs `f`, which blocks (a store write), off the async threads' duties. A `large` one runs on a
/// multi-threaded runtime on this very thread, whose other tasks move to another one, so the write
/// starts at once instead of waiting for a pool thread to wake (up to half a millisecond on a busy
/// virtual machine); handing the worker's tasks over costs more than that saves for a small write,
/// which runs on the blocking pool, as everything does on a single-threaded runtime. A panic in `f`
/// is an error either way.
async fn blocking<R: Send + 'static>(large: bool, f: impl FnOnce() -> R + Send + 'static) -> Result<R, String> {
    let flavor = tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor());
    if large && matches!(flavor, Ok(tokio::runtime::RuntimeFlavor::MultiThread)) {
        tokio::task::block_in_place(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
            .map_err(|_| "the store write panicked".to_owned())
    } else {
        tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string())
    }
}

/// Failed transactions the group commit remembers.
const MAX_FAILED_RANGES: usize = 1024;

/// The group commit's record: the last generation written (or given up), and the ranges of
/// generations whose transaction failed.
#[derive(Default)]
pub(crate) struct Commits {
    committed: u64,
    /// `(after, through)`: the changes of generations `after + 1 ..= through` were not stored.
    failed: Vec<(u64, u64)>,
}

impl Commits {
    fn outcome(&self, generation: u64) -> Result<(), StoreError> {
        if self.failed.iter().any(|&(after, through)| generation > after && generation <= through) {
            return Err(not_committed("the transaction that held this change failed"));
        }
        Ok(())
    }
}
