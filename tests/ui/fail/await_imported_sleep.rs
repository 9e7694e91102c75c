use durable_runtime::{durable_workflow, DurableContext, Error};
use tokio::time::sleep;

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    sleep(std::time::Duration::from_secs(1)).await;
    Ok(id)
}

fn main() {}
