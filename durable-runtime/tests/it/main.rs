//! The integration tests of `durable-runtime`, in one test binary (one link of the AWS stack instead
//! of one per file). Each module drives the runtime through its public API.

mod audit;
mod aws_client;
mod batch;
mod batching;
mod callback_tests;
mod combinators;
mod crash;
mod engine;
mod faults;
mod layers;
mod logging;
mod nesting;
mod operations;
mod plugins;
mod saga;
mod serdes;
