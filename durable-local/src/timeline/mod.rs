//! The terminal timeline of an execution's history: the events folded into one row per operation
//! (name, type, nesting, attempts, start, duration, status), with a line between invocations.
//!
//! Works on the raw JSON events of GetDurableExecutionHistory (protocol §7.4) so that a member that
//! is missing, of another type or unknown never stops the rendering: it only leaves a cell blank.

mod format;

pub use format::{duration, ellipsize, offset, utc};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Deepest nesting shown with its own indentation (a cycle of `ParentId`s stops here too).
const MAX_DEPTH: usize = 16;

/// Width of the name column at most (names are cut with `…` beyond).
const MAX_NAME: usize = 40;

/// One operation, folded from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The operation id.
    pub id: String,
    /// Its name, or a short form of the id when it has none.
    pub name: String,
    /// `SubType`, else the type the event names (`Step`, `Wait`, `Context`, `Callback`, …).
    pub kind: String,
    /// The parent operation.
    pub parent: Option<String>,
    /// Nesting depth (0: top level).
    pub depth: usize,
    /// Attempts of a step (started events or the latest `CurrentAttempt`); `0` for other types.
    pub attempts: u64,
    /// First event time, epoch seconds.
    pub start: Option<f64>,
    /// Last event time, epoch seconds.
    pub last: Option<f64>,
    /// What the last event says.
    pub status: Status,
    /// The error type of a failed operation.
    pub error: Option<String>,
    /// The invocation (1-based) in which the operation first appears.
    pub invocation: usize,
    /// A callback's id (`CallbackStartedDetails.CallbackId`), to answer it with.
    pub callback_id: Option<String>,
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Started, not finished.
    Running,
    /// A wait or callback in progress.
    Waiting,
    /// A step attempt failed and another is scheduled.
    Retrying,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Timed out.
    TimedOut,
    /// Stopped.
    Stopped,
    /// Cancelled.
    Cancelled,
    /// An event type this program does not know.
    Unknown,
}

impl Status {
    /// Lowercase label for the status column.
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed out",
            Self::Stopped => "stopped",
            Self::Cancelled => "cancelled",
            Self::Unknown => "?",
        }
    }

    /// Whether the operation is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::TimedOut | Self::Stopped | Self::Cancelled)
    }
}

/// The execution as the history tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The operations, in the order they first appear.
    pub rows: Vec<Row>,
    /// The time everything is measured from: the execution's start, else the first event.
    pub origin: Option<f64>,
    /// The execution's end, when it ended.
    pub end: Option<f64>,
    /// The execution's final event type (`ExecutionSucceeded`, …), when it ended.
    pub outcome: Option<String>,
    /// Completed invocations.
    pub invocations: usize,
}

/// The event type split into (operation type, phase): `StepFailed` → (`Step`, `Failed`).
fn split_event_type(event_type: &str) -> (&str, &str) {
    const PHASES: [&str; 7] = ["Started", "Succeeded", "Failed", "TimedOut", "Stopped", "Cancelled", "Pending"];
    PHASES
        .iter()
        .find_map(|phase| event_type.strip_suffix(phase).map(|kind| (kind, *phase)))
        .unwrap_or((event_type, ""))
}

fn text<'a>(event: &'a Value, member: &str) -> Option<&'a str> {
    event.get(member).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A timestamp member as epoch seconds (a number; a numeric string is accepted too).
fn timestamp(event: &Value) -> Option<f64> {
    match event.get("EventTimestamp")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|t: &f64| t.is_finite())
}

/// The `<EventType>Details` member.
fn details<'a>(event: &'a Value, event_type: &str) -> Option<&'a Value> {
    event.get(format!("{event_type}Details"))
}

fn status_of(kind: &str, phase: &str, details: Option<&Value>) -> Status {
    match phase {
        "Started" | "Pending" if matches!(kind, "Wait" | "Callback" | "ChainedInvoke") => Status::Waiting,
        "Started" | "Pending" => Status::Running,
        "Succeeded" => Status::Succeeded,
        "Failed" => {
            let retry = details.and_then(|d| d.get("RetryDetails")).and_then(|r| r.get("NextAttemptDelaySeconds"));
            if retry.is_some_and(|delay| !delay.is_null()) {
                Status::Retrying
            } else {
                Status::Failed
            }
        }
        "TimedOut" => Status::TimedOut,
        "Stopped" => Status::Stopped,
        "Cancelled" => Status::Cancelled,
        _ => Status::Unknown,
    }
}

