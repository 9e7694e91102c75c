//! Durable, replayable workflows for AWS Lambda durable functions.
//!
//! A durable function survives crashes, timeouts and long waits because every operation it runs is
//! checkpointed to the Lambda durable-execution service. When the service invokes the function again
//! (after a wait, a retry delay, or a crash), the handler runs from the top and every operation that
//! already has a recorded outcome returns it at once instead of running again.
//!
//! # Quick start
//!
//! ```no_run
//! use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
//! use std::time::Duration;
//!
//! #[durable_step]
//! async fn greeting(name: String) -> Result<String, Error> {
//!     Ok(format!("Hello, {name}!")) // any I/O: runs once, replays return the recorded value
//! }
//!
//! #[durable_workflow]
//! async fn greet(ctx: DurableContext, name: String) -> Result<String, Error> {
//!     let greeting = greeting(name).await?; // step "greeting"
//!     // The invocation suspends here; the service re-invokes the function a minute later.
//!     ctx.wait(Duration::from_secs(60)).name("pause").await?;
//!     Ok(greeting)
//! }
//!
//! # #[cfg(feature = "lambda")]
//! #[tokio::main]
//! async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
//!     durable_runtime::lambda::run(greet).await
//! }
//! # #[cfg(not(feature = "lambda"))]
//! # fn main() { let _ = greet; }
//! ```
//!
//! The macros expand to the builder API, which works on its own too:
//! `ctx.step(|_| async { .. }).name("greeting").await?`.
//!
//! Test the same handler in-process with `testing::TestRunner` (feature `testing`, for
//! `[dev-dependencies]`), which re-invokes it the way the service does and skips the waits, or end
//! to end over HTTP on the local durable service of the `durable-local` crate, which invokes it
//! through `lambda::service` exactly as on AWS.
//!
//! # The determinism contract
//!
//! Replay works because the handler takes the same path through its durable operations every time:
//!
//! - **Operations are identified by position.** Each context numbers the operations created in it,
//!   in creation order: `1`, `2`, … at the root, `2-1`, `2-2`, … inside the child context at position
//!   2. The operation id sent to the service is the hex SHA-256 of that path (64 characters at any
//!   depth; the same scheme as the official Rust SDK). Create operations in the same order on every
//!   run; branch only on values that come from durable operations or the input.
//! - **Everything non-deterministic goes in a step.** The clock, randomness, network and file I/O
//!   belong in step bodies, whose results are recorded.
//! - **Iterate in a fixed order.** `HashMap` and `HashSet` iterate in an order that changes from one
//!   process to the next; a loop over one that starts operations starts them in another order on
//!   replay. Use `BTreeMap`/`BTreeSet`/`IndexMap` or sort (`#[durable_workflow]` rejects hash
//!   iteration at compile time).
//! - **Keep state in local variables.** A workflow body computes only from its input and from
//!   durable results. State a step body mutates (an `Arc<AtomicU64>` bumped inside a step) changes
//!   only on the run where the body executes, not on replay; process-global state (statics,
//!   `thread_local!`, a `OnceCell`) survives between invocations of a warm Lambda process. Return
//!   values from steps instead.
//! - **Replay is checked, by position.** Before a recorded outcome is used, its type, subtype and
//!   name must match what the code creates at that position; otherwise the execution fails with
//!   `NonDeterministicExecutionError`, naming the recorded and the new operation, even if the handler
//!   ignores the error. The check cannot see arguments: two steps of the same name in swapped order
//!   (a loop in hash order, say) pass it and replay each other's results, which is why the rules
//!   above matter.
//!
//! # Layers
//!
//! A module imports only from its own layer and the layers listed before it; nothing imports
//! upwards, so there are no import circles. `tests/it/layers.rs` reads this list and checks every
//! `crate::` path in `src` against it.
//!
//! 1. `protocol`: the service's wire types and limits.
//! 2. `error`, `retry`: the error type and retry strategies.
//! 3. `checkpoint`: the client boundary ([`checkpoint::CheckpointClient`]) and the request queue,
//!    over `aws-sdk-lambda` (feature `aws`).
//! 4. `plugin`: lifecycle hooks.
//! 5. `engine`: replay state, operation ids, nondeterminism detection, suspension.
//! 6. `context`, `ops`, `dsl`, `logging`: [`DurableContext`] and the operations, what the macros
//!    expand to, replay-aware logs.
//! 7. `invocation`: one invocation, from the envelope to the output.
//! 8. `lambda`, `__private`: the Lambda entry point (feature `lambda`) and the macros' door.
//! 9. `testing`, `checkpoint::memory`, `protocol::history`: the in-memory service, the test runner
//!    and history events (feature `testing`, never compiled into a bootstrap).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![doc(test(attr(deny(warnings))))]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod checkpoint;
pub(crate) mod context;
pub(crate) mod dsl;
mod engine;
pub(crate) mod error;
pub(crate) mod invocation;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod logging;
pub mod ops;
pub mod plugin;
pub mod protocol;
pub mod retry;
#[cfg(feature = "testing")]
pub mod testing;

