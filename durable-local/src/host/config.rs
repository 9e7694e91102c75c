//! Describing hosted functions: a `durable.toml` with `[[function]]` tables, or the command-line
//! form `NAME=PATH`.

use super::HostError;
use crate::{FunctionSpec, LocalError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lambda's largest function timeout, in seconds.
const MAX_TIMEOUT_SECS: u64 = 900;

/// The largest durable execution timeout, in seconds (366 days).
const MAX_EXECUTION_TIMEOUT_SECS: u64 = 31_622_400;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, rename = "function")]
    functions: Vec<FunctionTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionTable {
    name: String,
    command: PathBuf,
    #[serde(default)]
    args: Vec<String>,
    timeout: Option<u64>,
    max_processes: Option<usize>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    durable: DurableTable,
    /// `false`: a plain Lambda function (see [`FunctionSpec::durable`]).
    durable_execution: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurableTable {
    execution_timeout: Option<u64>,
}

/// Reads the `[[function]]` tables of the `durable.toml` at `path`. A relative `command` is taken
/// relative to the file's directory. Only `name` and `command` are required; unknown keys are
/// errors.
///
/// ```toml
/// [[function]]
/// name = "orders"                              # AWS_LAMBDA_FUNCTION_NAME, the Invoke path's name
/// command = "target/lambda/orders/bootstrap"   # relative to this file
/// args = []
/// timeout = 60                                 # seconds, 1 to 900 (Lambda's limits); default 900
/// max_processes = 4                            # default 4
/// durable_execution = true                     # false: a plain Lambda function, invoked with its input
/// [function.env]
/// RUST_LOG = "info"
/// [function.durable]
/// execution_timeout = 86400                    # seconds, 1 to 31622400; default 86400
/// ```
///
/// The error names the file and the problem (for a syntax error, the line and column).
pub fn load_config(path: impl AsRef<Path>) -> Result<Vec<FunctionSpec>, LocalError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| HostError::Config { path: path.to_owned(), message: format!("cannot read it: {e}") })?;
    let base = path.parent().unwrap_or_else(|| Path::new(""));
    parse_config(&text, base).map_err(|message| HostError::Config { path: path.to_owned(), message }.into())
}

/// Parses a `durable.toml`'s text; relative commands are joined to `base`.
pub(crate) fn parse_config(text: &str, base: &Path) -> Result<Vec<FunctionSpec>, String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
    let mut specs: Vec<FunctionSpec> = Vec::with_capacity(file.functions.len());
    for table in file.functions {
        let at = |message: String| format!("function `{}`: {message}", table.name);
        check_name(&table.name).map_err(|m| format!("function name `{}`: {m}", table.name))?;
        if specs.iter().any(|s| s.name == table.name) {
            return Err(format!("function `{}` is listed twice", table.name));
        }
        let mut spec = FunctionSpec::new(table.name.clone(), base.join(&table.command));
        spec.args = table.args;
        spec.env = table.env.into_iter().collect();
        if let Some(timeout) = table.timeout {
            if !(1..=MAX_TIMEOUT_SECS).contains(&timeout) {
                return Err(at(format!("`timeout` is {timeout}; it must be 1 to {MAX_TIMEOUT_SECS} seconds")));
            }
            spec.timeout = Duration::from_secs(timeout);
        }
        if let Some(limit) = table.max_processes {
            if limit == 0 {
                return Err(at("`max_processes` must be at least 1".to_owned()));
            }
            spec.max_processes = limit;
        }
        if let Some(timeout) = table.durable.execution_timeout {
            if !(1..=MAX_EXECUTION_TIMEOUT_SECS).contains(&timeout) {
                return Err(at(format!(
                    "`durable.execution_timeout` is {timeout}; it must be 1 to {MAX_EXECUTION_TIMEOUT_SECS} seconds"
                )));
            }
            spec.execution_timeout = Duration::from_secs(timeout);
        }
        spec.durable = table.durable_execution.unwrap_or(true);
        specs.push(spec);
    }
    Ok(specs)
}

/// Checks a function name as Lambda does: 1 to 64 letters, digits, `-` and `_`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a function name has 1 to 64 characters".to_owned());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("`{c}` is not allowed; use letters, digits, `-` and `_`"));
    }
    Ok(())
}

impl FunctionSpec {
    /// Parses the command-line form `NAME=PATH` (`durable serve --function orders=target/lambda/orders/bootstrap`),
    /// with the default timeout and process limit. `PATH` alone names the function after the file,
    /// or after its directory for a `bootstrap` (`target/lambda/orders/bootstrap` is `orders`).
    pub fn parse_cli(argument: &str) -> Result<Self, LocalError> {
        let error = |message: String| HostError::Cli { argument: argument.to_owned(), message };
        let (name, path) = match argument.split_once('=') {
            Some((name, path)) => (name.to_owned(), PathBuf::from(path)),
            None => {
                let path = PathBuf::from(argument);
                let name = default_name(&path)
                    .ok_or_else(|| error("cannot name the function after this path; write NAME=PATH".to_owned()))?;
                (name, path)
            }
        };
        if path.as_os_str().is_empty() {
            return Err(error("the path is empty; write NAME=PATH".to_owned()).into());
        }
        check_name(&name).map_err(|m| error(format!("{m} (expected NAME=PATH)")))?;
        Ok(Self::new(name, path))
    }
}

