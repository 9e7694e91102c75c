use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let out = std::process::Command::new("ls").output();
    let _ = out;
    Ok(id)
}

fn main() {}
