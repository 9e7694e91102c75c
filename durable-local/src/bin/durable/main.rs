//! `durable`: the local durable service and a client for it.
//!
//! `durable serve` runs the durable-execution control plane on `127.0.0.1`; `invoke`, `list`,
//! `get`, `history`, `callback`, `stop` talk to it through `aws-sdk-lambda`; `env` prints the
//! shell exports that point other AWS tools at it. Exit status: 0 on success, 1 on any error and
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

async fn run(cli: &Cli) -> Result<(), CliError> {
    let global = &cli.global;
    match &cli.command {
        Command::Serve(args) => serve::run(global, args).await,
        Command::Env => commands::env(global),
        Command::Invoke(args) => commands::invoke(&Context::new(global), args).await,
        Command::List(args) => commands::list(&Context::new(global), args).await,
        Command::Get(args) => commands::get(&Context::new(global), args).await,
        Command::History(args) => commands::history(&Context::new(global), args).await,
        Command::Callback(args) => commands::callback(&Context::new(global), args).await,
        Command::Stop(args) => commands::stop(&Context::new(global), args).await,
    }
}
