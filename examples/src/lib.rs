//! Example durable workflows. Each binary in `src/bin` runs one of them: on AWS Lambda when started by
//! the Lambda runtime, or end to end on the in-process durable service with `local`.

pub mod order;
