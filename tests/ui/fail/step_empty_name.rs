use durable_runtime::{durable_step, Error};

#[durable_step(name = "")]
async fn charge(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn main() {}
