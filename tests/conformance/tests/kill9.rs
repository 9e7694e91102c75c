//! `kill -9` of `durable serve` at random moments under load, 20 rounds, then one restart that runs
//! everything to the end: every execution whose Invoke was acknowledged exists and finishes with the
//! right result, and no step whose result was acknowledged runs again.
//!
//! The function is the real bootstrap `conformance-lambda` serving `soak-steps`: N sequential steps,
//! each appending `<execution id> <i>` to a journal file before it returns. Step `i + 1` starts only
//! once step `i`'s result was acknowledged, so a journal line for step `i` written after the first
//! line for step `i + 1` would be an acknowledged checkpoint the service lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::{lambda_client, Credentials};
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const ROUNDS: usize = 20;
const PER_ROUND: usize = 3;
const STEPS: u64 = 12;

/// The `durable` binary of this target directory, built if it is not there yet.
fn durable_binary() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_conformance-lambda")).parent().unwrap().to_path_buf();
    let path = dir.join("durable");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "durable-local", "--bin", "durable"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build the durable binary");
    }
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn serve(dir: &Path, port: u16) -> Child {
    let child = Command::new(durable_binary())
        .arg("--db")
        .arg(dir.join("store/durable.db"))
        .args(["serve", "--port", &port.to_string(), "--config"])
        .arg(dir.join("durable.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("durable serve starts");
    let started = Instant::now();
    while !healthy(port) {
        assert!(started.elapsed() < Duration::from_secs(30), "durable serve did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A pseudo-random delay from the clock (no seed to keep: every run kills at other moments).
fn random_millis(bound: u64) -> u64 {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    u64::from(nanos) % bound
}

#[test]
fn acknowledged_work_survives_kill_9_of_the_server() {
    let dir = std::env::temp_dir().join(format!("durable-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal");
    std::fs::write(
        dir.join("durable.toml"),
        format!(
            "[[function]]\nname = \"soak-steps\"\ncommand = \"{}\"\ntimeout = 60\nmax_processes = 8\n",
            env!("CARGO_BIN_EXE_conformance-lambda")
        ),
    )
    .unwrap();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let input = serde_json::json!({ "steps": STEPS, "delay_ms": 15, "journal": journal }).to_string();

    let mut acknowledged = Vec::new();
    for _ in 0..ROUNDS {
        let mut server = serve(&dir, port);
        let client = lambda_client(&endpoint, &Credentials::load(&dir.join("store")).unwrap());
        for _ in 0..PER_ROUND {
            let invoke = client
                .invoke()
                .function_name("soak-steps")
                .qualifier("$LATEST")
                .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                .payload(aws_sdk_lambda::primitives::Blob::new(input.clone().into_bytes()))
                .send();
            if let Ok(out) = runtime.block_on(invoke) {
                acknowledged.push(out.durable_execution_arn().unwrap().to_owned());
            }
        }
        std::thread::sleep(Duration::from_millis(random_millis(400)));
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
    }
    assert_eq!(acknowledged.len(), ROUNDS * PER_ROUND);

    // One last start runs everything to the end.
    let mut server = serve(&dir, port);
    let client = lambda_client(&endpoint, &Credentials::load(&dir.join("store")).unwrap());
    let expected = (0..STEPS).sum::<u64>().to_string();
    let deadline = Instant::now() + Duration::from_secs(180);
    for arn in &acknowledged {
        loop {
            let execution = runtime.block_on(client.get_durable_execution().durable_execution_arn(arn).send()).unwrap();
            match execution.status().as_str() {
                "RUNNING" => {
                    assert!(Instant::now() < deadline, "{arn} still running after the restarts");
                    std::thread::sleep(Duration::from_millis(100));
                }
                "SUCCEEDED" => {
                    assert_eq!(execution.result(), Some(expected.as_str()), "{arn}");
                    break;
                }
                other => panic!("{arn} ended {other}: {:?}", execution.error()),
            }
        }
        let history =
            runtime.block_on(client.get_durable_execution_history().durable_execution_arn(arn).send()).unwrap();
        let succeeded = history.events().iter().filter(|e| e.event_type().map(|t| t.as_str()) == Some("StepSucceeded"));
        assert_eq!(succeeded.count() as u64, STEPS, "{arn}: one StepSucceeded per step");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // No acknowledged step ran again.
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: HashMap<&str, Vec<u64>> = HashMap::new();
    for line in text.lines() {
        let (id, step) = line.split_once(' ').unwrap();
        lines.entry(id).or_default().push(step.parse().unwrap());
    }
    assert_eq!(lines.len(), acknowledged.len(), "every execution ran");
    // The kills cut work off mid-step: some unacknowledged steps ran again (else this test proved
    // nothing).
    let reruns: usize = lines.values().map(|steps| steps.len() - STEPS as usize).sum();
    assert!(reruns > 0, "no kill interrupted a step");
    println!("{} executions, {reruns} steps ran again after a kill", lines.len());
    for (id, steps) in &lines {
        let mut highest = 0;
        for &step in steps {
            assert!(step >= highest, "execution {id}: step {step} ran again after step {highest} had started");
            highest = highest.max(step);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
