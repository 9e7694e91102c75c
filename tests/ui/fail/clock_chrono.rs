use durable_runtime::{durable_workflow, DurableContext, Error};

mod chrono {
    pub struct Utc;
    impl Utc {
        pub fn now() -> u64 {
            0
        }
    }
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let now = chrono::Utc::now();
    let _ = now;
    Ok(id)
}

fn main() {}
