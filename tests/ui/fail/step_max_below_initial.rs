use durable_runtime::{durable_step, Error};

#[durable_step(retry = exponential(initial = "2m", max = "30s"))]
async fn charge(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn main() {}
