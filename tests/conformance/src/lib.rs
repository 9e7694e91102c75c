//! The AWS durable-execution conformance requirements, for this runtime.
//!
//! - One handler per requirement file (`<suite>/<id>.yaml`), written from its `handler` and
//!   `invocations` prose, registered under the function name `conformance-<id>` (for example
//!   `conformance-1-1`) so that any host can look it up: the in-process test runner
//!   (`tests/conformance.rs`) now, a Lambda binary later. See [`handler`].
//! - [`matcher`]: the history and result matching rules of the conformance runner.
//! - [`pending`]: the requirements that are not run yet, each with its reason.
//! - [`callback_actions`]: a requirement's `CallbackActions`, as test-runner responders.
//! - [`targets`]: the chained-invoke targets the invoke handlers call.
//!
//! Handlers take and return JSON ([`serde_json::Value`]). What only the host can do (kill the
//! process) goes through the [`Host`] passed to every handler.

pub mod callback_actions;
pub mod logs;
pub mod matcher;
pub mod pending;
pub mod targets;

mod handlers;

use durable_runtime::{DurableContext, Error, Options};
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future a conformance handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, Error>> + Send + 'static>>;

/// What only the host running a handler can do.
pub trait Host: Send + Sync {
    /// Makes the running invocation die as if its process exited (`Runtime.ExitError`), the first
    /// time it is called in an execution; returns `false` and does nothing on later calls, so that a
    /// handler re-executed after the crash can go on.
    ///
    /// A Lambda host calls `std::process::exit` and must remember the crash somewhere that outlives
    /// the process. The test-runner host calls `MemoryService::crash`: everything the invocation
    /// has not had applied yet is lost, as with a process exit (the code after the call still runs,
    /// but nothing it sends is applied); it returns `true` when it crashed the invocation. A handler
    /// that needs its step's START on record before the crash awaits `StepContext::started` first.
    fn crash_once(&self) -> bool;

    /// Writes one line of plugin output (single-line JSON) where the host's logs go: stdout for a
    /// Lambda host (CloudWatch Logs), the run's log capture for the test-runner host, interleaved
    /// with the runtime's JSON log lines in emission order.
    fn log(&self, line: &str) {
        println!("{line}");
    }
}

/// The shared form of a [`Host`].
pub type HostRef = Arc<dyn Host>;

type Erased = dyn Fn(DurableContext, Value, HostRef) -> HandlerFuture + Send + Sync;

/// A conformance handler with its types erased: JSON in, JSON out. See [`handler`].
#[derive(Clone)]
pub struct ConformanceHandler {
    id: &'static str,
    run: Arc<Erased>,
    options: Option<fn(HostRef) -> Options>,
}

impl fmt::Debug for ConformanceHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConformanceHandler").field("id", &self.id).finish_non_exhaustive()
    }
}

impl ConformanceHandler {
    fn new(
        id: &'static str,
        run: impl Fn(DurableContext, Value, HostRef) -> HandlerFuture + Send + Sync + 'static,
    ) -> Self {
        Self { id, run: Arc::new(run), options: None }
    }

    /// The same handler, run with the runtime options `options` builds (plugins, replay logging).
    fn with_options(mut self, options: fn(HostRef) -> Options) -> Self {
        self.options = Some(options);
        self
    }

    /// The runtime options the handler must run with (its plugins, replay logging), for `host`.
    pub fn options(&self, host: HostRef) -> Options {
        self.options.map_or_else(Options::default, |options| options(host))
    }

    /// The requirement id (`1-1`).
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Runs the handler's workflow body once (one invocation's worth) in `ctx`.
    ///
    /// Call it synchronously from the runtime's `Handler::call` (as [`Self::bind`] does): handlers
    /// written with `#[durable_workflow]` decide there that they run as the root workflow.
    pub fn call(&self, ctx: DurableContext, input: Value, host: HostRef) -> HandlerFuture {
        (self.run)(ctx, input, host)
    }

    /// The handler as a workflow function for the runtime (`TestRunner::new`, `lambda::run`), with
    /// `host` bound.
    pub fn bind(&self, host: HostRef) -> impl Fn(DurableContext, Value) -> HandlerFuture + Send + Sync + 'static {
        let this = self.clone();
        move |ctx, input| this.call(ctx, input, host.clone())
    }
}

/// The prefix of every conformance function name.
pub const FUNCTION_PREFIX: &str = "conformance-";

/// The handler registered under `function_name` (`conformance-<id>`), if there is one.
pub fn handler(function_name: &str) -> Option<ConformanceHandler> {
    let id = function_name.strip_prefix(FUNCTION_PREFIX)?;
    handlers::all().into_iter().find(|h| h.id == id)
}

/// The ids of every registered handler.
pub fn handler_ids() -> Vec<&'static str> {
    handlers::all().into_iter().map(|h| h.id).collect()
}
