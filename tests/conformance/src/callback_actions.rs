//! A requirement's `CallbackActions` (guide §1.4, the runner's `callback.py` and `PollingValidator`),
//! turned into test-runner responders.
//!
//! - `CallbackName` is matched against the callback's name (for the callback inside a
//!   wait-for-callback, the wait-for-callback's name, as the runner's
//!   `inherit_wait_for_callback_event_names` does): `'*'` matches any callback, named or not;
//!   `${/re/}` is a regex searched in the name; anything else is compared literally after `${VAR}`
//!   substitution.
//! - `success` sends `json.dumps(Payload)` (Python's separators and `ensure_ascii`), or no result
//!   at all when `Payload` is absent; `failure` sends an `ErrorObject` built from the `ErrorType`,
//!   `ErrorMessage`, `ErrorData` and `StackTrace` keys of `Payload`; `heartbeat` sends nothing but
//!   the heartbeat.
//! - Each action is used once; a callback takes the first unused action that matches, and a
//!   heartbeat does not consume the callback, so the next matching action applies to it too.
//!
//! Time: `Delay` is virtual time, counted from the callback's start (or, after a heartbeat, from
//! the previous action for the same callback). The runner's 2 s polling interval is not modelled,
//! and delays of actions for different callbacks run side by side rather than one after the other
//! as in the runner's single polling loop; no requirement's order of events depends on either.

use crate::matcher::{Bindings, Pattern};
use durable_runtime::protocol::ErrorObject;
use durable_runtime::testing::CallbackAction;
use regex::Regex;
use std::fmt;
use std::time::Duration;

/// Which callbacks an action applies to.
#[derive(Debug, Clone)]
pub enum NameMatch {
    /// `'*'`: every callback, named or not.
    Any,
    /// `${/re/}`: a regex searched in the name.
    Regex(Regex),
    /// The name, after `${VAR}` substitution.
    Exact(String),
}

impl NameMatch {
    /// Whether a callback named `name` (empty when unnamed) matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Regex(re) => re.is_match(name),
            Self::Exact(exact) => exact == name,
        }
    }
}

impl fmt::Display for NameMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("'*'"),
            Self::Regex(re) => write!(f, "${{/{re}/}}"),
            Self::Exact(name) => write!(f, "{name:?}"),
        }
    }
}

/// What an action sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// `SendDurableExecutionCallbackSuccess` with these result bytes (`None`: no result).
    Success(Option<String>),
    /// `SendDurableExecutionCallbackFailure` with this error.
    Failure(ErrorObject),
    /// `SendDurableExecutionCallbackHeartbeat`.
    Heartbeat,
}

/// One entry of `CallbackActions`.
#[derive(Debug, Clone)]
pub struct Action {
    /// The callbacks it applies to.
    pub name: NameMatch,
    /// What it sends.
    pub operation: Operation,
    /// How long after the callback started (or the previous action for it) it is sent.
    pub delay: Duration,
}

impl Action {
    /// The test-runner responder action.
    pub fn responder(&self) -> CallbackAction {
        let action = match &self.operation {
            Operation::Success(result) => CallbackAction::succeed_raw(result.clone()),
            Operation::Failure(error) => CallbackAction::fail(error.clone()),
            Operation::Heartbeat => CallbackAction::heartbeat(),
        };
        action.after(self.delay)
    }
}

/// Parses a requirement's `CallbackActions` list, substituting `bindings` (its `Variables`).
pub fn parse(actions: &[Pattern], bindings: &Bindings) -> Result<Vec<Action>, String> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| parse_one(a, bindings).map_err(|e| format!("CallbackActions[{i}]: {e}")))
        .collect()
}

fn parse_one(action: &Pattern, bindings: &Bindings) -> Result<Action, String> {
    let name = match action.get("CallbackName") {
        Some(Pattern::String(name)) => name_match(name, bindings)?,
        Some(other) => NameMatch::Exact(crate::matcher::python_str(&other.to_value(bindings))),
        None => return Err("no CallbackName".to_owned()),
    };
    let payload = action.get("Payload").filter(|p| **p != Pattern::Null);
    let operation = match action.get("Operation") {
        Some(Pattern::String(op)) => match op.as_str() {
            "success" => Operation::Success(payload.map(|p| dumps(p, bindings))),
            "failure" => Operation::Failure(error_object(payload, bindings)),
            "heartbeat" => Operation::Heartbeat,
            other => return Err(format!("unknown Operation `{other}` (success, failure or heartbeat)")),
        },
        _ => return Err("no Operation".to_owned()),
    };
    let delay = match action.get("Delay") {
        None | Some(Pattern::Null) => Duration::ZERO,
        Some(Pattern::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("Delay {n} is not a number of seconds"))?,
        Some(other) => return Err(format!("Delay {other:?} is not a number of seconds")),
    };
    Ok(Action { name, operation, delay })
}

fn name_match(name: &str, bindings: &Bindings) -> Result<NameMatch, String> {
    if name == "*" {
        return Ok(NameMatch::Any);
    }
    let name = bindings.substitute(name);
    match name.strip_prefix("${/").and_then(|t| t.strip_suffix("/}")) {
        Some(re) => Regex::new(re).map(NameMatch::Regex).map_err(|e| format!("bad CallbackName regex: {e}")),
        None => Ok(NameMatch::Exact(name)),
    }
}

