//! Just enough HTTP/1.1 for the control-plane API: one request per connection, `Content-Length`
//! bodies (no chunked transfer coding), percent-decoded path segments and query pairs, and responses
//! sent with `Connection: close`.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request head (request line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Largest request body accepted (a checkpoint request is capped at 750 KiB by the clients).
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
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

    /// An AWS-style error: the code in `x-amzn-errortype` and in the body's `__type`, the message in
    /// the body's `message`.
    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        let mut response = Self::json(status, &serde_json::json!({ "__type": code, "message": message }));
        response.headers.push(("x-amzn-errortype", code.to_owned()));
        response
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection (or an I/O error): nothing to answer.
    Closed,
    /// A request the server rejects, with the status and message to answer.
    Bad(u16, String),
}

/// Reads one request from `stream`.
pub(crate) async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Request, ReadError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Bad(431, "request head too large".to_owned()));
        }
        let n = stream.read(&mut chunk).await.map_err(|_| ReadError::Closed)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let bad = |m: &str| ReadError::Bad(400, m.to_owned());
    let head =
        std::str::from_utf8(buf.get(..head_end).unwrap_or_default()).map_err(|_| bad("request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().filter(|m| !m.is_empty()).ok_or_else(|| bad("missing method"))?.to_owned();
    let target = request_line.next().ok_or_else(|| bad("missing request target"))?.to_owned();
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().map_err(|_| bad("invalid Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") && !value.eq_ignore_ascii_case("identity") {
            return Err(ReadError::Bad(411, "chunked request bodies are not supported; send Content-Length".into()));
        }
    }
    if length > MAX_BODY_BYTES {
        return Err(ReadError::Bad(413, format!("request body over {MAX_BODY_BYTES} bytes")));
    }
    let mut body = buf.get(head_end + 4..).unwrap_or_default().to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.map_err(|_| ReadError::Closed)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(length);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false).ok_or_else(|| bad("invalid percent-encoding in the path")))
        .collect::<Result<Vec<_>, _>>()?;
    let query = query
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
    Ok(Request { method, segments, query, body })
}

/// Writes `response` and closes the write side.
pub(crate) async fn write_response<S: AsyncWrite + Unpin>(stream: &mut S, response: &Response) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    for (name, value) in &response.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response.body);
    stream.write_all(&bytes).await?;
    stream.flush().await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Status",
    }
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

    #[tokio::test]
    async fn parses_a_request_with_an_encoded_arn_and_a_body() {
        let raw = b"POST /2025-12-01/durable-executions/arn%3Aa%2Fb/checkpoint?Marker=1%3A2&MaxItems=5 HTTP/1.1\r\n\
                    Host: x\r\nContent-Length: 4\r\n\r\nbodyEXTRA";
        let mut stream = &raw[..];
        let request = read_request(&mut stream).await.unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.segments, ["2025-12-01", "durable-executions", "arn:a/b", "checkpoint"]);
        assert_eq!(request.query("Marker"), Some("1:2"));
        assert_eq!(request.query("MaxItems"), Some("5"));
        assert_eq!(request.body, b"body");
    }

    #[tokio::test]
    async fn rejects_chunked_bodies() {
        let raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut stream = &raw[..];
        assert!(matches!(read_request(&mut stream).await, Err(ReadError::Bad(411, _))));
    }
}
