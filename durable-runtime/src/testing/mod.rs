//! The in-process test runner: runs a handler through the same invocation code path Lambda uses
//! ([`crate::invocation::invoke`]) against an in-memory service, and re-invokes it the way the
//! service would after every suspension.
//!
//! Time is skipped: when an invocation suspends, the service's virtual clock jumps to the next timer
//! (a wait's end, a retry delay), so waits and retry delays complete at once, while the recorded
//! durations and delays stay the real ones.
//!
//! ```
//! use durable_runtime::testing::{ExecutionStatus, TestRunner};
//! use durable_runtime::{DurableContext, Error};
//! use std::time::Duration;
//!
//! async fn greet(ctx: DurableContext, name: String) -> Result<String, Error> {
//!     let greeting = ctx.step(move |_| async move { Ok::<_, Error>(format!("Hello, {name}!")) }).await?;
//!     ctx.wait(Duration::from_secs(3600)).await?;
//!     Ok(greeting)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let result = TestRunner::new(greet).run("Ada").await?;
//! assert_eq!(result.status(), ExecutionStatus::Succeeded);
//! assert_eq!(result.output::<String>()?, "Hello, Ada!");
//! assert_eq!(result.invocation_count(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! Every run that ends is audited: the runner replays the finished execution once more, in a fresh
//! invocation over its final state, and fails with [`TestError::ReplayDiverged`] when the replay
//! starts an operation or runs a step body, misses a recorded operation, or ends with another
//! result. That catches what the replay-time position check cannot see: a loop in hash order over
//! steps of the same name, state a step mutated and the body reads, a helper reading the clock.
//! [`TestRunner::replay_audit`] turns it off.
//!
//! The re-invocation loop, per invocation: build the envelope ([`MemoryService::invocation_input`]),
//! invoke, record the outcome ([`MemoryService::complete_invocation`]), then
//! - the execution finished → done;
//! - the invocation failed (an invocation error such as a retryable checkpoint failure, an injected
//!   crash, or an envelope the service rejects) → re-invoke at once (after more than
//!   [`MAX_CONSECUTIVE_FAILED_INVOCATIONS`](crate::checkpoint::memory::MAX_CONSECUTIVE_FAILED_INVOCATIONS)
//!   in a row the service fails the execution);
//! - PENDING → between invocations the runner plays the rest of the world: it schedules the answers
//!   of the [callback responders](TestRunner::on_callback) for callbacks that started, runs the
//!   targets of chained invokes ([`TestRunner::register_workflow`], [`TestRunner::register_stub`]) as
//!   their own executions on the same service, and otherwise advances the clock to the next timer
//!   (a wait's end, a retry delay, a callback timeout or heartbeat timeout) or scheduled answer. The
//!   execution is re-invoked as soon as something changed for it, as the service does. With nothing
//!   left that time can wake (a callback nobody answers) the run returns with status RUNNING, and
//!   [`TestRunner::resume`] continues it after, e.g., [`TestRunner::send_callback_success`].
//!
//! ```
//! use durable_runtime::testing::{CallbackAction, TestRunner};
//! use durable_runtime::{DurableContext, Error};
//! use std::time::Duration;
//!
//! async fn approve(ctx: DurableContext, _: ()) -> Result<String, Error> {
//!     let callback = ctx.create_callback::<String>().name("approval").await?;
//!     Ok(callback.result().await?)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runner = TestRunner::new(approve)
//!     .on_callback("approval", CallbackAction::succeed("yes").after(Duration::from_secs(60)));
//! let result = runner.run(()).await?;
//! assert_eq!(result.output::<String>()?, "yes");
//! # Ok(())
//! # }
//! ```

mod audit;
mod callbacks;
mod faults;
mod result;
mod world;

use world::World;

pub use crate::checkpoint::memory::{
    ChainedInvocation, CrashPoint, ExecutionStatus, Fault, FaultHit, HitUpdate, InvocationRecord, MemoryService,
};
pub use crate::protocol::history::HistoryEvent;
pub use callbacks::CallbackAction;
pub use faults::{FaultCell, FaultReport};
pub(crate) use result::find_callback;
pub use result::{TestError, TestResult};

use crate::checkpoint::{BoxFuture, CheckpointClient};
use crate::invocation::{invoke, Handler, InvocationError, Options};
use crate::protocol::ErrorObject;
use callbacks::Responders;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use std::sync::{Arc, Mutex, MutexGuard};

