use durable_runtime::{durable_workflow, DurableContext, Error};

mod rand {
    pub fn random() -> u32 {
        4
    }
    pub fn thread_rng() -> u32 {
        4
    }
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let roll: u32 = rand::random();
    let _ = roll;
    Ok(id)
}

fn main() {}
