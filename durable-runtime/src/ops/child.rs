//! `run_in_child_context`: a closure run in its own namespace under one CONTEXT operation.
//!
//! Live, the child sends START, runs its body (whose operations carry the context as `ParentId`) and
//! records SUCCEED with the result or FAIL with the error. A result over [`MAX_CONTEXT_RESULT_BYTES`]
//! is not recorded inline: the context is marked `ReplayChildren`, and replay re-runs the body over
//! the children's records to rebuild it.

use super::serdes::{JsonSerdes, Serdes};
use super::shell::{Kind, Plan, Replay, Shell};
use super::{decode_with, encode_with, text};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{error_object_of, DurableError, Error, ErrorKind};
use crate::protocol::limits::MAX_CONTEXT_RESULT_BYTES;
use crate::protocol::{OperationAction, OperationStatus, OperationSubType, OperationType};
use std::future::{Future, IntoFuture};

/// A child context being configured. Created by
/// [`DurableContext::run_in_child_context`]; await it to run the child.
#[must_use = "a child context does nothing until it is awaited: add `.await`"]
pub struct ChildContext<F, S = JsonSerdes> {
    shell: Shell,
    body: F,
    serdes: S,
}

/// The kind of a child context with SubType `sub_type`.
pub(crate) const fn kind(sub_type: OperationSubType) -> Kind {
    Kind {
        op_type: OperationType::Context,
        sub_type,
        noun: "child context",
        failure: ErrorKind::ChildFailed,
        unknown: "which a child context cannot have",
    }
}

/// The shell of an operation that runs as a `RunInChildContext` child context named `name` unless
/// renamed (a combinator, `with_retry`, `wait_until`).
pub(crate) fn named(ctx: &DurableContext, name: &str) -> Shell {
    Shell::new(ctx, kind(OperationSubType::RunInChildContext)).named(Some(name.to_owned()))
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
        ChildContext::in_shell(Shell::new(self, kind(OperationSubType::RunInChildContext)), body)
    }
}

impl<F> ChildContext<F> {
    /// The child context of an operation whose position, subtype and name are already set (an
    /// operation that runs as a child context: a combinator, a batch item, ...).
    pub(crate) fn in_shell(shell: Shell, body: F) -> Self {
        Self { shell, body, serdes: JsonSerdes }
    }
}

impl<F, S> ChildContext<F, S> {
    /// How the result is recorded and read back (default: JSON).
    pub fn serdes<S2>(self, serdes: S2) -> ChildContext<F, S2> {
        let Self { shell, body, serdes: _ } = self;
        ChildContext { shell, body, serdes }
    }

    /// The context's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }
}

/// How the live run of a child context goes.
struct Run {
    /// The START is not recorded yet.
    send_start: bool,
    /// The outcome is to be recorded (false when replay rebuilds a `ReplayChildren` result).
    record: bool,
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

// What running needs; `Send + 'static` on top of it is for boxing the future (see `IntoFuture`).
impl<F, S, Fut, T, E> ChildContext<F, S>
where
    F: FnOnce(DurableContext) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    S: Serdes<T>,
    E: Into<Error>,
{
    async fn run(self) -> Result<T, DurableError> {
        let shell = &self.shell;
        let replay = shell.replay(|record| {
            let Some(record) = record else { return Plan::Live(Run { send_start: true, record: true }) };
            let details = record.context_details.as_ref();
            match &record.status {
                OperationStatus::Succeeded if details.and_then(|d| d.replay_children) == Some(true) => {
                    Plan::Live(Run { send_start: false, record: false })
                }
                OperationStatus::Succeeded => Plan::Done(decode_with(
                    &self.serdes,
                    text(details.and_then(|d| d.result.as_ref())).as_deref(),
                    || shell.label(),
                )),
                OperationStatus::Failed => shell.failed(details.and_then(|d| d.error.as_deref())),
                OperationStatus::Started => Plan::Live(Run { send_start: false, record: true }),
                other => Plan::Unknown(other.to_string()),
            }
        });
        let Run { send_start, record } = match replay.await {
            Replay::Recorded(outcome) => return outcome,
            Replay::Live(run) => run,
        };
        let Self { shell, body, serdes } = self;
        if send_start {
            shell.send(shell.update(OperationAction::Start));
        }
        let exec = &shell.ctx.exec;
        let child = shell.ctx.child(shell.op.clone());
        let hook = crate::plugin::function_start(
            &exec.hooks,
            (&shell.op.id, shell.op.parent_id.as_deref()),
            shell.name.as_deref(),
            &shell.kind.sub_type,
            !record,
        );
        let outcome = crate::context::scoped(child.clone(), body(child))
            .await
            .map_err(|e| error_object_of(e, ErrorKind::ChildFailed.default_error_type()));
        crate::plugin::function_end(&exec.hooks, hook, outcome.as_ref().err());
        let outcome =
            outcome.and_then(|value| encode_with(&serdes, &value, || shell.label()).map_err(|e| e.to_object()));
        match outcome {
            Ok(payload) => {
                if record && payload.len() > MAX_CONTEXT_RESULT_BYTES {
                    shell.succeed_replaying_children(None).await;
                } else if record {
                    shell.succeed(payload.clone()).await;
                }
                decode_with(&serdes, Some(&payload), || shell.label())
            }
            Err(object) if record => shell.fail(object).await,
            Err(object) => Err(DurableError::from_object(ErrorKind::ChildFailed, &object)),
        }
    }
}
