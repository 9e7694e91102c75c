#![deny(warnings)]
// Constants and immutable statics are the same in every process: reading them is deterministic.
use durable_runtime::{durable_workflow, DurableContext, Error};

const TIERS: [u32; 3] = [10, 20, 30];
static GREETING: &str = "hello";

#[durable_workflow]
async fn tier(ctx: DurableContext, spend: u32) -> Result<String, Error> {
    let _ = &ctx;
    let tier = TIERS.iter().filter(|t| spend >= **t).count();
    Ok(format!("{}-{tier}-{}", GREETING.to_uppercase(), TIERS.len()))
}

fn main() {
    let _ = tier;
}
