#![deny(warnings)]
use durable_runtime::{durable_workflow, unchecked, DurableContext, Error};

async fn log_line(line: String) {
    let _ = line;
}

#[durable_workflow]
async fn run(ctx: DurableContext, input: u32) -> Result<u32, Error> {
    let _ = &ctx;
    // Reviewed: logging is safe to repeat on every replay.
    unchecked(log_line(format!("input {input}"))).await;
    // Reviewed: the instant is only logged, never used to decide anything.
    let started = unchecked(std::time::Instant::now()).into_inner();
    unchecked(log_line(format!("{:?}", started.elapsed()))).await;
    Ok(input)
}

fn main() {
    let _ = run;
}
