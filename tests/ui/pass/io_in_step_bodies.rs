#![deny(warnings)]
// Closures that run as steps (their outcome is recorded, they do not run again on replay) may do
// I/O: the body of `ctx.step`, a `ctx.compensate` body, a `wait_for_callback` submitter and a
// `wait_for_condition` check.
use durable_runtime::{durable_workflow, DurableContext, Error};

async fn send(to: &str, body: String) -> std::io::Result<usize> {
    Ok(to.len() + body.len())
}

#[durable_workflow]
async fn approve(ctx: DurableContext, order: String) -> Result<String, Error> {
    let sent = ctx.step(|_| async move { send("audit", std::env::var("HOME").unwrap_or_default()).await }).await?;
    ctx.compensate("withdraw", move |_| async move {
        send("approvals", format!("withdraw {sent}")).await?;
        Ok::<_, Error>(())
    });
    let answer: String = ctx
        .wait_for_callback(move |callback_id, _| async move {
            send("approvals", format!("{order}:{callback_id}")).await?;
            Ok::<_, Error>(())
        })
        .await?;
    let polls = ctx
        .wait_for_condition(0u32, |n, _| async move {
            let _ = std::fs::metadata("/tmp");
            send("status", n.to_string()).await?;
            Ok::<_, Error>(n + 1)
        })
        .until(|n: &u32| *n >= 2)
        .await?;
    Ok(format!("{answer}/{polls}"))
}

fn main() {
    let _ = approve;
}
