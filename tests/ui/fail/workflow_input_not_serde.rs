use durable_runtime::{durable_workflow, DurableContext, Error};

pub struct Order {
    pub id: u32,
}

#[durable_workflow]
async fn place(ctx: DurableContext, order: Order) -> Result<u32, Error> {
    let _ = ctx;
    Ok(order.id)
}

fn main() {}
