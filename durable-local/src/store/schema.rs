//! The database schema: an ordered list of migrations, the schema version in `PRAGMA user_version`.
//!
//! Version `n` is the state after the first `n` migrations. A new version appends a migration (never
//! edits one that shipped); a database at a version this build does not know is refused, not
//! changed.

use super::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The migrations, oldest first. Every table but `executions` is keyed by the execution's row id.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: executions, operations, append-only history, callbacks, timers, invocations, chained invokes.
    "CREATE TABLE executions (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        function_name TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_ms INTEGER,
        end_ms INTEGER,
        meta TEXT NOT NULL
    );
    CREATE INDEX executions_by_function ON executions (function_name, start_ms);
    CREATE TABLE operations (
        exec INTEGER NOT NULL REFERENCES executions (id),
        idx INTEGER NOT NULL,
        op_id TEXT NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (exec, idx)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        exec INTEGER NOT NULL REFERENCES executions (id),
        event_id INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (exec, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE callbacks (
        callback_id TEXT PRIMARY KEY,
        exec INTEGER NOT NULL REFERENCES executions (id),
        op_id TEXT NOT NULL,
        open INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE timers (
        exec INTEGER NOT NULL REFERENCES executions (id),
        idx INTEGER NOT NULL,
        op_id TEXT NOT NULL,
        fire_at_ms INTEGER NOT NULL,
        PRIMARY KEY (exec, idx)
    ) WITHOUT ROWID;
    CREATE INDEX timers_by_time ON timers (fire_at_ms);
    CREATE TABLE invocations (
        exec INTEGER NOT NULL REFERENCES executions (id),
        seq INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (exec, seq)
    ) WITHOUT ROWID;
    CREATE TABLE chained_invokes (
        target_arn TEXT PRIMARY KEY,
        caller_arn TEXT NOT NULL,
        op_id TEXT NOT NULL,
        link TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 2: the history is stored a write at a time: one row per write holds the events it appended
    // (ids `first_event_id..=last_event_id`, a JSON array), instead of one row per event. Writing
    // 250 events as one row instead of 250 costs a fraction of the statements and pages. Each
    // event of version 1 becomes a batch of one.
    "CREATE TABLE event_batches (
        exec INTEGER NOT NULL REFERENCES executions (id),
        first_event_id INTEGER NOT NULL,
        last_event_id INTEGER NOT NULL,
        events TEXT NOT NULL,
        PRIMARY KEY (exec, first_event_id)
    ) WITHOUT ROWID;
    INSERT INTO event_batches (exec, first_event_id, last_event_id, events)
        SELECT exec, event_id, event_id, '[' || event || ']' FROM events;
    DROP TABLE events;",
    // 3: an operation row no longer repeats the operation's id beside its entry, which holds it: the
    // column was never read, and at 64 characters a row it was a fifth of what a step writes there.
    "ALTER TABLE operations DROP COLUMN op_id;",
    // 4: operations and history batches become rowid tables keyed by one integer, `slot`: the
    // execution's row id in the high 32 bits, the operation's index (the batch's first event id) in
    // the low 32. The rows are those of version 3, in the same order. A WITHOUT ROWID table keeps
    // whole rows in its interior pages and, appending, rebalances the full leaves beside the last
    // one; a rowid table appends a new leaf and nothing else, so a write of 125 steps commits about
    // a seventh fewer pages.
    "CREATE TABLE operations_4 (
        slot INTEGER PRIMARY KEY,
        entry TEXT NOT NULL
    );
    INSERT INTO operations_4 (slot, entry) SELECT (exec << 32) | idx, entry FROM operations ORDER BY exec, idx;
    DROP TABLE operations;
    ALTER TABLE operations_4 RENAME TO operations;
    CREATE TABLE event_batches_4 (
        slot INTEGER PRIMARY KEY,
        last_event_id INTEGER NOT NULL,
        events TEXT NOT NULL
    );
    INSERT INTO event_batches_4 (slot, last_event_id, events)
        SELECT (exec << 32) | first_event_id, last_event_id, events FROM event_batches ORDER BY exec, first_event_id;
    DROP TABLE event_batches;
    ALTER TABLE event_batches_4 RENAME TO event_batches;",
    // 5: a history batch of 1 KiB of JSON or more is stored packed, as a BLOB (see `packed`); the
    // text batches of earlier versions stay as they are and read as before. No table changes, but a
    // build of version 4 would take the packed batches for corrupt, so the version tells it to
    // refuse the database instead.
    "-- history batches may be packed",
];

/// The `slot` of row `n` of the execution `exec` in the tables keyed by one (see migration 4), `None`
/// when either is out of range.
pub(super) fn slot(exec: i64, n: u64) -> Option<i64> {
    let n = u32::try_from(n).ok()?;
    let exec = i32::try_from(exec).ok().filter(|e| *e >= 0)?;
    Some((i64::from(exec) << 32) | i64::from(n))
}

/// The `slot`s of the execution `exec`: the first and the last.
pub(super) fn slots(exec: i64) -> (i64, i64) {
    let first = slot(exec, 0).unwrap_or(i64::MAX);
    (first, first.saturating_add(i64::from(u32::MAX)))
}

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], one transaction per migration. A database already at
/// that version is left alone; one at a later version is an error.
pub(super) fn migrate(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    let sql = |source| StoreError::sqlite(location, "migrating the schema", source);
    let found = user_version(conn).map_err(sql)?;
    check(found, location)?;
    for (done, migration) in MIGRATIONS.iter().enumerate() {
        let version = done as i64 + 1;
        if version <= found {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        // Another process may have migrated since the version was read.
        let now = user_version(&tx).map_err(sql)?;
        check(now, location)?;
        if now < version {
            tx.execute_batch(migration).map_err(sql)?;
            tx.pragma_update(None, "user_version", version).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
    }
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn check(found: i64, location: &str) -> Result<(), StoreError> {
    if !(0..=SCHEMA_VERSION).contains(&found) {
        return Err(StoreError::UnsupportedSchema { location: location.to_owned(), found, supported: SCHEMA_VERSION });
    }
    Ok(())
}