fn error_type(details: Option<&Value>) -> Option<String> {
    let error = details?.get("Error")?;
    // `Error{Payload: ErrorObject}` in history events; a bare ErrorObject is accepted too.
    let object = error.get("Payload").filter(|p| p.is_object()).unwrap_or(error);
    object.get("ErrorType").and_then(Value::as_str).map(str::to_owned)
}

/// Folds `events` (in history order) into a timeline.
pub fn fold(events: &[Value]) -> Timeline {
    let mut rows: Vec<Row> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut origin = None;
    let mut first_seen = None;
    let mut end = None;
    let mut outcome = None;
    let mut invocations = 0;
    for event in events {
        let at = timestamp(event);
        first_seen = first_seen.or(at);
        let Some(event_type) = text(event, "EventType") else { continue };
        if event_type == "InvocationCompleted" {
            invocations += 1;
            continue;
        }
        let (kind, phase) = split_event_type(event_type);
        if kind == "Execution" {
            if phase == "Started" {
                origin = origin.or(at);
            } else {
                end = at;
                outcome = Some(event_type.to_owned());
            }
            continue;
        }
        let Some(id) = text(event, "Id") else { continue };
        let details = details(event, event_type);
        let position = *index.entry(id.to_owned()).or_insert_with(|| {
            rows.push(Row {
                id: id.to_owned(),
                name: String::new(),
                kind: String::new(),
                parent: None,
                depth: 0,
                attempts: 0,
                start: at,
                last: at,
                status: Status::Unknown,
                error: None,
                invocation: invocations + 1,
                callback_id: None,
            });
            rows.len() - 1
        });
        let Some(row) = rows.get_mut(position) else { continue };
        if let Some(name) = text(event, "Name") {
            name.clone_into(&mut row.name);
        }
        if let Some(parent) = text(event, "ParentId") {
            row.parent = Some(parent.to_owned());
        }
        row.kind = text(event, "SubType").unwrap_or(kind).to_owned();
        row.start = row.start.or(at);
        row.last = at.or(row.last);
        row.status = status_of(kind, phase, details);
        if kind == "Step" && phase == "Started" {
            row.attempts += 1;
        }
        let attempt = details.and_then(|d| d.get("RetryDetails")).and_then(|r| r.get("CurrentAttempt"));
        if let Some(attempt) = attempt.and_then(Value::as_u64) {
            row.attempts = row.attempts.max(attempt);
        }
        if let Some(callback_id) = details.and_then(|d| d.get("CallbackId")).and_then(Value::as_str) {
            row.callback_id = Some(callback_id.to_owned());
        }
        if matches!(phase, "Failed" | "TimedOut" | "Stopped" | "Cancelled") {
            row.error = error_type(details).or_else(|| row.error.take());
        } else if phase == "Succeeded" {
            row.error = None;
        }
    }
    let parents: HashMap<String, Option<String>> = rows.iter().map(|r| (r.id.clone(), r.parent.clone())).collect();
    let kinds: HashMap<String, String> = rows.iter().map(|r| (r.id.clone(), r.kind.clone())).collect();
    for row in &mut rows {
        let mut depth = 0;
        let mut parent = row.parent.as_ref();
        while let Some(id) = parent {
            if depth >= MAX_DEPTH {
                break;
            }
            depth += 1;
            parent = parents.get(id).and_then(Option::as_ref);
        }
        row.depth = depth;
        if row.name.is_empty() {
            // The two halves of a wait-for-callback have no names of their own: say which is which.
            let in_wait_for_callback =
                row.parent.as_ref().and_then(|p| kinds.get(p)).is_some_and(|k| k == "WaitForCallback");
            row.name = match (in_wait_for_callback, row.kind.as_str()) {
                (true, "Callback") => "(callback)".to_owned(),
                (true, "Step") => "(submitter)".to_owned(),
                _ => short_id(&row.id),
            };
        }
    }
    Timeline { rows, origin: origin.or(first_seen), end, outcome, invocations }
}

/// The first 8 characters of an operation id, for operations without a name.
fn short_id(id: &str) -> String {
    let short: String = id.chars().take(8).collect();
    if short.len() < id.len() {
        format!("({short}…)")
    } else {
        format!("({short})")
    }
}

