//! The web page of the service: `GET /` and its assets, and `/ui/api/…`, which answers the page's
//! requests with the very handlers of the Lambda API.
//!
//! The page is as closed as the API. The service mints a token from the operating system's
//! generator when it starts and prints `http://127.0.0.1:PORT/?token=TOKEN`; opening that URL
//! exchanges the token for a session cookie (`HttpOnly`, `SameSite=Strict`, `Path=/`) and redirects
//! to `/`, so the token leaves the address bar. Every other page request needs that cookie:
//!
//! - `/ui/api/<path>` is `<path>` of the Lambda API ([`routes::handle`](crate::routes)), answered by
//!   the same handlers with the same checks, the cookie standing in for the SigV4 signature; plus two
//!   read-only views, `/ui/api/functions` (the function names with executions or hosted) and
//!   `/ui/api/timeline/{arn}` (the history folded by [`timeline`](crate::timeline)).
//! - A request that changes something (any method but `GET`/`HEAD`) must also carry the header
//!   `x-durable-ui: 1`, which a page of another origin cannot send without a CORS preflight this
//!   service never grants, and an `Origin`, when sent, must be this service's.
//! - Every response carries a strict Content-Security-Policy (scripts and styles only from the
//!   page's own embedded files), `no-store`, `nosniff`, `no-referrer` and `DENY` framing.

use crate::auth::CredentialsError;
use crate::http::{Request, Response};
use crate::{routes, timeline, Shared};
use serde_json::json;
use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The page's Content-Security-Policy: nothing inline, nothing from elsewhere.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                              connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The session cookie's name.
const COOKIE: &str = "durable_session";

/// Random bytes of the token and of a session id (256 bits).
const SECRET_BYTES: usize = 32;

/// Sessions kept at most; the oldest is forgotten beyond.
const MAX_SESSIONS: usize = 64;

/// The header a state-changing page request must carry.
const CSRF_HEADER: &str = "x-durable-ui";

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");
const ICON_SVG: &str = include_str!("icon.svg");

/// The page's secrets: the token printed at start, and the sessions it was exchanged for.
pub(crate) struct Web {
    token: String,
    sessions: Mutex<VecDeque<String>>,
}

impl Web {
    /// A fresh token from the operating system's generator (never a weaker one: a failure is an
    /// error).
    pub(crate) fn new() -> Result<Self, CredentialsError> {
        Ok(Self { token: secret()?, sessions: Mutex::new(VecDeque::new()) })
    }

    /// The token to put in the page's URL.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    fn token_matches(&self, offered: &str) -> bool {
        bool::from(offered.as_bytes().ct_eq(self.token.as_bytes()))
    }

    /// A new session, remembered.
    fn open_session(&self) -> Result<String, CredentialsError> {
        let id = secret()?;
        let Ok(mut sessions) = self.sessions.lock() else {
            return Err(CredentialsError::Random("the session table is unusable".to_owned()));
        };
        if sessions.len() >= MAX_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back(id.clone());
        Ok(id)
    }

    /// Whether `request` carries the cookie of a session this service opened.
    fn has_session(&self, request: &Request) -> bool {
        let Some(offered) = cookie(request, COOKIE) else { return false };
        let Ok(sessions) = self.sessions.lock() else { return false };
        // Every session is compared, in constant time each, so the time says nothing of a match.
        sessions.iter().fold(false, |found, id| found | bool::from(offered.as_bytes().ct_eq(id.as_bytes())))
    }
}

/// `SECRET_BYTES` from the operating system's generator, as lowercase hex.
fn secret() -> Result<String, CredentialsError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| CredentialsError::Random(e.to_string()))?;
    Ok(bytes.iter().fold(String::with_capacity(2 * SECRET_BYTES), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    }))
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The response with the headers every page response carries.
fn harden(response: Response) -> Response {
    response
        .with_header("content-security-policy", CSP.to_owned())
        .with_header("x-content-type-options", "nosniff".to_owned())
        .with_header("referrer-policy", "no-referrer".to_owned())
        .with_header("x-frame-options", "DENY".to_owned())
        .with_header("cache-control", "no-store".to_owned())
}

/// A short HTML page that says what went wrong and what to do (no script, no style).
fn refusal(status: u16, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>durable</title></head>\
         <body><h1>durable</h1><p>{message}</p></body></html>\n"
    );
    Response::bytes(status, "text/html; charset=utf-8", body.into_bytes())
}

/// Whether the `Host` header names this machine's loopback (a page reached through another name,
/// as in DNS rebinding, is refused).
fn loopback_host(request: &Request) -> bool {
    let Some(host) = request.header("host") else { return false };
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Answers `request` if it is the page's (`/`, `/ui/…`, `/favicon.ico`); `None` for the API.
pub(crate) async fn handle(shared: &Shared, request: &Request) -> Option<Response> {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        [] | ["favicon.ico"] => {}
        ["ui", ..] => {}
        _ => return None,
    }
    Some(harden(answer(shared, request, &segments).await))
}

