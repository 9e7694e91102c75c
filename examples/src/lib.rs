//! Example durable workflows, one module per pattern. Each binary in `src/bin` is a Lambda bootstrap
//! serving one of them, each module's docs say how to run it on `durable serve`, and each has its
//! tests in `tests/` (happy path, failure path, replay audit, fault matrix).
//! `examples/order-local.rs` runs the order workflow end to end on the embedded local service.
//!
//! | module | pattern | bootstrap |
//! | --- | --- | --- |
//! | [`order`] | steps, a callback, a wait, a sub-workflow | `order-workflow` |
//! | [`approval`] | human approval with timeout, heartbeat and escalation | `approval-workflow` |
//! | [`saga`] | bookings compensated in reverse order | `trip-booking` |
//! | [`fanout`] | `map` with a concurrency limit and tolerated failures | `thumbnail-batch` |
//! | [`polling`] | `wait_for_condition` with backoff and a timeout path | `report-export` |
//! | [`agent`] | an AI agent loop with tools and an approval | `support-agent` |
//! | [`chained`] | one durable function invoking another | `invoice-workflow`, `tax-quote` |
//! | [`reminder`] | `wait_until` a timestamp | `reminder-workflow` |

pub mod agent;
#[cfg(feature = "live-model")]
mod agent_live;
pub mod approval;
pub mod chained;
pub mod fanout;
pub mod order;
pub mod polling;
pub mod reminder;
pub mod saga;
