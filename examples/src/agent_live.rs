//! The support agent's live model call (feature `live-model`): one chat-completions request to an
//! OpenAI-compatible endpoint over plain HTTP, such as a local Ollama or vLLM server.
//!
//! It is deliberately dependency-free (tokio's TCP stream and `serde_json`) so that the feature adds
//! no crate to the build. It speaks HTTP/1.0, whose response body simply ends when the server closes
//! the connection (no chunked encoding to decode). For a hosted HTTPS API, replace [`post`] with an
//! HTTPS client of your choice; the rest (prompt, reply parsing) stays.
//!
//! Environment, read inside the `call_model` step: `AGENT_MODEL_URL` (`http://host:port/path`),
//! `AGENT_MODEL` (default `llama3.1`), `AGENT_MODEL_API_KEY` (optional bearer token).

use crate::agent::{Message, ModelReply, Role};
use durable_runtime::{DurableError, Error};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SYSTEM_PROMPT: &str = "You are a customer-support agent. Tools: lookup_order(order id), \
search_help(query), issue_refund(order id; a person approves it first). Reply with one JSON object \
and nothing else: {\"kind\":\"tool_call\",\"tool\":\"lookup_order\",\"argument\":\"42\"} to call a \
tool, or {\"kind\":\"answer\",\"text\":\"...\"} to answer the customer.";

fn model_error(message: impl Into<String>) -> Error {
    DurableError::with_type("ModelError", message).into()
}

/// Asks the model at `url` for the next reply to `messages`.
pub(crate) async fn call(url: &str, messages: &[Message]) -> Result<ModelReply, Error> {
    let model = std::env::var("AGENT_MODEL").unwrap_or_else(|_| "llama3.1".to_owned());
    let mut chat = vec![json!({ "role": "system", "content": SYSTEM_PROMPT })];
    for message in messages {
        let (role, prefix) = match message.role {
            Role::User => ("user", ""),
            Role::Assistant => ("assistant", ""),
            Role::Tool => ("user", "[tool result] "),
            Role::Reviewer => ("user", "[reviewer] "),
        };
        chat.push(json!({ "role": role, "content": format!("{prefix}{}", message.content) }));
    }
    let body = json!({ "model": model, "messages": chat, "temperature": 0, "stream": false });
    let response = post(url, &body.to_string()).await?;
    let response: Value = serde_json::from_str(&response).map_err(|e| model_error(format!("not JSON: {e}")))?;
    let content = response
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| model_error(format!("no message in the response: {response}")))?;
    serde_json::from_str(content.trim())
        .map_err(|e| model_error(format!("the model's reply `{content}` is not a reply: {e}")))
}

/// POSTs `body` as JSON to `url` (`http://host[:port]/path`) and returns the response body of a 2xx
/// answer.
async fn post(url: &str, body: &str) -> Result<String, Error> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| model_error(format!("AGENT_MODEL_URL `{url}` is not an http:// URL")))?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let mut request = format!(
        "POST {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Ok(key) = std::env::var("AGENT_MODEL_API_KEY") {
        request.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);

    let mut stream = TcpStream::connect(&address).await.map_err(|e| model_error(format!("{address}: {e}")))?;
    stream.write_all(request.as_bytes()).await.map_err(|e| model_error(format!("{address}: {e}")))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(|e| model_error(format!("{address}: {e}")))?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| model_error("a response without a body"))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        return Err(model_error(format!("the model endpoint answered {status}: {body}")));
    }
    Ok(body.to_owned())
}
