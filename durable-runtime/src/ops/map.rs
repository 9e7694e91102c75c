//! `map`: one function applied to every item of a list, each item in its own child context.
//! See [`batch`](super::batch) for concurrency, completion and the wire shape.

use super::batch::{batch_setters, run_batch, BatchResult, BatchSerdes, BatchSpec, ItemTask};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, Error};
use crate::protocol::OperationSubType;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

type Namer<T> = Box<dyn Fn(&T, usize) -> String + Send>;

/// A map being configured. Created by [`DurableContext::map`]; await it for the [`BatchResult`].
#[must_use = "a map does nothing until it is awaited: add `.await`"]
pub struct Map<T, F, R> {
    spec: BatchSpec,
    serdes: BatchSerdes<R>,
    items: Vec<T>,
    f: F,
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
    /// item failed: use [`BatchResult::require_success`] or [`BatchResult::into_results`] for that.
    pub fn map<T, F, Fut, R, E>(&self, items: impl IntoIterator<Item = T>, f: F) -> Map<T, F, R>
    where
        T: Send + 'static,
        F: Fn(DurableContext, T, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        Map {
            spec: BatchSpec::new(self, "map", OperationSubType::Map, OperationSubType::MapIteration),
            serdes: BatchSerdes::default(),
            items: items.into_iter().collect(),
            f,
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
                ItemTask::new(name, move |ctx| f(ctx, item, index))
            })
            .collect();
        Box::pin(run_batch(self.spec, tasks, self.serdes))
    }
}
