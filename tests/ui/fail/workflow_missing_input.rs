use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext) -> Result<u32, Error> {
    let _ = ctx;
    Ok(1)
}

fn main() {}
