use durable_runtime::{durable_step, Error};

#[durable_step(retry = exponential(max_attempts = 0))]
async fn charge(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn main() {}
