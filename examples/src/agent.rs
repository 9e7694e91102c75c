//! An AI agent loop: a support agent that calls a model, runs the tools the model asks for, asks a
//! human before a risky tool (issuing a refund), stops after a bounded number of turns, and returns
//! the whole transcript.
//!
//! What it shows:
//! - The model call is a step ([`call_model`]): its reply is recorded, so a replay (after a wait for
//!   approval, a crash, a retry) sees the same reply instead of asking the model again and getting
//!   a different answer. Each tool call is a step too, named `tool:<name>`.
//! - Before a risky tool the agent waits for a person: `ctx.wait_for_callback(..)` named
//!   `approve-tool`, with a timeout. Approved: the tool runs. Rejected, or no answer in time: the
//!   tool is skipped and the model is told why.
//! - The loop is bounded: at most `max_turns` model calls (capped at [`MAX_TURNS`]), then the agent
//!   stops with [`StopReason::TurnLimit`]. The loop is plain Rust in the workflow body; every
//!   iteration's operations are recorded, so replay walks the same turns.
//!
//! The model is a deterministic stand-in by default (see [`stand_in_model`]), which the tests use.
//! With the `live-model` feature (`cargo build -p durable-examples --features live-model`) and
//! `AGENT_MODEL_URL` set (an OpenAI-compatible chat-completions endpoint over plain HTTP, such as a
//! local Ollama at `http://127.0.0.1:11434/v1/chat/completions`; `AGENT_MODEL` names the model), the
//! step calls that endpoint instead. The environment is read inside the step body: a workflow body
//! may not read it, since it would change between replays.
//!
//! Run it on the local service:
//!
//! ```text
//! cargo build -p durable-examples --bin support-agent
//! durable serve --function support-agent=target/debug/support-agent &
//! durable invoke support-agent '{"ticket_id":"t-5","request":"Please refund order 42","max_turns":6}' --async
//! durable history ARN     # waits at approve-tool; answer it:
//! durable callback succeed CALLBACK_ID '{"approved":true,"by":"lee"}'
//! ```
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin support-agent` (see `deploy/`). Tests:
//! `examples/tests/agent.rs`.

use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error, ErrorKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The most turns (model calls) an agent run may take, whatever the input asks.
pub const MAX_TURNS: u32 = 12;
/// How long a person has to approve a risky tool call (the customer is waiting; it also keeps a
/// run within the one-hour `ExecutionTimeout` of `deploy/sam/template.yaml`).
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentTask {
    /// The support ticket.
    pub ticket_id: String,
    /// The customer's request.
    pub request: String,
    /// At most this many model calls (capped at [`MAX_TURNS`]).
    pub max_turns: u32,
}

/// Who said something in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The customer.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
    /// The person who approves risky tools.
    Reviewer,
}

/// One entry of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who.
    pub role: Role,
    /// What.
    pub content: String,
}

impl Message {
    fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// The tools the agent has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// Reads an order (safe).
    LookupOrder,
    /// Searches the help center (safe).
    SearchHelp,
    /// Refunds an order (risky: moves money, needs a person's approval).
    IssueRefund,
}

impl Tool {
    /// The tool's name, as the model uses it and as its step is named (`tool:<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::LookupOrder => "lookup_order",
            Self::SearchHelp => "search_help",
            Self::IssueRefund => "issue_refund",
        }
    }

    /// True when a person must approve the call first.
    pub fn is_risky(self) -> bool {
        self == Self::IssueRefund
    }
}

/// What the model answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelReply {
    /// The final answer to the customer.
    Answer {
        /// The text.
        text: String,
    },
    /// A tool to call.
    ToolCall {
        /// Which.
        tool: Tool,
        /// Its argument.
        argument: String,
    },
}

/// A reviewer's answer to an approval request (the callback's result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolApproval {
    /// Approved or not.
    pub approved: bool,
    /// Who answered.
    pub by: String,
    /// Why, optionally.
    #[serde(default)]
    pub note: Option<String>,
}

/// Why the agent stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model gave its final answer.
    Answered,
    /// The turn bound was reached first.
    TurnLimit,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The support ticket.
    pub ticket_id: String,
    /// Every message, in order.
    pub messages: Vec<Message>,
    /// How many model calls were made.
    pub turns: u32,
    /// Why the agent stopped.
    pub stop: StopReason,
}

/// The model call. Retried (model endpoints throttle); its reply is recorded, so it is asked once
/// per turn however often the workflow replays.
#[durable_step(retry = exponential(max_attempts = 4, initial = "2s", max = "30s"))]
pub async fn call_model(messages: Vec<Message>) -> Result<ModelReply, Error> {
    // Reading the environment is fine here: a step body runs once and its result is recorded.
    if let Ok(url) = std::env::var("AGENT_MODEL_URL") {
        return live_model(&url, &messages).await;
    }
    Ok(stand_in_model(&messages))
}

