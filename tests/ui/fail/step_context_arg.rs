use durable_runtime::{durable_step, DurableContext, Error};

#[durable_step]
async fn nested(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    Ok(id)
}

fn main() {}
