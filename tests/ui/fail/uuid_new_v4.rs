use durable_runtime::{durable_workflow, DurableContext, Error};

mod uuid {
    pub struct Uuid;
    impl Uuid {
        pub fn new_v4() -> u128 {
            4
        }
    }
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let key = uuid::Uuid::new_v4();
    let _ = key;
    Ok(id)
}

fn main() {}
