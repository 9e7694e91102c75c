use durable_runtime::{durable_workflow, DurableContext, Error};

pub struct Receipt {
    pub id: u32,
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<Receipt, Error> {
    let _ = ctx;
    Ok(Receipt { id })
}

fn main() {}
