use durable_runtime::{durable_workflow, DurableContext, Error};
use std::time::Instant;

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let started = Instant::now();
    let _ = started;
    Ok(id)
}

fn main() {}
