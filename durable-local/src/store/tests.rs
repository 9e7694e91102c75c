//! The store against databases written by earlier schema versions, and its write invariants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::files::sidecar;
use super::{schema, Store, StoreError, SCHEMA_VERSION};
use durable_runtime::checkpoint::memory::{ExecutionChanges, MemoryService};
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::protocol::{CheckpointRequest, OperationAction, OperationType, OperationUpdate};
use rusqlite::{params, Connection};
use std::path::PathBuf;

fn temp_db(test: &str) -> PathBuf {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).unwrap();
    let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("durable-store-{test}-{tag}")).join("durable.db")
}

/// Checkpoints `steps` more steps (START and SUCCEED in one request) of the execution `arn`.
/// `token` is the execution's current checkpoint token, and then the next one.
fn run_steps(service: &MemoryService, arn: &str, token: &mut String, steps: std::ops::Range<usize>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for i in steps {
        let id = format!("s{i}");
        let mut done = OperationUpdate::new(id.clone(), OperationType::Step, OperationAction::Succeed);
        done.payload = Some(i.to_string());
        let updates = vec![OperationUpdate::new(id, OperationType::Step, OperationAction::Start), done];
        let request = CheckpointRequest { checkpoint_token: token.clone(), client_token: None, updates };
        let response = runtime.block_on(CheckpointClient::checkpoint(service, arn, request)).unwrap();
        *token = response.checkpoint_token.unwrap();
    }
}

/// A fresh service holding every execution of `store`.
fn restored_from(store: &Store) -> MemoryService {
    let restored = MemoryService::new();
    for rows in store.load_all().unwrap() {
        restored.restore(rows).unwrap();
    }
    restored
}

/// Writes `changes` (every row of new executions) as version 1 did: one row per history event.
fn write_version_1(conn: &Connection, changes: &[ExecutionChanges]) {
    for c in changes {
        let meta = serde_json::to_string(&c.meta).unwrap();
        conn.execute(
            "INSERT INTO executions (arn, function_name, name, status, start_ms, end_ms, meta)
             VALUES (?1, 'f', ?2, 'RUNNING', NULL, NULL, ?3)",
            params![c.arn, c.meta.name(), meta],
        )
        .unwrap();
        let id = conn.last_insert_rowid();
        for op in &c.operations {
            let entry = serde_json::to_string(op).unwrap();
            conn.execute(
                "INSERT INTO operations (exec, idx, op_id, entry) VALUES (?1, ?2, ?3, ?4)",
                params![id, op.index() as i64, op.id(), entry],
            )
            .unwrap();
        }
        for event in &c.events {
            let text = serde_json::to_string(event).unwrap();
            conn.execute(
                "INSERT INTO events (exec, event_id, event) VALUES (?1, ?2, ?3)",
                params![id, event.event_id as i64, text],
            )
            .unwrap();
        }
        for (i, record) in c.invocations.iter().enumerate() {
            conn.execute(
                "INSERT INTO invocations (exec, seq, record) VALUES (?1, ?2, ?3)",
                params![id, (c.first_invocation + i) as i64, serde_json::to_string(record).unwrap()],
            )
            .unwrap();
        }
    }
}

