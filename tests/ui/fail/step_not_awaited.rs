#![deny(unused_must_use)]
// A step called without `.await` never runs; the warning says to add `.await`.
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};

#[durable_step]
async fn charge(amount: u32) -> Result<u32, Error> {
    Ok(amount)
}

#[durable_workflow]
async fn order(ctx: DurableContext, amount: u32) -> Result<u32, Error> {
    let _ = ctx;
    charge(amount);
    Ok(amount)
}

fn main() {}
