//! An order workflow: reserve stock, ask a manager to approve the order and wait for the answer (a
//! callback), wait for a cooling-off period, charge the card at most once per attempt, and confirm in
//! a sub-workflow.

use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error, StepContext};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// The order's id.
    pub order_id: String,
    /// Amount in cents.
    pub amount: u64,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The order's id.
    pub order_id: String,
    /// The stock reservation.
    pub reservation: String,
    /// Who approved the order.
    pub approved_by: String,
    /// The payment's id.
    pub payment: String,
    /// The confirmation sent to the customer.
    pub confirmation: String,
}

/// Reserves stock (a step named `reserve`).
#[durable_step]
pub async fn reserve(order: Order) -> Result<String, Error> {
    Ok(format!("reservation-{}", order.order_id))
}

/// Charges the card: at most once per attempt, three attempts, 2 s then 4 s apart (with jitter).
/// The payment provider gets the step's operation id as its idempotency key, the same in every
/// attempt, so an attempt cut off after the provider charged cannot charge twice, and the payment
/// is the same whichever attempt records it.
#[durable_step(retry = exponential(max_attempts = 3, initial = "2s", max = "1m"), semantics = at_most_once)]
pub async fn charge(amount: u64) -> Result<String, Error> {
    if amount == 0 {
        return Err(DurableError::with_type("InvalidAmount", "nothing to charge").into());
    }
    let key = StepContext::current().map(|step| step.operation_id().chars().take(12).collect::<String>());
    Ok(format!("payment-{amount}-{}", key.unwrap_or_default()))
}

/// Renders the confirmation e-mail.
#[durable_step]
pub async fn render(order_id: String) -> Result<String, Error> {
    Ok(format!("email-for-{order_id}"))
}

/// Sends it.
#[durable_step]
pub async fn send(email: String) -> Result<String, Error> {
    Ok(format!("sent:{email}"))
}

/// Confirms an order; awaited from `place_order` it runs as a sub-workflow (a child context).
#[durable_workflow]
pub async fn confirm(_ctx: DurableContext, order_id: String) -> Result<String, Error> {
    let email = render(order_id).await?;
    Ok(send(email).await?)
}

/// A manager's answer to an approval request (the callback's result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved.
    pub approved_by: String,
}

/// The callback id of an approval request, as the approval step hands it to the approvers (here:
/// a log line; in production, a message to a queue or an e-mail with a link).
pub const APPROVAL_LOG_PREFIX: &str = "approval requested, answer callback";

/// The workflow.
#[durable_workflow]
pub async fn place_order(ctx: DurableContext, order: Order) -> Result<Receipt, Error> {
    let reservation = reserve(order.clone()).await?;
    let order_id = order.order_id.clone();
    let approval: Approval = ctx
        .wait_for_callback(move |callback_id, _| async move {
            eprintln!("{APPROVAL_LOG_PREFIX} {callback_id} (order {order_id})");
            Ok::<_, Error>(())
        })
        .name("approval")
        .await?;
    ctx.wait(Duration::from_secs(60)).name("cooling-off").await?;
    let payment = charge(order.amount).await?;
    let confirmation = confirm(ctx.clone(), order.order_id.clone()).await?;
    Ok(Receipt { order_id: order.order_id, reservation, approved_by: approval.approved_by, payment, confirmation })
}
