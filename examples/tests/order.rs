//! The order workflow under test: it runs to its receipt, and it comes through every cell of the
//! fault matrix (a crash before and after each checkpoint, a service error, a stale token, a lost
//! response and added latency at every position) with the same result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::order::{place_order, Order, Receipt};
use durable_runtime::testing::{CallbackAction, ExecutionStatus, TestRunner};
use serde_json::json;

/// The approver answers every approval request.
fn approver() -> CallbackAction {
    CallbackAction::succeed(json!({ "approved_by": "ada" }))
}

fn order() -> Order {
    Order { order_id: "42".to_owned(), amount: 1700 }
}

#[tokio::test]
async fn an_approved_order_gets_its_receipt() {
    let result = TestRunner::new(place_order).on_callback("*", approver()).run(order()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded);
    let receipt: Receipt = result.output().unwrap();
    assert_eq!(receipt.approved_by, "ada");
    assert!(receipt.payment.starts_with("payment-1700-"), "{}", receipt.payment);
}

#[tokio::test]
async fn the_order_workflow_survives_every_fault_at_every_checkpoint() {
    let report = TestRunner::new(place_order).on_callback("*", approver()).fault_matrix(order()).await.unwrap();
    assert!(report.cells() > 20, "{report}");
    report.assert_ok().unwrap();
}