/// The function name a bare path implies: the directory of a `bootstrap`, else the file's stem.
fn default_name(path: &Path) -> Option<String> {
    let file = path.file_stem()?.to_str()?;
    let name = if file == "bootstrap" { path.parent()?.file_name()?.to_str()? } else { file };
    check_name(name).ok().map(|()| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_config() {
        let text = r#"
            [[function]]
            name = "orders"
            command = "target/lambda/orders/bootstrap"
            args = ["--flag"]
            timeout = 60
            max_processes = 2
            [function.env]
            RUST_LOG = "info"
            A = "1"
            [function.durable]
            execution_timeout = 3600

            [[function]]
            name = "payments"
            command = "/abs/bootstrap"
            durable_execution = false
        "#;
        let specs = parse_config(text, Path::new("/project")).unwrap();
        assert_eq!(specs.len(), 2);
        let orders = &specs[0];
        assert_eq!(orders.name, "orders");
        assert_eq!(orders.command, PathBuf::from("/project/target/lambda/orders/bootstrap"));
        assert_eq!(orders.args, vec!["--flag".to_owned()]);
        assert_eq!(orders.timeout, Duration::from_secs(60));
        assert_eq!(orders.max_processes, 2);
        assert_eq!(orders.env, vec![("A".to_owned(), "1".to_owned()), ("RUST_LOG".to_owned(), "info".to_owned())]);
        assert_eq!(orders.execution_timeout, Duration::from_secs(3600));
        let payments = &specs[1];
        assert_eq!(payments.command, PathBuf::from("/abs/bootstrap"));
        assert_eq!(payments.timeout, FunctionSpec::DEFAULT_TIMEOUT);
        assert_eq!(payments.max_processes, FunctionSpec::DEFAULT_MAX_PROCESSES);
        assert_eq!(payments.execution_timeout, FunctionSpec::DEFAULT_EXECUTION_TIMEOUT);
        assert!(orders.durable && !payments.durable);
    }

    #[test]
    fn rejects_bad_configs() {
        let base = Path::new("");
        let check = |text: &str, expected: &str| {
            let message = parse_config(text, base).unwrap_err();
            assert!(message.contains(expected), "{message:?} does not contain {expected:?}");
        };
        check("[[function]]\nname = \"a\"\n", "missing field `command`");
        check("[[function]]\nname = \"a\"\ncommand = \"x\"\ntimout = 3\n", "unknown field `timout`");
        check("[[function]]\nname = \"a\"\ncommand = \"x\"\ntimeout = 901\n", "must be 1 to 900 seconds");
        check("[[function]]\nname = \"a\"\ncommand = \"x\"\nmax_processes = 0\n", "at least 1");
        check("[[function]]\nname = \"a b\"\ncommand = \"x\"\n", "` ` is not allowed");
        check("[[function]]\nname = \"a\"\ncommand = \"x\"\n[[function]]\nname = \"a\"\ncommand = \"y\"\n", "twice");
        check(
            "[[function]]\nname = \"a\"\ncommand = \"x\"\n[function.durable]\nexecution_timeout = 0\n",
            "`durable.execution_timeout` is 0",
        );
        check("[[function]\n", "line 1, column 12");
    }

    #[test]
    fn load_config_names_the_file() {
        let error = load_config("/nonexistent/durable.toml").unwrap_err().to_string();
        assert!(error.starts_with("durable config /nonexistent/durable.toml: cannot read it"), "{error}");
    }

    #[test]
    fn parses_the_cli_form() {
        let spec = FunctionSpec::parse_cli("orders=target/lambda/orders/bootstrap").unwrap();
        assert_eq!(
            (spec.name.as_str(), spec.command.as_path()),
            ("orders", Path::new("target/lambda/orders/bootstrap"))
        );
        let spec = FunctionSpec::parse_cli("target/lambda/payments/bootstrap").unwrap();
        assert_eq!(spec.name, "payments");
        let spec = FunctionSpec::parse_cli("target/debug/my-fn").unwrap();
        assert_eq!(spec.name, "my-fn");
        let error = FunctionSpec::parse_cli("bad name=x").unwrap_err().to_string();
        assert_eq!(
            error,
            "`--function bad name=x`: ` ` is not allowed; use letters, digits, `-` and `_` (expected NAME=PATH)"
        );
        assert!(FunctionSpec::parse_cli("orders=").is_err());
    }
}
