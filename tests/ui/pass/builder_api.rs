#![deny(warnings)]
// The builder API inside a DSL workflow: a builder step's body is step code, free to do I/O.
use durable_runtime::{durable_workflow, DurableContext, Error};
use std::time::Duration;

async fn http_get(url: &str) -> Result<String, Error> {
    Ok(url.to_owned())
}

#[durable_workflow]
async fn run(ctx: DurableContext, url: String) -> Result<String, Error> {
    let body = ctx
        .step(move |_| async move {
            let started = std::time::Instant::now();
            let body = http_get(&url).await?;
            let _ = started.elapsed();
            Ok::<_, Error>(body)
        })
        .name("fetch")
        .await?;
    ctx.wait(Duration::from_secs(5)).name("pause").await?;
    let len = ctx
        .run_in_child_context(move |child| async move {
            child.wait(Duration::from_secs(1)).await?;
            Ok::<_, Error>(body.len())
        })
        .await?;
    Ok(format!("{len}"))
}

fn main() {
    let _ = run;
}
