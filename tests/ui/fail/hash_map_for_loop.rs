// The workflow's input is a `HashMap`: looping over it starts the steps in hash order.
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use std::collections::HashMap;

#[durable_step]
async fn ship(item: String, quantity: u32) -> Result<u32, Error> {
    let _ = item;
    Ok(quantity)
}

#[durable_workflow]
async fn ship_all(ctx: DurableContext, orders: HashMap<String, u32>) -> Result<u32, Error> {
    let _ = ctx;
    let mut shipped = 0;
    for (item, quantity) in &orders {
        shipped += ship(item.clone(), *quantity).await?;
    }
    Ok(shipped)
}

fn main() {}
