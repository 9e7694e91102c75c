#![deny(warnings)]
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};

#[durable_step]
async fn add(x: u32) -> Result<u32, Error> {
    Ok(x + 1)
}

#[durable_workflow(name = "inner-flow")]
async fn inner(ctx: DurableContext, x: u32) -> Result<u32, Error> {
    let _ = &ctx;
    Ok(add(x).await?)
}

#[durable_workflow]
async fn outer(ctx: DurableContext, x: u32) -> Result<u32, Error> {
    let a = inner(ctx.clone(), x).await?;
    let b = inner(ctx.clone(), a).await?;
    let c = ctx.run_in_child_context(move |child| async move { inner(child, b).await }).name("manual").await?;
    Ok(c)
}

fn main() {
    let _ = outer;
}
