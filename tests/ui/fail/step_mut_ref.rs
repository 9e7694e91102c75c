use durable_runtime::{durable_step, Error};

#[durable_step]
async fn bump(counter: &mut u32) -> Result<(), Error> {
    *counter += 1;
    Ok(())
}

fn main() {}
