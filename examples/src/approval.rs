//! Human approval with escalation: an expense request waits for its approver's answer (a callback
//! with an overall timeout and a heartbeat timeout); if the approver does not answer in time, the
//! request is escalated to a second approver; if nobody answers, it is rejected by policy.
//!
//! What it shows:
//! - `ctx.wait_for_callback(submitter)`: the submitter step hands the callback id to the approver
//!   (here a log line; in production an e-mail with approve / reject links, or a ticket). While the
//!   callback waits, the function is not running and costs nothing; the service re-invokes it when
//!   the answer arrives or a timeout fires.
//! - `.timeout(..)` bounds the whole wait, `.heartbeat_timeout(..)` the silence between heartbeats:
//!   a reviewer who needs longer sends `SendDurableExecutionCallbackHeartbeat` to keep it open.
//! - A timeout is an ordinary error of kind [`ErrorKind::CallbackTimedOut`] that the workflow
//!   matches on to take another path, here the escalation.
//!
//! Run it on the local service and answer as the approver:
//!
//! ```text
//! cargo build -p durable-examples --bin approval-workflow
//! durable serve --function approval-workflow=target/debug/approval-workflow &
//! durable invoke approval-workflow '{"request_id":"exp-7","employee":"sam","amount_cents":125000,
//!     "approver":"maria","escalate_to":"cfo"}' --async
//! durable history ARN     # shows the waiting callback and how to answer it:
//! durable callback heartbeat CALLBACK_ID                          # still reviewing
//! durable callback succeed CALLBACK_ID '{"approved":true,"by":"maria"}'
//! ```
//!
//! With `durable serve --skip-time`, nobody answering makes the clock jump to each timeout: the
//! request escalates after the 2 h heartbeat timeout and is rejected by policy 12 h later, at once.
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin approval-workflow`, then deploy it as a
//! durable function (see `deploy/`). An execution may last 20 h (8 h, then 12 h for the escalation):
//! deploy it with an `ExecutionTimeout` above that (the template's default is one hour); the local
//! service's default, 24 h, is enough. Tests: `examples/tests/approval.rs`.

use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error, ErrorKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long the first approver has to answer: a working day.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// How long a reviewer may go without a heartbeat before the request is considered forgotten.
pub const APPROVAL_HEARTBEAT: Duration = Duration::from_secs(2 * 3600);
/// How long the escalation approver has to answer.
pub const ESCALATION_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// Who decided when nobody answered.
pub const POLICY_DECIDER: &str = "policy:no-answer";

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpenseRequest {
    /// The request's id.
    pub request_id: String,
    /// Who asks to be reimbursed.
    pub employee: String,
    /// The amount in cents.
    pub amount_cents: u64,
    /// Who approves first.
    pub approver: String,
    /// Who decides when the approver does not answer in time.
    pub escalate_to: String,
}

/// An approver's answer, the JSON an approver's system sends as the callback's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Approved or not.
    pub approved: bool,
    /// Who answered.
    pub by: String,
    /// Why, optionally.
    #[serde(default)]
    pub note: Option<String>,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The expense is reimbursed.
    Approved,
    /// It is not.
    Rejected,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The request's id.
    pub request_id: String,
    /// The decision.
    pub decision: Decision,
    /// Who decided ([`POLICY_DECIDER`] when nobody answered).
    pub decided_by: String,
    /// True when the first approver did not answer in time.
    pub escalated: bool,
}

/// Files the request in the expense system (a step: it runs once, replay returns its record).
#[durable_step]
pub async fn file_request(request: ExpenseRequest) -> Result<String, Error> {
    if request.amount_cents == 0 {
        return Err(DurableError::with_type("InvalidRequest", "an expense of zero needs no approval").into());
    }
    Ok(format!("ticket-{}", request.request_id))
}

/// Tells the employee and the approver chain that the first approver did not answer.
#[durable_step]
pub async fn notify_escalation(request_id: String, escalate_to: String) -> Result<(), Error> {
    eprintln!("request {request_id}: no answer in time, escalated to {escalate_to}");
    Ok(())
}

/// Books the decision in the expense system.
#[durable_step]
pub async fn book_decision(ticket: String, outcome: Outcome) -> Result<(), Error> {
    eprintln!("{ticket}: {:?} by {}", outcome.decision, outcome.decided_by);
    Ok(())
}

/// The workflow.
#[durable_workflow]
pub async fn approve_expense(ctx: DurableContext, request: ExpenseRequest) -> Result<Outcome, Error> {
    let ticket = file_request(request.clone()).await?;

    // First approver: 8 h to answer, and a heartbeat at least every 2 h while reviewing.
    let (who, id) = (request.approver.clone(), request.request_id.clone());
    let first: Result<Answer, DurableError> = ctx
        .wait_for_callback(move |callback_id, _| async move {
            // The submitter is a step: it may do I/O (send the e-mail with the callback id).
            eprintln!("request {id}: {who}, please answer callback {callback_id}");
            Ok::<_, Error>(())
        })
        .name("approval")
        .timeout(APPROVAL_TIMEOUT)
        .heartbeat_timeout(APPROVAL_HEARTBEAT)
        .await;

    let (answer, escalated) = match first {
        Ok(answer) => (Some(answer), false),
        // Timed out (no answer, or the reviewer stopped sending heartbeats): escalate.
        Err(error) if error.kind() == ErrorKind::CallbackTimedOut => {
            notify_escalation(request.request_id.clone(), request.escalate_to.clone()).await?;
            let (who, id) = (request.escalate_to.clone(), request.request_id.clone());
            let second: Result<Answer, DurableError> = ctx
                .wait_for_callback(move |callback_id, _| async move {
                    eprintln!("request {id} (escalated): {who}, please answer callback {callback_id}");
                    Ok::<_, Error>(())
                })
                .name("escalation")
                .timeout(ESCALATION_TIMEOUT)
                .await;
            match second {
                Ok(answer) => (Some(answer), true),
                Err(error) if error.kind() == ErrorKind::CallbackTimedOut => (None, true),
                Err(error) => return Err(error.into()),
            }
        }
        // The approver's system answered with a failure: that is the workflow's error.
        Err(error) => return Err(error.into()),
    };

    let outcome = match answer {
        Some(answer) => Outcome {
            request_id: request.request_id,
            decision: if answer.approved { Decision::Approved } else { Decision::Rejected },
            decided_by: answer.by,
            escalated,
        },
        // Nobody answered: never approve money by default.
        None => Outcome {
            request_id: request.request_id,
            decision: Decision::Rejected,
            decided_by: POLICY_DECIDER.to_owned(),
            escalated,
        },
    };
    book_decision(ticket, outcome.clone()).await?;
    Ok(outcome)
}
