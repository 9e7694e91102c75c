use durable_runtime::{durable_step, Error};

#[durable_step(retry = fixed(delay = "1s", factor = 2.0))]
async fn charge(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn main() {}