impl Timeline {
    /// Renders the timeline as text no wider than `width` columns (where the content allows).
    pub fn render(&self, width: usize) -> String {
        let mut out = String::new();
        if self.rows.is_empty() {
            out.push_str("no operations yet\n");
        }
        let headers = ["OPERATION", "TYPE", "TRIES", "START", "DURATION", "STATUS"];
        let cells: Vec<[String; 6]> = self.rows.iter().map(|row| self.cells(row)).collect();
        // Every column but the name at its content width; the name gets what is left, within bounds.
        let mut widths = headers.map(|h| h.chars().count());
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let others: usize = widths.iter().skip(1).sum::<usize>() + 2 * (widths.len() - 1);
        let name_room = width.saturating_sub(others).clamp(headers[0].len(), MAX_NAME);
        widths[0] = widths[0].min(name_room);
        if !cells.is_empty() {
            push_line(&mut out, &headers.map(str::to_owned), &widths);
        }
        let mut invocation = 1;
        for (row, cells) in self.rows.iter().zip(&cells) {
            if row.invocation != invocation {
                invocation = row.invocation;
                let label = format!("── invocation {invocation} ");
                let rule = "─".repeat(width.saturating_sub(label.chars().count()).min(40));
                let _ = writeln!(out, "{label}{rule}");
            }
            push_line(&mut out, cells, &widths);
        }
        let _ = writeln!(out, "{}", self.summary());
        for row in self.rows.iter().filter(|r| r.status == Status::Waiting) {
            if let Some(id) = &row.callback_id {
                let _ =
                    writeln!(out, "`{}` waits: answer with `durable callback succeed {id} PAYLOAD`", row.name.trim());
            }
        }
        out
    }

    fn cells(&self, row: &Row) -> [String; 6] {
        let indent = "  ".repeat(row.depth.min(MAX_DEPTH));
        let attempts = if row.attempts > 0 { row.attempts.to_string() } else { String::new() };
        let start = match (row.start, self.origin) {
            (Some(start), Some(origin)) => offset(start - origin),
            _ => String::new(),
        };
        let took = match (row.start, row.last) {
            (Some(start), Some(last)) if row.status.is_final() => duration(last - start),
            _ if row.status.is_final() => String::new(),
            _ => "…".to_owned(),
        };
        let status = match &row.error {
            Some(error) if !error.is_empty() => format!("{} ({error})", row.status.label()),
            _ => row.status.label().to_owned(),
        };
        [format!("{indent}{}", row.name), row.kind.clone(), attempts, start, took, status]
    }

    /// The closing line: the outcome, the execution's duration and the invocations.
    fn summary(&self) -> String {
        let outcome = match self.outcome.as_deref() {
            Some(event) => {
                let (_, phase) = split_event_type(event);
                let label = status_of("Execution", phase, None).label();
                match (self.origin, self.end) {
                    (Some(origin), Some(end)) => format!("execution {label} after {}", duration(end - origin)),
                    _ => format!("execution {label}"),
                }
            }
            None => "execution running".to_owned(),
        };
        let plural = if self.invocations == 1 { "" } else { "s" };
        format!("{outcome}; {} invocation{plural}, {} operations", self.invocations, self.rows.len())
    }

    /// Short lines for each operation that changed from `before` (for `invoke --follow`).
    pub fn changes_since(&self, before: &Timeline) -> Vec<String> {
        let old: HashMap<&str, &Row> = before.rows.iter().map(|r| (r.id.as_str(), r)).collect();
        self.rows
            .iter()
            .filter(|row| {
                old.get(row.id.as_str()).is_none_or(|was| was.status != row.status || was.attempts != row.attempts)
            })
            .map(|row| {
                let [name, kind, attempts, start, took, status] = self.cells(row);
                let attempts =
                    if attempts.is_empty() || attempts == "1" { String::new() } else { format!(" try {attempts}") };
                let took = if took.is_empty() || took == "…" { String::new() } else { format!(" in {took}") };
                format!("{start:>8}  {} {kind}{attempts}: {status}{took}", name.trim_start())
            })
            .collect()
    }
}

