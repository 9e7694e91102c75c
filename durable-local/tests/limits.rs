//! The service stays responsive under slow and oversized clients: unfinished heads, slow and
//! oversized bodies, too many connections, and crafted ARNs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{bounded, store_dir};
use durable_local::{Limits, LocalService};
use durable_runtime::testing::MemoryService;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn service(limits: Limits) -> LocalService {
    LocalService::start_with_limits(MemoryService::new(), None, limits).await.unwrap()
}

/// Sends `raw` and reads the whole answer (until the server closes or 2 s pass).
async fn exchange(service: &LocalService, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(service.addr()).await.unwrap();
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_head_is_cut_off_and_others_are_served() {
    bounded(async {
        let limits = Limits { head_timeout: Duration::from_millis(300), ..Limits::default() };
        let service = service(limits).await;
        let mut slow = Vec::new();
        for _ in 0..20 {
            let mut stream = TcpStream::connect(service.addr()).await.unwrap();
            stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            slow.push(stream);
        }
        let health = exchange(&service, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(status_line(&health).contains("200"), "{health}");
        // The slow clients are disconnected once the head timeout passes.
        for mut stream in slow {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
            assert!(read.is_ok(), "a slow client was kept past the head timeout");
        }
    })
    .await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_being_read() {
    bounded(async {
        let service = service(Limits::default()).await;
        let raw = b"POST /2025-12-01/durable-executions/x/checkpoint HTTP/1.1\r\nHost: x\r\n\
                    Content-Length: 9000000\r\nConnection: close\r\n\r\n{";
        let answer = exchange(&service, raw).await;
        assert!(status_line(&answer).contains("413"), "{answer}");
        assert!(answer.contains("RequestEntityTooLargeException"), "{answer}");
    })
    .await;
}

#[tokio::test]
async fn a_100_mb_streamed_body_is_cut_off_and_the_service_stays_responsive() {
    bounded(async {
        let dir = store_dir("stream");
        let store = durable_local::Store::open(dir.join("durable.db")).unwrap();
        let service =
            LocalService::start_with_limits(MemoryService::new(), Some(store), Limits::default()).await.unwrap();
        // Chunked: no length to refuse up front, so the limit must cut the stream.
        let mut stream = TcpStream::connect(service.addr()).await.unwrap();
        stream
            .write_all(
                b"POST /2025-12-01/durable-executions/x/checkpoint HTTP/1.1\r\nHost: x\r\n\
                  Transfer-Encoding: chunked\r\n\r\n",
            )
            .await
            .unwrap();
        let chunk = vec![b'a'; 1024 * 1024];
        let mut sent = 0usize;
        for _ in 0..100 {
            let head = format!("{:x}\r\n", chunk.len());
            let wrote = async {
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await
            };
            if wrote.await.is_err() {
                break; // the service hung up
            }
            sent += chunk.len();
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(status_line(&answer).contains("413"), "after {sent} bytes: {answer}");
        let health = exchange(&service, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(status_line(&health).contains("200"), "{health}");
        assert!(service.service().executions().is_empty());
        drop(service);
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

#[tokio::test]
async fn crafted_arns_are_not_found_and_write_nothing() {
    bounded(async {
        let dir = store_dir("crafted");
        let db = dir.join("durable.db");
        let service = LocalService::start_with_store(&db).await.unwrap();
        let client = service.lambda_client();
        let long = format!("arn:aws:lambda:us-east-1:1:function:f:$LATEST/durable-execution/{}", "n".repeat(8000));
        for arn in ["../../etc/passwd", "arn:aws:lambda:x\u{0}y", "%2e%2e%2f", "arn:\u{202e}evil", long.as_str()] {
            let got = client.get_durable_execution().durable_execution_arn(arn).send().await;
            let error = got.unwrap_err().into_service_error();
            assert!(error.is_resource_not_found_exception(), "{arn:?}: {error:?}");
            let history = client.get_durable_execution_history().durable_execution_arn(arn).send().await;
            assert!(history.unwrap_err().into_service_error().is_resource_not_found_exception());
            let stop = client.stop_durable_execution().durable_execution_arn(arn).send().await;
            assert!(stop.unwrap_err().into_service_error().is_resource_not_found_exception());
            let callback = client
                .send_durable_execution_callback_success()
                .callback_id(arn)
                .send()
                .await
                .unwrap_err()
                .into_service_error();
            assert!(callback.is_resource_not_found_exception(), "{callback:?}");
        }
        assert!(service.service().executions().is_empty());
        drop(service);
        // Nothing was written: a fresh service on the same database finds no execution.
        let again = LocalService::start_with_store(&db).await.unwrap();
        assert!(again.service().executions().is_empty());
        let files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(files.iter().all(|f| f.starts_with("durable.db") || f == "credentials"), "{files:?}");
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    bounded(async {
        let service = service(Limits::default()).await;
        let mut raw = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 100 * 1024));
        raw.extend_from_slice(b"\r\n\r\n");
        let answer = exchange(&service, &raw).await;
        assert!(status_line(&answer).contains("431"), "{answer}");
    })
    .await;
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_for_a_free_one() {
    bounded(async {
        let limits = Limits { max_connections: 2, head_timeout: Duration::from_millis(500), ..Limits::default() };
        let service = service(limits).await;
        let mut idle = Vec::new();
        for _ in 0..2 {
            let mut stream = TcpStream::connect(service.addr()).await.unwrap();
            stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
            idle.push(stream);
        }
        // Both slots are taken; the third request is served once the idle ones are cut off.
        let started = std::time::Instant::now();
        let health = exchange(&service, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(status_line(&health).contains("200"), "{health}");
        assert!(started.elapsed() >= Duration::from_millis(300), "served before a slot was free");
    })
    .await;
}
