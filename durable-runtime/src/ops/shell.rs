//! The shell every operation runs in. An operation declares its [`Kind`] and what a record means
//! for it (a [`Plan`]); the shell does the rest the same way for all of them:
//!
//! - build the update: id, `ParentId`, type, subtype, action and name ([`Shell::update`]);
//! - look the record up and check that it is the same operation (type, subtype, name), failing the
//!   execution with a nondeterminism error when it is not;
//! - replay: return a recorded outcome, park while the service has to act, or halt on a status the
//!   operation cannot have; anything else goes back to the operation to run live ([`Shell::replay`]);
//! - record the outcome of the live run ([`Shell::succeed`], [`Shell::fail`], [`Shell::retry`]).

use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{DurableError, ErrorKind};
use crate::ops::step::StepContext;
use crate::protocol::{
    ContextOptions, ErrorObject, Operation, OperationAction, OperationSubType, OperationType, OperationUpdate,
    StepOptions,
};
use std::fmt;
use std::time::Duration;

/// What an operation is, on the wire and in messages.
pub(crate) struct Kind {
    pub(crate) op_type: OperationType,
    pub(crate) sub_type: OperationSubType,
    /// How messages name the operation: `step`, `child context`, ...
    pub(crate) noun: &'static str,
    /// The kind of the error a recorded failure comes back as.
    pub(crate) failure: ErrorKind,
    /// How a message about a status the operation cannot have ends: "which a wait cannot have".
    pub(crate) unknown: &'static str,
}

/// What the record at an operation's position means for it.
pub(crate) enum Plan<T, L> {
    /// The recorded outcome: return it without running anything.
    Done(Result<T, DurableError>),
    /// The service has to act first (a timer, a retry delay, a callback): suspend.
    Park,
    /// Run live, from where the record says.
    Live(L),
    /// The record has this status, which the operation cannot have: the execution fails.
    Unknown(String),
}

/// What [`Shell::replay`] leaves to the operation.
pub(crate) enum Replay<T, L> {
    /// The recorded outcome, to return as it is.
    Recorded(Result<T, DurableError>),
    /// Run live, from where the record says.
    Live(L),
}

/// The error for `what`, awaited inside the body of the step `outer`.
///
/// A step body runs once and is not replayed: an operation awaited in it would be recorded as if the
/// workflow body had awaited it, and on replay, where the step's recorded result is returned without
/// running its body, that operation would be missing and everything after it would shift.
fn nested(what: &str, outer: &StepContext) -> DurableError {
    let outer = match outer.name() {
        Some(name) => format!("step `{name}`"),
        None => format!("the step with id {}", outer.operation_id()),
    };
    DurableError::new(
        ErrorKind::NestedOperation,
        format!(
            "{what} was awaited inside the body of {outer}; durable operations cannot run inside a step \
             body: await it in the workflow body (or a child context), or, for a `#[durable_step]`, call \
             `.run_body()` to run its body as a plain function"
        ),
    )
}

/// One operation: where it is, what it is, and its name.
pub(crate) struct Shell {
    pub(crate) ctx: DurableContext,
    pub(crate) op: OpId,
    pub(crate) name: Option<String>,
    pub(crate) kind: Kind,
}

impl Shell {
    /// An unnamed operation of `kind` at the next position of `ctx`.
    pub(crate) fn new(ctx: &DurableContext, kind: Kind) -> Self {
        Self::at(ctx, ctx.next_id(), kind)
    }

    /// An unnamed operation of `kind` at a position already claimed.
    pub(crate) fn at(ctx: &DurableContext, op: OpId, kind: Kind) -> Self {
        Self { ctx: ctx.clone(), op, name: None, kind }
    }

