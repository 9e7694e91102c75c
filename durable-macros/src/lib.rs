//! Attribute macros for `durable-runtime`. Use them through `durable_runtime::{durable_workflow, durable_step}`.
use proc_macro::TokenStream;

/// Marks an async fn as a durable workflow. Documented on the re-export in `durable-runtime`.
#[proc_macro_attribute]
pub fn durable_workflow(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Marks an async fn as a checkpointed step. Documented on the re-export in `durable-runtime`.
#[proc_macro_attribute]
pub fn durable_step(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
