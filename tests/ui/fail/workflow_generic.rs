use durable_runtime::{durable_workflow, DurableContext, Error};

#[durable_workflow]
async fn place<I: serde::de::DeserializeOwned>(ctx: DurableContext, input: I) -> Result<u32, Error> {
    let _ = (ctx, input);
    Ok(1)
}

fn main() {}
