//! The `aws-sdk-lambda` client the commands use, the server's credentials file, and the raw JSON
//! of responses (for `--json` and for the timeline, which reads events as JSON).

use crate::error::CliError;
use aws_sdk_lambda::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_lambda::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_lambda::error::BoxError;
use durable_local::LOCAL_REGION;
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The name of the credentials file beside the store.
const CREDENTIALS_FILE: &str = "credentials";

/// The server's access key, as `durable serve` writes it next to its store.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ServerCredentials {
    /// `AccessKeyId`.
    pub(crate) access_key_id: String,
    /// `SecretAccessKey`.
    pub(crate) secret_access_key: String,
}

impl std::fmt::Debug for ServerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCredentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// The credentials file for the store `db`: `<db's directory>/credentials`.
pub(crate) fn credentials_path(db: &Path) -> PathBuf {
    db.parent().map(Path::to_path_buf).unwrap_or_default().join(CREDENTIALS_FILE)
}

/// Reads the credentials file of the store `db`.
// merge: becomes `durable_local::Credentials::load(dir)`.
pub(crate) fn load_credentials(db: &Path) -> Result<ServerCredentials, CliError> {
    let path = credentials_path(db);
    let no = |detail: String| CliError::NoCredentials { path: path.clone(), detail };
    let bytes = std::fs::read(&path).map_err(|e| no(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| no(format!("not JSON: {e}")))?;
    let member =
        |name: &str| value.get(name).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    match (member("AccessKeyId"), member("SecretAccessKey")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(ServerCredentials { access_key_id, secret_access_key }),
        _ => Err(no("AccessKeyId or SecretAccessKey missing".to_owned())),
    }
}

/// A client for `endpoint`, signing with the store's credentials when there are some (and
/// `use_credentials`), else with the static local test credentials.
pub(crate) fn client(endpoint: &str, db: &Path, use_credentials: bool) -> aws_sdk_lambda::Client {
    let credentials = if use_credentials { load_credentials(db).ok() } else { None };
    let Some(credentials) = credentials else { return durable_local::lambda_client(endpoint) };
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            None,
            None,
            "durable-serve",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
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
        assert_eq!(credentials_path(Path::new(".durable/durable.db")), Path::new(".durable/credentials"));
        assert_eq!(credentials_path(Path::new("durable.db")), Path::new("credentials"));
    }

    #[test]
    fn credentials_files() {
        let dir = std::env::temp_dir().join(format!("durable-cli-creds-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let db = dir.join("durable.db");
        let missing = load_credentials(&db).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(missing.contains("start `durable serve` first"), "{missing}");
        let _ = std::fs::write(dir.join("credentials"), br#"{"AccessKeyId":"AK","SecretAccessKey":"SK"}"#);
        let loaded = load_credentials(&db).ok();
        assert_eq!(loaded.as_ref().map(|c| c.access_key_id.as_str()), Some("AK"));
        assert!(!format!("{loaded:?}").contains("SK"), "the secret stays out of debug output");
        let _ = std::fs::write(dir.join("credentials"), br#"{"AccessKeyId":"AK"}"#);
        assert!(load_credentials(&db).err().map(|e| e.to_string()).unwrap_or_default().contains("missing"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
