// Setting a `OnceLock` in a workflow body: the first invocation of the process sets it, the next
// ones (and every replay in the same process) find it already set.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::sync::OnceLock;

static REGION: OnceLock<String> = OnceLock::new();

#[durable_workflow]
async fn configure(ctx: DurableContext, region: String) -> Result<bool, Error> {
    let _ = ctx;
    Ok(REGION.set(region).is_ok())
}

fn main() {}