pub use checkpoint::Batching;
pub use context::DurableContext;
pub use dsl::{unchecked, StepCall, Unchecked, WorkflowCall, NOT_IN_WORKFLOW_ERROR};
pub use error::{DurableError, Error, ErrorKind, CALLBACK_HEARTBEAT_ERROR_TYPE, CALLBACK_TIMEOUT_ERROR_TYPE};
pub use invocation::{envelope_from_slice, invoke, invoke_envelope, Handler, InvocationError, Options};
pub use ops::{StepContext, StepSemantics};
pub use plugin::Plugin;

/// The repository's README, compiled and run as doctests so that its examples stay true. Its
/// snippets define functions without a caller, so dead code is allowed there.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
#[doc(test(attr(allow(dead_code))))]
struct ReadmeDoctests;

/// Turns an `async fn(ctx: DurableContext, input: I) -> Result<O, E>` into a durable workflow: a
/// Lambda handler, a test-runner handler, and a sub-workflow callable from other workflows.
///
/// ```no_run
/// use durable_runtime::{durable_step, durable_workflow, DurableContext, Error};
/// use serde::{Deserialize, Serialize};
/// use std::time::Duration;
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Order { id: u32, amount: u32 }
///
/// #[derive(Serialize, Deserialize)]
/// struct Receipt { order: u32 }
///
/// #[durable_step]
/// async fn reserve(order: Order) -> Result<u32, Error> {
///     Ok(order.id) // any I/O
/// }
///
/// #[durable_step(retry = exponential(max_attempts = 5, initial = "1s", max = "1m"), semantics = at_most_once)]
/// async fn charge(order: Order) -> Result<Receipt, Error> {
///     Ok(Receipt { order: order.id }) // any I/O
/// }
///
/// #[durable_workflow]
/// async fn place_order(ctx: DurableContext, order: Order) -> Result<Receipt, Error> {
///     let _held = reserve(order.clone()).await?;  // step "reserve"
///     ctx.wait(Duration::from_secs(60)).await?;   // a durable wait
///     let receipt = charge(order).await?;         // step "charge", retried per its attribute
///     Ok(receipt)
/// }
///
/// # #[cfg(feature = "lambda")]
/// #[tokio::main]
/// async fn main() -> Result<(), durable_runtime::lambda::lambda_runtime::Error> {
///     durable_runtime::lambda::run(place_order).await
/// }
/// # #[cfg(not(feature = "lambda"))]
/// # fn main() {}
/// ```
///
/// Called by the runtime (`lambda::run(place_order)`, `testing::TestRunner::new(place_order)`), the
/// body runs in the root context. Awaited inside another workflow as `place_order(ctx.clone(),
/// order).await?`, it runs as a **sub-workflow**: a child context named `place_order`, whose operations
/// are nested under it and whose recorded result is replayed without running the body again.
///
/// The awaited call yields `Result<O, durable_runtime::Error>`; the error is a boxed [`DurableError`]
/// that keeps the `ErrorType` (the short type name of `E`) and message, live and on replay.
///
/// # Equivalent code without the macro
///
/// ```no_run
/// # use durable_runtime::{DurableContext, Error, WorkflowCall};
/// # use std::time::Duration;
/// fn place_order(ctx: DurableContext, order: u32) -> WorkflowCall<Result<u32, Error>> {
///     WorkflowCall::new("place_order", ctx, move |ctx: DurableContext| async move {
///         ctx.wait(Duration::from_secs(60)).await?;
///         Ok(order)
///     })
/// }
/// # fn main() { let _ = place_order; }
/// ```
///
/// plus compile-time assertions that `I: Deserialize`, `O: Serialize + Deserialize` and
/// `E: Into<Error>`, the determinism checks below, and every `.await` of the body routed through a
/// check that it is a durable operation.
///
/// # Arguments
///
/// | argument | default | meaning |
/// |---|---|---|
/// | `name = "..."` | the function's name | the child context's name when it runs as a sub-workflow |
/// | `crate = "path"` | `::durable_runtime` | where the runtime crate is, if renamed |
///
/// # Compile-time checks
///
/// The signature must be `async fn(ctx: DurableContext, input: I) -> Result<O, E>`, without generics,
/// with `I: Deserialize`, `O: Serialize + Deserialize` and `E: Into<durable_runtime::Error>`.
///
/// The body (closures and async blocks included) runs again on every replay, so it must be
/// deterministic. It may not read the clock (`SystemTime::now`, `Instant::now`, `chrono`'s
/// `Utc::now`/`Local::now`, `time::OffsetDateTime::now_utc`), draw random values (`rand::random`,
/// `thread_rng`, `rand::rng`, `OsRng`, `fastrand`, `Uuid::new_v4`/`now_v7`), touch `std::env`,
/// `std::fs`, `std::net` or `std::process`, spawn or sleep (`std::thread::spawn`/`sleep`,
/// `tokio::spawn`/`spawn_blocking`, `tokio::time::sleep`/`timeout`/`interval`), race futures
/// (`tokio::select!`, `futures::select!`) or use mutable statics. Each has its own message saying
/// where the code belongs. The rules are lexical: a function of your own named `now()` is not flagged.
///
/// Nor may it iterate a `HashMap` or `HashSet` (a `for` loop over one, or `iter`, `keys`, `values`,
/// `into_iter`, `drain`, ... on one or on a reference to one, the workflow's input included): hash
/// order changes from one process to the next, so a loop that starts operations could start them in
/// another order on replay. Use a `BTreeMap`/`BTreeSet` or an `IndexMap`, or sort; lookups are fine.
/// This check is by type, so it sees through variables and references, but not through other
/// containers (`Arc<HashMap<..>>`) or iterator adapters stored in a variable.
///
/// Process-global state is rejected too: a method call on a static (a `SCREAMING_CASE` path) whose
/// type is an atomic, a `Mutex`/`RwLock` (std or tokio), a `OnceLock`/`LazyLock`/`OnceCell` or a
/// `thread_local!` key, and `thread_local!` or such a static declared in the body. A warm Lambda
/// process keeps them between invocations, and replay does not restore them. Constants and
/// immutable statics are fine.
///
/// ```compile_fail,E0277
/// # use durable_runtime::{durable_workflow, DurableContext, Error};
/// # use std::collections::HashMap;
/// #[durable_workflow]
/// async fn total(_ctx: DurableContext, prices: HashMap<String, u32>) -> Result<u32, Error> {
///     let mut sum = 0;
///     for (_item, price) in &prices { // error: iterating a `HashMap` follows hash order
///         sum += price;
///     }
///     Ok(sum)
/// }
/// # fn main() { let _ = total; }
/// ```
///
/// ```compile_fail
/// # use durable_runtime::{durable_workflow, DurableContext, Error};
/// #[durable_workflow]
/// async fn stamp(_ctx: DurableContext, id: u32) -> Result<u64, Error> {
///     let now = std::time::SystemTime::now(); // error: reads the clock, which changes on replay
///     Ok(now.elapsed()?.as_secs() + u64::from(id))
/// }
/// # fn main() { let _ = stamp; }
/// ```
///
/// ```compile_fail
/// # use durable_runtime::{durable_workflow, DurableContext, Error};
/// #[durable_workflow]
/// async fn racy(_ctx: DurableContext, id: u32) -> Result<u32, Error> {
///     tokio::spawn(async move { id }); // error: runs work outside the replayed control flow
///     Ok(id)
/// }
/// # fn main() { let _ = racy; }
/// ```
///
/// Every `.await` must be a durable operation: a `#[durable_step]` or `#[durable_workflow]` call, or
/// a `ctx` operation (`step`, `wait`, `run_in_child_context`). Anything else would run again on every
/// replay, so it does not compile, with a message saying to move the call into a step:
///
/// ```compile_fail,E0277
/// # use durable_runtime::{durable_workflow, DurableContext, Error};
/// async fn fetch_price(id: u32) -> u32 { id * 100 }
///
/// #[durable_workflow]
/// async fn price(_ctx: DurableContext, id: u32) -> Result<u32, Error> {
///     Ok(fetch_price(id).await) // error: not a durable operation
/// }
/// # fn main() { let _ = price; }
/// ```
///
/// ```compile_fail,E0277
/// # use durable_runtime::{durable_workflow, DurableContext, Error};
/// struct Order; // not `Deserialize`
///
/// #[durable_workflow]
/// async fn place(_ctx: DurableContext, order: Order) -> Result<(), Error> { // error: input not `Deserialize`
///     let _ = order;
///     Ok(())
/// }
/// # fn main() { let _ = place; }
/// ```
///
/// **The reviewed opt-out** is [`unchecked`]: `unchecked(expr)` exempts one expression from every
/// check, visibly, for what is safe to repeat on each replay. Its result is not recorded.
#[cfg(feature = "macros")]
#[doc(inline)]
pub use durable_macros::durable_workflow;

