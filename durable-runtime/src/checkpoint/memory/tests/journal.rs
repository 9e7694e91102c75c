//! The persistence journal: changes hold only what changed, and an execution restored from the
//! accumulated rows goes on exactly as the original.

use super::{u, wait, with_payload, Fixture};
use crate::checkpoint::memory::{ExecutionChanges, ExecutionMeta, InvocationRecord, MemoryService, OperationRow};
use crate::protocol::history::HistoryEvent;
use crate::protocol::{CallbackOptions, OperationAction as A, OperationType as T};
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
