//! The errors of the `durable` command: each one says what to do about it.

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use std::fmt;
use std::path::PathBuf;

/// What went wrong, in the terms of the person at the terminal.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Nothing listens at the endpoint.
    NoService {
        /// The endpoint.
        endpoint: String,
        /// What the connection attempt said.
        detail: String,
    },
    /// The service refused the request's signature or credentials (HTTP 403).
    Forbidden {
        /// The endpoint.
        endpoint: String,
        /// The service's message.
        message: String,
    },
    /// The execution (or callback) does not exist (HTTP 404 ResourceNotFoundException).
    NotFound {
        /// What was looked up: `execution ARN`, `callback ID`, `function NAME`.
        what: String,
        /// The service's message.
        message: String,
    },
    /// The service at the endpoint does not serve this route yet.
    NotServed {
        /// The endpoint.
        endpoint: String,
        /// The operation.
        operation: &'static str,
    },
    /// Any other error the service answered.
    Service {
        /// The operation.
        operation: &'static str,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// The error code (`__type`).
        code: Option<String>,
        /// The service's message.
        message: String,
    },
    /// No credentials file: the server never ran with this store.
    NoCredentials {
        /// Where the file was looked for.
        path: PathBuf,
        /// Why it could not be used.
        detail: String,
    },
    /// A payload or argument that cannot be used.
    Input(String),
    /// A `durable.toml` or `--function` that cannot be used.
    Config(String),
    /// The local service could not start or failed.
    Local(durable_local::LocalError),
    /// The execution ran and ended other than SUCCEEDED (already reported on the terminal).
    ExecutionFailed(String),
    /// Writing to the terminal or another local I/O failed.
    Io(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoService { endpoint, detail } => write!(
                f,
                "no durable service at {endpoint} ({detail}): start one with `durable serve`, \
                 or point --endpoint / DURABLE_ENDPOINT at a running one"
            ),
            Self::Forbidden { endpoint, message } => write!(
                f,
                "the service at {endpoint} refused the credentials ({message}): run `eval \"$(durable env)\"`, \
                 or pass --db with the store of the running `durable serve` so its credentials file is used"
            ),
            Self::NotFound { what, message } => {
                let hint = match what.as_str() {
                    "callback" => "check the id: `durable history ARN` prints the ids of waiting callbacks",
                    "execution" => "check the ARN: `durable list --function NAME` shows the executions",
                    _ => "check the name",
                };
                write!(f, "no such {what} ({message}): {hint}")
            }
            Self::NotServed { endpoint, operation } => write!(
                f,
                "the service at {endpoint} does not serve {operation} yet: update the durable service \
                 (`durable serve` from this build) and try again"
            ),
            Self::Service { operation, status, code, message } => {
                write!(f, "{operation} failed")?;
                if let Some(status) = status {
                    write!(f, " (HTTP {status}")?;
                    if let Some(code) = code {
                        write!(f, " {code}")?;
                    }
                    write!(f, ")")?;
                }
                write!(f, ": {message}")
            }
            Self::NoCredentials { path, detail } => write!(
                f,
                "no credentials at {} ({detail}): start `durable serve` first, \
                 or pass --db with the store the server uses",
                path.display()
            ),
            Self::Input(message) | Self::Config(message) | Self::Io(message) => f.write_str(message),
            Self::Local(e) => write!(f, "{e}"),
            Self::ExecutionFailed(status) => write!(f, "the execution ended {status}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<durable_local::LocalError> for CliError {
    fn from(e: durable_local::LocalError) -> Self {
        Self::Local(e)
    }
}

/// What a failed call was about, for the messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The endpoint.
    pub(crate) endpoint: &'a str,
    /// The API operation.
    pub(crate) operation: &'static str,
    /// What a 404 means: `execution ARN`, `callback ID`, ….
    pub(crate) subject: &'a str,
}

impl Call<'_> {
    /// Maps an `aws-sdk-lambda` error to what the user should do about it.
    pub(crate) fn error<E, R>(&self, error: SdkError<E, R>) -> CliError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + HasStatus,
    {
        let status = error.raw_response().map(HasStatus::status);
        match &error {
            SdkError::DispatchFailure(failure) => {
                let detail = source_chain(&error);
                if failure.is_io() || failure.is_timeout() {
                    CliError::NoService { endpoint: self.endpoint.to_owned(), detail }
                } else {
                    CliError::Service { operation: self.operation, status: None, code: None, message: detail }
                }
            }
            SdkError::TimeoutError(_) => {
                CliError::NoService { endpoint: self.endpoint.to_owned(), detail: "no answer in time".to_owned() }
            }
            _ => {
                let (code, message) = match error.as_service_error() {
                    Some(e) => (e.code().map(str::to_owned), e.message().map(str::to_owned)),
                    None => (None, None),
                };
                let message = message.unwrap_or_else(|| source_chain(&error));
                match (status, code.as_deref()) {
                    (Some(403), _) => CliError::Forbidden { endpoint: self.endpoint.to_owned(), message },
                    (Some(404), Some("UnknownOperationException")) => {
                        CliError::NotServed { endpoint: self.endpoint.to_owned(), operation: self.operation }
                    }
                    (Some(404), _) | (_, Some("ResourceNotFoundException")) => {
                        CliError::NotFound { what: self.subject.to_owned(), message }
                    }
                    _ => CliError::Service { operation: self.operation, status, code, message },
                }
            }
        }
    }
}

/// The raw response's HTTP status.
pub(crate) trait HasStatus {
    /// The status code.
    fn status(&self) -> u16;
}

impl HasStatus for aws_sdk_lambda::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// An error and its sources on one line: `a: b: c`.
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}
