//! Example durable workflows, one module per pattern. Each binary in `src/bin` is a Lambda bootstrap
//! serving one of them; each target in `examples/` runs one end to end on the local durable service.
//!
//! | module | pattern | bootstrap |
//! | --- | --- | --- |
//! | [`order`] | steps, a callback, a wait, a sub-workflow | `order-workflow` |
//! | [`approval`] | human approval with timeout, heartbeat and escalation | `approval-workflow` |

pub mod approval;
pub mod order;