fn push_line(out: &mut String, cells: &[String; 6], widths: &[usize; 6]) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = ellipsize(cell, *width);
        if i > 0 {
            line.push_str("  ");
        }
        // Numbers right-aligned, text left-aligned.
        if matches!(i, 2..=4) {
            let _ = write!(line, "{cell:>width$}");
        } else {
            let _ = write!(line, "{cell:<width$}");
        }
    }
    let _ = writeln!(out, "{}", line.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_halves_of_a_wait_for_callback_are_named_by_role() {
        let events = vec![
            json!({"EventType": "ContextStarted", "SubType": "WaitForCallback", "EventId": 2, "Id": "a", "Name": "approval"}),
            json!({"EventType": "CallbackStarted", "SubType": "Callback", "EventId": 3, "Id": "b", "ParentId": "a"}),
            json!({"EventType": "StepStarted", "SubType": "Step", "EventId": 4, "Id": "c", "ParentId": "a"}),
            json!({"EventType": "StepStarted", "SubType": "Step", "EventId": 5, "Id": "d1234567890"}),
        ];
        let names: Vec<String> = fold(&events).rows.into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["approval", "(callback)", "(submitter)", "(d1234567…)"]);
    }

    /// A history in the shape of protocol §7.4 and the conformance requirements: a step that
    /// retried once, a wait, a child context with a nested step, and a callback still pending.
    fn sample() -> Vec<Value> {
        serde_json::from_value(json!([
            { "EventType": "ExecutionStarted", "EventId": 1, "Id": "exec", "Name": "run-1", "EventTimestamp": 1000.0,
              "ExecutionStartedDetails": { "Input": { "Payload": "\"Ada\"", "Truncated": false } } },
            { "EventType": "StepStarted", "SubType": "Step", "EventId": 2, "Id": "s1", "Name": "charge",
              "EventTimestamp": 1000.5, "StepStartedDetails": {} },
            { "EventType": "StepFailed", "SubType": "Step", "EventId": 3, "Id": "s1", "Name": "charge",
              "EventTimestamp": 1001.0, "StepFailedDetails": {
                "Error": { "Payload": { "ErrorType": "TransientError", "ErrorMessage": "busy" } },
                "RetryDetails": { "CurrentAttempt": 1, "NextAttemptDelaySeconds": 1 } } },
            { "EventType": "InvocationCompleted", "EventId": 4, "EventTimestamp": 1001.1,
              "InvocationCompletedDetails": {} },
            { "EventType": "StepStarted", "SubType": "Step", "EventId": 5, "Id": "s1", "Name": "charge",
              "EventTimestamp": 1002.0, "StepStartedDetails": {} },
            { "EventType": "StepSucceeded", "SubType": "Step", "EventId": 6, "Id": "s1", "Name": "charge",
              "EventTimestamp": 1002.25, "StepSucceededDetails": { "RetryDetails": { "CurrentAttempt": 2 } } },
            { "EventType": "WaitStarted", "SubType": "Wait", "EventId": 7, "Id": "w1", "Name": "pause",
              "EventTimestamp": 1002.3, "WaitStartedDetails": { "Duration": 30 } },
            { "EventType": "InvocationCompleted", "EventId": 8, "EventTimestamp": 1002.4 },
            { "EventType": "WaitSucceeded", "SubType": "Wait", "EventId": 9, "Id": "w1", "Name": "pause",
              "EventTimestamp": 1032.3, "WaitSucceededDetails": { "Duration": 30 } },
            { "EventType": "ContextStarted", "SubType": "RunInChildContext", "EventId": 10, "Id": "c1",
              "Name": "group", "EventTimestamp": 1032.5, "ContextStartedDetails": {} },
            { "EventType": "StepStarted", "SubType": "Step", "EventId": 11, "Id": "c1-s1", "ParentId": "c1",
              "Name": "inner-step", "EventTimestamp": 1032.6 },
            { "EventType": "StepSucceeded", "SubType": "Step", "EventId": 12, "Id": "c1-s1", "ParentId": "c1",
              "Name": "inner-step", "EventTimestamp": 1032.7 },
            { "EventType": "CallbackStarted", "SubType": "Callback", "EventId": 13, "Id": "cb-0123456789",
              "ParentId": "c1", "EventTimestamp": 1032.8, "CallbackStartedDetails": { "CallbackId": "abc" } },
        ]))
        .unwrap_or_default()
    }

    #[test]
    fn folds_events_by_operation() {
        let timeline = fold(&sample());
        let rows: Vec<_> =
            timeline.rows.iter().map(|r| (r.name.as_str(), r.kind.as_str(), r.depth, r.attempts, r.status)).collect();
        assert_eq!(
            rows,
            [
                ("charge", "Step", 0, 2, Status::Succeeded),
                ("pause", "Wait", 0, 0, Status::Succeeded),
                ("group", "RunInChildContext", 0, 0, Status::Running),
                ("inner-step", "Step", 1, 1, Status::Succeeded),
                ("(cb-01234…)", "Callback", 1, 0, Status::Waiting),
            ]
        );
        assert_eq!(timeline.invocations, 2);
        assert_eq!(timeline.origin, Some(1000.0));
        assert_eq!(timeline.rows.iter().map(|r| r.invocation).collect::<Vec<_>>(), [1, 2, 3, 3, 3]);
        assert_eq!(timeline.outcome, None);
    }

    #[test]
    fn renders_a_readable_table() {
        let text = fold(&sample()).render(100);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("OPERATION"), "{text}");
        assert!(
            lines[1].starts_with("charge") && lines[1].contains("+0.5s") && lines[1].contains("succeeded"),
            "{text}"
        );
        // Started at +0.5 s, last attempt ended at +2.25 s.
        assert!(lines[1].contains("1.75s"), "{text}");
        assert!(text.contains("── invocation 2"), "{text}");
        assert!(text.contains("\n  inner-step"), "{text}");
        let callback = lines.iter().find(|l| l.contains("Callback")).copied().unwrap_or_default();
        assert!(callback.contains("waiting") && callback.contains('…'), "{text}");
        assert!(text.contains("execution running; 2 invocations, 5 operations\n"), "{text}");
        assert!(text.ends_with("`(cb-01234…)` waits: answer with `durable callback succeed abc PAYLOAD`\n"), "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 100), "{text}");
    }

    #[test]
    fn a_final_failure_shows_its_error_type_and_the_outcome() {
        let mut events = sample();
        events.truncate(3);
        if let Some(details) = events.get_mut(2).and_then(|e| e.get_mut("StepFailedDetails")) {
            details["RetryDetails"] = json!({ "CurrentAttempt": 1 });
        }
        events.push(json!({ "EventType": "ExecutionFailed", "EventTimestamp": 1003.5 }));
        let timeline = fold(&events);
        assert_eq!(timeline.rows[0].status, Status::Failed);
        let text = timeline.render(80);
        assert!(text.contains("failed (TransientError)"), "{text}");
        assert!(text.contains("execution failed after 3.5s"), "{text}");
    }

    #[test]
    fn odd_or_missing_members_do_not_stop_the_rendering() {
        let events = vec![
            json!(null),
            json!({}),
            json!({ "EventType": 7, "Id": [] }),
            json!({ "EventType": "StepStarted" }),
            json!({ "EventType": "StepStarted", "Id": "x", "EventTimestamp": "soon", "Name": "ünïcödé-name-that-is-much-longer-than-any-column-should-ever-be" }),
            json!({ "EventType": "MysteryHappened", "Id": "y", "EventTimestamp": f64::MAX, "ParentId": "y" }),
            json!({ "EventType": "StepFailed", "Id": "z", "ParentId": "a", "StepFailedDetails": { "Error": 3 } }),
            json!({ "EventType": "ContextStarted", "Id": "a", "ParentId": "z" }),
        ];
        let timeline = fold(&events);
        assert_eq!(timeline.rows.len(), 4);
        for width in [0, 1, 10, 40, 200] {
            let text = timeline.render(width);
            assert!(text.contains("execution running"), "{text}");
        }
        let narrow = timeline.render(30);
        assert!(narrow.contains("ünïcödé"), "{narrow}");
        // A cycle of parents is cut at the depth limit.
        assert!(timeline.rows.iter().all(|r| r.depth <= MAX_DEPTH));
        assert_eq!(fold(&[]).render(80), "no operations yet\nexecution running; 0 invocations, 0 operations\n");
    }

    #[test]
    fn follow_lines_report_only_what_changed() {
        let events = sample();
        let before = fold(&events[..3]);
        let after = fold(&events[..6]);
        let lines = after.changes_since(&before);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("charge Step try 2: succeeded"), "{lines:?}");
        assert!(after.changes_since(&after).is_empty());
    }
}
