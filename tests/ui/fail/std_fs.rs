use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place(ctx: DurableContext, id: u32) -> Result<u32, Error> {
    let _ = ctx;
    let config = std::fs::read_to_string("config.toml");
    let _ = config;
    Ok(id)
}

fn main() {}