#[test]
fn a_version_1_database_migrates_with_its_history_and_keeps_growing() {
    let path = temp_db("v1");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let service = MemoryService::new();
    let arns: Vec<String> = (0..2).map(|_| service.start_execution("f", Some("null".to_owned()))).collect();
    let mut tokens: Vec<String> =
        arns.iter().map(|arn| service.invocation_input(arn).unwrap().checkpoint_token).collect();
    for (arn, token) in arns.iter().zip(&mut tokens) {
        run_steps(&service, arn, token, 0..3);
    }
    let changes = service.take_changes();
    assert!(changes.iter().all(|c| c.events.len() > 3));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        write_version_1(&conn, &changes);
    }

    let store = Store::open(&path).unwrap();
    let version: i64 = Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let loaded = store.load_all().unwrap();
    assert_eq!(loaded.len(), changes.len());
    for (stored, written) in loaded.iter().zip(&changes) {
        assert_eq!(stored.arn, written.arn);
        assert_eq!(stored.events, written.events);
        assert_eq!(stored.operations.len(), written.operations.len());
        assert_eq!(stored.invocations.len(), written.invocations.len());
        assert_eq!(format!("{:?}", stored.meta), format!("{:?}", written.meta));
    }

    // The migrated execution grows: new events go after the migrated ones, and a fresh service
    // rebuilt from the store holds all of them.
    run_steps(&service, &arns[0], &mut tokens[0], 3..5);
    store.commit(&service).unwrap();
    let grown = store.load(&arns[0]).unwrap().unwrap();
    assert_eq!(grown.events, service.history(&arns[0]));
    let restored = restored_from(&store);
    assert_eq!(restored.history(&arns[0]), service.history(&arns[0]));
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn a_write_that_does_not_append_to_the_history_in_order_fails_and_changes_nothing() {
    let store = Store::in_memory().unwrap();
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    run_steps(&service, &arn, &mut token, 0..2);
    let first = service.take_changes();
    store.write(&first).unwrap();
    let before = store.load(&arn).unwrap().unwrap();

    // The same events again: each id would be written twice.
    match store.write(&first) {
        Err(StoreError::HistoryOutOfOrder { expected, found, .. }) => {
            assert_eq!((expected, found), (before.events.len() as u64 + 1, 1));
        }
        other => panic!("expected HistoryOutOfOrder, got {other:?}"),
    }
    // Events after a gap.
    run_steps(&service, &arn, &mut token, 2..4);
    let mut later = service.take_changes();
    later[0].events.remove(0);
    assert!(matches!(store.write(&later), Err(StoreError::HistoryOutOfOrder { .. })));
    let after = store.load(&arn).unwrap().unwrap();
    assert_eq!(after.events, before.events);
    assert_eq!(after.operations.len(), before.operations.len());
}

/// The execution's current checkpoint token (the invocation's input carries it).
fn token_after(service: &MemoryService, arn: &str) -> String {
    service.invocation_input(arn).unwrap().checkpoint_token
}

