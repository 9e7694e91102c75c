//! The error of the local service, its store and its runner.

use super::{CredentialsError, HostError, StoreError};
use durable_runtime::checkpoint::memory::MemoryError;
use std::fmt;

/// An error of the local service or runner.
#[derive(Debug)]
#[non_exhaustive]
pub enum LocalError {
    /// A file-system or socket operation failed.
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The service's credentials could not be created or read.
    Credentials(CredentialsError),
    /// The store could not be opened, written or read back.
    Store(StoreError),
    /// The service refused a call (unknown or finished execution).
    Service(MemoryError),
    /// The run ended without the callback it was to stop at ever waiting for an answer.
    CallbackNotPending {
        /// The callback's name.
        name: String,
        /// The execution.
        arn: String,
    },
    /// The input could not be serialized.
    Input(String),
    /// The execution was still running after the invocation limit.
    MaxInvocations {
        /// The limit.
        limit: usize,
        /// The execution.
        arn: String,
    },
    /// A hosted function cannot be described or started.
    Host(HostError),
}

impl LocalError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { context, source } => write!(f, "local durable service: {context}: {source}"),
            Self::Credentials(e) => write!(f, "local durable service: {e}"),
            Self::Store(e) => write!(f, "local durable store: {e}"),
            Self::Service(e) => write!(f, "local durable service: {e}"),
            Self::CallbackNotPending { name, arn } => {
                write!(f, "execution `{arn}` stopped without a callback named `{name}` waiting for an answer")
            }
            Self::Input(e) => write!(f, "the input does not serialize: {e}"),
            Self::MaxInvocations { limit, arn } => {
                write!(f, "execution `{arn}` still running after {limit} invocations")
            }
            Self::Host(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LocalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Service(e) => Some(e),
            Self::Credentials(e) => Some(e),
            Self::Host(e) => Some(e),
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CredentialsError> for LocalError {
    fn from(e: CredentialsError) -> Self {
        Self::Credentials(e)
    }
}

impl From<StoreError> for LocalError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<MemoryError> for LocalError {
    fn from(e: MemoryError) -> Self {
        Self::Service(e)
    }
}
