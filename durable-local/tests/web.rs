//! The web page of `durable serve`: its token, cookie and CSRF checks over plain HTTP, and the page
//! itself in a real browser (Debian's headless Chromium, driven through chromedriver's W3C
//! WebDriver API): the list shows a running execution, its timeline shows the operations in order,
//! succeeding the pending callback from the page finishes the execution, and a 10,000-operation
//! execution renders in under a second. Screenshots of each page are written under
//! `$CARGO_TARGET_TMPDIR/web/`.
//!
//! The WebDriver client is a few functions over a TCP socket (JSON in, JSON out): it keeps a browser
//! automation crate and its TLS stack out of the build for the handful of commands these tests use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_local::LocalService;
use durable_runtime::checkpoint::CheckpointClient;
use durable_runtime::protocol::{CheckpointRequest, OperationAction, OperationType, OperationUpdate};
use durable_runtime::{DurableContext, Error};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every test finishes within this bound.
const BOUND: Duration = Duration::from_secs(180);

// ---- plain HTTP ------------------------------------------------------------------------------

/// An HTTP response: status, headers (names lowercase), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request to `authority` (`127.0.0.1:PORT`) on a connection of its own.
async fn http(authority: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    try_http(authority, method, target, headers, body).await.unwrap_or_else(|| panic!("cannot connect to {authority}"))
}

/// [`http`], `None` when nothing listens on `authority`.
async fn try_http(authority: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<Reply> {
    let mut stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    // Read the head, then as much body as Content-Length says (chromedriver keeps the connection
    // open after its answer, `connection: close` or not), else until the end of the stream.
    let read = async {
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
                let length = head
                    .split("\r\n")
                    .filter_map(|l| l.split_once(':'))
                    .find(|(n, _)| n.trim() == "content-length")
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok());
                if length.is_some_and(|length| raw.len() >= split + 4 + length) {
                    return raw;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return raw;
            }
            raw.extend_from_slice(&buf[..n]);
        }
    };
    let raw = tokio::time::timeout(Duration::from_secs(90), read)
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {target} from {authority}"));
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = unchunk(&body);
    }
    Some(Reply { status, headers, body })
}

/// A chunked body, decoded.
fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

fn authority(service: &LocalService) -> String {
    service.endpoint().trim_start_matches("http://").to_owned()
}

/// Opens the page's URL with its token; the session cookie (`name=value`) it sets.
async fn session(service: &LocalService) -> String {
    let url = service.web_url();
    let target = url.trim_start_matches(service.endpoint());
    let reply = http(&authority(service), "GET", target, &[], b"").await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/"));
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_owned()
}

// ---- the handlers --------------------------------------------------------------------------------

/// A step that fails its first attempt, a step, a callback someone must answer, and a step after it.
async fn approval(ctx: DurableContext, order: Value) -> Result<Value, Error> {
    ctx.step(|step: durable_runtime::StepContext| async move {
        if step.attempt() == 1 {
            return Err::<(), Error>("the warehouse is busy".into());
        }
        Ok(())
    })
    .name("reserve")
    .retry(durable_runtime::retry::RetryStrategy::fixed(Duration::from_millis(200)))
    .await?;
    let prepared = ctx.step(move |_| async move { Ok::<_, Error>(order) }).name("prepare").await?;
    let callback = ctx.create_callback::<Value>().name("approval").timeout(Duration::from_secs(3600)).await?;
    let decision = callback.result().await?;
    let done = ctx.step(|_| async { Ok::<_, Error>("shipped".to_owned()) }).name("ship").await?;
    Ok(json!({ "order": prepared, "decision": decision, "status": done }))
}