#[test]
fn a_timer_row_lives_from_the_write_that_arms_it_to_the_one_that_clears_it() {
    use durable_runtime::protocol::WaitOptions;
    let path = temp_db("timers");
    let store = Store::open(&path).unwrap();
    let timers = || -> i64 {
        Connection::open(&path).unwrap().query_row("SELECT count(*) FROM timers", [], |r| r.get(0)).unwrap()
    };
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    run_steps(&service, &arn, &mut token, 0..2);
    store.commit(&service).unwrap();
    assert_eq!(timers(), 0);

    let mut wait = OperationUpdate::new("w", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(5) });
    let request = CheckpointRequest { checkpoint_token: token, client_token: None, updates: vec![wait] };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(CheckpointClient::checkpoint(&service, &arn, request)).unwrap();
    store.commit(&service).unwrap();
    assert_eq!(timers(), 1, "the armed WAIT has a timer row");

    // A store opened again knows the row from the database, not from its own writes.
    drop(store);
    let store = Store::open(&path).unwrap();
    run_steps(&service, &arn, &mut token_after(&service, &arn), 2..3);
    store.commit(&service).unwrap();
    assert_eq!(timers(), 1, "a later write leaves the armed timer's row alone");
    assert_eq!(service.advance(std::time::Duration::from_secs(10)), 1);
    store.commit(&service).unwrap();
    assert_eq!(timers(), 0, "the fired WAIT's timer row is gone");
    drop(store);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn a_write_that_failed_does_not_move_the_history_on_and_its_retry_is_stored() {
    let path = temp_db("failed-history");
    let store = Store::open(&path).unwrap();
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    run_steps(&service, &arn, &mut token, 0..2);
    store.commit(&service).unwrap();
    let first = store.load(&arn).unwrap().unwrap().events.len();

    // The next write fails before its commit; the service is put back to what the store holds.
    run_steps(&service, &arn, &mut token, 2..3);
    store.fail_next_writes(1);
    assert!(matches!(store.commit(&service), Err(StoreError::Injected)));
    assert_eq!(store.load(&arn).unwrap().unwrap().events.len(), first);

    // The same history appended again (the client retries) is in order and is stored.
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    run_steps(&service, &arn, &mut token, 2..3);
    store.commit(&service).unwrap();
    let reopened = Store::open(&path).unwrap();
    let events = reopened.load(&arn).unwrap().unwrap().events;
    assert!(events.len() > first);
    assert!(events.iter().enumerate().all(|(i, e)| e.event_id == i as u64 + 1), "ids in order, no gap");
    drop((store, reopened));
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Copies the database and its log as they are on disk now, as a crash would leave them (the
/// wal-index in `-shm` is not kept: after a crash it is rebuilt from the log).
fn crash_image(path: &std::path::Path, test: &str) -> PathBuf {
    let image = temp_db(test);
    std::fs::create_dir_all(image.parent().unwrap()).unwrap();
    for (from, to) in [(path.to_owned(), image.clone()), (sidecar(path, "-wal"), sidecar(&image, "-wal"))] {
        std::fs::copy(from, to).unwrap();
    }
    image
}

#[test]
fn the_log_is_reserved_up_front_and_a_crash_image_recovers_every_commit() {
    let path = temp_db("reserved");
    let store = Store::open(&path).unwrap();
    let log = || std::fs::metadata(sidecar(&path, "-wal")).unwrap().len();
    let reserved = log();
    assert!(reserved >= 4 * 1024 * 1024, "the log is reserved up front: {reserved} bytes");
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    for chunk in 0..4 {
        run_steps(&service, &arn, &mut token, chunk * 10..chunk * 10 + 10);
        store.commit(&service).unwrap();
    }
    assert_eq!(log(), reserved, "commits overwrite the reserved bytes");

    // The log holds committed frames and then zeros: recovery stops where the frames do.
    let image = crash_image(&path, "reserved-image");
    let recovered = Store::open(&image).unwrap();
    let rows = recovered.load(&arn).unwrap().unwrap();
    assert_eq!(rows.events, service.history(&arn));
    assert_eq!(rows.operations.len(), 41, "the execution and its 40 steps");

    // Opened on a log of frames and zeros, the store keeps the frames and writes on after them.
    let restored = MemoryService::new();
    restored.restore(rows).unwrap();
    let mut token = restored.invocation_input(&arn).unwrap().checkpoint_token;
    run_steps(&restored, &arn, &mut token, 40..50);
    recovered.commit(&restored).unwrap();
    let again = crash_image(&image, "reserved-image-again");
    let reopened = Store::open_to_read(&again).unwrap();
    let rows = reopened.load(&arn).unwrap().unwrap();
    assert_eq!(rows.events, restored.history(&arn));
    assert_eq!(rows.operations.len(), 51);
    drop((store, recovered, reopened));
    for p in [path, image, again] {
        let _ = std::fs::remove_dir_all(p.parent().unwrap());
    }
}

#[test]
fn a_store_opened_to_read_does_not_reserve_the_log() {
    let path = temp_db("to-read");
    drop(Store::open(&path).unwrap());
    let reader = Store::open_to_read(&path).unwrap();
    assert!(reader.load_all().unwrap().is_empty());
    let log = std::fs::metadata(sidecar(&path, "-wal")).map_or(0, |m| m.len());
    assert!(log < 1024 * 1024, "{log} bytes");
    drop(reader);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn slots_keep_executions_apart_and_in_order() {
    use schema::{slot, slots};
    assert_eq!(slot(1, 0), Some(1 << 32));
    assert_eq!(slot(1, 7), Some((1 << 32) + 7));
    assert!(slot(1, u64::from(u32::MAX)) < slot(2, 0));
    assert_eq!(slots(3), (3 << 32, (3 << 32) + i64::from(u32::MAX)));
    assert_eq!(slot(1, 1 << 32), None, "an index past 32 bits");
    assert_eq!(slot(1 << 31, 0), None, "an execution past 31 bits");
    assert_eq!(slot(-1, 0), None);
}

#[test]
fn the_log_is_checkpointed_off_the_writes_and_starts_again_inside_its_reserve() {
    let path = temp_db("checkpointed");
    let store = Store::open(&path).unwrap();
    let log = || std::fs::metadata(sidecar(&path, "-wal")).unwrap().len();
    let reserved = log();
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let payload = format!("\"{}\"", "x".repeat(100 * 1024));
    // 160 steps of 100 KiB, each in an operation row and a history event, written without a
    // pause: about eight times the pages the log is reserved for, while the checkpoint thread
    // copies them out.
    let started = std::time::Instant::now();
    for step in 0..160 {
        let id = format!("big{step}");
        let mut done = OperationUpdate::new(id.clone(), OperationType::Step, OperationAction::Succeed);
        done.payload = Some(payload.clone());
        let updates = vec![OperationUpdate::new(id, OperationType::Step, OperationAction::Start), done];
        let request = CheckpointRequest { checkpoint_token: token_after(&service, &arn), client_token: None, updates };
        runtime.block_on(CheckpointClient::checkpoint(&service, &arn, request)).unwrap();
        store.commit(&service).unwrap();
    }
    let writing = started.elapsed();
    // Between two passes of the thread (100 ms apart) the log may outgrow its reserve, but it
    // starts again from its beginning after each: without that it would hold every page written.
    let grown = log();
    assert!(grown >= reserved);
    assert!(grown < 12 * 1024 * 1024, "the log grew to {grown} bytes in {writing:?}");
    let database = std::fs::metadata(&path).unwrap().len();
    assert!(database > 4 * 1024 * 1024, "the pages were copied into the database: {database} bytes");
    let image = crash_image(&path, "checkpointed-image");
    let rows = Store::open_to_read(&image).unwrap().load(&arn).unwrap().unwrap();
    assert_eq!(rows.events, service.history(&arn));
    drop(store);
    for p in [path, image] {
        let _ = std::fs::remove_dir_all(p.parent().unwrap());
    }
}

#[test]
fn a_long_history_batch_is_packed_a_short_one_stays_text_and_damage_is_a_typed_error() {
    let path = temp_db("packed");
    let store = Store::open(&path).unwrap();
    let service = MemoryService::new();
    let arn = service.start_execution("f", Some("null".to_owned()));
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    store.commit(&service).unwrap();
    run_steps(&service, &arn, &mut token, 0..40);
    store.commit(&service).unwrap();

    let conn = Connection::open(&path).unwrap();
    let kinds: Vec<(String, i64)> = conn
        .prepare("SELECT typeof(events), length(events) FROM event_batches ORDER BY slot")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(kinds[0].0, "text", "the execution's first event is short: {kinds:?}");
    assert_eq!(kinds[1].0, "blob", "40 steps' events are long: {kinds:?}");
    let json = serde_json::to_string(&service.history(&arn)[1..]).unwrap();
    assert!(kinds[1].1 * 4 < json.len() as i64, "{} bytes of events packed to {}", json.len(), kinds[1].1);
    assert_eq!(store.load(&arn).unwrap().unwrap().events, service.history(&arn));
    // A fresh service on the store reads the packed batch back, and its execution goes on.
    drop(store);
    let store = Store::open(&path).unwrap();
    let restored = restored_from(&store);
    assert_eq!(restored.history(&arn), service.history(&arn));
    run_steps(&restored, &arn, &mut token, 40..41);
    store.commit(&restored).unwrap();
    assert_eq!(store.load(&arn).unwrap().unwrap().events, restored.history(&arn));

    // A packed batch damaged on disk reads as corrupt, naming the batch; nothing panics.
    conn.execute("UPDATE event_batches SET events = substr(events, 1, 40) WHERE typeof(events) = 'blob'", []).unwrap();
    match store.load(&arn) {
        Err(StoreError::Corrupt { arn: at, message }) => {
            assert_eq!(at, arn);
            assert!(message.contains("batched from 2"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    drop((store, conn));
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
