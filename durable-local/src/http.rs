//! HTTP/1.1 for the control-plane API, served by hyper: percent-decoded path segments and query
//! pairs, and limits that keep the service responsive under slow or oversized clients.
//!
//! - A client must send a request head within [`Limits::head_timeout`] (on every request of a
//!   kept-alive connection too), or the connection is closed.
//! - A head larger than [`MAX_HEAD_BYTES`] is answered 431; a body declared or found larger
//!   than [`MAX_BODY_BYTES`] is answered 413 without reading the rest; a body that does not arrive
//!   within [`Limits::body_timeout`] is answered 408.
//! - At most [`Limits::max_connections`] connections are served at once; further clients wait in
//!   the listen backlog.

use crate::Shared;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Largest request head (request line and headers) accepted.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Largest request body accepted (a checkpoint request is capped at 750 KiB by the clients).
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long clients may take, and how many are served at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time allowed to send a request head.
    pub head_timeout: Duration,
    /// Time allowed to send a request body.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { head_timeout: Duration::from_secs(10), body_timeout: Duration::from_secs(30), max_connections: 256 }
    }
}

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The path and query exactly as received, still percent-encoded (what SigV4 signs).
    pub(crate) target: String,
    /// The headers as received.
    pub(crate) headers: hyper::HeaderMap,
    /// The path's segments, each percent-decoded (so an encoded `/` in an ARN stays inside its
    /// segment).
    pub(crate) segments: Vec<String>,
    /// Query pairs, percent-decoded, in order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The first value of the query parameter `name`.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of the query parameter `name`, in order.
    pub(crate) fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of the header `name`, if it is visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A response without a body.
    pub(crate) fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A response with `body` of type `content_type`.
    pub(crate) fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self { status, headers: vec![("content-type", content_type.to_owned())], body }
    }

    /// The response with one more header.
    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// An AWS-style error: the code in `x-amzn-errortype` and in the body's `__type`, the message in
    /// the body's `message`.
    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        let mut response = Self::json(status, &serde_json::json!({ "__type": code, "message": message }));
        response.headers.push(("x-amzn-errortype", code.to_owned()));
        response
    }

    /// The response as hyper sends it.
    pub(crate) fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
        let mut response = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(self.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in self.headers {
            if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

/// Reads the whole of `request` within `limits`; the error response otherwise.
pub(crate) async fn read(request: hyper::Request<Incoming>, limits: &Limits) -> Result<Request, Response> {
    let too_large = || {
        Response::error(
            413,
            "RequestEntityTooLargeException",
            &format!("the request body is over {MAX_BODY_BYTES} bytes"),
        )
    };
    let head: usize = request.uri().to_string().len()
        + request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum::<usize>();
    if head > MAX_HEAD_BYTES {
        return Err(Response::error(
            431,
            "RequestHeaderFieldsTooLargeException",
            &format!("the request head is over {MAX_HEAD_BYTES} bytes"),
        ));
    }
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let collected = tokio::time::timeout(limits.body_timeout, Limited::new(body, MAX_BODY_BYTES).collect()).await;
    let body = match collected {
        Err(_) => {
            return Err(Response::error(408, "RequestTimeoutException", "the request body did not arrive in time"))
        }
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(error)) => {
            return Err(Response::error(400, "InvalidRequestException", &format!("cannot read the body: {error}")))
        }
        Ok(Ok(collected)) => collected.to_bytes().to_vec(),
    };
    let bad = |m: &str| Response::error(400, "InvalidRequestException", m);
    let segments = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false).ok_or_else(|| bad("invalid percent-encoding in the path")))
        .collect::<Result<Vec<_>, _>>()?;
    let query = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (percent_decode(k, true), percent_decode(v, true)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(bad("invalid percent-encoding in the query")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    Ok(Request { method: parts.method.as_str().to_owned(), target, headers: parts.headers, segments, query, body })
}

/// Decodes `%XX` escapes (and `+` as a space in query components). `None` for a malformed escape or
/// a result that is not UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Serves connections from `listener` until the task is aborted: at most `max_connections` at
/// once, each request read within `limits`, authorized, then routed.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, limits: Limits) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    loop {
        // At most `max_connections` at once: the next client waits in the listen backlog.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { return };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move {
                    let response = match read(request, &limits).await {
                        // The web page's requests are authenticated by its session cookie instead.
                        Ok(request) => match crate::web::handle(&shared, &request).await {
                            Some(response) => response,
                            None => match crate::sigv4::authorize(shared.auth.as_ref(), &request) {
                                Ok(()) => crate::routes::handle(&shared, request).await,
                                Err(refused) => refused,
                            },
                        },
                        Err(response) => response,
                    };
                    Ok::<_, std::convert::Infallible>(response.into_hyper())
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away or breaks the protocol only ends its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("arn%3Aaws%2Fx%24LATEST", false).as_deref(), Some("arn:aws/x$LATEST"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("bad%4", false), None);
        assert_eq!(percent_decode("bad%zz", false), None);
    }
}
