//! `replay`: one invocation that replays N completed steps, against the floor of only deserializing
//! the same envelope with serde_json.
//!
//! The envelope is produced for real: the workflow runs N steps and a wait on the in-memory service,
//! the wait's timer fires, and the next invocation's envelope (N completed steps, one completed wait) is
//! what gets replayed. Replay sends no checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::invoke;
use durable_runtime::protocol::{InvocationInput, InvocationOutput, InvocationStatus};
use durable_runtime::{DurableContext, Error, Options};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

async fn workflow(ctx: DurableContext, n: u32) -> Result<u64, Error> {
    let mut sum = 0u64;
    for i in 0..n {
        sum += ctx.step(move |_| async move { Ok::<_, Error>(u64::from(i)) }).await?;
    }
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(sum)
}

/// Runs the first invocation live and returns the envelope of the second.
fn envelope(rt: &tokio::runtime::Runtime, n: u32) -> (Value, Arc<dyn CheckpointClient>) {
    rt.block_on(async {
        let service = MemoryService::new();
        let client: Arc<dyn CheckpointClient> = Arc::new(service.clone());
        let arn = service.start_execution("bench", Some(n.to_string()));
        let first = serde_json::to_value(service.invocation_input(&arn).unwrap()).unwrap();
        let out = invoke(&workflow, first, client.clone(), &Options::default()).await.unwrap();
        let out: InvocationOutput = serde_json::from_value(out).unwrap();
        assert_eq!(out.status, InvocationStatus::Pending);
        service.complete_invocation(&arn, Ok(out)).unwrap();
        let due = service.next_timer(&arn).unwrap();
        service.advance_to(&arn, due);
        (serde_json::to_value(service.invocation_input(&arn).unwrap()).unwrap(), client)
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    for n in [10_000u32, 100_000] {
        let (event, client) = envelope(&rt, n);
        let text = serde_json::to_string(&event).unwrap();
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_with_input(BenchmarkId::new("deserialize_only", n), &event, |b, event| {
            b.iter(|| serde_json::from_value::<InvocationInput>(event.clone()).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("deserialize_text_only", n), &text, |b, text| {
            b.iter(|| serde_json::from_str::<InvocationInput>(text).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("replay_invocation", n), &event, |b, event| {
            b.iter(|| {
                let out = rt.block_on(invoke(&workflow, event.clone(), client.clone(), &Options::default())).unwrap();
                assert_eq!(out["Status"], "SUCCEEDED");
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
