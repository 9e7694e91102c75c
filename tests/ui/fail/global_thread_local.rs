// A `thread_local!` key used in a workflow body is process-global state as well.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::cell::Cell;

thread_local! {
    static RETRIES: Cell<u32> = const { Cell::new(0) };
}

#[durable_workflow]
async fn retries(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    Ok(id + RETRIES.with(Cell::get))
}

fn main() {}
