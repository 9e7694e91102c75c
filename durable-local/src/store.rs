//! The local service's store: one JSON file per execution in a directory, rewritten atomically
//! (a temporary file, then a rename over the old one) after every change, and read back when a
//! service starts on the same directory.
//!
//! The files hold live checkpoint tokens, so on Unix the directory is made readable by its owner
//! only (0700) and every file is created 0600.

use super::LocalError;
use durable_runtime::checkpoint::memory::{ExecutionSnapshot, MemoryService};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// A directory of execution files (see the [module docs](self)).
///
/// A file's name is the execution ARN with every character other than ASCII letters, digits, `-`
/// and `.` replaced by `_`, plus `.json`. The content is an
/// [`ExecutionSnapshot`]; its format is not the wire protocol.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// Serializes writes, so a file always ends with the latest snapshot.
    writing: Mutex<()>,
}

impl FileStore {
    /// Opens (and creates, if needed) the store directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, LocalError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| LocalError::io(format!("creating {}", dir.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| LocalError::io(format!("making {} private", dir.display()), e))?;
        }
        Ok(Self { dir, writing: Mutex::new(()) })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the execution `arn`.
    pub fn path_of(&self, arn: &str) -> PathBuf {
        let name: String =
            arn.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// Writes the current state of the execution `arn` (nothing for an unknown execution).
    pub fn save(&self, service: &MemoryService, arn: &str) -> Result<(), LocalError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        // Snapshot under the write lock: the last file written is the latest state.
        let Some(snapshot) = service.snapshot(arn) else { return Ok(()) };
        let json = serde_json::to_vec(&snapshot)
            .map_err(|e| LocalError::Store { path: self.path_of(arn), message: e.to_string() })?;
        let path = self.path_of(arn);
        let tmp = self.dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("execution")));
        let write = || -> std::io::Result<()> {
            // A leftover temporary file would keep its own permissions: start from a new one.
            let _ = fs::remove_file(&tmp);
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(&json)?;
            file.sync_data()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| LocalError::io(format!("writing {}", path.display()), e))
    }

    /// Every execution in the store, in file-name order. A file that does not parse is an error.
    pub fn load_all(&self) -> Result<Vec<ExecutionSnapshot>, LocalError> {
        let entries =
            fs::read_dir(&self.dir).map_err(|e| LocalError::io(format!("reading {}", self.dir.display()), e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| LocalError::io(format!("reading {}", self.dir.display()), e))?;
            let path = entry.path();
            let visible = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.'));
            if visible && path.extension().is_some_and(|e| e == "json") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let bytes = fs::read(&path).map_err(|e| LocalError::io(format!("reading {}", path.display()), e))?;
            let snapshot: ExecutionSnapshot = serde_json::from_slice(&bytes)
                .map_err(|e| LocalError::Store { path: path.clone(), message: e.to_string() })?;
            if !snapshot.is_supported() {
                return Err(LocalError::Store { path, message: "unsupported snapshot version".to_owned() });
            }
            out.push(snapshot);
        }
        Ok(out)
    }
}
