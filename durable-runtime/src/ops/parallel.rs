//! `parallel`: independent branches, each in its own child context. See [`batch`](super::batch)
//! for concurrency, completion and the wire shape.

use super::batch::{batch_setters, run_batch, BatchResult, BatchSerdes, BatchSpec, ItemTask};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, Error};
use crate::protocol::OperationSubType;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::{Future, IntoFuture};

/// A parallel being configured. Created by [`DurableContext::parallel`]; add branches, then await it
/// for the [`BatchResult`].
#[must_use = "a parallel does nothing until it is awaited: add `.await`"]
pub struct Parallel<R> {
    spec: BatchSpec,
    serdes: BatchSerdes<R>,
    branches: Vec<ItemTask<R>>,
}

impl DurableContext {
    /// Runs branches, each in its own child context (a `Parallel` context with one `ParallelBranch`
    /// per branch), and collects their results in branch order. All branches return the same type;
    /// use `serde_json::Value` or an enum for branches of different shapes. The result never fails
    /// because a branch failed: use [`BatchResult::require_success`] for that.
    pub fn parallel<R>(&self) -> Parallel<R>
    where
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        Parallel {
            spec: BatchSpec::new(self, "parallel", OperationSubType::Parallel, OperationSubType::ParallelBranch),
            serdes: BatchSerdes::default(),
            branches: Vec::new(),
        }
    }
}

impl<R> Parallel<R>
where
    R: Serialize + DeserializeOwned + Send + 'static,
{
    /// Adds a branch.
    pub fn branch<F, Fut, E>(self, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        self.add(None, body)
    }

    /// Adds a named branch; the name is recorded on the branch's context.
    pub fn named_branch<F, Fut, E>(self, name: impl Into<String>, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        self.add(Some(name.into()), body)
    }

    fn add<F, Fut, E>(mut self, name: Option<String>, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        self.branches.push(ItemTask::new(name, body));
        self
    }

    batch_setters!("parallel", "branch", R);
}

impl<R> IntoFuture for Parallel<R>
where
    R: Serialize + DeserializeOwned + Send + 'static,
{
    type Output = Result<BatchResult<R>, DurableError>;
    type IntoFuture = BoxFuture<Result<BatchResult<R>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run_batch(self.spec, self.branches, self.serdes))
    }
}