/// Default bound on the invocations of one run.
pub const DEFAULT_MAX_INVOCATIONS: usize = 100;

/// Default function name in the execution ARN.
pub const DEFAULT_FUNCTION_NAME: &str = "test-function";

/// `ErrorType` a chained invoke of a function nobody registered fails with.
pub const FUNCTION_NOT_FOUND_ERROR_TYPE: &str = "ResourceNotFoundException";

/// One invocation of a durable handler: the envelope in, the output envelope out.
type InvokeFn = Arc<
    dyn Fn(serde_json::Value, Arc<dyn CheckpointClient>) -> BoxFuture<Result<serde_json::Value, InvocationError>>
        + Send
        + Sync,
>;

/// A plain function standing in for a chained invoke target.
type StubFn = Arc<dyn Fn(serde_json::Value) -> Result<serde_json::Value, ErrorObject> + Send + Sync>;

/// A registered chained invoke target.
#[derive(Clone)]
enum Target {
    Workflow(InvokeFn),
    Stub(StubFn),
}

fn invoke_fn<H, I, O>(handler: Arc<H>, options: Options) -> InvokeFn
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    Arc::new(move |event, client| {
        let (handler, options) = (handler.clone(), options.clone());
        Box::pin(async move { invoke::<H, I, O>(&*handler, event, client, &options).await })
    })
}

/// Runs a durable handler in process against a [`MemoryService`] (see the [module docs](self)).
pub struct TestRunner<H, I, O> {
    handler: Arc<H>,
    service: MemoryService,
    function_name: String,
    max_invocations: usize,
    /// The `ExecutionTimeout` of the executions the runner starts, in seconds.
    execution_timeout: u64,
    options: Options,
    replay_audit: bool,
    #[cfg_attr(not(feature = "json-logs"), allow(dead_code))]
    capture_logs: bool,
    targets: HashMap<String, Target>,
    responders: Mutex<Responders>,
    before_run: Option<Arc<dyn Fn() + Send + Sync>>,
    types: PhantomData<fn(I) -> O>,
}

impl<H, I, O> fmt::Debug for TestRunner<H, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut targets: Vec<_> = self.targets.keys().collect();
        targets.sort();
        f.debug_struct("TestRunner")
            .field("service", &self.service)
            .field("function_name", &self.function_name)
            .field("max_invocations", &self.max_invocations)
            .field("targets", &targets)
            .finish_non_exhaustive()
    }
}

