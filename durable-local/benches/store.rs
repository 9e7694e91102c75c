//! The SQLite store under load, through HTTP with the real `aws-sdk-lambda` client (every checkpoint
//! is a request to the local service, committed before it is answered):
//!
//! - a 2,000-step sequential execution on the SQLite store and on the service without a store (the
//!   median and the mean of five pairs of runs; the store runs share one service and database, so
//!   the log is checkpointed while they run);
//! - the time of a step's checkpoint early (steps 1–100) and late (steps 1,901–2,000) in that
//!   execution, which must not grow with the execution's length;
//! - executions per second and step checkpoint p50 / p99 with 1, 10 and 100 concurrent 10-step
//!   executions, and the executions per second of the service without a store (the ceiling);
//! - the same with checkpoint batching on (`Options::batching`), where a step's result rides with
//!   later updates instead of being committed before the step returns.
//!
//! `cargo bench -p durable-local --bench store` (a plain binary: no harness).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use durable_local::LocalRunner;
use durable_runtime::testing::ExecutionStatus;
use durable_runtime::{Batching, DurableContext, Error, Options};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Laps = Arc<Mutex<Vec<Duration>>>;

/// `n` sequential steps; records each step's duration (its checkpoint round trips) in `laps`.
fn steps(
    laps: Laps,
) -> impl Fn(DurableContext, u32) -> Pin<Box<dyn Future<Output = Result<u32, Error>> + Send>> + Send + Sync + 'static {
    move |ctx: DurableContext, n: u32| {
        let laps = laps.clone();
        Box::pin(async move {
            let mut sum = 0;
            for i in 0..n {
                let started = Instant::now();
                sum += ctx.step(move |_| async move { Ok::<_, Error>(i) }).name("step").await?;
                laps.lock().unwrap().push(started.elapsed());
            }
            Ok(sum)
        })
    }
}

