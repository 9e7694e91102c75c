//! The server's own credentials: requests to the local service must be SigV4-signed with them
//! (the check is SigV4 as AWS does it, see [`MAX_SKEW`](crate::MAX_SKEW) for the clock window).
//!
//! A service with a store keeps its credentials in the file [`CREDENTIALS_FILE`] of the store
//! directory, created on first start (the directory 0700, the file 0600, written atomically) and
//! reused by every later start, so a shell set up with [`env_exports`] keeps working across
//! restarts. The file is JSON: `{"AccessKeyId":"AKID…","SecretAccessKey":"…"}`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the credentials file in the store directory.
pub const CREDENTIALS_FILE: &str = "credentials";

/// Prefix of generated access key ids.
const ACCESS_KEY_PREFIX: &str = "AKID";

/// Random characters after [`ACCESS_KEY_PREFIX`], from `A-Z0-9`.
const ACCESS_KEY_RANDOM_CHARS: usize = 16;

/// Length of a generated secret, from `A-Za-z0-9` (about 238 bits).
const SECRET_CHARS: usize = 40;

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// An access key id and its secret. `Debug` does not show the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// Credentials could not be created, read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The store directory has no credentials file: no service has been started on it.
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Reading or writing failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a credentials file.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The operating system's random generator failed.
    Random(String),
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { path } => write!(
                f,
                "no credentials at {}: start `durable serve` on this store first, it creates them",
                path.display()
            ),
            Self::Io { path, source } => write!(f, "credentials file {}: {source}", path.display()),
            Self::Malformed { path, message } => {
                write!(f, "credentials file {} is malformed: {message}", path.display())
            }
            Self::Random(e) => write!(f, "cannot generate credentials: the random generator failed: {e}"),
        }
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Credentials {
    /// Credentials with the given access key id and secret.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into() }
    }

    /// Fresh credentials from the operating system's generator: `AKID` and 16 characters from
    /// `A-Z0-9`, and a 40-character secret from `A-Za-z0-9`. Unlike ids, credentials never fall back
    /// to a weaker generator: a failure is an error.
    pub fn generate() -> Result<Self, CredentialsError> {
        let mut access_key_id = String::from(ACCESS_KEY_PREFIX);
        access_key_id.push_str(&random_chars(UPPER_ALNUM, ACCESS_KEY_RANDOM_CHARS)?);
        Ok(Self { access_key_id, secret_access_key: random_chars(ALNUM, SECRET_CHARS)? })
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The credentials file of the store directory `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(CREDENTIALS_FILE)
    }

    /// The credentials of the store directory `dir`; [`CredentialsError::Missing`] when no service
    /// has created them yet (for `durable env`, which must not invent credentials the server does
    /// not know).
    pub fn load(dir: &Path) -> Result<Self, CredentialsError> {
        let path = Self::path_in(dir);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CredentialsError::Missing { path }),
            Err(source) => return Err(CredentialsError::Io { path, source }),
        };
        let credentials: Self = serde_json::from_slice(&bytes)
            .map_err(|e| CredentialsError::Malformed { path: path.clone(), message: e.to_string() })?;
        if credentials.access_key_id.is_empty() || credentials.secret_access_key.is_empty() {
            return Err(CredentialsError::Malformed { path, message: "empty access key id or secret".to_owned() });
        }
        Ok(credentials)
    }

    /// The credentials of the store directory `dir`, generated and written there first if it has
    /// none (the directory is created 0700 if needed, the file 0600, written atomically).
    pub fn load_or_create(dir: &Path) -> Result<Self, CredentialsError> {
        match Self::load(dir) {
            Err(CredentialsError::Missing { .. }) => {}
            other => return other,
        }
        let credentials = Self::generate()?;
        credentials.write(dir)?;
        // Another process may have created the file at the same moment: the one on disk wins.
        Self::load(dir)
    }

    /// Writes the credentials file of `dir`, atomically, unless one is already there.
    fn write(&self, dir: &Path) -> Result<(), CredentialsError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CredentialsError::Io { path, source }
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io(dir))?;
        let json = serde_json::to_vec(self)
            .map_err(|e| CredentialsError::Malformed { path: Self::path_in(dir), message: e.to_string() })?;
        let path = Self::path_in(dir);
        let tmp = dir.join(format!(".{CREDENTIALS_FILE}.{}.tmp", durable_runtime::protocol::ids::random_hex(8)));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut file| {
            file.write_all(&json)?;
            file.sync_all()
        });
        // `hard_link` fails if the file exists: a concurrent first start keeps its credentials.
        let linked = written.and_then(|()| match fs::hard_link(&tmp, &path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        });
        let _ = fs::remove_file(&tmp);
        linked.map_err(io(&path))
    }
}

/// `n` characters drawn uniformly from `alphabet` (at most 256 characters) with the operating
/// system's generator; bytes that would bias the draw are rejected.
fn random_chars(alphabet: &[u8], n: usize) -> Result<String, CredentialsError> {
    let accept_below = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).map_err(|e| CredentialsError::Random(e.to_string()))?;
        for &b in buf.iter().filter(|&&b| usize::from(b) < accept_below) {
            if out.len() == n {
                break;
            }
            if let Some(&c) = alphabet.get(usize::from(b) % alphabet.len()) {
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}

/// The environment variables that point the aws CLI or an AWS SDK at the local service at
/// `endpoint`, signing with `credentials`.
pub fn env_vars(endpoint: &str, credentials: &Credentials) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_LAMBDA", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key.clone()),
        ("AWS_REGION", crate::LOCAL_REGION.to_owned()),
        ("AWS_DEFAULT_REGION", crate::LOCAL_REGION.to_owned()),
    ]
}

/// [`env_vars`] as the shell lines `durable env` prints, one `export NAME='value'` a line, for
/// `eval "$(durable env)"`.
pub fn env_exports(endpoint: &str, credentials: &Credentials) -> String {
    env_vars(endpoint, credentials)
        .into_iter()
        .map(|(name, value)| format!("export {name}={}\n", shell_quote(&value)))
        .collect()
}

/// `text` in single quotes, each `'` written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_have_the_documented_shape() {
        let (a, b) = (Credentials::generate().unwrap(), Credentials::generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.access_key_id().len(), 20);
        assert!(a.access_key_id().starts_with("AKID"));
        assert!(a.access_key_id().bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{a:?}");
        assert_eq!(a.secret_access_key().len(), 40);
        assert!(a.secret_access_key().bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn debug_hides_the_secret() {
        let credentials = Credentials::new("AKIDX", "very-secret");
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKIDX") && !shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn exports_are_shell_quoted() {
        let exports = env_exports("http://127.0.0.1:9070", &Credentials::new("AKIDX", "it's"));
        assert_eq!(
            exports,
            "export AWS_ENDPOINT_URL_LAMBDA='http://127.0.0.1:9070'\nexport AWS_ACCESS_KEY_ID='AKIDX'\n\
             export AWS_SECRET_ACCESS_KEY='it'\\''s'\nexport AWS_REGION='us-east-1'\n\
             export AWS_DEFAULT_REGION='us-east-1'\n"
        );
    }
}
