//! Durable, replayable workflows for AWS Lambda durable functions.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod checkpoint;
pub mod context;
mod engine;
pub mod error;
pub mod invocation;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod ops;
pub mod protocol;
pub mod retry;
pub mod testing;

pub use context::DurableContext;
pub use error::{DurableError, Error, ErrorKind};
pub use invocation::{Handler, InvocationError, Options};