impl<H, I, O> TestRunner<H, I, O>
where
    H: Handler<I, O>,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    /// A runner for `handler` on a fresh [`MemoryService`].
    pub fn new(handler: H) -> Self {
        Self {
            handler: Arc::new(handler),
            service: MemoryService::new(),
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            max_invocations: DEFAULT_MAX_INVOCATIONS,
            execution_timeout: crate::checkpoint::memory::DEFAULT_EXECUTION_TIMEOUT_SECONDS,
            options: Options::default(),
            replay_audit: true,
            capture_logs: false,
            targets: HashMap::new(),
            responders: Mutex::default(),
            before_run: None,
            types: PhantomData,
        }
    }

    /// Runs against `service` instead (keep a clone to inject faults or inspect requests).
    #[must_use]
    pub fn with_service(mut self, service: MemoryService) -> Self {
        self.service = service;
        self
    }

    /// The function name in the execution ARN (default [`DEFAULT_FUNCTION_NAME`]).
    #[must_use]
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = name.into();
        self
    }

    /// The execution timeout of the executions this runner starts (default 24 hours, as on `durable
    /// serve`; whole seconds, at least one, at most a year on AWS). As the service does, an execution
    /// still running when time reaches its start plus this timeout ends TIMED_OUT, so a workflow
    /// that waits longer than its function's timeout fails here as it would when deployed.
    #[must_use]
    pub fn execution_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.execution_timeout = timeout.as_secs().max(1);
        self
    }

    /// Gives up with [`TestError::MaxInvocations`] after `n` invocations of one execution in one
    /// call (default [`DEFAULT_MAX_INVOCATIONS`]).
    #[must_use]
    pub fn max_invocations(mut self, n: usize) -> Self {
        self.max_invocations = n;
        self
    }

    /// Turns the replay audit off (on by default): after a run ends, the runner replays the whole
    /// execution once more from its final state and fails with [`TestError::ReplayDiverged`] when
    /// the replay starts anything, runs a step body, misses a recorded operation, or ends with
    /// another result (see the [module docs](self)). Turn it off only for a workflow that is
    /// nondeterministic on purpose, such as a test of the runtime's own nondeterminism detection.
    #[must_use]
    pub fn replay_audit(mut self, on: bool) -> Self {
        self.replay_audit = on;
        self
    }

    /// Called before each run of a [fault matrix](Self::fault_matrix), the fault-free one included:
    /// resets what the workflow shares across executions (counters, fakes of external systems), so
    /// each run starts from the same world.
    #[must_use]
    pub fn before_each_run(mut self, reset: impl Fn() + Send + Sync + 'static) -> Self {
        self.before_run = Some(Arc::new(reset));
        self
    }

    /// The runtime options every invocation uses.
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Captures the `tracing` records of each run as JSON lines ([`TestResult::logs`]), through a
    /// [`JsonLayer`](crate::logging::JsonLayer) that is the subscriber of the run only (records at
    /// `DEBUG` and above).
    #[cfg(feature = "json-logs")]
    #[must_use]
    pub fn capture_logs(mut self) -> Self {
        self.capture_logs = true;
        self
    }

    /// Answers every callback named `name` (`"*"`: any callback) with `action` when it starts. The
    /// callback inside a wait-for-callback goes by the wait-for-callback's name. Each responder answers
    /// one callback; register it again for more. A callback takes the first unused responder that
    /// matches, and when that one only heartbeats, the next matching one too.
    #[must_use]
    pub fn on_callback(self, name: impl Into<String>, action: CallbackAction) -> Self {
        self.lock_responders().add(Responders::name_matcher(name.into()), action);
        self
    }

    /// Like [`on_callback`](Self::on_callback) for callbacks whose name (empty when unnamed)
    /// satisfies `matches`.
    #[must_use]
    pub fn on_callback_matching(
        self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        action: CallbackAction,
    ) -> Self {
        self.lock_responders().add(Arc::new(matches), action);
        self
    }

    /// Registers the durable workflow `handler` as the chained invoke target `function_name`. When a
    /// workflow invokes that function (by name or ARN), the service starts an execution of `handler`
    /// with the invoke's input, the runner runs it to completion like any execution, and its result
    /// or error completes the invoke.
    #[must_use]
    pub fn register_workflow<H2, I2, O2>(mut self, function_name: impl Into<String>, handler: H2) -> Self
    where
        H2: Handler<I2, O2>,
        I2: DeserializeOwned + Send + 'static,
        O2: Serialize + Send + 'static,
    {
        let target = Target::Workflow(invoke_fn(Arc::new(handler), self.options.clone()));
        self.targets.insert(function_name.into(), target);
        self
    }

    /// Registers a plain function as the chained invoke target `function_name`: it gets the invoke's
    /// input as JSON (`null` when absent) and its `Ok` value (as JSON text) or `Err` error completes
    /// the invoke. The service still records an execution for it.
    #[must_use]
    pub fn register_stub(
        mut self,
        function_name: impl Into<String>,
        stub: impl Fn(serde_json::Value) -> Result<serde_json::Value, ErrorObject> + Send + Sync + 'static,
    ) -> Self {
        self.targets.insert(function_name.into(), Target::Stub(Arc::new(stub)));
        self
    }

    /// The service, for fault injection and inspection.
    pub fn service(&self) -> &MemoryService {
        &self.service
    }

    /// Answers the callback `callback_id` with success; the result is `value` as JSON text.
    pub fn send_callback_success(
        &self,
        callback_id: &str,
        value: impl Into<serde_json::Value>,
    ) -> Result<(), TestError> {
        Ok(self.service.callback_success(callback_id, Some(value.into().to_string()))?)
    }

    /// Answers the callback `callback_id` with failure.
    pub fn send_callback_failure(&self, callback_id: &str, error: ErrorObject) -> Result<(), TestError> {
        Ok(self.service.callback_failure(callback_id, error)?)
    }

    /// Sends a heartbeat for the callback `callback_id`.
    pub fn send_callback_heartbeat(&self, callback_id: &str) -> Result<(), TestError> {
        Ok(self.service.callback_heartbeat(callback_id)?)
    }

    /// Starts an execution with `input` (serialized to JSON) and runs it until it finishes, or
    /// suspends with nothing that time can wake.
    pub async fn run<T: Serialize>(&self, input: T) -> Result<TestResult, TestError> {
        let payload = serde_json::to_string(&input).map_err(|e| TestError::Input(e.to_string()))?;
        self.run_payload(Some(payload)).await
    }

    /// Like [`Self::run`] with the raw `InputPayload` text (`None` leaves it out of the envelope).
    pub async fn run_payload(&self, payload: Option<String>) -> Result<TestResult, TestError> {
        let arn = self.start(payload)?;
        self.resume(&arn).await
    }

    /// Starts an execution with `input` and runs it until the callback named `name` (a
    /// `create_callback` or a `wait_for_callback` of that name) waits for an answer, without letting
    /// any time pass from then on: its timeouts have not fired. Answer it with
    /// [`send_callback_success`](Self::send_callback_success) (or failure, or heartbeat) and
    /// [`resume`](Self::resume). The result's [`callback_id`](TestResult::callback_id) gives the id.
    /// Fails with [`TestError::CallbackNotPending`] when the run ends without that callback waiting.
    pub async fn run_until_callback<T: Serialize>(&self, input: T, name: &str) -> Result<TestResult, TestError> {
        let payload = serde_json::to_string(&input).map_err(|e| TestError::Input(e.to_string()))?;
        let arn = self.start(Some(payload))?;
        self.resume_until_callback(&arn, name).await
    }

    /// Starts an execution of the function under test with the runner's execution timeout.
    fn start(&self, payload: Option<String>) -> Result<String, TestError> {
        let (arn, _) =
            self.service.start_execution_named(&self.function_name, None, payload, self.execution_timeout)?;
        Ok(arn)
    }

    /// Continues the execution `arn` until the callback named `name` waits for an answer (see
    /// [`run_until_callback`](Self::run_until_callback)).
    pub async fn resume_until_callback(&self, arn: &str, name: &str) -> Result<TestResult, TestError> {
        let result = self.drive(arn, Some(name)).await?;
        if self.service.pending_callback(arn, name).is_some() {
            return Ok(result);
        }
        Err(TestError::CallbackNotPending { name: name.to_owned(), arn: arn.to_owned(), status: result.status() })
    }

    /// Continues the execution `arn` (for example after answering a callback) until it finishes or
    /// suspends with nothing that time can wake. The execution is invoked only if the service would
    /// invoke it (never invoked yet, something changed, or its last invocation failed). The
    /// invocation bound counts this call's invocations.
    pub async fn resume(&self, arn: &str) -> Result<TestResult, TestError> {
        self.drive(arn, None).await
    }

    /// Drives `arn` (see [`World::drive`]), audits its replay once it has finished, and collects the
    /// result.
    async fn drive(&self, arn: &str, until_callback: Option<&str>) -> Result<TestResult, TestError> {
        let result = self.drive_only(arn, until_callback).await?;
        // An execution the service ended (timed out, stopped) never reached its end in code, so
        // there is no finished run for a replay to reproduce.
        let ended_by_code = matches!(result.status(), ExecutionStatus::Succeeded | ExecutionStatus::Failed);
        if self.replay_audit && ended_by_code {
            audit::audit(&*self.handler, &self.service, arn)
                .await
                .map_err(|detail| TestError::ReplayDiverged { arn: arn.to_owned(), detail })?;
        }
        Ok(result)
    }

    async fn drive_only(&self, arn: &str, until_callback: Option<&str>) -> Result<TestResult, TestError> {
        let handler = invoke_fn(self.handler.clone(), self.options.clone());
        let world = World {
            service: &self.service,
            max_invocations: self.max_invocations,
            targets: &self.targets,
            responders: &self.responders,
        };
        #[cfg(feature = "json-logs")]
        if self.capture_logs {
            use tracing::instrument::WithSubscriber;
            use tracing_subscriber::layer::SubscriberExt;
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = lines.clone();
            let layer = crate::logging::JsonLayer::with_writer(move |line| {
                sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line.to_owned());
            })
            .max_level(tracing::Level::DEBUG);
            world
                .drive(arn, &handler, until_callback)
                .with_subscriber(tracing_subscriber::registry().with(layer))
                .await?;
            let logs = std::mem::take(&mut *lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            return Ok(TestResult::collect(&self.service, arn).with_logs(logs));
        }
        world.drive(arn, &handler, until_callback).await?;
        Ok(TestResult::collect(&self.service, arn))
    }

    fn lock_responders(&self) -> MutexGuard<'_, Responders> {
        self.responders.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