/// Turns an `async fn(args..) -> Result<T, E>` into a checkpointed step with a compile-time name.
///
/// Calling the function returns a [`StepCall`]; awaiting it inside a workflow runs the step in the
/// context it is awaited in (the workflow, a sub-workflow or a child context): once its outcome is
/// recorded, replay returns it without running the body again. The step's name is the function's
/// identifier (override with `name = "..."`), so it is stable across builds and shows in the history.
/// A step called twice gives two operations with the same name and distinct ids.
///
/// ```no_run
/// use durable_runtime::{durable_step, Error};
///
/// #[durable_step(retry = exponential(max_attempts = 5, initial = "1s", max = "1m"), semantics = at_most_once)]
/// async fn charge(order_id: u32, amount: u32) -> Result<String, Error> {
///     Ok(format!("receipt-{order_id}-{amount}")) // any I/O
/// }
/// # fn main() { let _ = charge; }
/// ```
///
/// Awaiting it yields `Result<T, DurableError>`, as every durable operation does. Whatever `E` is, a
/// failure is recorded as its short type name (`ErrorType`) and its `Display` chain (message), and the
/// [`DurableError`] yielded is rebuilt from that record, so the live run and every replay see the same
/// value (`error_type()`, `message()`); `?` turns it into [`Error`]. The original `E` value cannot be
/// restored on replay, so it is not returned on the live run either.
///
/// Awaited outside a workflow, a step yields an error of type
/// [`NOT_IN_WORKFLOW_ERROR`] without running. To **unit-test a body**,
/// call [`StepCall::run_body`]: `charge(1, 2).run_body().await` runs it once, without durability.
///
/// # Equivalent code without the macro
///
/// ```no_run
/// # use durable_runtime::{Error, StepCall, StepSemantics, retry::RetryStrategy};
/// # use std::time::Duration;
/// fn charge(order_id: u32, amount: u32) -> StepCall<Result<String, Error>> {
///     StepCall::<Result<String, Error>>::new("charge", async move { Ok(format!("receipt-{order_id}-{amount}")) })
///         .retry(
///             RetryStrategy::exponential()
///                 .max_attempts(5)
///                 .initial_delay(Duration::from_millis(1000))
///                 .max_delay(Duration::from_millis(60000)),
///         )
///         .semantics(StepSemantics::AtMostOncePerRetry)
/// }
/// # fn main() { let _ = charge; }
/// ```
///
/// which, awaited in a workflow, is `ctx.step(|_| body).name("charge").retry(..).semantics(..)` on the
/// context it is awaited in.
///
/// # Arguments
///
/// | argument | default | meaning |
/// |---|---|---|
/// | `name = "..."` | the function's name | the operation name, recorded and checked on replay |
/// | `retry = exponential(max_attempts = 6, initial = "5s", max = "1m", factor = 2.0, jitter = full)` | this | exponential backoff; every setting optional |
/// | `retry = linear(initial = "1s", increment = "2s", max = "1m", max_attempts = 6, jitter = none)` | | `initial` and `increment` required |
/// | `retry = fixed(delay = "5s", max_attempts = 6, jitter = none)` | | `delay` required |
/// | `retry = none` | | the first failure is final |
/// | `semantics = at_least_once \| at_most_once` | `at_least_once` | see [`StepSemantics`] |
/// | `compensate = undo` | none | saga: once the step succeeded, `undo(result.clone())` is registered and runs if the workflow fails later, last in, first out, as a checkpointed operation; `undo` is the path of a `#[durable_step]` taking the step's output type (see [`DurableContext::compensate`]) |
/// | `crate = "path"` | `::durable_runtime` | where the runtime crate is, if renamed |
///
/// Durations are parsed at compile time: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`
/// (`"500ms"`, `"5s"`, `"1m"`, `"2h"`); delays are rounded up to whole seconds by the service.
///
/// # Compile-time checks
///
/// A step body is not replayed, so it must not await durable operations (another step, a wait, a
/// `ctx` operation): doing so fails the execution with a `NestedOperationError` naming both, before
/// anything is recorded for the inner operation. This is checked when the operation is awaited, not
/// at compile time, because whether an awaited value is a durable operation is a matter of types the
/// macro cannot see, and builder closures (`ctx.step(|_| ..)`) are not macro input at all. To reuse a
/// step's logic inside another, call its body as a plain function with `.run_body()`.
///
/// The function must be `async`, without generics, `self`, borrowed or `&mut` arguments (writes made
/// in a step are lost on replay) or a `DurableContext` argument (use a sub-workflow); `T` must be
/// `Serialize + Deserialize` and `E: Into<durable_runtime::Error>`. Arguments are checked too.
///
/// ```compile_fail
/// # use durable_runtime::{durable_step, Error};
/// #[durable_step]
/// async fn bump(counter: &mut u32) -> Result<(), Error> { // error: `&mut` writes are lost on replay
///     *counter += 1;
///     Ok(())
/// }
/// # fn main() { let _ = bump; }
/// ```
///
/// ```compile_fail,E0277
/// # use durable_runtime::{durable_step, Error};
/// struct Receipt; // not `Serialize`
///
/// #[durable_step]
/// async fn charge(id: u32) -> Result<Receipt, Error> { // error: output not `Serialize`
///     let _ = id;
///     Ok(Receipt)
/// }
/// # fn main() { let _ = charge; }
/// ```
///
/// ```compile_fail
/// # use durable_runtime::{durable_step, Error};
/// #[durable_step(retry = fixed(delay = "5 seconds"))] // error: invalid duration
/// async fn charge(id: u32) -> Result<u32, Error> {
///     Ok(id)
/// }
/// # fn main() { let _ = charge; }
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use durable_macros::durable_step;
