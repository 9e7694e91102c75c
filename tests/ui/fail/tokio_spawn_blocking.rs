use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let handle = tokio::task::spawn_blocking(|| 1);
    let _ = handle;
    Ok(id)
}

fn main() {}
