use durable_runtime::durable_step;

pub struct Declined;

#[durable_step]
async fn charge(id: u32) -> Result<u32, Declined> {
    if id == 0 {
        return Err(Declined);
    }
    Ok(id)
}

fn main() {}
