#![deny(warnings)]
#![deny(clippy::all)]
// Local modules shadowing `core` and `std`, and user locals named like generated ones.
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod std {}

use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};

#[durable_step]
async fn double(__durable_ret: u32) -> Result<u32, Error> {
    Ok(__durable_ret * 2)
}

#[durable_step]
async fn single_expression(x: u32) -> Result<u32, Error> {
    Ok(x)
}

#[durable_workflow]
pub async fn run(__durable_ctx: DurableContext, input: u32) -> Result<u32, Error> {
    let _ = &__durable_ctx;
    let doubled = double(input).await?;
    Ok(single_expression(doubled).await?)
}

fn main() {
    let _ = run;
}
