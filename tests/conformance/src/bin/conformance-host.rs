//! One invocation of a conformance handler in its own process, the way a Lambda bootstrap runs it:
//! the handler goes through `durable_runtime::lambda::service`, which checkpoints over HTTP with
//! `aws-sdk-lambda` configured from the environment (`AWS_ENDPOINT_URL_LAMBDA` names the local
//! service, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` are the service's own credentials, which it
//! checks on every request). A crash is a real `std::process::exit`.
//!
//! `conformance-host <function name>`: the invocation envelope on standard input; the output
//! envelope written to the file named by `CONFORMANCE_OUTPUT`; the runtime's JSON log lines and the
//! plugins' lines on standard output. `CONFORMANCE_CRASH_MARKER` names a file that records that the
//! execution already crashed once, so that the next process goes on.

use durable_conformance::{handler, Host};
use durable_runtime::lambda::lambda_runtime::Service;
use durable_runtime::lambda::{LambdaContext, LambdaEvent};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Crashes by exiting the process, once per marker file.
struct ProcessHost {
    marker: PathBuf,
}

impl Host for ProcessHost {
    fn crash_once(&self) -> bool {
        if self.marker.exists() {
            return false;
        }
        if let Err(e) = std::fs::File::create(&self.marker).and_then(|f| f.sync_all()) {
            eprintln!("conformance-host: cannot record the crash in {}: {e}", self.marker.display());
            return false;
        }
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("conformance-host: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let function_name = std::env::args().nth(1).ok_or("usage: conformance-host <function name>")?;
    let conformance = handler(&function_name).ok_or_else(|| format!("no handler registered as `{function_name}`"))?;
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from).ok_or_else(|| format!("{name} is not set"));
    let (output_path, marker) = (var("CONFORMANCE_OUTPUT")?, var("CONFORMANCE_CRASH_MARKER")?);
    let envelope: serde_json::Value =
        serde_json::from_reader(std::io::stdin()).map_err(|e| format!("the envelope on stdin is not JSON: {e}"))?;
    durable_runtime::logging::init_json().map_err(|e| format!("cannot install the log output: {e}"))?;

    let host: Arc<dyn Host> = Arc::new(ProcessHost { marker });
    let options = conformance.options(host.clone());
    let mut service = durable_runtime::lambda::service(conformance.bind(host)).options(options);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let output = runtime
        .block_on(service.call(LambdaEvent::new(envelope, LambdaContext::default())))
        .map_err(|e| format!("the invocation failed: {e}"))?;
    let text = serde_json::to_vec(&output).map_err(|e| format!("cannot encode the output: {e}"))?;
    std::fs::write(&output_path, text).map_err(|e| format!("cannot write {}: {e}", output_path.display()))
}
