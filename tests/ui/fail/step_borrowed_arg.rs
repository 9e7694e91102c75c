use durable_runtime::{durable_step, Error};

#[durable_step]
async fn greet(name: &str) -> Result<String, Error> {
    Ok(format!("hello {name}"))
}

fn main() {}
