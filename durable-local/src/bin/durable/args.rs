//! The command line: global options and one subcommand per task.

use clap::{Args, Parser, Subcommand, ValueEnum};
use durable_local::server::{DEFAULT_PORT, DEFAULT_STORE};
use durable_local::FunctionSpec;
use std::path::PathBuf;

/// The default endpoint: `durable serve`'s default port on the loopback interface.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:9070";

/// Run AWS Lambda durable functions locally: serve the durable control plane, start executions,
/// inspect them and answer their callbacks.
#[derive(Debug, Parser)]
#[command(name = "durable", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The durable service to talk to.
    #[arg(long, global = true, env = "DURABLE_ENDPOINT", default_value = DEFAULT_ENDPOINT, value_name = "URL")]
    pub(crate) endpoint: String,
    /// The service's store; its credentials file sits in the same directory.
    #[arg(long, global = true, default_value = DEFAULT_STORE, value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// serve: accept unsigned requests (anyone on this machine can then drive it). Other commands:
    /// do not read the credentials file.
    #[arg(long, global = true)]
    pub(crate) no_auth: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the local durable service until Ctrl-C.
    Serve(Serve),
    /// Invoke a function: start a durable execution.
    Invoke(Invoke),
    /// List executions, newest first.
    List(List),
    /// Show one execution: status, times, input, result or error.
    Get(Get),
    /// Show an execution's history as a timeline of its operations.
    History(History),
    /// Answer a callback an execution waits for.
    #[command(subcommand)]
    Callback(Callback),
    /// Stop a running execution.
    Stop(Stop),
    /// Print the shell exports that point AWS SDKs and the AWS CLI at the local service:
    /// `eval "$(durable env)"`.
    Env,
}

/// `durable serve`.
#[derive(Debug, Args)]
pub(crate) struct Serve {
    /// The port on 127.0.0.1.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub(crate) port: u16,
    /// Keep nothing: executions live as long as the service (--db is ignored).
    #[arg(long)]
    pub(crate) in_memory: bool,
    /// Waits and retry delays end at once while no invocation runs.
    #[arg(long)]
    pub(crate) skip_time: bool,
    /// A function to host: its name and the path of its bootstrap executable (repeatable).
    #[arg(long = "function", value_name = "NAME=PATH", value_parser = parse_function)]
    pub(crate) functions: Vec<FunctionSpec>,
    /// Functions to host from a config file (default: `durable.toml` if there is one).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Also append each function's output to `DIR/<name>.log`.
    #[arg(long, value_name = "DIR")]
    pub(crate) log_dir: Option<PathBuf>,
}

/// `durable invoke`.
#[derive(Debug, Args)]
pub(crate) struct Invoke {
    /// The function: `NAME` (invoked as `NAME:$LATEST`), `NAME:QUALIFIER` (a version or an alias),
    /// or a function ARN.
    pub(crate) name: String,
    /// The input: JSON text, `@file`, or `-` for standard input (default `{}`).
    pub(crate) input: Option<String>,
    /// Do not wait: start the execution and print its ARN.
    #[arg(long = "async", conflicts_with = "follow")]
    pub(crate) asynchronous: bool,
    /// Show each operation as it happens, then the timeline and the result.
    #[arg(long)]
    pub(crate) follow: bool,
    /// The execution name (idempotency: the same name and input return the existing execution).
    #[arg(long = "name", value_name = "EXECUTION_NAME")]
    pub(crate) execution_name: Option<String>,
}

/// `durable list`.
#[derive(Debug, Args)]
pub(crate) struct List {
    /// Only this function's executions (default: every function the service hosts).
    #[arg(long, value_name = "NAME")]
    pub(crate) function: Vec<String>,
    /// Only executions with this status (repeatable).
    #[arg(long, value_enum, value_name = "STATUS")]
    pub(crate) status: Vec<StatusFilter>,
    /// Print the raw responses' executions as a JSON array.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Execution statuses `list --status` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum StatusFilter {
    /// Still running.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Timed out.
    TimedOut,
    /// Stopped.
    Stopped,
}

impl StatusFilter {
    /// The API's spelling.
    pub(crate) fn as_api(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Stopped => "STOPPED",
        }
    }
}

/// `durable get`.
#[derive(Debug, Args)]
pub(crate) struct Get {
    /// The execution ARN.
    pub(crate) arn: String,
    /// Print the raw GetDurableExecution response.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `durable history`.
#[derive(Debug, Args)]
pub(crate) struct History {
    /// The execution ARN.
    pub(crate) arn: String,
    /// Print the events as a JSON array.
    #[arg(long, conflicts_with = "svg")]
    pub(crate) json: bool,
    /// Write the timeline as a standalone SVG picture to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<std::path::PathBuf>,
}

/// `durable callback`.
#[derive(Debug, Subcommand)]
pub(crate) enum Callback {
    /// Complete the callback with a result.
    Succeed {
        /// The callback id.
        id: String,
        /// The result: JSON text, `@file`, or `-` for standard input (default: empty, read as `null`).
        payload: Option<String>,
        /// Send the payload's bytes as they are, JSON or not (for a callback read with a custom
        /// serdes).
        #[arg(long)]
        raw: bool,
    },
    /// Fail the callback.
    Fail {
        /// The callback id.
        id: String,
        /// The error type.
        #[arg(long = "type", value_name = "TYPE")]
        error_type: Option<String>,
        /// The error message.
        #[arg(long)]
        message: Option<String>,
        /// Error data: text, `@file`, or `-` for standard input.
        #[arg(long)]
        data: Option<String>,
    },
    /// Tell the execution the callback's worker is still alive.
    Heartbeat {
        /// The callback id.
        id: String,
    },
}

/// `durable stop`.
#[derive(Debug, Args)]
pub(crate) struct Stop {
    /// The execution ARN.
    pub(crate) arn: String,
    /// The error type recorded for the stop.
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) error_type: Option<String>,
    /// The error message recorded for the stop.
    #[arg(long)]
    pub(crate) message: Option<String>,
}

