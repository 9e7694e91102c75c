use durable_runtime::{durable_step, Error};

#[durable_step(retry = linear(initial = "1s"))]
async fn charge(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn main() {}
