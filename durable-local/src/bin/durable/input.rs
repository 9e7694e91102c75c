//! Payload arguments: literal text, `@file`, or `-` for standard input.

use crate::error::CliError;
use std::io::Read;

/// Where a payload argument says the bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The argument itself.
    Literal(String),
    /// `@path`: a file.
    File(String),
    /// `-`: standard input.
    Stdin,
}

impl Source {
    /// Reads an argument: `-` is stdin, `@path` a file, anything else the text itself.
    pub(crate) fn parse(arg: &str) -> Self {
        match arg {
            "-" => Self::Stdin,
            _ => match arg.strip_prefix('@') {
                Some(path) => Self::File(path.to_owned()),
                None => Self::Literal(arg.to_owned()),
            },
        }
    }

    /// The bytes, read from where they are.
    pub(crate) fn read(&self, stdin: &mut dyn Read) -> Result<Vec<u8>, CliError> {
        match self {
            Self::Literal(text) => Ok(text.as_bytes().to_vec()),
            Self::File(path) => std::fs::read(path)
                .map_err(|e| CliError::Input(format!("cannot read `{path}`: {e} (after `@` give a file that exists)"))),
            Self::Stdin => {
                let mut bytes = Vec::new();
                stdin
                    .read_to_end(&mut bytes)
                    .map_err(|e| CliError::Input(format!("cannot read standard input: {e}")))?;
                Ok(bytes)
            }
        }
    }
}

/// The invoke payload: `arg` as JSON text, `@file` or `-`, checked to be JSON; `{}` without one.
pub(crate) fn json_payload(arg: Option<&str>, stdin: &mut dyn Read) -> Result<Vec<u8>, CliError> {
    let Some(arg) = arg else { return Ok(b"{}".to_vec()) };
    let source = Source::parse(arg);
    let bytes = source.read(stdin)?;
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        let from = match source {
            Source::Literal(_) => "INPUT".to_owned(),
            Source::File(path) => format!("`{path}`"),
            Source::Stdin => "standard input".to_owned(),
        };
        let hint = if matches!(Source::parse(arg), Source::Literal(_)) {
            " (a string needs its JSON quotes: '\"text\"'; use @file for a file, - for stdin)"
        } else {
            ""
        };
        return Err(CliError::Input(format!("{from} is not JSON: {e}{hint}")));
    }
    Ok(bytes)
}

/// A raw payload (callback results): the text, `@file` or `-`; empty without one.
pub(crate) fn raw_payload(arg: Option<&str>, stdin: &mut dyn Read) -> Result<Vec<u8>, CliError> {
    match arg {
        Some(arg) => Source::parse(arg).read(stdin),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(Source::parse("-"), Source::Stdin);
        assert_eq!(Source::parse("@in.json"), Source::File("in.json".into()));
        assert_eq!(Source::parse("{\"a\":1}"), Source::Literal("{\"a\":1}".into()));
        assert_eq!(Source::parse("\"@not-a-file\""), Source::Literal("\"@not-a-file\"".into()));
    }

    #[test]
    fn json_payloads() {
        let mut none: &[u8] = b"";
        assert_eq!(json_payload(None, &mut none).ok(), Some(b"{}".to_vec()));
        assert_eq!(json_payload(Some("[1, 2]"), &mut none).ok(), Some(b"[1, 2]".to_vec()));
        let mut stdin: &[u8] = b"{\"name\": \"Ada\"}";
        assert_eq!(json_payload(Some("-"), &mut stdin).ok(), Some(b"{\"name\": \"Ada\"}".to_vec()));

        let error = json_payload(Some("Ada"), &mut none).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("INPUT is not JSON") && error.contains("'\"text\"'"), "{error}");
        let mut bad: &[u8] = b"nope";
        let error = json_payload(Some("-"), &mut bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("standard input is not JSON"), "{error}");
        let error = json_payload(Some("@/no/such/file"), &mut none).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("cannot read `/no/such/file`"), "{error}");
    }

    #[test]
    fn json_from_a_file() {
        let path = std::env::temp_dir().join(format!("durable-cli-input-{}.json", std::process::id()));
        let written = std::fs::write(&path, b"{\"n\": 1}");
        assert!(written.is_ok());
        let mut none: &[u8] = b"";
        let arg = format!("@{}", path.display());
        assert_eq!(json_payload(Some(&arg), &mut none).ok(), Some(b"{\"n\": 1}".to_vec()));
        assert_eq!(raw_payload(Some(&arg), &mut none).ok(), Some(b"{\"n\": 1}".to_vec()));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn raw_payloads_are_not_checked() {
        let mut none: &[u8] = b"";
        assert_eq!(raw_payload(Some("yes"), &mut none).ok(), Some(b"yes".to_vec()));
        assert_eq!(raw_payload(None, &mut none).ok(), Some(Vec::new()));
    }
}
