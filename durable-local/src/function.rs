//! Functions the local service can invoke: a handler in this process, or a Lambda bootstrap run as a
//! child process through the Lambda Runtime API. The service invokes both the same way: a JSON
//! payload in, the function's JSON response or a Lambda-style error out.

use durable_runtime::protocol::ErrorObject;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// The future of one invocation.
pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, ErrorObject>> + Send + 'a>>;

/// `ErrorType` of an invocation whose process exited before answering (as Lambda records it; the
/// in-memory service's own name for it).
pub use durable_runtime::checkpoint::memory::EXIT_ERROR_TYPE as RUNTIME_EXIT_ERROR_TYPE;

/// `ErrorType` of an invocation that ran past the function's timeout (as Lambda records it).
pub const TIMEOUT_ERROR_TYPE: &str = "Sandbox.Timedout";

/// A function the local service invokes.
///
/// `invoke` gets the request payload (for a durable function, the invocation envelope as JSON) and
/// the request id, and returns the response payload, or the error Lambda would record: a function
/// error (`errorType`/`errorMessage` of the runtime's error response), [`RUNTIME_EXIT_ERROR_TYPE`]
/// when the process died, [`TIMEOUT_ERROR_TYPE`] when it ran out of time.
pub trait Function: Send + Sync + 'static {
    /// Runs one invocation.
    fn invoke<'a>(&'a self, payload: Vec<u8>, request_id: &'a str) -> InvokeFuture<'a>;
}

/// How to run a Lambda bootstrap as a child process (`durable serve --function NAME=PATH`, or a
/// `[[function]]` table of `durable.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The function name (the `{name}` of the Invoke path, and `AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// The executable: a bootstrap built by `cargo lambda build` or `cargo build`.
    pub command: PathBuf,
    /// Arguments for the executable.
    pub args: Vec<String>,
    /// Extra environment variables for the process.
    pub env: Vec<(String, String)>,
    /// The function timeout: an invocation still running after it is killed and recorded as
    /// [`TIMEOUT_ERROR_TYPE`].
    pub timeout: Duration,
    /// The durable execution timeout (`DurableConfig.ExecutionTimeout`).
    pub execution_timeout: Duration,
    /// Most processes of this function running at once.
    pub max_processes: usize,
    /// `true` (the default): a durable function, invoked with the durable invocation envelope.
    /// `false`: a plain Lambda function (no `DurableConfig`), invoked with its input as is; Invoke
    /// answers with its response, and a chained invoke of it completes with its response or error.
    pub durable: bool,
}

impl FunctionSpec {
    /// Default function timeout (Lambda's largest, 15 minutes).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(900);
    /// Default execution timeout (one day).
    pub const DEFAULT_EXECUTION_TIMEOUT: Duration = Duration::from_secs(86_400);
    /// Default process limit.
    pub const DEFAULT_MAX_PROCESSES: usize = 4;

    /// A function named `name` run from `command`, with the defaults.
    pub fn new(name: impl Into<String>, command: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            execution_timeout: Self::DEFAULT_EXECUTION_TIMEOUT,
            max_processes: Self::DEFAULT_MAX_PROCESSES,
            durable: true,
        }
    }
}
