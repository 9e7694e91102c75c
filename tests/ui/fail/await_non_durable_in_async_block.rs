use durable_runtime::{durable_workflow, DurableContext, Error};

async fn fetch_price(id: u32) -> u32 {
    id * 100
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let price = async move { fetch_price(id).await };
    let _ = price;
    Ok(id)
}

fn main() {}
