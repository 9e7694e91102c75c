//! Example durable workflows. Each binary in `src/bin` is a Lambda bootstrap serving one of them; each
//! target in `examples/` runs one end to end on the local durable service.

pub mod order;
