#![deny(warnings)]
extern crate durable_runtime as rt;

use rt::{durable_step, durable_workflow, DurableContext, Error};

#[durable_step(crate = "rt", retry = fixed(delay = "2s", max_attempts = 3))]
async fn add_one(x: u32) -> Result<u32, Error> {
    Ok(x + 1)
}

#[durable_workflow(crate = "::rt")]
async fn run(ctx: DurableContext, input: u32) -> Result<u32, Error> {
    let _ = &ctx;
    Ok(add_one(input).await?)
}

fn main() {
    let _ = run;
}
