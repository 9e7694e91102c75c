use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let r = tokio::time::timeout(std::time::Duration::from_secs(1), async { 1 }).await;
    let _ = r;
    Ok(id)
}

fn main() {}
