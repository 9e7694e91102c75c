//! Helpers shared by the local service's integration tests; each test crate uses some of them.
#![allow(dead_code, clippy::expect_used)]

use durable_runtime::protocol::ids::uuid_v4;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// Every test finishes within this bound.
pub(crate) const BOUND: Duration = Duration::from_secs(60);

/// Runs `f`, failing the test when it takes longer than [`BOUND`].
pub(crate) async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.expect("the test exceeded its time bound")
}

/// A fresh store directory under the system temp dir (not created yet).
pub(crate) fn store_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("durable-local-{test}-{}", uuid_v4()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