/// The `ErrorObject` the runner builds from a failure's `Payload`.
fn error_object(payload: Option<&Pattern>, bindings: &Bindings) -> ErrorObject {
    let text = |key: &str| match payload.and_then(|p| p.get(key)) {
        None | Some(Pattern::Null) => None,
        Some(Pattern::String(s)) => Some(bindings.substitute(s)),
        Some(other) => Some(dumps(other, bindings)),
    };
    let stack_trace = match payload.and_then(|p| p.get("StackTrace")) {
        Some(Pattern::List(lines)) => {
            Some(lines.iter().map(|l| crate::matcher::python_str(&l.to_value(bindings))).collect())
        }
        Some(Pattern::String(line)) => Some(vec![bindings.substitute(line)]),
        _ => None,
    };
    ErrorObject {
        error_type: text("ErrorType"),
        error_message: text("ErrorMessage"),
        error_data: text("ErrorData"),
        stack_trace,
    }
}

/// Python's `json.dumps(value)` with its defaults (`", "` and `": "` separators, `ensure_ascii`),
/// keys in document order, strings after `${VAR}` substitution.
pub fn dumps(value: &Pattern, bindings: &Bindings) -> String {
    let mut out = String::new();
    write_json(value, bindings, &mut out);
    out
}

fn write_json(value: &Pattern, bindings: &Bindings, out: &mut String) {
    match value {
        Pattern::Null => out.push_str("null"),
        Pattern::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Pattern::Number(n) => match n.as_f64() {
            // Python prints a float with a fractional part even when it is whole (`1.0`).
            Some(f) if n.is_f64() && f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => {
                out.push_str(&format!("{f:.1}"));
            }
            _ => out.push_str(&n.to_string()),
        },
        Pattern::String(s) => write_string(&bindings.substitute(s), out),
        Pattern::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, bindings, out);
            }
            out.push(']');
        }
        Pattern::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_json(item, bindings, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn bindings() -> Bindings {
        let mut b = Bindings::new();
        b.bind("CB_NAME", Value::String("abc".into()));
        b.bind("CB_PAYLOAD", Value::String("xyz".into()));
        b
    }

    fn map(entries: &[(&str, Pattern)]) -> Pattern {
        Pattern::Map(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    fn s(text: &str) -> Pattern {
        Pattern::String(text.to_owned())
    }

    #[test]
    fn dumps_like_python() {
        let b = bindings();
        let value = map(&[
            ("status", s("approved")),
            ("id", s("${CB_PAYLOAD}")),
            ("n", Pattern::Number(42.into())),
            ("list", Pattern::List(vec![Pattern::Bool(true), Pattern::Null])),
            ("u", s("é\"")),
        ]);
        assert_eq!(
            dumps(&value, &b),
            r#"{"status": "approved", "id": "xyz", "n": 42, "list": [true, null], "u": "\u00e9\""}"#
        );
        assert_eq!(dumps(&s("${CB_PAYLOAD}"), &b), "\"xyz\"");
        let one = serde_json::Number::from_f64(1.0).map_or(Pattern::Null, Pattern::Number);
        assert_eq!(dumps(&one, &b), "1.0");
    }

    #[test]
    fn parses_every_operation() {
        let b = bindings();
        let actions = vec![
            map(&[("CallbackName", s("${CB_NAME}")), ("Operation", s("heartbeat"))]),
            map(&[
                ("CallbackName", s("${CB_NAME}")),
                ("Operation", s("success")),
                ("Payload", s("${CB_PAYLOAD}")),
                ("Delay", Pattern::Number(1.into())),
            ]),
            map(&[("CallbackName", s("*")), ("Operation", s("success"))]),
            map(&[
                ("CallbackName", s("${/^a.c$/}")),
                ("Operation", s("failure")),
                ("Payload", map(&[("ErrorType", s("RejectedError")), ("ErrorMessage", s("not approved"))])),
            ]),
        ];
        let parsed = parse(&actions, &b).unwrap();
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].operation, Operation::Heartbeat);
        assert!(parsed[0].name.matches("abc") && !parsed[0].name.matches("abcd"));
        assert_eq!(parsed[1].operation, Operation::Success(Some("\"xyz\"".into())));
        assert_eq!(parsed[1].delay, Duration::from_secs(1));
        assert_eq!(parsed[2].operation, Operation::Success(None), "no Payload: no result at all");
        assert!(parsed[2].name.matches("") && parsed[2].name.matches("anything"));
        assert!(parsed[3].name.matches("abc") && !parsed[3].name.matches("xabc"));
        let Operation::Failure(error) = &parsed[3].operation else { panic!("{:?}", parsed[3]) };
        assert_eq!(error.error_type.as_deref(), Some("RejectedError"));
        assert_eq!(error.error_message.as_deref(), Some("not approved"));
        assert_eq!(error.error_data, None);
    }

    #[test]
    fn rejects_unknown_operations() {
        let actions = vec![map(&[("CallbackName", s("*")), ("Operation", s("cancel"))])];
        assert!(parse(&actions, &Bindings::new()).is_err_and(|e| e.contains("cancel")));
    }
}
