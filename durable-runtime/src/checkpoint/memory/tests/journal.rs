//! The persistence journal: changes hold only what changed, and an execution restored from the
//! accumulated rows goes on exactly as the original.

use super::{u, wait, with_payload, Fixture};
use crate::checkpoint::memory::{ExecutionChanges, ExecutionMeta, InvocationRecord, MemoryService, OperationRow};
use crate::protocol::history::HistoryEvent;
use crate::protocol::{CallbackOptions, CheckpointRequest, OperationAction as A, OperationType as T};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a store holds for one execution after writing every change set.
#[derive(Default)]
struct Rows {
    meta: Option<ExecutionMeta>,
    operations: BTreeMap<usize, OperationRow>,
    events: Vec<HistoryEvent>,
    invocations: Vec<InvocationRecord>,
}

impl Rows {
    fn write(&mut self, changes: ExecutionChanges) {
        self.meta = Some(changes.meta);
        for op in changes.operations {
            self.operations.insert(op.index(), op);
        }
        assert_eq!(
            changes.events.first().map(|e| e.event_id as usize),
            changes.events.first().map(|_| self.events.len() + 1)
        );
        self.events.extend(changes.events);
        assert_eq!(changes.first_invocation, self.invocations.len());
        self.invocations.extend(changes.invocations);
    }

    fn all(&self, arn: &str) -> ExecutionChanges {
        ExecutionChanges::from_rows(
            arn.to_owned(),
            self.meta.clone().unwrap(),
            self.operations.values().cloned().collect(),
            self.events.clone(),
            self.invocations.clone(),
            None,
        )
    }
}

fn step(f: &mut Fixture, id: &str) {
    f.cp(vec![u(id, T::Step, A::Start), with_payload(u(id, T::Step, A::Succeed), "1")]).unwrap();
}

#[test]
fn changes_hold_what_changed_and_nothing_else() {
    let mut f = Fixture::new();
    let created = f.service.take_changes();
    assert_eq!(created.len(), 1);
    assert!(created[0].created);
    assert_eq!(created[0].operations.len(), 1, "the EXECUTION operation");
    for i in 0..50 {
        step(&mut f, &format!("s{i}"));
    }
    assert_eq!(f.service.take_changes()[0].operations.len(), 50);

    step(&mut f, "last");
    let changes = f.service.take_changes();
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert!(!c.created);
    assert_eq!(c.operations.iter().map(OperationRow::index).collect::<Vec<_>>(), [51]);
    assert_eq!(c.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), [102, 103]);
    assert!(c.invocations.is_empty());

    // A refused request changes nothing.
    let token = std::mem::replace(&mut f.token, "stale".to_owned());
    assert!(f.cp(vec![u("x", T::Step, A::Start)]).is_err());
    f.token = token;
    assert!(f.service.take_changes().is_empty());
    assert!(f.service.take_changes().is_empty(), "taken once");
}

#[test]
fn an_execution_restored_from_its_rows_goes_on_as_the_original() {
    let mut f = Fixture::new();
    let mut rows = Rows::default();
    let take = |service: &MemoryService, rows: &mut Rows| {
        for changes in service.take_changes() {
            rows.write(changes);
        }
    };
    step(&mut f, "a");
    take(&f.service, &mut rows);
    let mut callback = u("cb", T::Callback, A::Start);
    callback.callback_options = Some(CallbackOptions { timeout_seconds: Some(300), heartbeat_timeout_seconds: None });
    f.cp(vec![callback, wait("w", 60)]).unwrap();
    take(&f.service, &mut rows);
    let invocation = f.service.complete_invocation(&f.arn, Err(Default::default()));
    assert!(invocation.is_ok());
    f.service.advance(Duration::from_secs(61));
    take(&f.service, &mut rows);

    let restored = MemoryService::new();
    restored.restore(rows.all(&f.arn)).unwrap();
    assert_eq!(restored.operations(&f.arn), f.service.operations(&f.arn));
    assert_eq!(restored.history(&f.arn), f.service.history(&f.arn));
    assert_eq!(restored.invocations(&f.arn), f.service.invocations(&f.arn));
    assert_eq!(restored.next_timer(&f.arn), f.service.next_timer(&f.arn));
    assert!(restored.needs_invocation(&f.arn));
    assert!(restored.take_changes().is_empty(), "restored rows are already stored");

    // The callback is routed, and the next invocation sees the same envelope.
    let id = restored.operation(&f.arn, "cb").unwrap().callback_details.unwrap().callback_id.unwrap();
    assert_eq!(restored.callback_execution(&id).as_deref(), Some(f.arn.as_str()));
    let (ours, theirs) = (restored.invocation_input(&f.arn).unwrap(), f.service.invocation_input(&f.arn).unwrap());
    assert_eq!(ours.initial_execution_state.operations, theirs.initial_execution_state.operations);
    assert_eq!(ours.updated_operation_ids, theirs.updated_operation_ids);
    restored.callback_success(&id, Some("\"ok\"".to_owned())).unwrap();
}

