//! [`HostError`]: what can go wrong describing or starting a hosted function.

use crate::LocalError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// A hosted function that cannot be described or started. Each message names the function or the
/// file, and says what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// The function's executable cannot be run.
    Spawn {
        /// The function.
        function: String,
        /// The executable.
        command: PathBuf,
        /// Why it cannot run.
        source: io::Error,
    },
    /// A function description is invalid (name, timeout, process limit).
    Spec {
        /// The function.
        function: String,
        /// What is wrong.
        message: String,
    },
    /// A `durable.toml` cannot be read or is invalid.
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `--function NAME=PATH` argument is invalid.
    Cli {
        /// The argument.
        argument: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn { function, command, source } => {
                let hint = match source.kind() {
                    io::ErrorKind::NotFound => {
                        "; build it with `cargo lambda build` (or `cargo build`), or fix the function's `command`"
                    }
                    io::ErrorKind::PermissionDenied => "; make it executable (`chmod +x`)",
                    _ => "",
                };
                write!(f, "function `{function}`: cannot run `{}`: {source}{hint}", command.display())
            }
            Self::Spec { function, message } => write!(f, "function `{function}`: {message}"),
            Self::Config { path, message } => write!(f, "durable config {}: {message}", path.display()),
            Self::Cli { argument, message } => write!(f, "`--function {argument}`: {message}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<HostError> for LocalError {
    fn from(e: HostError) -> Self {
        Self::Host(e)
    }
}
