use durable_runtime::{durable_step, Error};

pub struct Receipt {
    pub id: u32,
}

#[durable_step]
async fn charge(id: u32) -> Result<Receipt, Error> {
    Ok(Receipt { id })
}

fn main() {}
