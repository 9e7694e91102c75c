//! Nobody else gets in: every request but `/health` must be SigV4-signed with the service's own
//! credentials; unsigned, wrongly signed, tampered and stale requests are refused with the AWS
//! errors, by raw HTTP, by `aws-sdk-lambda` and by the aws CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use durable_local::{lambda_client, Auth, Credentials, CredentialsError, Limits, LocalService, MAX_SKEW};
use durable_runtime::checkpoint::aws::{aws_sdk_lambda, AwsCheckpointClient};
use durable_runtime::checkpoint::{CheckpointClient, ErrorClass};
use durable_runtime::protocol::ids::uuid_v4;
use durable_runtime::protocol::{CheckpointRequest, OperationAction, OperationType, OperationUpdate};
use durable_runtime::testing::MemoryService;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::bounded;

fn store_dir(test: &str) -> PathBuf {
    common::store_dir(&format!("auth-{test}"))
}

/// A service with one execution started; its ARN.
async fn service_with_execution() -> (LocalService, String) {
    let service = LocalService::start().await.unwrap();
    let arn = service.service().start_execution("orders", Some("{\"id\":1}".to_owned()));
    (service, arn)
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn execution_path(arn: &str) -> String {
    format!("/2025-12-01/durable-executions/{}", encode(arn))
}

/// A whole HTTP/1.1 answer, split up.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: serde_json::Value,
}

impl Answer {
    fn error_type(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }

    fn assert_refused(&self, code: &str) {
        assert_eq!(self.status, 403, "{self:?}");
        assert_eq!(self.error_type(), code, "{self:?}");
        assert!(self.head.to_ascii_lowercase().contains(&format!("x-amzn-errortype: {}", code.to_ascii_lowercase())));
    }
}

/// Sends `raw` on a new connection and reads the answer (the request asks to close).
async fn exchange(service: &LocalService, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(service.addr()).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer { status, head: head.to_owned(), body: serde_json::from_str(body).unwrap_or(serde_json::Value::Null) }
}

/// An unsigned request.
fn unsigned(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len())
            .into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A request signed with `credentials` at `time` over `signed_body`, carrying `sent_body`.
