//! The conformance runner's matching rules (`history.py`, `variables.py`, `validate.py` of the AWS
//! conformance suite; guide §1.1 and §1.2), reimplemented.
//!
//! - Expected values are [`Pattern`]s: the YAML tree with its key order kept, because placeholders bind
//!   in document order.
//! - [`Bindings`] is the one placeholder context shared by `Variables`, `Input`, the history and
//!   `ExpectedResult`.
//! - [`match_history`] pairs events by `EventId` only; [`match_value`] applies the value rules in the
//!   runner's order: `{}`, `'*'`, whole-string `${NAME}`, `${/regex/}`, then literal equality after
//!   substituting bound placeholders.
//! - [`match_result`] compares `ExpectedResult.Result` with the execution's result string after one
//!   JSON decode, with Python's equality.

use regex::Regex;
use serde_json::{Map, Number, Value};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

/// An expected value, as written in a requirement file (mapping keys in document order).
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string (placeholders, `'*'` and regexes are strings).
    String(String),
    /// A sequence.
    List(Vec<Pattern>),
    /// A mapping, in document order.
    Map(Vec<(String, Pattern)>),
}

impl Pattern {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Pattern> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The pattern as plain JSON, with the bound `${NAME}` occurrences of its strings substituted
    /// (how `Input` and `ExpectedResult.Result` are prepared).
    pub fn to_value(&self, bindings: &Bindings) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(bindings.substitute(s)),
            Self::List(items) => Value::Array(items.iter().map(|p| p.to_value(bindings)).collect()),
            Self::Map(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_value(bindings))).collect::<Map<_, _>>())
            }
        }
    }
}

impl From<&Value> for Pattern {
    /// A pattern from JSON (object keys in the JSON map's order).
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.clone()),
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::List(items.iter().map(Self::from).collect()),
            Value::Object(map) => Self::Map(map.iter().map(|(k, v)| (k.clone(), Self::from(v))).collect()),
        }
    }
}

/// The placeholder context: names bound by `Variables` or on first use in the history.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    values: HashMap<String, Value>,
}

impl Bindings {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves a requirement's `Variables` in order: `${GEN_STR:N}` becomes N random lowercase
    /// letters and digits; anything else binds literally, as a string.
    pub fn resolve_variables(variables: &[(String, Pattern)]) -> Self {
        let mut bindings = Self::new();
        for (name, value) in variables {
            let text = match value {
                Pattern::String(s) => match gen_str_length(s) {
                    Some(n) => random_string(n),
                    None => s.clone(),
                },
                other => python_str(&other.to_value(&bindings)),
            };
            bindings.bind(name, Value::String(text));
        }
        bindings
    }

    /// Binds `name` (overwriting).
    pub fn bind(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_owned(), value);
    }

    /// The value bound to `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// `text` with every bound `${NAME}` replaced by the bound value (as Python's `str()` prints it);
    /// unbound ones are left as they are.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) if is_name(&after[..end]) => {
                    match self.values.get(&after[..end]) {
                        Some(value) => out.push_str(&python_str(value)),
                        None => out.push_str(&rest[start..start + 2 + end + 1]),
                    }
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// `N` of `${GEN_STR:N}`.
fn gen_str_length(text: &str) -> Option<usize> {
    text.strip_prefix("${GEN_STR:")?.strip_suffix('}')?.trim().parse().ok()
}

/// `n` random lowercase letters and digits.
fn random_string(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let state = RandomState::new();
    (0..n)
        .map(|i| {
            let mut hasher = state.build_hasher();
            hasher.write_usize(i);
            let index = usize::try_from(hasher.finish() % ALPHABET.len() as u64).unwrap_or(0);
            char::from(ALPHABET[index])
        })
        .collect()
}