#[test]
fn forgetting_an_execution_drops_it_with_its_callbacks() {
    let mut f = Fixture::new();
    f.cp(vec![u("cb", T::Callback, A::Start)]).unwrap();
    let id = f.service.operation(&f.arn, "cb").unwrap().callback_details.unwrap().callback_id.unwrap();
    f.service.forget(&f.arn);
    assert_eq!(f.service.execution_status(&f.arn), None);
    assert_eq!(f.service.callback_execution(&id), None);
    assert!(f.service.take_changes().is_empty());
}

/// A checkpoint request with a client token, for retries.
fn request(f: &Fixture, client_token: &str, updates: Vec<crate::protocol::OperationUpdate>) -> CheckpointRequest {
    CheckpointRequest { checkpoint_token: f.token.clone(), client_token: Some(client_token.to_owned()), updates }
}

#[test]
fn a_retry_of_the_last_checkpoint_gets_its_answer_from_a_restored_execution() {
    let mut f = Fixture::new();
    let mut rows = Rows::default();
    step(&mut f, "a");
    let sent = request(&f, "ct-1", vec![u("b", T::Step, A::Start), with_payload(u("b", T::Step, A::Succeed), "2")]);
    let answer = f.service.checkpoint_now(&f.arn, sent.clone()).unwrap();
    for changes in f.service.take_changes() {
        rows.write(changes);
    }
    let stored = serde_json::to_string(&rows.meta).unwrap();
    assert!(!stored.contains("\"Result\""), "the stored answer names operations, not copies of them: {stored}");

    let restored = MemoryService::new();
    restored.restore(rows.all(&f.arn)).unwrap();
    assert_eq!(restored.checkpoint_now(&f.arn, sent.clone()).unwrap(), answer, "the same answer after a restart");
    assert_eq!(restored.history(&f.arn), f.service.history(&f.arn), "applied once");
    let mut other = sent;
    other.client_token = Some("ct-2".to_owned());
    assert!(restored.checkpoint_now(&f.arn, other).is_err(), "another client token with the old token is stale");
}

#[test]
fn a_row_of_version_1_with_the_whole_last_answer_is_read() {
    let f = Fixture::new();
    let mut rows = Rows::default();
    let sent = request(&f, "ct-1", vec![u("a", T::Step, A::Start), with_payload(u("a", T::Step, A::Succeed), "1")]);
    let answer = f.service.checkpoint_now(&f.arn, sent.clone()).unwrap();
    for changes in f.service.take_changes() {
        rows.write(changes);
    }
    // The meta row as version 1 wrote it: the answer whole, beside the tokens.
    let mut meta = serde_json::to_value(&rows.meta).unwrap();
    meta["version"] = 1.into();
    meta["last_response"] = serde_json::json!(["ct-1", sent.checkpoint_token, serde_json::to_value(&answer).unwrap()]);
    rows.meta = Some(serde_json::from_str(&meta.to_string()).unwrap());
    assert!(rows.meta.as_ref().unwrap().is_supported());

    let restored = MemoryService::new();
    restored.restore(rows.all(&f.arn)).unwrap();
    assert_eq!(restored.checkpoint_now(&f.arn, sent).unwrap(), answer);
    assert_eq!(restored.history(&f.arn), f.service.history(&f.arn), "applied once");
}

#[test]
fn an_operation_row_leaves_out_what_the_operation_does_not_have() {
    let mut f = Fixture::new();
    step(&mut f, "a");
    let changes = f.service.take_changes();
    let row = changes[0].operations.iter().find(|r| r.id() == "a").unwrap();
    let text = serde_json::to_string(row).unwrap();
    assert!(!text.contains("null"), "{text}");
    let back: OperationRow = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}
