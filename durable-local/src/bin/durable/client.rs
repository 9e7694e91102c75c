//! The `aws-sdk-lambda` client the commands use, the server's credentials file, and the raw JSON
//! of responses (for `--json` and for the timeline, which reads events as JSON).

use crate::error::CliError;
use aws_sdk_lambda::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::BoxError;
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The directory of the store `db`, where the server keeps its credentials.
pub(crate) fn store_dir(db: &Path) -> PathBuf {
    db.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Reads the server's credentials, kept beside the store `db`.
pub(crate) fn load_credentials(db: &Path) -> Result<durable_local::Credentials, CliError> {
    let dir = store_dir(db);
    durable_local::Credentials::load(&dir)
        .map_err(|e| CliError::NoCredentials { path: durable_local::Credentials::path_in(&dir), detail: e.to_string() })
}

/// A client for `endpoint`, signing with the store's credentials when there are some (and
/// `use_credentials`), else with placeholder keys (a server started with `--no-auth` takes any).
pub(crate) fn client(endpoint: &str, db: &Path, use_credentials: bool) -> aws_sdk_lambda::Client {
    let credentials = if use_credentials { load_credentials(db).ok() } else { None };
    let credentials =
        credentials.unwrap_or_else(|| durable_local::Credentials::new("AKIDNOAUTH", "no-auth-placeholder"));
    durable_local::lambda_client(endpoint, &credentials)
}

/// Keeps the body of the response it sees (give one to an operation with
/// `.customize().interceptor(capture.clone())`).
#[derive(Debug, Clone, Default)]
pub(crate) struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    /// The body as JSON (`null` when there was none or it is not JSON).
    pub(crate) fn json(&self) -> serde_json::Value {
        let body = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bytes = context.response().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_sit_beside_the_store() {
        assert_eq!(store_dir(Path::new(".durable/durable.db")), Path::new(".durable"));
        assert_eq!(store_dir(Path::new("durable.db")), Path::new(""));
        let dir = std::env::temp_dir().join(format!("durable-cli-creds-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let db = dir.join("durable.db");
        let missing = load_credentials(&db).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(missing.contains("start `durable serve` first"), "{missing}");
        let created = durable_local::Credentials::load_or_create(&dir).ok();
        let loaded = load_credentials(&db).ok();
        assert_eq!(loaded.as_ref().map(|c| c.access_key_id()), created.as_ref().map(|c| c.access_key_id()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
