//! The terminal timeline of an execution's history: the events folded into one row per operation
//! (name, type, nesting, attempts, start, duration, status), with a line between invocations.
//!
//! Works on the raw JSON events of GetDurableExecutionHistory (protocol §7.4) so that a member that
//! is missing, of another type or unknown never stops the rendering: it only leaves a cell blank.

mod format;
mod render;
mod svg;

pub use format::{duration, ellipsize, offset, utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Deepest nesting shown with its own indentation (a cycle of `ParentId`s stops here too).
const MAX_DEPTH: usize = 16;

/// One stretch of an operation's life: an attempt of a step, or the whole of any other operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// When it began, epoch seconds.
    pub start: Option<f64>,
    /// When it ended, epoch seconds (`None`: still open).
    pub end: Option<f64>,
    /// How it ended (or `Running`/`Waiting` while open); a failed attempt that is retried is
    /// `Retrying`.
    pub status: Status,
    /// The error type of a failed attempt.
    pub error: Option<String>,
    /// The error message of a failed attempt.
    pub message: Option<String>,
}

/// One operation, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The error message of a failed operation.
    pub message: Option<String>,
    /// Each attempt of a step, or the one stretch of any other operation, in order.
    pub segments: Vec<Segment>,
    /// When a wait ends (`ScheduledEndTimestamp`), epoch seconds.
    pub wake: Option<f64>,
    /// A chained invoke's target execution (`DurableExecutionArn` of its details).
    pub target: Option<String>,
    /// A chained invoke's target function (`FunctionName` of its details).
    pub function: Option<String>,
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The latest event time: where open operations are drawn up to.
    pub latest: Option<f64>,
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

/// The `ErrorObject` of a details member: `Error{Payload: ErrorObject}` in history events; a bare
/// ErrorObject is accepted too.
fn error_object(details: Option<&Value>) -> Option<&Value> {
    let error = details?.get("Error")?;
    Some(error.get("Payload").filter(|p| p.is_object()).unwrap_or(error))
}

fn error_type(details: Option<&Value>) -> Option<String> {
    error_object(details)?.get("ErrorType").and_then(Value::as_str).map(str::to_owned)
}

fn error_message(details: Option<&Value>) -> Option<String> {
    error_object(details)?.get("ErrorMessage").and_then(Value::as_str).map(str::to_owned)
}

/// A number member as epoch seconds.
fn seconds(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|t: &f64| t.is_finite())
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
    let mut latest: Option<f64> = None;
    for event in events {
        let at = timestamp(event);
        first_seen = first_seen.or(at);
        latest = match (latest, at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
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
                message: None,
                segments: Vec::new(),
                wake: None,
                target: None,
                function: None,
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
        if let Some(wake) = seconds(details.and_then(|d| d.get("ScheduledEndTimestamp"))) {
            row.wake = Some(wake);
        }
        if let Some(target) = details.and_then(|d| d.get("DurableExecutionArn")).and_then(Value::as_str) {
            row.target = Some(target.to_owned());
        }
        if let Some(function) = details.and_then(|d| d.get("FunctionName")).and_then(Value::as_str) {
            row.function = Some(function.to_owned());
        }
        if matches!(phase, "Failed" | "TimedOut" | "Stopped" | "Cancelled") {
            row.error = error_type(details).or_else(|| row.error.take());
            row.message = error_message(details).or_else(|| row.message.take());
        } else if phase == "Succeeded" {
            row.error = None;
            row.message = None;
        }
        track_segment(row, phase, at, details);
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
    Timeline { rows, origin: origin.or(first_seen), end, outcome, invocations, latest }
}

/// Opens a segment when an attempt starts (or an operation first shows up), closes the open one
/// when it ends.
fn track_segment(row: &mut Row, phase: &str, at: Option<f64>, details: Option<&Value>) {
    let open = row.segments.last_mut().filter(|s| s.end.is_none() && !s.status.is_final());
    let open = match open {
        // A step's new attempt after a failed one: a segment of its own.
        Some(open) if !(phase == "Started" && open.status == Status::Retrying) => open,
        _ => {
            row.segments.push(Segment { start: at, end: None, status: row.status, error: None, message: None });
            match row.segments.last_mut() {
                Some(segment) => segment,
                None => return,
            }
        }
    };
    open.status = row.status;
    if row.status.is_final() || row.status == Status::Retrying {
        open.end = at.or(open.start);
        open.error = error_type(details);
        open.message = error_message(details);
    }
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

#[cfg(test)]
mod tests;
