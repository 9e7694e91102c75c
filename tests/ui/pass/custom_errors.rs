#![deny(warnings)]
use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError};
use std::fmt;

#[derive(Debug)]
pub struct Declined(pub u32);

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card declined for {}", self.0)
    }
}

impl std::error::Error for Declined {}

#[durable_step]
async fn charge(amount: u32) -> Result<u32, Declined> {
    if amount > 100 {
        return Err(Declined(amount));
    }
    Ok(amount)
}

#[durable_step]
async fn parse(text: String) -> std::io::Result<u32> {
    text.parse().map_err(std::io::Error::other)
}

#[durable_workflow]
async fn run(ctx: DurableContext, amount: u32) -> Result<u32, Declined> {
    let _ = &ctx;
    match charge(amount).await {
        Ok(v) => Ok(v + parse("1".to_owned()).await.unwrap_or(0)),
        Err(e) => {
            let recorded: &DurableError = &e;
            let _ = recorded.error_type();
            Err(Declined(amount))
        }
    }
}

fn main() {
    let _ = run;
}
