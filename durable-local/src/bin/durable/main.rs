//! `durable`: the local durable service and a client for it.
//!
//! `durable serve` runs the durable-execution control plane on `127.0.0.1`; `invoke`, `list`,
//! `get`, `history`, `callback`, `stop` talk to it through `aws-sdk-lambda`; `env` prints the
//! shell exports that point other AWS tools at it. With no service running, `list`, `get` and
//! `history` read the store (`--db`) directly. Exit status: 0 on success, 1 on any error and
//! when an invoked execution does not succeed, 2 for a command line clap rejects.

mod args;
mod client;
mod commands;
mod error;
mod input;
mod serve;

use args::{Cli, Command};
use clap::Parser;
use commands::Context;
use error::CliError;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A read-only view of the store for `list`, `get` and `history` when no service is running: the
/// executions loaded from `--db` into a private service on an ephemeral port, which writes nothing
/// back and drives nothing.
struct Offline {
    _service: durable_local::LocalService,
    context: Context,
}

async fn offline(global: &args::Global) -> Result<Offline, CliError> {
    eprintln!("note: no durable service at {}; reading {} directly", global.endpoint, global.db.display());
    let service = durable_local::LocalService::open_read_only(&global.db).await?;
    let context = Context::with_client(service.endpoint(), service.lambda_client());
    Ok(Offline { _service: service, context })
}

async fn run(cli: &Cli) -> Result<(), CliError> {
    let global = &cli.global;
    match &cli.command {
        Command::Serve(args) => serve::run(global, args).await,
        Command::Env => commands::env(global),
        Command::Invoke(args) => commands::invoke(&Context::new(global), args).await,
        Command::List(args) => match commands::list(&Context::new(global), args).await {
            Err(CliError::NoService { .. }) if global.db.is_file() => {
                let offline = offline(global).await?;
                commands::list(&offline.context, args).await
            }
            done => done,
        },
        Command::Get(args) => match commands::get(&Context::new(global), args).await {
            Err(CliError::NoService { .. }) if global.db.is_file() => {
                let offline = offline(global).await?;
                commands::get(&offline.context, args).await
            }
            done => done,
        },
        Command::History(args) => match commands::history(&Context::new(global), args).await {
            Err(CliError::NoService { .. }) if global.db.is_file() => {
                let offline = offline(global).await?;
                commands::history(&offline.context, args).await
            }
            done => done,
        },
        Command::Callback(args) => commands::callback(&Context::new(global), args).await,
        Command::Stop(args) => commands::stop(&Context::new(global), args).await,
    }
}
