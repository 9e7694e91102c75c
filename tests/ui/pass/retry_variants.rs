#![deny(warnings)]
use durable_runtime::{durable_step, Error};

#[durable_step(retry = exponential(max_attempts = 5, initial = "500ms", max = "2h", factor = 1.5, jitter = full))]
async fn a() -> Result<(), Error> {
    Ok(())
}

#[durable_step(retry = exponential())]
async fn b() -> Result<(), Error> {
    Ok(())
}

#[durable_step(retry = linear(initial = "1s", increment = "2s", max = "1m", max_attempts = 4, jitter = half))]
async fn c() -> Result<(), Error> {
    Ok(())
}

#[durable_step(retry = fixed(delay = "1d", jitter = none), semantics = at_least_once)]
async fn d() -> Result<(), Error> {
    Ok(())
}

#[durable_step(retry = none, name = "step-e", semantics = at_most_once)]
pub(crate) async fn e() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (a(), b(), c(), d(), e());
}
