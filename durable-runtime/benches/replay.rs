//! `replay`: one invocation that replays N completed steps (1k, 10k, 100k), against the floor of
//! parsing the same envelope bytes into a `serde_json::Value`.
//!
//! The envelope is produced for real: the workflow runs N steps and a wait on the in-memory service,
//! the wait's timer fires, and the next invocation's envelope (N completed steps, one completed wait) is
//! what gets replayed. Replay sends no checkpoint.
//!
//! - `parse_value`: bytes → `serde_json::Value`, nothing else (the floor);
//! - `parse_typed`: bytes → typed envelope ([`envelope_from_slice`]), nothing else;
//! - `replay_from_value`: bytes → `Value` → [`invoke`] → output bytes, the path of a caller holding a
//!   `Value`;
//! - `replay_from_bytes`: bytes → typed envelope ([`envelope_from_slice`]) → [`invoke_envelope`] →
//!   output bytes, the path of the Lambda entry point, which reads the request body itself.
//!
//! `test_runner/10000_steps`: a whole [`TestRunner`] run of a 10,000-step workflow on the in-memory
//! service: the live invocation (one checkpoint per step), the wait, the replaying invocation, and the
//! runner's replay audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
use common::{envelope, workflow};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use durable_runtime::protocol::{InvocationOutput, InvocationStatus};
use durable_runtime::testing::{ExecutionStatus, TestRunner};
use durable_runtime::{envelope_from_slice, invoke, invoke_envelope, Options};
use serde_json::Value;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("replay");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for n in [1_000u32, 10_000, 100_000] {
        let (bytes, client) = envelope(&rt, n);
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_with_input(BenchmarkId::new("parse_value", n), &bytes, |b, bytes| {
            b.iter(|| serde_json::from_slice::<Value>(bytes).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("parse_typed", n), &bytes, |b, bytes| {
            b.iter(|| envelope_from_slice(bytes).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("replay_from_value", n), &bytes, |b, bytes| {
            b.iter(|| {
                let event: Value = serde_json::from_slice(bytes).unwrap();
                let out = rt.block_on(invoke(&workflow, event, client.clone(), &Options::default())).unwrap();
                assert_eq!(out["Status"], "SUCCEEDED");
                serde_json::to_vec(&out).unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("replay_from_bytes", n), &bytes, |b, bytes| {
            b.iter(|| {
                let event = envelope_from_slice(bytes).unwrap();
                let out: InvocationOutput =
                    rt.block_on(invoke_envelope(&workflow, event, client.clone(), &Options::default())).unwrap();
                assert_eq!(out.status, InvocationStatus::Succeeded);
                serde_json::to_vec(&out).unwrap()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("test_runner");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("10000_steps", |b| {
        b.iter(|| {
            rt.block_on(async {
                let runner = TestRunner::new(workflow);
                let result = runner.run(10_000u32).await.unwrap();
                assert_eq!(result.status(), ExecutionStatus::Succeeded);
                result
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
