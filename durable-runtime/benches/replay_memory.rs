//! `replay_memory`: the peak memory of one invocation replaying N completed steps, as a multiple of
//! the envelope's size.
//!
//! The parent builds the envelope for real (N steps and a wait run live on the in-memory service, the
//! wait's timer fires), writes its bytes to a temporary file, and runs itself once per case as a child
//! process, so each measurement starts from a fresh heap. The child reads its resident set size,
//! reads the file, does what the case says, and reports its high-water mark (`VmHWM` of
//! `/proc/self/status`) above that baseline.
//!
//! - `parse_value`: bytes → `serde_json::Value` (the floor of the old entry point);
//! - `replay_from_value`: bytes → `Value` → [`invoke`] → output bytes;
//! - `replay_from_bytes`: bytes → typed envelope ([`envelope_from_slice`]) → [`invoke_envelope`] →
//!   output bytes, the way the Lambda entry point runs (it drops the request body once the envelope
//!   is read).
//!
//! `cargo bench -p durable-runtime --no-default-features --bench replay_memory [-- STEPS...]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
use common::{envelope, workflow};

use durable_runtime::checkpoint::memory::MemoryService;
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::protocol::{InvocationOutput, InvocationStatus};
use durable_runtime::{envelope_from_slice, invoke, invoke_envelope, Options};
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "DURABLE_REPLAY_MEMORY_CHILD";
const CASES: [&str; 3] = ["parse_value", "replay_from_value", "replay_from_bytes"];

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: u64 = line.trim_start_matches(field).trim().trim_end_matches("kB").trim().parse().unwrap();
    kb * 1024
}

/// The child: one case over the envelope in `path`; prints the peak above the baseline, in bytes.
fn child(case: &str, path: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // A checkpoint client that is never called: replay sends nothing.
    let client: Arc<dyn CheckpointClient> = Arc::new(MemoryService::new());
    let baseline = status_bytes("VmRSS:");
    let bytes = std::fs::read(path).unwrap();
    let out = match case {
        "parse_value" => {
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            drop(bytes);
            std::hint::black_box(&value);
            Vec::new()
        }
        "replay_from_value" => {
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            drop(bytes);
            let out = rt.block_on(invoke(&workflow, value, client, &Options::default())).unwrap();
            assert_eq!(out["Status"], "SUCCEEDED");
            serde_json::to_vec(&out).unwrap()
        }
        "replay_from_bytes" => {
            let envelope = envelope_from_slice(&bytes).unwrap();
            drop(bytes);
            let out: InvocationOutput =
                rt.block_on(invoke_envelope(&workflow, envelope, client, &Options::default())).unwrap();
            assert_eq!(out.status, InvocationStatus::Succeeded);
            serde_json::to_vec(&out).unwrap()
        }
        other => panic!("unknown case {other}"),
    };
    std::hint::black_box(out);
    println!("{}", status_bytes("VmHWM:").saturating_sub(baseline));
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (case, path) = spec.split_once(':').unwrap();
        return child(case, path);
    }
    let sizes: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 10_000, 100_000] } else { sizes };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let exe = std::env::current_exe().unwrap();
    println!("| steps | envelope | case | peak above baseline | multiple of the envelope |");
    println!("| ---: | ---: | --- | ---: | ---: |");
    for n in sizes {
        let (bytes, _) = envelope(&rt, n);
        let path = std::env::temp_dir().join(format!("durable-replay-memory-{}-{n}.json", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        for case in CASES {
            let out = Command::new(&exe).env(CHILD, format!("{case}:{}", path.display())).output().unwrap();
            assert!(out.status.success(), "{case} at {n}: {}", String::from_utf8_lossy(&out.stderr));
            let peak: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            println!(
                "| {n} | {:.1} MiB | {case} | {:.1} MiB | {:.2}× |",
                mib(bytes.len() as u64),
                mib(peak),
                peak as f64 / bytes.len() as f64
            );
        }
        std::fs::remove_file(&path).unwrap();
    }
}
