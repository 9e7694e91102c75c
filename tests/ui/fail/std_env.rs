use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let region = std::env::var("AWS_REGION");
    let _ = region;
    Ok(id)
}

fn main() {}
