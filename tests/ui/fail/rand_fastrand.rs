use durable_runtime::{durable_workflow, DurableContext, Error};

mod fastrand {
    pub fn u32(_: std::ops::RangeFull) -> u32 {
        4
    }
}

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let roll = fastrand::u32(..);
    let _ = roll;
    Ok(id)
}

fn main() {}
