#![deny(warnings)]
use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Serialize, Deserialize)]
pub struct Order {
    pub id: u32,
}

#[derive(Serialize, Deserialize)]
pub struct Receipt {
    pub id: u32,
}

/// Reserves the stock.
#[durable_step]
async fn reserve(order: Order) -> Result<u32, Error> {
    Ok(order.id)
}

#[durable_step(retry = exponential(max_attempts = 5, initial = "1s", max = "1m"), semantics = at_most_once)]
async fn charge(order: Order) -> Result<Receipt, Error> {
    if order.id == 0 {
        return Err("zero".into());
    }
    let n: u32 = "7".parse()?;
    Ok(Receipt { id: order.id + n })
}

#[durable_workflow]
async fn place_order(ctx: DurableContext, order: Order) -> Result<Receipt, Error> {
    let held = reserve(order.clone()).await?;
    ctx.wait(Duration::from_secs(60)).await?;
    let receipt = charge(order).await?;
    let _ = held;
    Ok(receipt)
}

fn main() {
    let _ = place_order;
}