/// `NAME=PATH` (or just the path of `…/NAME/bootstrap`) of `--function`.
pub(crate) fn parse_function(arg: &str) -> Result<FunctionSpec, String> {
    FunctionSpec::parse_cli(arg).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::Path;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("durable").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn globals_have_defaults_and_go_anywhere() {
        let cli = parse(&["env"]).ok();
        let global = cli.as_ref().map(|c| (c.global.endpoint.as_str(), c.global.db.clone(), c.global.no_auth));
        // DURABLE_ENDPOINT may be set where the tests run.
        if std::env::var_os("DURABLE_ENDPOINT").is_none() {
            assert_eq!(global, Some((DEFAULT_ENDPOINT, PathBuf::from(DEFAULT_STORE), false)));
        }
        let cli = parse(&["get", "arn:x", "--endpoint", "http://127.0.0.1:1", "--db", "s/d.db"]).ok();
        assert!(matches!(cli, Some(Cli { command: Command::Get(Get { ref arn, json: false }), ref global })
            if arn == "arn:x" && global.endpoint == "http://127.0.0.1:1" && global.db == Path::new("s/d.db")));
    }

    #[test]
    fn serve_options() {
        let cli = parse(&[
            "serve",
            "--port",
            "9000",
            "--in-memory",
            "--skip-time",
            "--no-auth",
            "--function",
            "a=bin/a",
            "--function",
            "b=/x/b",
            "--config",
            "other.toml",
        ]);
        let Ok(Cli { command: Command::Serve(serve), global }) = cli else {
            unreachable!("parse failed: {cli:?}");
        };
        assert_eq!((serve.port, serve.in_memory, serve.skip_time, global.no_auth), (9000, true, true, true));
        assert_eq!(serve.functions, [FunctionSpec::new("a", "bin/a"), FunctionSpec::new("b", "/x/b")]);
        assert_eq!(serve.config, Some(PathBuf::from("other.toml")));
        assert!(parse(&["serve", "--function", "=bin/a"]).is_err());
    }

    #[test]
    fn invoke_options() {
        let Ok(Cli { command: Command::Invoke(invoke), .. }) = parse(&["invoke", "hello", "{\"a\":1}", "--follow"])
        else {
            unreachable!()
        };
        assert_eq!((invoke.name.as_str(), invoke.input.as_deref(), invoke.follow), ("hello", Some("{\"a\":1}"), true));
        let Ok(Cli { command: Command::Invoke(invoke), .. }) = parse(&["invoke", "hello", "--async", "--name", "n1"])
        else {
            unreachable!()
        };
        assert!(invoke.asynchronous && invoke.input.is_none());
        assert_eq!(invoke.execution_name.as_deref(), Some("n1"));
        assert!(parse(&["invoke", "hello", "--async", "--follow"]).is_err());
        assert!(parse(&["invoke"]).is_err());
    }

    #[test]
    fn list_stop_and_callback_options() {
        let Ok(Cli { command: Command::List(list), .. }) =
            parse(&["list", "--function", "f", "--status", "RUNNING", "--status", "TIMED_OUT"])
        else {
            unreachable!()
        };
        assert_eq!(list.function, ["f"]);
        assert_eq!(list.status, [StatusFilter::Running, StatusFilter::TimedOut]);
        assert_eq!(list.status.iter().map(|s| s.as_api()).collect::<Vec<_>>(), ["RUNNING", "TIMED_OUT"]);
        assert!(parse(&["list", "--status", "DONE"]).is_err());

        let Ok(Cli { command: Command::Stop(stop), .. }) = parse(&["stop", "arn:x", "--type", "T", "--message", "m"])
        else {
            unreachable!()
        };
        assert_eq!(
            (stop.arn.as_str(), stop.error_type.as_deref(), stop.message.as_deref()),
            ("arn:x", Some("T"), Some("m"))
        );

        let cli = parse(&["callback", "fail", "id1", "--type", "Rejected", "--message", "no", "--data", "@d.json"]);
        assert!(
            matches!(cli, Ok(Cli { command: Command::Callback(Callback::Fail { ref id, ref error_type, ref message, ref data }), .. })
            if id == "id1" && error_type.as_deref() == Some("Rejected") && message.as_deref() == Some("no")
                && data.as_deref() == Some("@d.json"))
        );
        let cli = parse(&["callback", "succeed", "id1", "-"]);
        assert!(matches!(cli, Ok(Cli { command: Command::Callback(Callback::Succeed { ref payload, .. }), .. })
            if payload.as_deref() == Some("-")));
        assert!(matches!(
            parse(&["callback", "heartbeat", "id1"]),
            Ok(Cli { command: Command::Callback(Callback::Heartbeat { .. }), .. })
        ));
        assert!(parse(&["callback", "approve", "id1"]).is_err());
    }

    #[test]
    fn function_specs() {
        assert_eq!(parse_function("hello=target/debug/hello"), Ok(FunctionSpec::new("hello", "target/debug/hello")));
        assert!(parse_function("=x").is_err());
        assert!(parse_function("a=").is_err());
        assert!(parse_function("bad name=x").is_err());
    }
}
