//! `ExpectedLogs` checking, as the conformance runner's `cloudwatch.py` does it (guide §1.6).
//!
//! The records are the captured log lines of one execution in emission order: the runtime's JSON
//! lines (`durable_runtime::logging::JsonLayer`) and the plugin output written through
//! [`Host::log`](crate::Host::log). As CloudWatch's filter
//! `{ ($.durableExecutionArn = "<arn>") || ($.executionArn = "<arn>") }` does, only single-line JSON
//! objects whose top-level `durableExecutionArn` or `executionArn` is the execution's ARN are seen;
//! their top-level keys are the fields.
//!
//! Each entry is `{match: {field: value...}, count | min_count | max_count, before: [...], after: [...]}`:
//! - a field value matches when the record has the field and: a string `/re/` is a regex searched
//!   in Python's `str()` of the value; another string equals the (trimmed) value after bound
//!   `${NAME}` placeholders are substituted (placeholders shared with the history); a boolean by
//!   identity; a number numerically;
//! - `count` is the exact number of matching records, `min_count` / `max_count` bounds;
//! - `after: [anchor...]`: every matching record comes after the first record matching each
//!   anchor; `before: [anchor...]`: before the last one. "After" is emission order, which stands in
//!   for CloudWatch's `(timestamp, ingestionTime)` order. An anchor that matches nothing is an error.

use crate::matcher::{python_str, Bindings, Pattern};
use serde_json::{Map, Value};

/// The records of the execution `arn` among `lines`, in order.
pub fn records(lines: &[String], arn: &str) -> Vec<Map<String, Value>> {
    lines
        .iter()
        .filter_map(|line| match serde_json::from_str::<Value>(line.trim()) {
            Ok(Value::Object(fields)) => Some(fields),
            _ => None,
        })
        .filter(|fields| {
            ["durableExecutionArn", "executionArn"].iter().any(|k| fields.get(*k).and_then(Value::as_str) == Some(arn))
        })
        .collect()
}

/// Checks `expected` (the `ExpectedLogs` list) against the `records` of the execution.
pub fn check(expected: &[Pattern], records: &[Map<String, Value>], bindings: &Bindings) -> Result<(), String> {
    for (n, entry) in expected.iter().enumerate() {
        let Some(matcher) = entry.get("match") else {
            return Err(format!("ExpectedLogs[{n}] has no `match`"));
        };
        let found = indices(matcher, records, bindings)?;
        let what = || format!("ExpectedLogs[{n}] {}", describe(matcher, bindings));
        let number = |key: &str| match entry.get(key) {
            Some(Pattern::Number(v)) => v.as_u64().map(|v| v as usize),
            _ => None,
        };
        if let Some(count) = number("count") {
            if found.len() != count {
                return Err(format!("{}: expected count {count}, found {}", what(), found.len()));
            }
        }
        if let Some(min) = number("min_count") {
            if found.len() < min {
                return Err(format!("{}: expected at least {min}, found {}", what(), found.len()));
            }
        }
        if let Some(max) = number("max_count") {
            if found.len() > max {
                return Err(format!("{}: expected at most {max}, found {}", what(), found.len()));
            }
        }
        for (key, after) in [("after", true), ("before", false)] {
            let anchors = match entry.get(key) {
                None | Some(Pattern::Null) => continue,
                Some(Pattern::List(anchors)) => anchors.clone(),
                Some(single) => vec![single.clone()],
            };
            for anchor in &anchors {
                let at = indices(anchor, records, bindings)?;
                let bound = if after { at.first() } else { at.last() };
                let Some(&bound) = bound else {
                    return Err(format!("{}: `{key}` anchor {} matches no record", what(), describe(anchor, bindings)));
                };
                if let Some(bad) = found.iter().find(|&&i| if after { i <= bound } else { i >= bound }) {
                    return Err(format!(
                        "{}: record #{bad} is not {key} anchor {} (#{bound})",
                        what(),
                        describe(anchor, bindings)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Positions of the records matching every field of `matcher`.
fn indices(matcher: &Pattern, records: &[Map<String, Value>], bindings: &Bindings) -> Result<Vec<usize>, String> {
    let Pattern::Map(fields) = matcher else { return Err("a log matcher is not a mapping".to_owned()) };
    let mut out = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let mut all = true;
        for (key, expected) in fields {
            if !field_matches(expected, record.get(key), bindings)? {
                all = false;
                break;
            }
        }
        if all {
            out.push(i);
        }
    }
    Ok(out)
}

fn field_matches(expected: &Pattern, actual: Option<&Value>, bindings: &Bindings) -> Result<bool, String> {
    let Some(actual) = actual else { return Ok(false) };
    Ok(match expected {
        Pattern::Null => actual.is_null(),
        Pattern::Bool(b) => actual.as_bool() == Some(*b),
        Pattern::Number(n) => match (n.as_f64(), actual.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Pattern::String(s) => {
            let s = bindings.substitute(s.trim());
            if s.len() >= 2 && s.starts_with('/') && s.ends_with('/') {
                let re = regex::Regex::new(&s[1..s.len() - 1]).map_err(|e| format!("invalid log regex {s}: {e}"))?;
                re.is_match(&python_str(actual))
            } else {
                match actual {
                    Value::String(a) => a.trim() == s,
                    other => python_str(other) == s,
                }
            }
        }
        Pattern::List(_) | Pattern::Map(_) => false,
    })
}

fn describe(matcher: &Pattern, bindings: &Bindings) -> String {
    matcher.to_value(bindings).to_string()
}
