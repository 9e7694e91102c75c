//! The write path: the rows of one execution's changes, in the transaction of a write.

use super::packed::pack;
use super::schema::{slot, slots};
use super::StoreError;
use durable_runtime::checkpoint::memory::{function_name_of, ExecutionChanges, ExecutionMeta};
use durable_runtime::protocol::history::HistoryEvent;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{HashMap, HashSet};

fn json<T: serde::Serialize>(value: &T, arn: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt { arn: arn.to_owned(), message: e.to_string() })
}

fn status_text(meta: &ExecutionMeta) -> String {
    match serde_json::to_value(meta.status()) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", meta.status()),
    }
}

/// What the store knows is stored of one execution, kept in memory between writes.
#[derive(Debug, Clone, Default)]
pub(super) struct Known {
    /// The id of the last history event (0: none).
    history_end: u64,
    /// The operations (by index) with a timer row.
    timers: HashSet<i64>,
}

impl Known {
    /// Reads it from the rows of the execution `id` (the first write of an execution since the
    /// store opened).
    fn read(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<Self> {
        let history_end = tx
            .prepare_cached(
                "SELECT last_event_id FROM event_batches WHERE slot BETWEEN ?1 AND ?2 ORDER BY slot DESC LIMIT 1",
            )?
            .query_row(<[i64; 2]>::from(slots(id)), |row| row.get::<_, i64>(0))
            .optional()?
            .map_or(0, |n| n as u64);
        let timers = tx
            .prepare_cached("SELECT idx FROM timers WHERE exec = ?1")?
            .query_map([id], |row| row.get::<_, i64>(0))?
            .collect::<rusqlite::Result<HashSet<i64>>>()?;
        Ok(Self { history_end, timers })
    }
}

/// Writes the rows of one execution; returns its row id and what is stored of it once the write
/// commits.
pub(super) fn write_execution(
    tx: &Transaction<'_>,
    changes: &ExecutionChanges,
    location: &str,
    known: &HashMap<i64, Known>,
) -> Result<(i64, Known), StoreError> {
    let sql = |context| move |e| StoreError::sqlite(location, context, e);
    let arn = changes.arn.as_str();
    let meta = &changes.meta;
    let meta_json = json(meta, arn)?;
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO executions (arn, function_name, name, status, start_ms, end_ms, meta)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (arn) DO UPDATE SET status = excluded.status, start_ms = excluded.start_ms,
                 end_ms = excluded.end_ms, meta = excluded.meta
             RETURNING id",
        )
        .and_then(|mut s| {
            s.query_row(
                params![
                    arn,
                    function_name_of(arn.split('/').next().unwrap_or(arn)),
                    meta.name(),
                    status_text(meta),
                    meta.start().map(|t| t.as_millis()),
                    meta.end().map(|t| t.as_millis()),
                    meta_json,
                ],
                |row| row.get(0),
            )
        })
        .map_err(sql("writing an execution"))?;
    let mut stored = match known.get(&id) {
        Some(stored) => stored.clone(),
        None => Known::read(tx, id).map_err(sql("reading what is stored"))?,
    };
    for op in &changes.operations {
        let entry = json(op, arn)?;
        let index = op.index() as i64;
        let at = keyed(id, op.index() as u64, arn, "operation index")?;
        tx.prepare_cached(
            "INSERT INTO operations (slot, entry) VALUES (?1, ?2)
             ON CONFLICT (slot) DO UPDATE SET entry = excluded.entry",
        )
        .and_then(|mut s| s.execute(params![at, entry]))
        .map_err(sql("writing an operation"))?;
        // An operation without a timer has no row to delete unless it had one: most never do.
        match op.timer() {
            Some(at) => {
                tx.prepare_cached(
                    "INSERT INTO timers (exec, idx, op_id, fire_at_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (exec, idx) DO UPDATE SET fire_at_ms = excluded.fire_at_ms",
                )
                .and_then(|mut s| s.execute(params![id, index, op.id(), at.as_millis()]))
                .map_err(sql("writing a timer"))?;
                stored.timers.insert(index);
            }
            None if stored.timers.remove(&index) => {
                tx.prepare_cached("DELETE FROM timers WHERE exec = ?1 AND idx = ?2")
                    .and_then(|mut s| s.execute(params![id, index]))
                    .map_err(sql("deleting a timer"))?;
            }
            None => {}
        }
        if let Some(callback_id) = op.callback_id() {
            tx.prepare_cached(
                "INSERT INTO callbacks (callback_id, exec, op_id, open) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (callback_id) DO UPDATE SET open = excluded.open",
            )
            .and_then(|mut s| s.execute(params![callback_id, id, op.id(), op.callback_open()]))
            .map_err(sql("writing a callback"))?;
        }
    }
    if let Some(end) = write_events(tx, id, arn, &changes.events, location, stored.history_end)? {
        stored.history_end = end;
    }
    for (i, record) in changes.invocations.iter().enumerate() {
        let seq = (changes.first_invocation + i) as i64;
        tx.prepare_cached("INSERT INTO invocations (exec, seq, record) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![id, seq, json(record, arn).map_err(to_sql)?]))
            .map_err(sql("writing an invocation"))?;
    }
    if let Some(link) = &changes.chained_invocation {
        tx.prepare_cached(
            "INSERT INTO chained_invokes (target_arn, caller_arn, op_id, link) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (target_arn) DO UPDATE SET caller_arn = excluded.caller_arn, op_id = excluded.op_id,
                 link = excluded.link",
        )
        .and_then(|mut s| s.execute(params![arn, link.caller_arn, link.operation_id, json(link, arn).map_err(to_sql)?]))
        .map_err(sql("writing a chained invoke"))?;
    }
    Ok((id, stored))
}

/// Appends `events` to the history of the execution `id` as one row (packed when long), and returns
/// the id of the last one. The history only grows, with no gap: unless the first event follows the
/// last one stored (`stored`) and the ids are consecutive, the write fails (and with it the
/// transaction).
fn write_events(
    tx: &Transaction<'_>,
    id: i64,
    arn: &str,
    events: &[HistoryEvent],
    location: &str,
    stored: u64,
) -> Result<Option<u64>, StoreError> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else { return Ok(None) };
    let sql = |e| StoreError::sqlite(location, "writing history events", e);
    if let Some((expected, event)) = (stored + 1..).zip(events).find(|(expected, e)| e.event_id != *expected) {
        return Err(StoreError::HistoryOutOfOrder { arn: arn.to_owned(), expected, found: event.event_id });
    }
    let at = keyed(id, first.event_id, arn, "history event id")?;
    keyed(id, last.event_id, arn, "history event id")?;
    tx.prepare_cached("INSERT INTO event_batches (slot, last_event_id, events) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![at, last.event_id as i64, pack(json(&events, arn).map_err(to_sql)?)]))
        .map_err(sql)?;
    Ok(Some(last.event_id))
}

/// The `slot` of row `n` of the execution `id` (see the schema), or the error that names what does
/// not fit.
fn keyed(id: i64, n: u64, arn: &str, what: &'static str) -> Result<i64, StoreError> {
    slot(id, n).ok_or_else(|| {
        let (what, value) = if slot(id, 0).is_none() { ("execution row", id as u64) } else { (what, n) };
        StoreError::OutOfRange { arn: arn.to_owned(), what, value }
    })
}

fn to_sql(e: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}
