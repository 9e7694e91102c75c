//! Attribute macros for `durable-runtime`. Use them through `durable_runtime::{durable_workflow,
//! durable_step}`, where they are documented.
//!
//! This crate only parses, validates and generates code: every behaviour lives in `durable-runtime`,
//! reached through its hidden `__private` module (see `paths.rs`).

mod args;
mod awaits;
mod determinism;
mod errors;
mod paths;
mod signature;
mod step;
mod typed_rules;
mod workflow;

use proc_macro::TokenStream;

/// Marks an `async fn(ctx: DurableContext, input: I) -> Result<O, E>` as a durable workflow.
/// Documented on the re-export `durable_runtime::durable_workflow`.
#[proc_macro_attribute]
pub fn durable_workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    workflow::expand(args.into(), item.into()).into()
}

/// Marks an `async fn(..) -> Result<T, E>` as a checkpointed step with a compile-time name.
/// Documented on the re-export `durable_runtime::durable_step`.
#[proc_macro_attribute]
pub fn durable_step(args: TokenStream, item: TokenStream) -> TokenStream {
    step::expand(args.into(), item.into()).into()
}
