use durable_runtime::{durable_workflow, DurableContext, Error};

mod time {
    pub struct OffsetDateTime;
    impl OffsetDateTime {
        pub fn now_utc() -> u64 {
            0
        }
    }
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let now = time::OffsetDateTime::now_utc();
    let _ = now;
    Ok(id)
}

fn main() {}
