//! `run_in_child_context`: a closure run in its own namespace under one CONTEXT operation.
//!
//! Live, the child sends START, runs its body (whose operations carry the context as `ParentId`) and
//! records SUCCEED with the result or FAIL with the error. A result over [`MAX_CONTEXT_RESULT_BYTES`]
//! is not recorded inline: the context is marked `ReplayChildren`, and replay re-runs the body over
//! the children's records to rebuild it.

use super::serdes::{JsonSerdes, Serdes};
use super::{decode_with, encode_with, label};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::limits::MAX_CONTEXT_RESULT_BYTES;
use crate::protocol::{
    ContextOptions, OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate,
};
use std::future::{Future, IntoFuture};

/// A child context being configured. Created by
/// [`DurableContext::run_in_child_context`]; await it to run the child.
#[must_use = "a child context does nothing until it is awaited"]
pub struct ChildContext<F, S = JsonSerdes> {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    sub_type: OperationSubType,
    body: F,
    serdes: S,
}

impl DurableContext {
    /// Runs `body` in a child context: its operations get their own namespace under one CONTEXT
    /// operation, and once the child's result is recorded, replay returns it without running `body`.
    pub fn run_in_child_context<F, Fut, T, E>(&self, body: F) -> ChildContext<F>
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        ChildContext::new(self, body)
    }
}

impl<F> ChildContext<F> {
    pub(crate) fn new(ctx: &DurableContext, body: F) -> Self {
        Self {
            ctx: ctx.clone(),
            op: ctx.next_id(),
            name: None,
            sub_type: OperationSubType::RunInChildContext,
            body,
            serdes: JsonSerdes,
        }
    }

    /// A child context at an already claimed position, with its own subtype and name.
    pub(crate) fn with_op(
        ctx: &DurableContext,
        op: OpId,
        sub_type: OperationSubType,
        name: Option<String>,
        body: F,
    ) -> Self {
        Self { ctx: ctx.clone(), op, name, sub_type, body, serdes: JsonSerdes }
    }
}

impl<F, S> ChildContext<F, S> {
    /// How the result is recorded and read back (default: JSON).
    pub fn serdes<S2>(self, serdes: S2) -> ChildContext<F, S2> {
        let Self { ctx, op, name, sub_type, body, serdes: _ } = self;
        ChildContext { ctx, op, name, sub_type, body, serdes }
    }

    /// The context's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn update(&self, action: OperationAction) -> OperationUpdate {
        let mut update = OperationUpdate::new(&*self.op.id, OperationType::Context, action);
        update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
        update.name = self.name.clone();
        update.sub_type = Some(self.sub_type.clone());
        update
    }
}

enum Plan<T> {
    Done(Result<T, DurableError>),
    Run { send_start: bool, record: bool },
    Unknown(String),
}

impl<F, S, Fut, T, E> IntoFuture for ChildContext<F, S>
where
    S: Serdes<T>,
    F: FnOnce(DurableContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<T, DurableError>;
    type IntoFuture = BoxFuture<Result<T, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<F, S, Fut, T, E> ChildContext<F, S>
where
    S: Serdes<T>,
    F: FnOnce(DurableContext) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    async fn run(self) -> Result<T, DurableError> {
        let exec = self.ctx.exec.clone();
        let what = label("child context", self.name.as_deref(), &self.op.positional);
        let expected =
            Expected { op_type: OperationType::Context, sub_type: self.sub_type.clone(), name: self.name.as_deref() };
        let plan = exec.with_record(&self.op, &expected, |record| {
            let Some(record) = record else { return Plan::Run { send_start: true, record: true } };
            let details = record.context_details.as_ref();
            match &record.status {
                OperationStatus::Succeeded if details.and_then(|d| d.replay_children) == Some(true) => {
                    Plan::Run { send_start: false, record: false }
                }
                OperationStatus::Succeeded => {
                    Plan::Done(decode_with(&self.serdes, details.and_then(|d| d.result.as_deref()), || what.clone()))
                }
                OperationStatus::Failed => {
                    let error = details.and_then(|d| d.error.clone()).unwrap_or_default();
                    Plan::Done(Err(DurableError::from_object(ErrorKind::ChildFailed, &error)))
                }
                OperationStatus::Started => Plan::Run { send_start: false, record: true },
                other => Plan::Unknown(other.to_string()),
            }
        });
        let Some(plan) = plan else { match Halted.await {} };
        let (send_start, record) = match plan {
            Plan::Done(outcome) => return outcome,
            Plan::Unknown(status) => {
                let error = DurableError::new(
                    ErrorKind::UnknownStatus,
                    format!("{what} has status `{status}`, which a child context cannot have"),
                );
                match exec.halt(error).await {}
            }
            Plan::Run { send_start, record } => (send_start, record),
        };
        if send_start {
            exec.enqueue(self.update(OperationAction::Start));
        }
        let child = self.ctx.child(self.op.clone());
        let Self { ctx, op, name, sub_type, body, serdes } = self;
        let this = ChildContext { ctx, op, name, sub_type, body: (), serdes: () };
        let hook = crate::plugin::function_start(
            &exec.hooks,
            (&this.op.id, this.op.parent_id.as_deref()),
            this.name.as_deref(),
            &this.sub_type,
            !record,
        );
        let outcome = crate::context::scoped(child.clone(), body(child))
            .await
            .map_err(|e| error_object_of(e, ErrorKind::ChildFailed.default_error_type()));
        crate::plugin::function_end(&exec.hooks, hook, outcome.as_ref().err());
        let outcome =
            outcome.and_then(|value| encode_with(&serdes, &value, || what.clone()).map_err(|e| e.to_object()));
        match outcome {
            Ok(payload) => {
                if !record {
                    return decode_with(&serdes, Some(&payload), || what.clone());
                }
                let mut update = this.update(OperationAction::Succeed);
                if payload.len() > MAX_CONTEXT_RESULT_BYTES {
                    update.context_options = Some(ContextOptions { replay_children: Some(true) });
                } else {
                    update.payload = Some(payload.clone());
                }
                let seq = exec.enqueue(update);
                exec.durable(seq).await;
                decode_with(&serdes, Some(&payload), || what.clone())
            }
            Err(object) => {
                if record {
                    let mut update = this.update(OperationAction::Fail);
                    update.error = Some(object.clone());
                    let seq = exec.enqueue(update);
                    exec.durable(seq).await;
                }
                Err(DurableError::from_object(ErrorKind::ChildFailed, &object))
            }
        }
    }
}
