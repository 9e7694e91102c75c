//! One item of a batch: its body, and how it runs, as a child context of its own (nested) or in a
//! virtual context whose operations report the batch as their parent (flat).

use super::scheduler::ItemFuture;
use super::{BatchSpec, Nesting};
use crate::checkpoint::BoxFuture;
use crate::context::{scoped, DurableContext};
use crate::engine::ids::{Namespace, OpId};
use crate::error::{into_recorded, Error, ErrorKind};
use crate::ops::child::{self, ChildContext};
use crate::ops::serdes::Serdes;
use crate::ops::shell::Shell;
use crate::ops::{decode_with, encode_with};
use std::future::{Future, IntoFuture};
use std::sync::Arc;

/// One item to run: its name and its body.
pub(crate) struct ItemTask<R> {
    pub(super) name: Option<String>,
    run: Box<dyn FnOnce(DurableContext) -> BoxFuture<Result<R, Error>> + Send>,
}

impl<R: Send + 'static> ItemTask<R> {
    /// An item named `name` whose body is `body`; its error is recorded as a failed child.
    pub(crate) fn new<F, Fut, E>(name: Option<String>, body: F) -> Self
    where
        F: FnOnce(DurableContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        let run = move |ctx: DurableContext| -> BoxFuture<Result<R, Error>> {
            let fut = body(ctx);
            Box::pin(
                async move { fut.await.map_err(|e| -> Error { Box::new(into_recorded(e, ErrorKind::ChildFailed)) }) },
            )
        };
        Self { name, run: Box::new(run) }
    }

    /// The future of this item of the batch `spec`, at `item_op` and named `name`. Resolves to the
    /// value as replay would see it, with its recorded payload.
    pub(super) fn start(
        self,
        spec: &BatchSpec,
        item_op: OpId,
        name: Option<String>,
        item_serdes: Arc<dyn Serdes<R>>,
    ) -> ItemFuture<R> {
        let batch = &spec.shell;
        let what = format!("{}, item {}", batch.label(), item_op.positional);
        match spec.nesting {
            Nesting::Nested => {
                let shell = Shell::at(&batch.ctx, item_op, child::kind(spec.item_sub_type.clone())).named(name);
                let fut = ChildContext::in_shell(shell, self.run).serdes(item_serdes.clone()).into_future();
                Box::pin(async move {
                    let value: R = fut.await?;
                    let payload = encode_with(item_serdes.as_ref(), &value, || what.clone())?;
                    Ok((value, payload))
                })
            }
            Nesting::Flat => {
                let item_ctx =
                    batch.ctx.with_namespace(Namespace::virtual_at(item_op, Some(std::sync::Arc::from(&*batch.op.id))));
                let body = (self.run)(item_ctx.clone());
                Box::pin(async move {
                    let value = scoped(item_ctx, body).await.map_err(|e| into_recorded(e, ErrorKind::ChildFailed))?;
                    let payload = encode_with(item_serdes.as_ref(), &value, || what.clone())?;
                    let value = decode_with(item_serdes.as_ref(), Some(&payload), || what.clone())?;
                    Ok((value, payload))
                })
            }
        }
    }
}
