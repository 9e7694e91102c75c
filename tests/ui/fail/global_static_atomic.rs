// A static counter read in a workflow body: a warm Lambda process keeps it between invocations, so
// the live run and the replay see different values.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::sync::atomic::{AtomicU64, Ordering};

static INVOCATIONS: AtomicU64 = AtomicU64::new(0);

#[durable_workflow]
async fn count(ctx: DurableContext, id: u64) -> Result<u64, Error> {
    let _ = ctx;
    let seen = INVOCATIONS.fetch_add(1, Ordering::SeqCst);
    Ok(id + seen)
}

fn main() {}
