//! A scheduled reminder: wait until the time given in the input, then send the reminder.
//!
//! What it shows:
//! - `ctx.wait_until(timestamp)`: the time left is computed once, from a `now` recorded as a step,
//!   so every replay waits for the same span; the function does not run (nor cost anything) while
//!   it waits, even for weeks (a wait may last up to a year).
//! - A time already past does not wait at all: the reminder goes out at once.
//! - The timestamp comes from the input as RFC 3339 text (or epoch seconds / milliseconds), read
//!   into a [`Timestamp`].
//!
//! Run it on the local service (`--skip-time` jumps to the reminder time):
//!
//! ```text
//! cargo build -p durable-examples --bin reminder-workflow
//! durable serve --skip-time --function reminder-workflow=target/debug/reminder-workflow &
//! durable invoke reminder-workflow '{"user":"ada","message":"renew the passport","remind_at":"2027-03-01T09:00:00Z"}'
//! ```
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin reminder-workflow` (see `deploy/`).
//! The execution lasts until the reminder time, so deploy it with an `ExecutionTimeout` beyond the
//! furthest reminder you accept (at most a year; the template's default is one hour), and on the
//! local service set `execution_timeout` under `[function.durable]` in `durable.toml` (default 24 h).
//! Tests: `examples/tests/reminder.rs`.

use durable_runtime::protocol::Timestamp;
use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error};
use serde::{Deserialize, Serialize};

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reminder {
    /// Whom to remind.
    pub user: String,
    /// Of what.
    pub message: String,
    /// When.
    pub remind_at: Timestamp,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Whom it was sent to.
    pub user: String,
    /// The notification service's message id.
    pub message_id: String,
}

/// Sends the reminder (a stand-in for a push / e-mail service). It retries with the default
/// strategy; the notification service deduplicates on the step's operation id.
#[durable_step]
pub async fn send_reminder(reminder: Reminder) -> Result<Sent, Error> {
    if reminder.message.trim().is_empty() {
        return Err(DurableError::with_type("EmptyReminder", "nothing to remind of").into());
    }
    eprintln!("to {}: {}", reminder.user, reminder.message);
    Ok(Sent { message_id: format!("msg-{}-{}", reminder.user, reminder.remind_at.as_millis()), user: reminder.user })
}

/// The workflow.
#[durable_workflow]
pub async fn send_reminder_at(ctx: DurableContext, reminder: Reminder) -> Result<Sent, Error> {
    ctx.wait_until(reminder.remind_at).name("until-remind-at").await?;
    Ok(send_reminder(reminder).await?)
}
