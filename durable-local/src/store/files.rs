//! The store's files are private: the rows hold live checkpoint tokens.

use super::StoreError;
use std::path::{Path, PathBuf};

/// Creates the database file 0600 (and its directory 0700) before SQLite opens it, whatever the
/// umask; an existing file is made 0600.
pub(super) fn private_file(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|e| StoreError::io(dir, "creating", e))?;
            set_mode(dir, 0o700)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| StoreError::io(path, "creating", e))?;
    set_mode(path, 0o600)
}

/// The file SQLite keeps beside the database `path`: `path` + `suffix` (`-wal`, `-shm`).
pub(super) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub(super) fn private_if_present(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        set_mode(path, 0o600)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| StoreError::io(path, "making private", e))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<(), StoreError> {
    Ok(())
}

/// Bytes of the write-ahead log's own header, and of each frame's header before its page.
const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;
/// Frames reserved beyond the automatic checkpoint's threshold: the transaction that crosses it is
/// written whole before the checkpoint runs.
const SPARE_FRAMES: u64 = 64;

/// Gives the database's write-ahead log (`path` + `-wal`) the size it grows to between automatic
/// checkpoints, filled with zeros, unless it is that large already.
///
/// A commit fsyncs the log. Where the log grows, that fsync also commits the file system's record of
/// the new blocks and size, and on this project's ext4 development machine costs over twice as much
/// as one over blocks already written (1.05 against 0.44 ms for 140 KiB). SQLite writes its log from
/// the start again after a checkpoint and never shrinks it while the database is open, so a log that
/// has grown once stays cheap; reserving it up front makes the first few thousand commits after
/// opening as cheap as the rest. Zeros past the last frame are not frames (a frame's page number is
/// never 0), so recovery after a crash ends there, as it does at the end of a file.
///
/// The caller's connection holds SQLite's write lock while the file grows, so no other connection
/// appends frames meanwhile; only bytes past the file's end are written.
pub(super) fn reserve_wal(conn: &mut rusqlite::Connection, path: &Path) -> Result<(), StoreError> {
    use std::io::Write;
    let name = sidecar(path, "-wal");
    let wal = name.as_path();
    let sql = |e| StoreError::sqlite(&path.display().to_string(), "reserving the write-ahead log", e);
    let page: i64 = conn.pragma_query_value(None, "page_size", |row| row.get(0)).map_err(sql)?;
    let frames: i64 = conn.pragma_query_value(None, "wal_autocheckpoint", |row| row.get(0)).map_err(sql)?;
    let (Ok(page), Ok(frames)) = (u64::try_from(page), u64::try_from(frames)) else { return Ok(()) };
    if frames == 0 {
        return Ok(());
    }
    let size = WAL_HEADER + (frames + SPARE_FRAMES) * (page + FRAME_HEADER);
    // Taking the write lock; dropped without a commit, the transaction changes nothing.
    let _lock = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
    let mut file = match std::fs::OpenOptions::new().append(true).open(wal) {
        Ok(file) => file,
        // SQLite makes the log when it first needs it; there is nothing to reserve yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(wal, "opening", e)),
    };
    let io = |e| StoreError::io(wal, "reserving", e);
    let mut len = file.metadata().map_err(io)?.len();
    if len >= size {
        return Ok(());
    }
    let zeros = vec![0u8; 64 * 1024];
    while len < size {
        let n = usize::try_from(size - len).map_or(zeros.len(), |left| left.min(zeros.len()));
        file.write_all(&zeros[..n]).map_err(io)?;
        len += n as u64;
    }
    file.sync_all().map_err(io)
}
