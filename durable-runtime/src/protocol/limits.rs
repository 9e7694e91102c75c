//! Every size and time limit of the protocol, in one place (protocol §1.3, §2.6, §3.4).
//!
//! The runtime enforces these before anything is sent, and the in-memory service (feature
//! `testing`) rejects updates over them as the real service does, with errors that name the limit.

/// Largest `Payload` of an update other than `EXECUTION`, in bytes (1 MB).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// A serialized `ErrorObject` must stay below this many bytes (32 KiB).
pub const MAX_ERROR_OBJECT_BYTES: usize = 32 * 1024;

/// Largest serialized result of a step, in bytes (256 KiB). Larger results fail the step.
pub const MAX_STEP_RESULT_BYTES: usize = 256 * 1024;

/// Largest serialized result a context records inline, in bytes (256 KiB). Larger results are
/// rebuilt on replay by re-running the context's body over its recorded children
/// (`ReplayChildren`).
pub const MAX_CONTEXT_RESULT_BYTES: usize = 256 * 1024;

/// Shortest wait, in seconds.
pub const MIN_WAIT_SECONDS: u64 = 1;

/// Longest wait the service accepts, in seconds (366 days).
pub const MAX_WAIT_SECONDS: u64 = 31_622_400;

/// Most updates one checkpoint request carries.
pub const MAX_UPDATES_PER_REQUEST: usize = 250;

/// Largest JSON body of one checkpoint request, in bytes (750 KiB).
pub const MAX_REQUEST_BYTES: usize = 750 * 1024;

/// Largest SUCCEEDED envelope returned inline (Lambda's 6 MB response limit, less 50 bytes). A
/// result whose envelope is larger is checkpointed on the `EXECUTION` operation instead, and the
/// envelope carries an empty `Result`.
pub const MAX_INLINE_RESULT_BYTES: usize = 6 * 1024 * 1024 - 50;

/// Largest Invoke request payload of a synchronous (`RequestResponse`) invocation, in bytes (6 MB).
pub const MAX_SYNC_INVOKE_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Largest Invoke request payload of an asynchronous (`Event`) invocation, in bytes (1 MB).
pub const MAX_ASYNC_INVOKE_PAYLOAD_BYTES: usize = 1024 * 1024;