#[cfg(feature = "live-model")]
async fn live_model(url: &str, messages: &[Message]) -> Result<ModelReply, Error> {
    crate::agent_live::call(url, messages).await
}

#[cfg(not(feature = "live-model"))]
async fn live_model(_url: &str, _messages: &[Message]) -> Result<ModelReply, Error> {
    let message = "AGENT_MODEL_URL is set, but this build has no live model: build with `--features live-model`";
    Err(DurableError::with_type("LiveModelDisabled", message).into())
}

/// The deterministic stand-in model. For a request to refund an order (a number in the request) it
/// looks the order up, asks to refund it, and then answers with what happened; for anything else it
/// keeps searching the help center, which shows the turn bound at work.
pub fn stand_in_model(messages: &[Message]) -> ModelReply {
    let request = messages.iter().find(|m| m.role == Role::User).map_or("", |m| m.content.as_str());
    let order: Option<String> =
        request.split(|c: char| !c.is_ascii_digit()).find(|part| !part.is_empty()).map(str::to_owned);
    let said = |role: Role, prefix: &str| messages.iter().any(|m| m.role == role && m.content.starts_with(prefix));
    match order {
        Some(order) if request.to_lowercase().contains("refund") => {
            if !said(Role::Tool, "order ") {
                ModelReply::ToolCall { tool: Tool::LookupOrder, argument: order }
            } else if said(Role::Tool, "refunded ") {
                ModelReply::Answer { text: format!("Order {order} has been refunded; expect the money in 3-5 days.") }
            } else if said(Role::Reviewer, "rejected") || said(Role::Reviewer, "no answer") {
                ModelReply::Answer {
                    text: format!("I cannot refund order {order} right now; a colleague will follow up on it."),
                }
            } else {
                ModelReply::ToolCall { tool: Tool::IssueRefund, argument: order }
            }
        }
        _ => {
            let searches = messages.iter().filter(|m| m.role == Role::Tool).count();
            ModelReply::ToolCall { tool: Tool::SearchHelp, argument: format!("{request} (search {})", searches + 1) }
        }
    }
}

/// Runs one tool (stand-ins for the order system, the help center and the payment provider).
pub async fn run_tool(tool: Tool, argument: String) -> Result<String, Error> {
    match tool {
        Tool::LookupOrder => Ok(format!("order {argument}: 2 items, paid 59.00 EUR, delivered")),
        Tool::SearchHelp => Ok(format!("no help article matches `{argument}`")),
        Tool::IssueRefund => Ok(format!("refunded order {argument}: 59.00 EUR")),
    }
}

/// The workflow.
#[durable_workflow]
pub async fn support_agent(ctx: DurableContext, task: AgentTask) -> Result<Transcript, Error> {
    let max_turns = task.max_turns.clamp(1, MAX_TURNS);
    let mut messages = vec![Message::new(Role::User, task.request.clone())];
    for turn in 1..=max_turns {
        let reply = call_model(messages.clone()).await?;
        let (tool, argument) = match reply {
            ModelReply::Answer { text } => {
                messages.push(Message::new(Role::Assistant, text));
                return Ok(Transcript { ticket_id: task.ticket_id, messages, turns: turn, stop: StopReason::Answered });
            }
            ModelReply::ToolCall { tool, argument } => (tool, argument),
        };
        messages.push(Message::new(Role::Assistant, format!("call {}({argument})", tool.name())));

        if tool.is_risky() {
            let (ticket, call) = (task.ticket_id.clone(), format!("{}({argument})", tool.name()));
            let approval: Result<ToolApproval, DurableError> = ctx
                .wait_for_callback(move |callback_id, _| async move {
                    // In production: post to the reviewers' queue with the callback id.
                    eprintln!("ticket {ticket}: approve {call}? answer callback {callback_id}");
                    Ok::<_, Error>(())
                })
                .name("approve-tool")
                .timeout(APPROVAL_TIMEOUT)
                .await;
            match approval {
                Ok(ToolApproval { approved: true, by, .. }) => {
                    messages.push(Message::new(Role::Reviewer, format!("approved by {by}")));
                }
                Ok(ToolApproval { by, note, .. }) => {
                    let why = note.map(|note| format!(": {note}")).unwrap_or_default();
                    messages.push(Message::new(Role::Reviewer, format!("rejected by {by}{why}")));
                    continue;
                }
                Err(error) if error.kind() == ErrorKind::CallbackTimedOut => {
                    messages.push(Message::new(Role::Reviewer, "no answer in time; the tool was not run"));
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
        }

        let output = ctx.step(move |_| run_tool(tool, argument)).name(format!("tool:{}", tool.name())).await?;
        messages.push(Message::new(Role::Tool, output));
    }
    Ok(Transcript { ticket_id: task.ticket_id, messages, turns: max_turns, stop: StopReason::TurnLimit })
}
