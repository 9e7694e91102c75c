//! [`DurableContext`], the handle a workflow uses to run durable operations.

use crate::engine::ids::{Namespace, OpId};
use crate::engine::Execution;
use crate::ops::saga::Saga;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    /// The context of the workflow code being polled: set around the handler, each child context's
    /// body, and every other scope that owns an id namespace.
    static CURRENT: DurableContext;
}

/// Runs `fut` with `ctx` as the current context (see [`DurableContext::current`]).
pub(crate) fn scoped<F: Future>(ctx: DurableContext, fut: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(ctx, fut)
}

/// The handle of a running workflow. Every durable operation starts from it.
///
/// Operations are identified by the order in which they are *created* within their context, so
/// creating them must be deterministic: the same code path on every replay. Cloning the context is
/// cheap and clones share the same id sequence.
#[derive(Clone)]
pub struct DurableContext {
    pub(crate) exec: Arc<Execution>,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) saga: Arc<Saga>,
}

impl fmt::Debug for DurableContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableContext")
            .field("execution_arn", &self.exec.arn)
            .field("context_id", &self.ns.owner().map(|o| &*o.id))
            .finish()
    }
}

impl DurableContext {
    pub(crate) fn root(exec: Arc<Execution>) -> Self {
        Self { exec, ns: Arc::new(Namespace::root()), saga: Arc::default() }
    }

    pub(crate) fn child(&self, owner: OpId) -> Self {
        Self { exec: self.exec.clone(), ns: Arc::new(Namespace::child_of(owner)), saga: self.saga.clone() }
    }

    /// A context over another namespace of the same execution.
    pub(crate) fn with_namespace(&self, ns: Namespace) -> Self {
        Self { exec: self.exec.clone(), ns: Arc::new(ns), saga: self.saga.clone() }
    }

    /// Claims the next operation id of this context.
    pub(crate) fn next_id(&self) -> OpId {
        self.ns.next()
    }

    /// The context of the workflow code being polled right now: the handler's root context, or the
    /// context of the child context (sub-workflow, ...) whose body is running. `None` outside a durable
    /// workflow. This is how a `#[durable_step]` binds to the context it is awaited in.
    pub fn current() -> Option<DurableContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// The ARN of the running execution.
    pub fn execution_arn(&self) -> &str {
        &self.exec.arn
    }
}