fn fresh_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("durable-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("durable.db")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// How many pairs of 2,000-step runs (with and without the store) the long run takes.
const LONG_RUNS: usize = 5;

fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn mean(laps: &[Duration]) -> Duration {
    laps.iter().sum::<Duration>() / laps.len().max(1) as u32
}

/// A runner of the step workflow on the SQLite store at `store` or without a store, its server
/// started, and the laps its steps record.
async fn long_runner(
    store: Option<PathBuf>,
    options: Options,
) -> (LocalRunner<impl durable_runtime::Handler<u32, u32>, u32, u32>, Laps) {
    let laps: Laps = Arc::default();
    let mut runner = LocalRunner::new(steps(laps.clone())).skip_time(true).options(options);
    if let Some(path) = store {
        runner = runner.store(path);
    }
    runner.server().await.unwrap();
    (runner, laps)
}

/// One execution of `n` steps on `runner`; returns its wall time and the step laps.
async fn long_run<H: durable_runtime::Handler<u32, u32>>(
    runner: &LocalRunner<H, u32, u32>,
    laps: &Laps,
    n: u32,
) -> (Duration, Vec<Duration>) {
    laps.lock().unwrap().clear();
    let started = Instant::now();
    let result = runner.run(n).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let requests = runner.server().await.unwrap().service().requests(result.execution_arn()).len();
    println!("    {n} steps: {requests} checkpoint requests");
    let laps = laps.lock().unwrap().clone();
    (elapsed, laps)
}

/// `total` executions of `steps` steps, `concurrency` at a time, on the SQLite store at `store` or
/// without a store; returns executions/s and laps.
async fn concurrent(
    store: Option<PathBuf>,
    concurrency: usize,
    total: usize,
    n: u32,
    options: Options,
) -> (f64, Vec<Duration>) {
    let laps: Laps = Arc::default();
    let mut runner = LocalRunner::new(steps(laps.clone())).skip_time(true).options(options);
    if let Some(path) = store {
        runner = runner.store(path);
    }
    let runner = Arc::new(runner);
    runner.server().await.unwrap();
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..total {
        let (runner, permits) = (runner.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let result = runner.run(n).await.unwrap();
            assert_eq!(result.status(), ExecutionStatus::Succeeded);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    let mut laps = laps.lock().unwrap().clone();
    laps.sort();
    (per_second, laps)
}

/// The store alone: `n` commits of one step each (START + SUCCEED in one request), no HTTP.
fn store_only(n: usize) -> Duration {
    use durable_runtime::protocol::{CheckpointRequest, OperationAction, OperationType, OperationUpdate};
    use durable_runtime::testing::MemoryService;
    let db = fresh_db("direct");
    let store = durable_local::Store::open(&db).unwrap();
    let service = MemoryService::new();
    let arn = service.start_execution("f", None);
    let mut token = service.invocation_input(&arn).unwrap().checkpoint_token;
    store.commit(&service).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut committing = Duration::ZERO;
    for i in 0..n {
        let id = format!("s{i}");
        let mut done = OperationUpdate::new(id.clone(), OperationType::Step, OperationAction::Succeed);
        done.payload = Some(i.to_string());
        let updates = vec![OperationUpdate::new(id, OperationType::Step, OperationAction::Start), done];
        let request = CheckpointRequest { checkpoint_token: token, client_token: None, updates };
        let response = runtime
            .block_on(durable_runtime::checkpoint::CheckpointClient::checkpoint(&service, &arn, request))
            .unwrap();
        token = response.checkpoint_token.unwrap();
        let started = Instant::now();
        store.commit(&service).unwrap();
        committing += started.elapsed();
    }
    let elapsed = committing;
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
    elapsed / n as u32
}

fn main() {
    // `cargo bench -p durable-local --bench store -- long batching` runs only what is named:
    // `commit`, `long`, `concurrent`, and `unbatched` or `batching` for the mode (all by default).
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let named = |group: &[&str]| {
        let named: Vec<&String> = args.iter().filter(|a| group.contains(&a.as_str())).collect();
        move |what: &str| named.is_empty() || named.iter().any(|a| *a == what)
    };
    let part = named(&["commit", "long", "concurrent"]);
    let mode = named(&["unbatched", "batching"]);
    if part("commit") {
        println!("(d) one step's commit, store alone: {:.3} ms", millis(store_only(2_000)));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let batched = Options::default().batching(Batching::default());
    let modes = [
        ("unbatched", "every step committed before it returns", Options::default()),
        ("batching", "batching on", batched),
    ];
    for (name, label, options) in modes {
        if !mode(name) || !(part("long") || part("concurrent")) {
            continue;
        }
        println!("-- {label}");
        runtime.block_on(async {
            let n = 2_000;
            if !part("long") {
                return concurrent_runs(options).await;
            }
            // Pairs of runs, alternating: one run is at the mercy of the machine's other work, the
            // median of five is not. The store runs share one service and database, as a service
            // that has run for a while does: later runs write into a grown database, and the log
            // is checkpointed while they run.
            let (mut memory, mut sqlite, mut ratios, mut laps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let db = fresh_db("long");
            let (without_store, memory_laps) = long_runner(None, options.clone()).await;
            let (with_store, sqlite_laps) = long_runner(Some(db.clone()), options.clone()).await;
            // One run of each first: the database then already holds an execution.
            long_run(&without_store, &memory_laps, n).await;
            long_run(&with_store, &sqlite_laps, n).await;
            for _ in 0..LONG_RUNS {
                let (without, _) = long_run(&without_store, &memory_laps, n).await;
                let (with, run_laps) = long_run(&with_store, &sqlite_laps, n).await;
                memory.push(without);
                sqlite.push(with);
                ratios.push(with.as_secs_f64() / without.as_secs_f64());
                laps = run_laps;
            }
            drop((with_store, without_store));
            let _ = std::fs::remove_dir_all(db.parent().unwrap());
            let (memory_mean, sqlite_mean) = (mean(&memory), mean(&sqlite));
            let (memory, sqlite) = (median(&mut memory), median(&mut sqlite));
            ratios.sort_by(f64::total_cmp);
            println!(
                "(a) {n} sequential steps, median of {LONG_RUNS}: SQLite store {:.3} s, no store {:.3} s, ratio {:.2}x \
                 (runs {:.2}-{:.2}x; means {:.3} s and {:.3} s, ratio {:.2}x)",
                sqlite.as_secs_f64(),
                memory.as_secs_f64(),
                sqlite.as_secs_f64() / memory.as_secs_f64(),
                ratios[0],
                ratios[ratios.len() - 1],
                sqlite_mean.as_secs_f64(),
                memory_mean.as_secs_f64(),
                sqlite_mean.as_secs_f64() / memory_mean.as_secs_f64(),
            );
            let early = &laps[..100];
            let late = &laps[laps.len() - 100..];
            let (mut e, mut l) = (early.to_vec(), late.to_vec());
            e.sort();
            l.sort();
            println!(
                "(b) step, steps 1-100: mean {:.3} ms p50 {:.3} ms; steps 1901-2000: mean {:.3} ms p50 {:.3} ms",
                millis(mean(early)),
                millis(percentile(&e, 0.5)),
                millis(mean(late)),
                millis(percentile(&l, 0.5))
            );

            if part("concurrent") {
                concurrent_runs(options).await;
            }
        });
    }
}

/// Executions per second with 1, 10 and 100 concurrent 10-step executions.
async fn concurrent_runs(options: Options) {
    for (concurrency, total) in [(1, 30), (10, 100), (100, 300)] {
        let db = fresh_db(&format!("c{concurrency}"));
        let (per_second, laps) = concurrent(Some(db.clone()), concurrency, total, 10, options.clone()).await;
        let (ceiling, _) = concurrent(None, concurrency, total, 10, options.clone()).await;
        println!(
            "(c) {concurrency:>3} concurrent 10-step executions ({total} in all): {per_second:.1} executions/s, \
             step p50 {:.3} ms p99 {:.3} ms; without a store {ceiling:.1} executions/s",
            millis(percentile(&laps, 0.5)),
            millis(percentile(&laps, 0.99))
        );
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }
}