fn signed(
    service: &LocalService,
    credentials: &Credentials,
    time: SystemTime,
    (method, target): (&str, &str),
    signed_body: &[u8],
    sent_body: &[u8],
) -> Vec<u8> {
    let host = service.addr().to_string();
    let identity = aws_sdk_lambda::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        None,
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(durable_local::LOCAL_REGION)
        .name("lambda")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [("host", host.as_str()), ("content-type", "application/json")];
    let signable = SignableRequest::new(method, target, headers.into_iter(), SignableBody::Bytes(signed_body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n",
        sent_body.len()
    );
    for (name, value) in instructions.headers() {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(sent_body);
    raw
}

/// A checkpoint request starting one step.
fn start_step(service: &LocalService, arn: &str) -> CheckpointRequest {
    let token = service.service().invocation_input(arn).unwrap().checkpoint_token;
    let update = OperationUpdate::new("step-1", OperationType::Step, OperationAction::Start);
    CheckpointRequest { checkpoint_token: token, client_token: None, updates: vec![update] }
}

#[tokio::test]
async fn requests_signed_by_aws_sdk_lambda_with_the_servers_credentials_are_served() {
    bounded(async {
        let (service, arn) = service_with_execution().await;
        let credentials = service.credentials().unwrap();
        assert!(credentials.access_key_id().starts_with("AKID"));
        let execution = service.lambda_client().get_durable_execution().durable_execution_arn(&arn).send().await;
        assert_eq!(execution.unwrap().status().as_str(), "RUNNING");
        let request = start_step(&service, &arn);
        service.checkpoint_client().checkpoint(&arn, request).await.unwrap();
        assert!(service.service().operations(&arn).iter().any(|op| op.id == "step-1"));
    })
    .await;
}

#[tokio::test]
async fn unsigned_requests_are_refused_and_health_is_not() {
    bounded(async {
        let (service, arn) = service_with_execution().await;
        let answer = exchange(&service, &unsigned("GET", &execution_path(&arn), b"")).await;
        answer.assert_refused("MissingAuthenticationTokenException");
        assert_eq!(answer.body["message"], "Missing Authentication Token");

        let checkpoint = format!("{}/checkpoint", execution_path(&arn));
        let answer = exchange(&service, &unsigned("POST", &checkpoint, b"{}")).await;
        answer.assert_refused("MissingAuthenticationTokenException");

        let garbled = format!(
            "GET {} HTTP/1.1\r\nhost: x\r\nauthorization: AWS4-HMAC-SHA256 nonsense\r\nconnection: close\r\n\r\n",
            execution_path(&arn)
        );
        exchange(&service, garbled.as_bytes()).await.assert_refused("MissingAuthenticationTokenException");

        let health = exchange(&service, &unsigned("GET", "/health", b"")).await;
        assert_eq!(health.status, 200, "{health:?}");
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_key_is_refused_and_changes_nothing() {
    bounded(async {
        let (service, arn) = service_with_execution().await;
        let ours = service.credentials().unwrap().clone();
        let before = service.service().operations(&arn).len();

        let wrong_secret = Credentials::new(ours.access_key_id(), "not-the-secret");
        let client = AwsCheckpointClient::from_client(lambda_client(service.endpoint(), &wrong_secret));
        let error = client.checkpoint(&arn, start_step(&service, &arn)).await.unwrap_err();
        assert_eq!(error.code(), Some("InvalidSignatureException"), "{error}");
        assert_eq!(error.status(), Some(403), "{error}");
        assert_eq!(error.class(), ErrorClass::Fatal, "{error}");
        assert!(error.message().starts_with("The request signature we calculated does not match"), "{error}");
        assert_eq!(service.service().operations(&arn).len(), before, "a refused checkpoint records nothing");

        // The SDK decodes the AWS error shape: the code is on the error's metadata.
        use aws_sdk_lambda::error::ProvideErrorMetadata;
        let unknown = Credentials::generate().unwrap();
        let client = lambda_client(service.endpoint(), &unknown);
        let error = client.get_durable_execution().durable_execution_arn(&arn).send().await.unwrap_err();
        assert_eq!(error.code(), Some("UnrecognizedClientException"), "{error:?}");
        assert_eq!(error.message(), Some("The security token included in the request is invalid."));
        assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(403));

        let client = lambda_client(service.endpoint(), &wrong_secret);
        let error = client.get_durable_execution().durable_execution_arn(&arn).send().await.unwrap_err();
        assert_eq!(error.code(), Some("InvalidSignatureException"), "{error:?}");
        assert_eq!(service.service().operations(&arn).len(), before);
    })
    .await;
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    bounded(async {
        let (service, arn) = service_with_execution().await;
        let credentials = service.credentials().unwrap().clone();
        let now = SystemTime::now();

        // The helper signs as a client does: a request it signs is served.
        let get = ("GET", execution_path(&arn));
        let answer = exchange(&service, &signed(&service, &credentials, now, (get.0, &get.1), b"", b"")).await;
        assert_eq!(answer.status, 200, "{answer:?}");

        let body = serde_json::to_vec(&start_step(&service, &arn)).unwrap();
        let tampered = String::from_utf8(body.clone()).unwrap().replace("step-1", "step-2").into_bytes();
        let checkpoint = format!("{}/checkpoint", execution_path(&arn));
        let raw = signed(&service, &credentials, now, ("POST", &checkpoint), &body, &tampered);
        exchange(&service, &raw).await.assert_refused("InvalidSignatureException");
        assert!(service.service().operations(&arn).iter().all(|op| op.id != "step-2"));

        let raw = signed(&service, &credentials, now, ("POST", &checkpoint), &body, &body);
        let answer = exchange(&service, &raw).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    })
    .await;
}

#[tokio::test]
async fn a_signature_outside_the_clock_window_is_refused() {
    bounded(async {
        let (service, arn) = service_with_execution().await;
        let credentials = service.credentials().unwrap().clone();
        let target = execution_path(&arn);
        let old = SystemTime::now() - MAX_SKEW - Duration::from_secs(60);
        let answer = exchange(&service, &signed(&service, &credentials, old, ("GET", &target), b"", b"")).await;
        answer.assert_refused("InvalidSignatureException");
        assert!(answer.body["message"].as_str().unwrap().starts_with("Signature expired: "), "{answer:?}");

        let future = SystemTime::now() + MAX_SKEW + Duration::from_secs(60);
        let answer = exchange(&service, &signed(&service, &credentials, future, ("GET", &target), b"", b"")).await;
        answer.assert_refused("InvalidSignatureException");

        let skewed = SystemTime::now() - Duration::from_secs(5 * 60);
        let answer = exchange(&service, &signed(&service, &credentials, skewed, ("GET", &target), b"", b"")).await;
        assert_eq!(answer.status, 200, "within the window: {answer:?}");
    })
    .await;
}

#[tokio::test]
async fn with_auth_off_unsigned_requests_are_served() {
    bounded(async {
        let service =
            LocalService::start_with_auth(MemoryService::new(), None, Limits::default(), 0, Auth::Off).await.unwrap();
        assert!(service.credentials().is_none());
        let arn = service.service().start_execution("orders", None);
        let answer = exchange(&service, &unsigned("GET", &execution_path(&arn), b"")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        // The clients the service hands out still work.
        service.lambda_client().get_durable_execution().durable_execution_arn(&arn).send().await.unwrap();
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_credentials_file_is_private_and_reused_on_the_next_start() {
    use std::os::unix::fs::PermissionsExt;
    bounded(async {
        let dir = store_dir("credentials");
        let missing = Credentials::load(&dir).unwrap_err();
        assert!(matches!(missing, CredentialsError::Missing { .. }), "{missing:?}");
        assert!(missing.to_string().contains("start `durable serve`"), "{missing}");

        let first = LocalService::start_with_store(dir.join("durable.db")).await.unwrap();
        let credentials = first.credentials().unwrap().clone();
        let file = Credentials::path_in(&dir);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(json["AccessKeyId"], credentials.access_key_id());
        assert_eq!(json["SecretAccessKey"], credentials.secret_access_key());
        assert_eq!(Credentials::load(&dir).unwrap(), credentials);
        drop(first);

        let second = LocalService::start_with_store(dir.join("durable.db")).await.unwrap();
        assert_eq!(second.credentials(), Some(&credentials));
        let exports = second.env_exports();
        assert!(exports.contains(&format!("export AWS_ACCESS_KEY_ID='{}'\n", credentials.access_key_id())));
        assert!(exports.contains(&format!("export AWS_ENDPOINT_URL_LAMBDA='{}'\n", second.endpoint())));
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

mod aws_cli {
    //! The aws CLI v1 (botocore's signer) with the exports of `env_exports`.
    use super::*;
    use std::process::{Command, Output};

    fn cli_available() -> bool {
        let found = Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
        // CI sets DURABLE_TEST_REQUIRE_TOOLS=1 (and installs the CLI): there, a missing CLI fails.
        let required = std::env::var_os("DURABLE_TEST_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0");
        assert!(found || !required, "`aws` is not on PATH (pip install awscli==1.45.11; .ci/run installs it)");
        if !found {
            eprintln!("note: `aws` is not on PATH; skipping the aws CLI test (pip install awscli==1.45.11)");
        }
        found
    }

    /// Runs `aws lambda <args>` with the service's exports (credentials replaced by `credentials`
    /// when given) and no configuration files.
    async fn aws(service: &LocalService, credentials: Option<&Credentials>, args: Vec<String>) -> Output {
        let mut env = service.env_vars();
        if let Some(credentials) = credentials {
            env.retain(|(name, _)| !name.starts_with("AWS_ACCESS_KEY_ID") && !name.starts_with("AWS_SECRET"));
            env.push(("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_owned()));
            env.push(("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key().to_owned()));
        }
        let endpoint = service.endpoint().to_owned();
        tokio::task::spawn_blocking(move || {
            Command::new("aws")
                .arg("lambda")
                .args(args)
                .args(["--endpoint-url", &endpoint, "--output", "json"])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", std::env::temp_dir())
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .envs(env)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_aws_cli_gets_answers_with_the_exports_and_403_without_them() {
        if !cli_available() {
            return;
        }
        tokio::time::timeout(Duration::from_secs(120), async {
            let (service, arn) = service_with_execution().await;
            let arg = |s: &str| s.to_owned();

            // A GET with the ARN encoded in the path.
            let get = vec![arg("get-durable-execution"), arg("--durable-execution-arn"), arn.clone()];
            let out = aws(&service, None, get.clone()).await;
            assert!(out.status.success(), "{}", text(&out.stderr));
            let execution: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(execution["DurableExecutionArn"], arn.as_str());
            assert_eq!(execution["Status"], "RUNNING");

            // A GET with a query string (the checkpoint token has `:` in it).
            let token = service.service().invocation_input(&arn).unwrap().checkpoint_token;
            let state = vec![
                arg("get-durable-execution-state"),
                arg("--durable-execution-arn"),
                arn.clone(),
                arg("--checkpoint-token"),
                token.clone(),
            ];
            let out = aws(&service, None, state).await;
            assert!(out.status.success(), "{}", text(&out.stderr));

            // A POST with a body.
            let updates = r#"[{"Id":"cli-step","Type":"STEP","Action":"START"}]"#;
            let checkpoint = vec![
                arg("checkpoint-durable-execution"),
                arg("--durable-execution-arn"),
                arn.clone(),
                arg("--checkpoint-token"),
                token,
                arg("--updates"),
                arg(updates),
            ];
            let out = aws(&service, None, checkpoint.clone()).await;
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(service.service().operations(&arn).iter().any(|op| op.id == "cli-step"));

            // Wrong credentials: the CLI reports the service's 403.
            let ours = service.credentials().unwrap();
            let wrong = Credentials::new(ours.access_key_id(), "not-the-secret");
            let out = aws(&service, Some(&wrong), get).await;
            assert!(!out.status.success());
            let stderr = text(&out.stderr);
            assert!(stderr.contains("InvalidSignatureException"), "{stderr}");
            let unknown = Credentials::generate().unwrap();
            let out = aws(&service, Some(&unknown), checkpoint).await;
            assert!(!out.status.success());
            assert!(text(&out.stderr).contains("UnrecognizedClientException"), "{}", text(&out.stderr));
        })
        .await
        .expect("the aws CLI test exceeded its time bound");
    }

    async fn greeter(ctx: durable_runtime::DurableContext, name: String) -> Result<String, durable_runtime::Error> {
        Ok(ctx
            .step(move |_| async move { Ok::<_, durable_runtime::Error>(format!("Hello, {name}!")) })
            .name("greet")
            .await?)
    }

    async fn approval(
        ctx: durable_runtime::DurableContext,
        _: serde_json::Value,
    ) -> Result<serde_json::Value, durable_runtime::Error> {
        let first = ctx.create_callback::<serde_json::Value>().name("first").await?;
        let first = first.result().await?;
        let second = ctx.create_callback::<serde_json::Value>().name("second").await?;
        let second = second.result().await.map_err(|e| e.to_string());
        Ok(serde_json::json!({ "first": first, "second": second }))
    }

    /// Waits until the execution has a callback named `name` waiting; its id.
    async fn waiting_callback(service: &LocalService, arn: &str, name: &str) -> String {
        loop {
            if let Some(id) = service.service().pending_callback(arn, name) {
                return id;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), service.changed()).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_aws_cli_drives_every_route() {
        if !cli_available() {
            return;
        }
        tokio::time::timeout(Duration::from_secs(120), async {
            let service = LocalService::start().await.unwrap();
            service.host_handler("greeter", greeter);
            service.host_handler("approval", approval);
            let arg = |s: &str| s.to_owned();
            let json = |out: &Output| -> serde_json::Value {
                assert!(out.status.success(), "{}", text(&out.stderr));
                if out.stdout.iter().all(u8::is_ascii_whitespace) {
                    return serde_json::Value::Null;
                }
                serde_json::from_slice(&out.stdout).unwrap()
            };
            let out_file = std::env::temp_dir().join(format!("durable-cli-out-{}", uuid_v4()));

            // Invoke, RequestResponse: the result in the output file, the ARN in the response.
            let invoke = vec![
                arg("invoke"),
                arg("--function-name"),
                arg("greeter:$LATEST"),
                arg("--payload"),
                arg("\"Ada\""),
                out_file.display().to_string(),
            ];
            let response = json(&aws(&service, None, invoke).await);
            assert_eq!(response["StatusCode"], 200);
            let greeted = response["DurableExecutionArn"].as_str().unwrap().to_owned();
            assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "\"Hello, Ada!\"");

            // Invoke, Event; then the callbacks: a heartbeat, a success, a failure.
            let event = vec![
                arg("invoke"),
                arg("--function-name"),
                arg("approval"),
                arg("--qualifier"),
                arg("live"),
                arg("--invocation-type"),
                arg("Event"),
                out_file.display().to_string(),
            ];
            let response = json(&aws(&service, None, event.clone()).await);
            assert_eq!(response["StatusCode"], 202);
            let arn = response["DurableExecutionArn"].as_str().unwrap().to_owned();
            let first = waiting_callback(&service, &arn, "first").await;
            json(
                &aws(
                    &service,
                    None,
                    vec![arg("send-durable-execution-callback-heartbeat"), arg("--callback-id"), first.clone()],
                )
                .await,
            );
            let succeed = vec![
                arg("send-durable-execution-callback-success"),
                arg("--callback-id"),
                first.clone(),
                arg("--result"),
                arg(r#"{"ok":true}"#),
            ];
            json(&aws(&service, None, succeed.clone()).await);
            let second = waiting_callback(&service, &arn, "second").await;
            let fail = vec![
                arg("send-durable-execution-callback-failure"),
                arg("--callback-id"),
                second,
                arg("--error"),
                arg(r#"{"ErrorType":"Rejected","ErrorMessage":"no budget"}"#),
            ];
            json(&aws(&service, None, fail).await);
            assert_eq!(service.finished(&arn).await.unwrap().to_string(), "SUCCEEDED");
            let execution = json(
                &aws(&service, None, vec![arg("get-durable-execution"), arg("--durable-execution-arn"), arn.clone()])
                    .await,
            );
            let result: serde_json::Value = serde_json::from_str(execution["Result"].as_str().unwrap()).unwrap();
            assert_eq!(result["first"], serde_json::json!({ "ok": true }));
            assert!(result["second"]["Err"].as_str().unwrap().contains("no budget"), "{result}");
            // Answering twice is refused.
            let again = aws(&service, None, succeed).await;
            assert!(!again.status.success());

            // History, list (filtered and paged), stop.
            let history = json(
                &aws(
                    &service,
                    None,
                    vec![arg("get-durable-execution-history"), arg("--durable-execution-arn"), greeted.clone()],
                )
                .await,
            );
            let types: Vec<&str> =
                history["Events"].as_array().unwrap().iter().map(|e| e["EventType"].as_str().unwrap()).collect();
            assert_eq!(
                types,
                ["ExecutionStarted", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"]
            );
            let waiting = json(&aws(&service, None, event).await)["DurableExecutionArn"].as_str().unwrap().to_owned();
            waiting_callback(&service, &waiting, "first").await;
            let list = vec![
                arg("list-durable-executions-by-function"),
                arg("--function-name"),
                arg("approval"),
                arg("--qualifier"),
                arg("live"),
                arg("--statuses"),
                arg("RUNNING"),
            ];
            let listed = json(&aws(&service, None, list).await);
            let arns: Vec<&str> = listed["DurableExecutions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["DurableExecutionArn"].as_str().unwrap())
                .collect();
            assert_eq!(arns, [waiting.as_str()]);
            let stop = vec![
                arg("stop-durable-execution"),
                arg("--durable-execution-arn"),
                waiting.clone(),
                arg("--error"),
                arg(r#"{"ErrorMessage":"cancelled by the test"}"#),
            ];
            assert!(json(&aws(&service, None, stop.clone()).await)["StopTimestamp"].is_number());
            assert_eq!(service.service().execution_status(&waiting).unwrap().to_string(), "STOPPED");

            // Errors the CLI reports by their AWS codes.
            let again = aws(&service, None, stop).await;
            assert!(text(&again.stderr).contains("ResourceConflictException"), "{}", text(&again.stderr));
            let missing = aws(
                &service,
                None,
                vec![arg("get-durable-execution"), arg("--durable-execution-arn"), arg("arn:aws:lambda:nope")],
            )
            .await;
            assert!(text(&missing.stderr).contains("ResourceNotFoundException"), "{}", text(&missing.stderr));
            let nobody = aws(
                &service,
                None,
                vec![arg("invoke"), arg("--function-name"), arg("nobody"), out_file.display().to_string()],
            )
            .await;
            assert!(text(&nobody.stderr).contains("ResourceNotFoundException"), "{}", text(&nobody.stderr));
            let _ = std::fs::remove_file(out_file);
        })
        .await
        .expect("the aws CLI test exceeded its time bound");
    }
}
