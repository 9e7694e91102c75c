//! `parallel`: independent branches, each in its own child context. See [`batch`](super::batch)
//! for concurrency, completion and the wire shape.

use super::batch::{
    batch_setters, run_batch, BatchResult, BatchSerdes, BatchSpec, CompletionConfig, ItemTask, Nesting,
};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::error::{into_recorded, DurableError, Error, ErrorKind};
use crate::protocol::OperationSubType;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::{Future, IntoFuture};

/// A parallel being configured. Created by [`DurableContext::parallel`]; add branches, then await it
/// for the [`BatchResult`].
#[must_use = "a parallel does nothing until it is awaited"]
pub struct Parallel<R> {
    ctx: DurableContext,
    serdes: BatchSerdes<R>,
    op: OpId,
    branches: Vec<ItemTask<R>>,
    name: Option<String>,
    max_concurrency: Option<usize>,
    completion: CompletionConfig,
    nesting: Nesting,
}

impl DurableContext {
    /// Runs branches, each in its own child context (a `Parallel` context with one `ParallelBranch`
    /// per branch), and collects their results in branch order. All branches return the same type;
    /// use `serde_json::Value` or an enum for branches of different shapes. The result never fails
    /// because a branch failed: use [`BatchResult::throw_if_error`] for that.
    pub fn parallel<R>(&self) -> Parallel<R>
    where
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        Parallel {
            ctx: self.clone(),
            serdes: BatchSerdes::default(),
            op: self.next_id(),
            branches: Vec::new(),
            name: None,
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
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
        self.branches.push(ItemTask {
            name,
            run: Box::new(move |ctx: DurableContext| -> BoxFuture<Result<R, Error>> {
                let fut = body(ctx);
                Box::pin(async move {
                    fut.await.map_err(|e| -> Error { Box::new(into_recorded(e, ErrorKind::ChildFailed)) })
                })
            }),
        });
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
        let spec = BatchSpec {
            kind: "parallel",
            name: self.name,
            sub_type: OperationSubType::Parallel,
            item_sub_type: OperationSubType::ParallelBranch,
            max_concurrency: self.max_concurrency,
            completion: self.completion,
            nesting: self.nesting,
        };
        Box::pin(run_batch(self.ctx, self.op, spec, self.branches, self.serdes))
    }
}