async fn answer(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    let web = &shared.web;
    if !loopback_host(request) {
        return refusal(403, "this page answers only on 127.0.0.1 or localhost: open the URL `durable serve` printed.");
    }
    if segments.is_empty() {
        if let Some(offered) = request.query("token") {
            if !web.token_matches(offered) {
                return refusal(403, "this token is not the service's: open the URL `durable serve` printed last.");
            }
            return match web.open_session() {
                Ok(session) => Response::empty(303)
                    .with_header("location", "/".to_owned())
                    .with_header("set-cookie", format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/")),
                Err(e) => refusal(500, &format!("cannot open a session: {e}")),
            };
        }
    }
    if !web.has_session(request) {
        return match segments {
            ["ui", "api", ..] => Response::error(
                403,
                "AccessDeniedException",
                "no page session: open the URL `durable serve` printed (it carries the token)",
            ),
            _ => refusal(403, "no session: open the URL `durable serve` printed, with its <code>?token=</code>."),
        };
    }
    let method = request.method.as_str();
    let reading = matches!(method, "GET" | "HEAD");
    if !reading {
        if request.header(CSRF_HEADER) != Some("1") {
            return Response::error(
                403,
                "AccessDeniedException",
                "a page request that changes state needs the header x-durable-ui: 1",
            );
        }
        let own = request.header("host").map(|host| format!("http://{host}"));
        if request.header("origin").is_some_and(|origin| Some(origin) != own.as_deref()) {
            return Response::error(403, "AccessDeniedException", "the request comes from another origin");
        }
    }
    match (segments, reading) {
        ([], true) => Response::bytes(200, "text/html; charset=utf-8", INDEX_HTML.as_bytes().to_vec()),
        (["ui", "app.js"], true) => Response::bytes(200, "text/javascript; charset=utf-8", APP_JS.as_bytes().to_vec()),
        (["ui", "app.css"], true) => Response::bytes(200, "text/css; charset=utf-8", APP_CSS.as_bytes().to_vec()),
        (["ui", "icon.svg"] | ["favicon.ico"], true) => {
            Response::bytes(200, "image/svg+xml", ICON_SVG.as_bytes().to_vec())
        }
        (["ui", "api", "functions"], true) => functions(shared),
        (["ui", "api", "timeline", arn], true) => timeline_of(shared, arn),
        (["ui", "api", rest @ ..], _) if !rest.is_empty() => {
            // The Lambda API's own handler, on the path after `/ui/api`.
            let mut inner = request.clone();
            inner.segments = rest.iter().map(|s| (*s).to_owned()).collect();
            inner.target = inner.target.strip_prefix("/ui/api").unwrap_or(&inner.target).to_owned();
            routes::handle(shared, inner).await
        }
        (_, false) => {
            Response::error(405, "MethodNotAllowedException", &format!("method {method} is not allowed here"))
        }
        _ => Response::error(404, "UnknownOperationException", "no such page"),
    }
}

/// The names of the functions with executions, and of the hosted ones.
fn functions(shared: &Shared) -> Response {
    let mut names: BTreeSet<String> = shared.driver.function_names().into_iter().collect();
    names.extend(shared.service.executions().iter().map(|arn| crate::driver::function_of(arn)));
    Response::json(200, &json!({ "Functions": names }))
}

/// The execution's history folded into a timeline, rows with children under their parent.
fn timeline_of(shared: &Shared, arn: &str) -> Response {
    let service = &shared.service;
    if service.execution_status(arn).is_none() {
        return routes::memory_error(&durable_runtime::checkpoint::memory::MemoryError::UnknownExecution(
            arn.to_owned(),
        ));
    }
    let events = routes::api_history(service, arn);
    let mut folded = timeline::fold(&events);
    let order = folded.tree_order();
    let mut rows: Vec<Option<timeline::Row>> = folded.rows.drain(..).map(Some).collect();
    folded.rows = order.into_iter().filter_map(|i| rows.get_mut(i).and_then(Option::take)).collect();
    match serde_json::to_value(&folded) {
        Ok(value) => Response::json(200, &value),
        Err(e) => Response::error(500, "ServiceException", &format!("cannot serialize the timeline: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut map = hyper::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                hyper::header::HeaderValue::from_str(value).unwrap(),
            );
        }
        Request {
            method: "GET".into(),
            target: "/".into(),
            headers: map,
            segments: vec![],
            query: vec![],
            body: vec![],
        }
    }

    #[test]
    fn sessions_are_minted_and_recognised() {
        let web = Web::new().unwrap();
        assert_eq!(web.token().len(), 64);
        assert!(web.token_matches(&web.token.clone()) && !web.token_matches("x"));
        let session = web.open_session().unwrap();
        assert_ne!(session, web.token);
        let with = request(&[("cookie", &format!("a=b; {COOKIE}={session}"))]);
        assert!(web.has_session(&with));
        assert!(!web.has_session(&request(&[("cookie", &format!("{COOKIE}=nope"))])));
        assert!(!web.has_session(&request(&[])));
        for _ in 0..MAX_SESSIONS {
            web.open_session().unwrap();
        }
        assert!(!web.has_session(&with), "the oldest session is forgotten");
    }

    #[test]
    fn only_loopback_hosts() {
        assert!(loopback_host(&request(&[("host", "127.0.0.1:9070")])));
        assert!(loopback_host(&request(&[("host", "localhost:9070")])));
        assert!(!loopback_host(&request(&[("host", "evil.example:9070")])));
        assert!(!loopback_host(&request(&[])));
    }
}
