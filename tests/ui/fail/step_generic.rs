use durable_runtime::{durable_step, Error};

#[durable_step]
async fn reserve<T: Send + 'static>(item: T) -> Result<u32, Error> {
    let _ = item;
    Ok(1)
}

fn main() {}