/// A placeholder name: a letter or `_`, then letters, digits or `_`.
fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME` when `text` is exactly `${NAME}`.
fn whole_placeholder(text: &str) -> Option<&str> {
    text.strip_prefix("${").and_then(|t| t.strip_suffix('}')).filter(|name| is_name(name))
}

/// `regex` when `text` is exactly `${/regex/}`.
fn regex_of(text: &str) -> Option<&str> {
    text.strip_prefix("${/").and_then(|t| t.strip_suffix("/}"))
}

/// A failed match: where, and what differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Where: `EventId=3 (StepFailed) StepFailedDetails.RetryDetails.CurrentAttempt`.
    pub path: String,
    /// What differs.
    pub message: String,
}

impl Mismatch {
    fn new(path: &str, message: impl Into<String>) -> Self {
        Self { path: path.to_owned(), message: message.into() }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for Mismatch {}

/// Matches `ExpectedExecutionHistory` against the actual events (service-style JSON): each expected
/// event is paired with the actual event of the same `EventId`, and nothing else is paired. Unlisted
/// actual events are ignored. Stops at the first mismatch.
pub fn match_history(expected: &[Pattern], actual: &[Value], bindings: &mut Bindings) -> Result<(), Mismatch> {
    let by_id: HashMap<u64, &Value> =
        actual.iter().filter_map(|event| event.get("EventId").and_then(Value::as_u64).map(|id| (id, event))).collect();
    for (index, event) in expected.iter().enumerate() {
        let event_id = match event.get("EventId") {
            Some(Pattern::Number(n)) => n.as_u64(),
            _ => None,
        };
        let Some(event_id) = event_id else {
            return Err(Mismatch::new(&format!("expected event #{}", index + 1), "has no numeric EventId"));
        };
        let event_type = match event.get("EventType") {
            Some(Pattern::String(t)) => t.as_str(),
            _ => "?",
        };
        let path = format!("EventId={event_id} ({event_type})");
        let Some(actual_event) = by_id.get(&event_id) else {
            return Err(Mismatch::new(
                &path,
                format!("no actual event found for EventId={event_id} (the history has {} events)", actual.len()),
            ));
        };
        match_value(event, actual_event, &path, bindings)?;
    }
    Ok(())
}

/// Matches one expected value against the actual one, binding placeholders on first use.
pub fn match_value(expected: &Pattern, actual: &Value, path: &str, bindings: &mut Bindings) -> Result<(), Mismatch> {
    match expected {
        // 1. `{}`: don't care (the parent checked that the key is there).
        Pattern::Map(entries) if entries.is_empty() => Ok(()),
        Pattern::String(text) => {
            // 2. `'*'`: any value.
            if text == "*" {
                return Ok(());
            }
            // 3. `${NAME}`: bound → equal to the bound value; unbound → binds.
            if let Some(name) = whole_placeholder(text) {
                return match bindings.get(name) {
                    Some(bound) if py_eq(bound, actual) => Ok(()),
                    Some(bound) => Err(Mismatch::new(
                        path,
                        format!("expected ${{{name}}} = {}, got {}", compact(bound), compact(actual)),
                    )),
                    None => {
                        bindings.bind(name, actual.clone());
                        Ok(())
                    }
                };
            }
            // 4. `${/regex/}`: `re.search` on `str(actual)`.
            if let Some(pattern) = regex_of(text) {
                let regex =
                    Regex::new(pattern).map_err(|e| Mismatch::new(path, format!("invalid regex `{pattern}`: {e}")))?;
                let shown = python_str(actual);
                return if regex.is_match(&shown) {
                    Ok(())
                } else {
                    Err(Mismatch::new(path, format!("`{shown}` does not match /{pattern}/")))
                };
            }
            // 5. literal, after substituting the bound placeholders.
            let literal = bindings.substitute(text);
            match actual {
                Value::String(s) if *s == literal => Ok(()),
                _ => Err(Mismatch::new(
                    path,
                    format!("expected {}, got {}", compact(&Value::String(literal)), compact(actual)),
                )),
            }
        }
        Pattern::Map(entries) => {
            let Value::Object(map) = actual else {
                return Err(Mismatch::new(path, format!("expected a mapping, got {}", compact(actual))));
            };
            for (key, value) in entries {
                let child = join(path, key);
                let Some(actual_value) = map.get(key) else {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(Mismatch::new(&child, format!("missing (present keys: {})", keys.join(", "))));
                };
                match_value(value, actual_value, &child, bindings)?;
            }
            Ok(())
        }
        Pattern::List(items) => {
            let Value::Array(actual_items) = actual else {
                return Err(Mismatch::new(path, format!("expected a list, got {}", compact(actual))));
            };
            if items.len() != actual_items.len() {
                return Err(Mismatch::new(
                    path,
                    format!(
                        "expected a list of {} items, got {}: {}",
                        items.len(),
                        actual_items.len(),
                        compact(actual)
                    ),
                ));
            }
            for (i, (item, actual_item)) in items.iter().zip(actual_items).enumerate() {
                match_value(item, actual_item, &format!("{path}[{i}]"), bindings)?;
            }
            Ok(())
        }
        Pattern::Null | Pattern::Bool(_) | Pattern::Number(_) => {
            let expected = expected.to_value(bindings);
            if py_eq(&expected, actual) {
                Ok(())
            } else {
                Err(Mismatch::new(path, format!("expected {}, got {}", compact(&expected), compact(actual))))
            }
        }
    }
}

/// Checks `ExpectedResult.Result` against the execution's result string: one JSON decode (falling back
/// to the raw string; absent reads as `null`), then Python's structural equality with the expected
/// value, whose bound placeholders are substituted.
pub fn match_result(expected: &Pattern, actual: Option<&str>, bindings: &Bindings) -> Result<(), Mismatch> {
    let actual = match actual {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    };
    let expected = expected.to_value(bindings);
    if py_eq(&expected, &actual) {
        Ok(())
    } else {
        Err(Mismatch::new("Result", format!("expected {}, got {}", compact(&expected), compact(&actual))))
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else if path.ends_with(')') {
        format!("{path} {key}")
    } else {
        format!("{path}.{key}")
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Python's `==` on decoded JSON: numbers compare by value (`1 == 1.0`, `True == 1`), mappings ignore
/// key order.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| py_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (Value::Number(_) | Value::Bool(_), Value::Number(_) | Value::Bool(_)) => match (a, b) {
            (Value::Bool(x), Value::Bool(y)) => x == y,
            _ => match (as_int(a), as_int(b)) {
                (Some(x), Some(y)) => x == y,
                _ => as_float(a) == as_float(b),
            },
        },
        _ => a == b,
    }
}

fn as_int(value: &Value) -> Option<i128> {
    match value {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

fn as_float(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// What Python's `str()` prints for a decoded JSON value: strings as they are, `True`/`False`/`None`,
/// and `repr` for containers.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", python_repr(&Value::String(k.clone())), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests;