async fn start_approval(service: &LocalService) -> String {
    let client = service.lambda_client();
    let out = client
        .invoke()
        .function_name("approval")
        .qualifier("$LATEST")
        .invocation_type(durable_runtime::checkpoint::aws::aws_sdk_lambda::types::InvocationType::Event)
        .payload(durable_runtime::checkpoint::aws::aws_sdk_lambda::primitives::Blob::new(r#"{"id": 42}"#))
        .send()
        .await
        .unwrap();
    out.durable_execution_arn().unwrap().to_owned()
}

async fn waiting_callback(service: &LocalService, arn: &str, name: &str) -> String {
    loop {
        if let Some(id) = service.service().pending_callback(arn, name) {
            return id;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), service.changed()).await;
    }
}

// ---- token, cookie, CSRF -----------------------------------------------------------------------------

#[tokio::test]
async fn the_page_needs_the_token_then_its_cookie() {
    tokio::time::timeout(BOUND, async {
        let service = LocalService::start().await.unwrap();
        let host = authority(&service);
        let url = service.web_url();
        assert!(url.starts_with(&format!("{}/?token=", service.endpoint())), "{url}");

        // No cookie: refused, for the page and its API alike; a wrong token is refused too.
        let bare = http(&host, "GET", "/", &[], b"").await;
        assert_eq!(bare.status, 403);
        assert!(bare.text().contains("open the URL `durable serve` printed"), "{}", bare.text());
        assert!(bare.header("content-security-policy").unwrap().starts_with("default-src 'none'"));
        let api = http(&host, "GET", "/ui/api/functions", &[], b"").await;
        assert_eq!((api.status, api.json()["__type"].as_str()), (403, Some("AccessDeniedException")));
        let wrong = http(&host, "GET", "/?token=0000", &[], b"").await;
        assert_eq!(wrong.status, 403);
        assert!(wrong.header("set-cookie").is_none());
        let forged = http(&host, "GET", "/", &[("cookie", "durable_session=forged")], b"").await;
        assert_eq!(forged.status, 403);

        // The token opens a session; the cookie then opens the page, with a strict policy.
        let cookie = session(&service).await;
        let page = http(&host, "GET", "/", &[("cookie", &cookie)], b"").await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains(r#"<script src="/ui/app.js" defer></script>"#));
        assert!(!page.text().contains("<script>") && !page.text().contains("style="), "nothing inline");
        assert_eq!(
            page.header("content-security-policy"),
            Some(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            )
        );
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        for asset in ["/ui/app.js", "/ui/app.css"] {
            let reply = http(&host, "GET", asset, &[("cookie", &cookie)], b"").await;
            assert_eq!(reply.status, 200, "{asset}");
            assert!(reply.header("content-security-policy").is_some());
        }

        // The page's API is the Lambda API's handlers, behind the cookie.
        service.host_handler("approval", approval);
        let arn = start_approval(&service).await;
        let id = waiting_callback(&service, &arn, "approval").await;
        let listed =
            http(&host, "GET", "/ui/api/2025-12-01/functions/approval/durable-executions", &[("cookie", &cookie)], b"")
                .await;
        assert_eq!(listed.json()["DurableExecutions"][0]["DurableExecutionArn"], json!(arn));
        let functions = http(&host, "GET", "/ui/api/functions", &[("cookie", &cookie)], b"").await;
        assert_eq!(functions.json()["Functions"], json!(["approval"]));
        let encoded = arn.replace(':', "%3A").replace('/', "%2F").replace('$', "%24");
        let timeline = http(&host, "GET", &format!("/ui/api/timeline/{encoded}"), &[("cookie", &cookie)], b"").await;
        let rows = timeline.json()["rows"].clone();
        assert_eq!(rows[0]["name"], "reserve", "{}", timeline.text());
        assert_eq!(rows[0]["segments"].as_array().map(Vec::len), Some(2), "one segment per attempt");
        assert_eq!(rows[0]["segments"][0]["status"], "retrying");
        assert_eq!(rows[0]["segments"][0]["message"], "the warehouse is busy");
        assert_eq!(rows[1]["name"], "prepare");
        assert_eq!((rows[2]["name"].as_str(), rows[2]["status"].as_str()), (Some("approval"), Some("waiting")));
        assert_eq!(rows[2]["callback_id"], json!(id));

        // A change needs the custom header and, when an Origin is sent, this origin.
        let answer = format!("/ui/api/2025-12-01/durable-execution-callbacks/{id}/succeed");
        let no_header = http(&host, "POST", &answer, &[("cookie", &cookie)], b"\"yes\"").await;
        assert_eq!(no_header.status, 403, "{}", no_header.text());
        let origin = "http://evil.example";
        let elsewhere =
            http(&host, "POST", &answer, &[("cookie", &cookie), ("x-durable-ui", "1"), ("origin", origin)], b"\"yes\"")
                .await;
        assert_eq!(elsewhere.status, 403, "{}", elsewhere.text());
        let no_cookie = http(&host, "POST", &answer, &[("x-durable-ui", "1")], b"\"yes\"").await;
        assert_eq!(no_cookie.status, 403);
        assert!(service.service().pending_callback(&arn, "approval").is_some(), "nothing answered it yet");
        // The cookie is no credential for the Lambda API itself: that still needs SigV4.
        let unsigned = http(&host, "POST", &answer["/ui/api".len()..], &[("cookie", &cookie)], b"\"yes\"").await;
        assert_eq!(unsigned.status, 403, "{}", unsigned.text());
        let own = format!("http://{host}");
        let answered =
            http(&host, "POST", &answer, &[("cookie", &cookie), ("x-durable-ui", "1"), ("origin", &own)], b"\"yes\"")
                .await;
        assert_eq!(answered.status, 200, "{}", answered.text());
        assert_eq!(service.finished(&arn).await.unwrap().to_string(), "SUCCEEDED");
        // Stop from the page's API: the same handler, the same refusal of a finished execution.
        let second = start_approval(&service).await;
        waiting_callback(&service, &second, "approval").await;
        let encoded = second.replace(':', "%3A").replace('/', "%2F").replace('$', "%24");
        let stop = format!("/ui/api/2025-12-01/durable-executions/{encoded}/stop");
        let page_headers = [("cookie", cookie.as_str()), ("x-durable-ui", "1"), ("origin", own.as_str())];
        let stopped = http(&host, "POST", &stop, &page_headers, b"").await;
        assert_eq!(stopped.status, 200, "{}", stopped.text());
        assert_eq!(service.finished(&second).await.unwrap().to_string(), "STOPPED");
        let again = http(&host, "POST", &stop, &page_headers, b"").await;
        assert_eq!((again.status, again.json()["__type"].as_str()), (409, Some("ResourceConflictException")));
        // SigV4 still works for the API.
        let signed = service.lambda_client().get_durable_execution().durable_execution_arn(&arn).send().await.unwrap();
        assert_eq!(signed.status().as_str(), "SUCCEEDED");
        // A page reached under another host name (DNS rebinding) is refused.
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let request = format!("GET / HTTP/1.1\r\nhost: evil.example\r\ncookie: {cookie}\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    })
    .await
    .expect("the test exceeded its time bound");
}

// ---- WebDriver ---------------------------------------------------------------------------------------

/// A chromedriver process and one browser session, both ended on drop.
struct Browser {
    driver: std::process::Child,
    authority: String,
    session: String,
    shots: PathBuf,
    profile: PathBuf,
}

/// WebDriver's key codes for Tab and Enter.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver and a headless Chromium. `None` when chromedriver is missing on a
    /// developer's machine (the tests say so and skip); CI sets `DURABLE_TEST_REQUIRE_TOOLS=1`,
    /// which makes a missing browser a failure.
    async fn start(test: &str) -> Option<Browser> {
        let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .or_else(|| which("chromedriver"));
        let Some(chromedriver) = found else {
            let advice = "these browser tests need Debian's `chromium` and `chromium-driver` \
                          (`apt-get install -y chromium chromium-driver`; .ci/run installs them)";
            assert!(
                std::env::var_os("DURABLE_TEST_REQUIRE_TOOLS").is_none_or(|v| v.is_empty() || v == "0"),
                "chromedriver is not installed: {advice}"
            );
            eprintln!("note: chromedriver is not installed, so the browser test `{test}` is skipped: {advice}");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let authority = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = try_http(&authority, "GET", "/status", &[], b"").await {
                if status.status == 200 && status.json()["value"]["ready"] == json!(true) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start on {authority}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("durable-web-chromium-{}", durable_runtime::protocol::ids::uuid_v4()));
        let binary =
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| std::path::Path::new(p).exists());
        let mut options = json!({ "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1280,900",
            format!("--user-data-dir={}", profile.display()),
        ]});
        if let Some(binary) = binary {
            options["binary"] = json!(binary);
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options, "unhandledPromptBehavior": "accept",
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let created = http(
            &authority,
            "POST",
            "/session",
            &[("content-type", "application/json")],
            capabilities.to_string().as_bytes(),
        )
        .await;
        let session = created.json()["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {}", created.text()))
            .to_owned();
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web").join(test);
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser { driver, authority, session, shots, profile })
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let target = format!("/session/{}{path}", self.session);
        let body = if method == "GET" { Vec::new() } else { body.to_string().into_bytes() };
        let reply = http(&self.authority, method, &target, &[("content-type", "application/json")], &body).await;
        assert_eq!(reply.status, 200, "WebDriver {method} {path}: {}", reply.text());
        reply.json()["value"].take()
    }

    async fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body) in the page; what it returns.
    async fn run(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", json!({ "script": script, "args": [] })).await
    }

    /// Waits until `script` returns something truthy (a non-empty, non-false, non-null value).
    async fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.run(script).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value.as_array().is_none_or(|a| !a.is_empty())
                && value.as_str().is_none_or(|s| !s.is_empty());
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                self.screenshot("timed-out").await;
                let text = self.run("return document.body.innerText").await;
                let log = self.command("POST", "/se/log", json!({ "type": "browser" })).await;
                panic!(
                    "timed out waiting for {what}; the page says:\n{}\nits console:\n{log:#}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find(&self, css: &str) -> String {
        let found = self.command("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command("POST", &format!("/element/{element}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command("POST", &format!("/element/{element}/clear"), json!({})).await;
        self.command("POST", &format!("/element/{element}/value"), json!({ "text": text })).await;
    }

    /// Writes a PNG of the window to the test's output directory; its path.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command("GET", "/screenshot", Value::Null).await;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, base64_decode(png.as_str().unwrap())).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    /// Presses and releases one key (a WebDriver key code such as [`TAB`]) where the focus is.
    async fn press(&self, key: &str) {
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key },
        ]}]});
        self.command("POST", "/actions", actions).await;
    }

    async fn resize(&self, width: u32, height: u32) {
        self.command("POST", "/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// Ends the session and the browser (see `Drop`).
    async fn close(self) {
        tokio::task::spawn_blocking(move || drop(self)).await.unwrap();
    }
}

impl Drop for Browser {
    /// Ends the browser session even when the test panicked (a blocking DELETE, so Chromium quits
    /// rather than outliving chromedriver), then chromedriver, then the profile directory.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if let Ok(mut stream) = std::net::TcpStream::connect(&self.authority) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nhost: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                self.session, self.authority
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read(&mut [0u8; 1024]);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

/// Standard base64 (the screenshots), decoded.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

// ---- in the browser ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_page_shows_an_execution_and_answers_its_callback() {
    let Some(browser) = Browser::start("callback").await else { return };
    tokio::time::timeout(BOUND, async {
        let service = LocalService::start().await.unwrap();
        service.host_handler("approval", approval);
        let arn = start_approval(&service).await;
        waiting_callback(&service, &arn, "approval").await;

        // The token URL: redirected to the list, which shows the running execution.
        browser.go(&service.web_url()).await;
        let url = browser.run("return location.href").await;
        assert_eq!(url.as_str(), Some(format!("{}/", service.endpoint()).as_str()), "the token leaves the address bar");
        let rows = browser
            .wait_for("the execution in the list", "return [...document.querySelectorAll('#executions tbody tr')].map(r => [r.dataset.arn, r.dataset.status])")
            .await;
        assert_eq!(rows, json!([[arn, "RUNNING"]]));
        let cookie = browser.run("return document.cookie").await;
        assert_eq!(cookie, json!(""), "the session cookie is HttpOnly");
        browser.screenshot("1-executions").await;

        // Its timeline: the operations in order, the callback waiting with its buttons.
        browser.click("#executions tbody tr a.exec-link").await;
        let names = browser
            .wait_for(
                "the timeline",
                "return [...document.querySelectorAll('.tl-row')].map(r => [r.querySelector('.op-name').textContent, r.querySelector('.op-status').classList[1]])",
            )
            .await;
        assert_eq!(names, json!([["reserve", "succeeded"], ["prepare", "succeeded"], ["approval", "waiting"]]));
        // The retried step: one segment per attempt, the first with its error.
        let attempts = browser
            .run("return [...document.querySelectorAll('.tl-row')[0].querySelectorAll('.seg')].map(s => [s.classList[1], s.getAttribute('aria-label')])")
            .await;
        assert_eq!(attempts[0][0], "retrying", "{attempts}");
        assert!(attempts[0][1].as_str().unwrap().contains("the warehouse is busy"), "{attempts}");
        assert_eq!(attempts[1][0], "succeeded", "{attempts}");
        let input = browser.run("return document.getElementById('exec-input').textContent").await;
        assert_eq!(input, json!("{\n  \"id\": 42\n}"), "the input pretty-printed");
        browser.wait_for("the history table", "return document.querySelectorAll('#events tbody tr').length >= 4").await;
        browser.screenshot("2-execution-waiting").await;

        // Succeed the callback from the page: an invalid payload is refused before sending.
        // Keyboard only: Tab reaches the callback's succeed button, Enter opens its form.
        let mut tabs = 0;
        while browser.run("return document.activeElement.classList.contains('cb-succeed')").await != json!(true) {
            tabs += 1;
            assert!(tabs < 60, "Tab never reaches the succeed button");
            browser.press(TAB).await;
        }
        browser.press(ENTER).await;
        browser.wait_for("the callback form", "return document.activeElement.id === 'cb-payload'").await;
        browser.type_into("#cb-payload", "not json").await;
        browser.click("#cb-send").await;
        let refusal = browser.wait_for("the refusal", "return document.getElementById('cb-message').textContent").await;
        assert!(refusal.as_str().unwrap().contains("must be JSON"), "{refusal}");
        assert!(service.service().pending_callback(&arn, "approval").is_some());
        browser.screenshot("3-callback-invalid").await;
        browser.type_into("#cb-payload", r#"{"approved": true, "by": "ada"}"#).await;
        browser.click("#cb-send").await;

        // The execution resumes to its result, which the page shows.
        let status = browser
            .wait_for("the execution to succeed", "const s = document.getElementById('exec-status').dataset.status; return s === 'SUCCEEDED' && s")
            .await;
        assert_eq!(status, json!("SUCCEEDED"));
        let result = browser.run("return document.getElementById('exec-result').textContent").await;
        let result: Value = serde_json::from_str(result.as_str().unwrap()).unwrap();
        assert_eq!(result, json!({ "order": { "id": 42 }, "decision": { "approved": true, "by": "ada" }, "status": "shipped" }));
        let names = browser
            .wait_for("the last step", "const r = [...document.querySelectorAll('.tl-row .op-name')].map(n => n.textContent); return r.length === 4 && r")
            .await;
        assert_eq!(names, json!(["reserve", "prepare", "approval", "ship"]));
        assert_eq!(service.finished(&arn).await.unwrap().to_string(), "SUCCEEDED");
        browser.screenshot("4-execution-succeeded").await;

        // A narrow window still shows the timeline's names and statuses.
        browser.resize(420, 900).await;
        let fits = browser.run("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
        assert_eq!(fits, json!(true), "no sideways scrolling on a narrow window");
        browser.screenshot("5-narrow").await;

        // Back to the list: the execution is shown as finished.
        browser.resize(1280, 900).await;
        browser.go(&format!("{}/#/", service.endpoint())).await;
        browser
            .wait_for("the list to show it succeeded", "const r = document.querySelector('#executions tbody tr'); return r && r.dataset.status === 'SUCCEEDED'")
            .await;
        // The status filter: none running any more, one succeeded.
        let filter = "const f = document.getElementById('f-status'); f.value = arguments_status; f.dispatchEvent(new Event('change'));";
        browser.run(&filter.replace("arguments_status", "'RUNNING'")).await;
        browser
            .wait_for("the running filter", "return document.querySelectorAll('#executions tbody tr').length === 0 && !document.querySelector('.empty').hidden")
            .await;
        browser.run(&filter.replace("arguments_status", "'SUCCEEDED'")).await;
        let shown = browser
            .wait_for("the succeeded filter", "return [...document.querySelectorAll('#executions tbody tr')].map(r => r.dataset.arn)")
            .await;
        assert_eq!(shown, json!([arn]));
    })
    .await
    .expect("the test exceeded its time bound");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_10000_operation_execution_renders_in_under_a_second() {
    const OPERATIONS: usize = 10_000;
    let Some(browser) = Browser::start("big").await else { return };
    tokio::time::timeout(BOUND, async {
        let service = LocalService::start().await.unwrap();
        let arn = service.change(|s| s.start_execution("big", Some("null".to_owned()))).await.unwrap();
        let mut token = service.change(|s| s.invocation_input(&arn)).await.unwrap().unwrap().checkpoint_token;
        // 10,000 steps, started and succeeded, written as a function would (125 at a time).
        for batch in 0..OPERATIONS / 125 {
            let mut updates = Vec::new();
            for n in batch * 125..(batch + 1) * 125 {
                for succeed in [false, true] {
                    let action = if succeed { OperationAction::Succeed } else { OperationAction::Start };
                    let mut update = OperationUpdate::new(format!("op-{n:05}"), OperationType::Step, action);
                    update.name = Some(format!("step {n}"));
                    if succeed {
                        update.payload = Some(n.to_string());
                    }
                    updates.push(update);
                }
            }
            let request = CheckpointRequest { checkpoint_token: token, client_token: None, updates };
            token = service.service().checkpoint(&arn, request).await.unwrap().checkpoint_token.unwrap();
        }
        service.commit().await.unwrap();

        browser.go(&service.web_url()).await;
        browser.wait_for("the list", "return document.querySelectorAll('#executions tbody tr').length").await;
        let encoded = browser.run(&format!("return encodeURIComponent({})", json!(arn))).await;
        browser.go(&format!("{}/#/x/{}", service.endpoint(), encoded.as_str().unwrap())).await;
        let rows = browser.wait_for("the timeline", "return document.body.dataset.timelineRows").await;
        assert_eq!(rows, json!(OPERATIONS.to_string()));
        let render: f64 = browser.run("return document.body.dataset.timelineRenderMs").await.as_str().unwrap().parse().unwrap();
        let fetch: f64 = browser.run("return document.body.dataset.timelineFetchMs").await.as_str().unwrap().parse().unwrap();
        println!("10,000 operations: fetched in {fetch:.0} ms, rendered in {render:.0} ms");
        assert!(render < 1000.0, "rendering took {render} ms");
        let drawn = browser.run("return document.querySelectorAll('.tl-row').length").await.as_u64().unwrap();
        assert!(drawn < 200, "only the rows in view are in the page: {drawn}");
        browser.screenshot("1-big-top").await;

        // Scrolled to the end, the last operations are there.
        browser.run("const v = document.querySelector('.tl-viewport'); v.scrollTop = v.scrollHeight; v.dispatchEvent(new Event('scroll'))").await;
        let last = browser
            .wait_for("the last row", "const r = [...document.querySelectorAll('.tl-row .op-name')].map(n => n.textContent); return r.includes('step 9999') && r[r.length - 1]")
            .await;
        assert_eq!(last, json!("step 9999"));
        browser.screenshot("2-big-bottom").await;
    })
    .await
    .expect("the test exceeded its time bound");
    browser.close().await;
}
