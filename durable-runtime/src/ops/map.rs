//! `map`: one function applied to every item of a list, each item in its own child context.
//! See [`batch`](super::batch) for concurrency, completion and the wire shape.

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
use std::sync::Arc;

type Namer<T> = Box<dyn Fn(&T, usize) -> String + Send>;

/// A map being configured. Created by [`DurableContext::map`]; await it for the [`BatchResult`].
#[must_use = "a map does nothing until it is awaited"]
pub struct Map<T, F, R> {
    ctx: DurableContext,
    serdes: BatchSerdes<R>,
    op: OpId,
    items: Vec<T>,
    f: F,
    name: Option<String>,
    max_concurrency: Option<usize>,
    completion: CompletionConfig,
    nesting: Nesting,
    namer: Option<Namer<T>>,
}

impl<T, F, R: 'static> Map<T, F, R> {
    batch_setters!("map", "item", R);

    /// Names each item's context from the item and its index.
    pub fn item_name(mut self, namer: impl Fn(&T, usize) -> String + Send + 'static) -> Self {
        self.namer = Some(Box::new(namer));
        self
    }
}

impl DurableContext {
    /// Applies `f(ctx, item, index)` to every item, each in its own child context (a `Map` context
    /// with one `MapIteration` per item). Steps awaited inside `f` bind to the item's context. The
    /// result lists every started item with its status, result or error, and never fails because an
    /// item failed: use [`BatchResult::throw_if_error`] or [`BatchResult::into_results`] for that.
    pub fn map<T, F, Fut, R, E>(&self, items: impl IntoIterator<Item = T>, f: F) -> Map<T, F, R>
    where
        T: Send + 'static,
        F: Fn(DurableContext, T, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        Map {
            ctx: self.clone(),
            serdes: BatchSerdes::default(),
            op: self.next_id(),
            items: items.into_iter().collect(),
            f,
            name: None,
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
            namer: None,
        }
    }
}

impl<T, F, Fut, R, E> IntoFuture for Map<T, F, R>
where
    T: Send + 'static,
    F: Fn(DurableContext, T, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    type Output = Result<BatchResult<R>, DurableError>;
    type IntoFuture = BoxFuture<Result<BatchResult<R>, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let f = Arc::new(self.f);
        let namer = self.namer;
        let tasks = self
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let name = namer.as_ref().map(|n| n(&item, index));
                let f = f.clone();
                ItemTask {
                    name,
                    run: Box::new(move |ctx: DurableContext| -> BoxFuture<Result<R, Error>> {
                        let fut = f(ctx, item, index);
                        Box::pin(async move {
                            fut.await.map_err(|e| -> Error { Box::new(into_recorded(e, ErrorKind::ChildFailed)) })
                        })
                    }),
                }
            })
            .collect();
        let spec = BatchSpec {
            kind: "map",
            name: self.name,
            sub_type: OperationSubType::Map,
            item_sub_type: OperationSubType::MapIteration,
            max_concurrency: self.max_concurrency,
            completion: self.completion,
            nesting: self.nesting,
        };
        Box::pin(run_batch(self.ctx, self.op, spec, tasks, self.serdes))
    }
}