    /// The same operation, named `name`.
    pub(crate) fn named(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// `step `name`` or `step at position 3`, for messages.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} `{name}`", self.kind.noun),
            None => format!("{} at position {}", self.kind.noun, self.op.positional),
        }
    }

    /// The start of a builder's `Debug` output: its position and name.
    pub(crate) fn debug<'a, 'b>(&self, f: &'a mut fmt::Formatter<'b>, builder: &str) -> fmt::DebugStruct<'a, 'b> {
        let mut out = f.debug_struct(builder);
        out.field("position", &self.op.positional).field("name", &self.name);
        out
    }

    /// An update of this operation.
    pub(crate) fn update(&self, action: OperationAction) -> OperationUpdate {
        let mut update = OperationUpdate::new(&*self.op.id, self.kind.op_type.clone(), action);
        update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
        update.name = self.name.clone();
        update.sub_type = Some(self.kind.sub_type.clone());
        update
    }

    /// Looks the record up, checks that it is this operation, and follows the plan `decide` makes of
    /// it (`None`: nothing is recorded yet). A recorded outcome and the live run go back to the
    /// caller; parking and halting never return.
    pub(crate) async fn replay<T, L>(&self, decide: impl FnOnce(Option<&Operation>) -> Plan<T, L>) -> Replay<T, L> {
        if let Some(outer) = StepContext::current() {
            self.halt(nested(&self.label(), &outer)).await
        }
        let expected =
            Expected { op_type: &self.kind.op_type, sub_type: &self.kind.sub_type, name: self.name.as_deref() };
        // `None`: the record is another operation; the engine has already failed the execution.
        let Some(plan) = self.ctx.exec.with_record(&self.op, &expected, decide) else { match Halted.await {} };
        match plan {
            Plan::Done(outcome) => Replay::Recorded(outcome),
            Plan::Live(live) => Replay::Live(live),
            Plan::Park => self.park().await,
            Plan::Unknown(status) => {
                let message = format!("{} has status `{status}`, {}", self.label(), self.kind.unknown);
                self.halt(DurableError::new(ErrorKind::UnknownStatus, message)).await
            }
        }
    }

    /// The plan for a recorded failure: the recorded error object (empty when absent) as an error of
    /// the operation's failure kind.
    pub(crate) fn failed<T, L>(&self, error: Option<&ErrorObject>) -> Plan<T, L> {
        Plan::Done(Err(DurableError::from_object(self.kind.failure, &error.cloned().unwrap_or_default())))
    }

    /// Queues `update` without waiting for it to be durable; its sequence number.
    pub(crate) fn send(&self, update: OperationUpdate) -> u64 {
        self.ctx.exec.enqueue(update)
    }

    /// Queues an update of at-least-once work, which may ride with later updates when batching is on.
    pub(crate) fn send_batched(&self, update: OperationUpdate) -> u64 {
        self.ctx.exec.enqueue_batched(update)
    }

    /// Queues `update` and resolves once it is durable.
    pub(crate) async fn checkpoint(&self, update: OperationUpdate) {
        let seq = self.ctx.exec.enqueue(update);
        self.ctx.exec.durable(seq).await;
    }

    /// Never resolves, and counts as a suspension point: the service has to act before the
    /// operation can go on.
    pub(crate) async fn park<T>(&self) -> T {
        match self.ctx.exec.park().await {}
    }

    /// Queues `update` and suspends (see [`Self::park`]).
    pub(crate) async fn suspend<T>(&self, update: OperationUpdate) -> T {
        self.send(update);
        self.park().await
    }

    /// Fails the execution with `error` whatever user code does next; never resolves.
    pub(crate) async fn halt<T>(&self, error: DurableError) -> T {
        match self.ctx.exec.halt(error).await {}
    }

    /// A RETRY update asking the service to make the operation READY again after `delay` (whole
    /// seconds, at least one).
    pub(crate) fn retry(&self, delay: Duration) -> OperationUpdate {
        let mut update = self.update(OperationAction::Retry);
        update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(delay.as_secs().max(1)) });
        update
    }

    /// Records SUCCEED with `payload` and resolves once it is durable.
    pub(crate) async fn succeed(&self, payload: String) {
        let mut update = self.update(OperationAction::Succeed);
        update.payload = Some(payload);
        self.checkpoint(update).await;
    }

    /// Records SUCCEED of a context whose result is too large to record: replay runs the context
    /// again over its children's records to rebuild the result. `decision` is recorded instead, if
    /// anything.
    pub(crate) async fn succeed_replaying_children(&self, decision: Option<String>) {
        let mut update = self.update(OperationAction::Succeed);
        update.payload = decision;
        update.context_options = Some(ContextOptions { replay_children: Some(true) });
        self.checkpoint(update).await;
    }

    /// Records FAIL with `error` and, once it is durable, returns the error replay rebuilds from the
    /// record, so the live run sees the same error.
    pub(crate) async fn fail<T>(&self, error: ErrorObject) -> Result<T, DurableError> {
        let mut update = self.update(OperationAction::Fail);
        update.error = Some(error.clone());
        self.checkpoint(update).await;
        Err(DurableError::from_object(self.kind.failure, &error))
    }
}
