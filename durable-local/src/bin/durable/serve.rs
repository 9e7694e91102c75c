//! `durable serve`: the local service until Ctrl-C or SIGTERM.

use crate::args::{Global, Serve};
use crate::error::CliError;
use durable_local::server::{self, ServeConfig, StoreLocation};
use durable_local::FunctionSpec;
use std::path::{Path, PathBuf};

/// The config file `serve` reads when there is one and `--config` is not given.
const DEFAULT_CONFIG: &str = "durable.toml";

/// Runs the service until a shutdown signal.
pub(crate) async fn run(global: &Global, args: &Serve) -> Result<(), CliError> {
    let config = config(global, args)?;
    if !config.auth {
        eprintln!("WARNING: authentication is OFF (--no-auth): any program on this machine can start, stop and");
        eprintln!("WARNING: answer executions on this service. Use it only for throwaway local work.");
    }
    let service = server::start(&config).await?;
    let endpoint = service.endpoint().to_owned();
    match &config.store {
        StoreLocation::Path(path) => eprintln!("store      {}", path.display()),
        _ => eprintln!("store      in memory (nothing is kept after exit)"),
    }
    for function in &config.functions {
        eprintln!("function   {} = {}", function.name, function.command.display());
    }
    if config.skip_time {
        eprintln!("time       skipped: waits and retry delays end at once");
    }
    println!("durable service listening on {endpoint}");
    // Like a notebook server's: the token in the URL is the page's password, exchanged for a cookie.
    // Standard output stays the one line scripts read the endpoint from.
    eprintln!("web page   {}", service.web_url());
    if global.endpoint.trim_end_matches('/') == endpoint {
        eprintln!("hint: in another shell, `eval \"$(durable env)\"` points AWS SDKs and the AWS CLI here");
    } else {
        eprintln!("hint: in another shell, `eval \"$(durable --endpoint {endpoint} env)\"` points AWS SDKs here");
    }
    shutdown_signal().await?;
    eprintln!("stopping");
    service.shutdown();
    Ok(())
}

/// The `ServeConfig` the options describe.
pub(crate) fn config(global: &Global, args: &Serve) -> Result<ServeConfig, CliError> {
    let mut config = ServeConfig::default();
    config.port = args.port;
    config.auth = !global.no_auth;
    config.skip_time = args.skip_time;
    config.store = if args.in_memory { StoreLocation::Memory } else { StoreLocation::Path(global.db.clone()) };
    // `durable env` and the other commands find the credentials beside `--db`, in memory or not.
    config.credentials_dir = Some(crate::client::store_dir(&global.db));
    let file = match &args.config {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.is_file()),
    };
    if let Some(file) = file {
        config.functions = load_config(&file)?;
    }
    for function in &args.functions {
        // A `--function` replaces the config file's function of the same name.
        config.functions.retain(|f| f.name != function.name);
        config.functions.push(function.clone());
    }
    config.log_dir = args.log_dir.clone();
    Ok(config)
}

/// The functions of a `durable.toml`.
fn load_config(path: &Path) -> Result<Vec<FunctionSpec>, CliError> {
    durable_local::load_config(path).map_err(|e| CliError::Config(format!("{e} (give --config an existing file)")))
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() -> Result<(), CliError> {
    let ctrl_c =
        async { tokio::signal::ctrl_c().await.map_err(|e| CliError::Io(format!("cannot listen for Ctrl-C: {e}"))) };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| CliError::Io(format!("cannot listen for SIGTERM: {e}")))?;
        tokio::select! {
            result = ctrl_c => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    #[test]
    fn options_become_a_serve_config() {
        let cli = Cli::try_parse_from([
            "durable",
            "--db",
            "x/y.db",
            "serve",
            "--port",
            "0",
            "--skip-time",
            "--function",
            "a=bin/a",
            "--config",
            "/no/such/durable.toml",
        ]);
        let Ok(Cli { command: Command::Serve(serve), global }) = cli else { unreachable!("{cli:?}") };
        let error = config(&global, &serve).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("/no/such/durable.toml"), "{error}");

        let cli = Cli::try_parse_from(["durable", "serve", "--in-memory", "--no-auth", "--function", "a=bin/a"]);
        let Ok(Cli { command: Command::Serve(serve), global }) = cli else { unreachable!("{cli:?}") };
        let Ok(config) = config(&global, &serve) else { unreachable!() };
        assert_eq!(config.store, StoreLocation::Memory);
        assert!(!config.auth && !config.skip_time);
        assert_eq!(config.port, durable_local::server::DEFAULT_PORT);
        assert!(config.functions.iter().any(|f| f == &FunctionSpec::new("a", "bin/a")));
    }
}
