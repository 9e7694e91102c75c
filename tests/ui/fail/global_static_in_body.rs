// A static declared inside the workflow body is still process-global.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::sync::atomic::AtomicU32;

#[durable_workflow]
async fn tally(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    static TALLY: AtomicU32 = AtomicU32::new(0);
    let _ = &TALLY;
    Ok(id)
}

fn main() {}
