//! `latency`: 100 sequential at-least-once steps against the in-memory service with 5 ms added to
//! every checkpoint call. With the START of each step coalesced into the request that carries its
//! outcome, each step costs one round trip: about 0.5 s in all, not 1 s. With checkpoint batching on,
//! the steps' updates ride together and the run takes a few round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{Batching, DurableContext, Error, Options};
use std::time::Duration;

async fn hundred_steps(ctx: DurableContext, _: ()) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..100u32 {
        total += ctx.step(move |_| async move { Ok::<_, Error>(i) }).await?;
    }
    Ok(total)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("latency");
    group.sample_size(10);
    group.bench_function("100_sequential_steps_5ms_per_checkpoint", |b| {
        b.iter(|| {
            rt.block_on(async {
                let service = MemoryService::new();
                service.set_latency(Duration::from_millis(5));
                // The replay audit is off: the benchmark measures the live run alone.
                let runner = TestRunner::new(hundred_steps).with_service(service.clone()).replay_audit(false);
                let result = runner.run(()).await.unwrap();
                assert_eq!(result.status(), ExecutionStatus::Succeeded);
                assert_eq!(service.requests(result.execution_arn()).len(), 100, "one request per step");
            })
        })
    });
    group.bench_function("100_sequential_steps_5ms_per_checkpoint_batched", |b| {
        b.iter(|| {
            rt.block_on(async {
                let service = MemoryService::new();
                service.set_latency(Duration::from_millis(5));
                let runner = TestRunner::new(hundred_steps)
                    .with_service(service.clone())
                    .replay_audit(false)
                    .options(Options::default().batching(Batching::default()));
                let result = runner.run(()).await.unwrap();
                assert_eq!(result.status(), ExecutionStatus::Succeeded);
                let requests = service.requests(result.execution_arn()).len();
                assert!(requests <= 10, "{requests} requests for 100 steps");
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
