//! What `#[durable_workflow]` and `#[durable_step]` expansions touch, and nothing else. Not a public
//! API: its contents change without notice.

/// The bound of [`assert_body_result`], public so that its diagnostics name it.
pub use crate::dsl::BodyResult;
pub use crate::dsl::{StepCall, WorkflowCall};
pub use crate::ops::step::StepSemantics;
pub use crate::retry::{Jitter, RetryStrategy};
pub use ::core::time::Duration;

use crate::dsl::Unchecked;
use crate::error::Error;

use crate::ops::callback::{CallbackResult, CreateCallback, WaitForCallback};
use crate::ops::child::ChildContext;
use crate::ops::combinators::Combinator;
use crate::ops::deterministic::{Recorded, WaitUntil};
use crate::ops::invoke::Invoke;
use crate::ops::map::Map;
use crate::ops::parallel::Parallel;
use crate::ops::step::Step;
use crate::ops::wait::Wait;
use crate::ops::wait_for_condition::WaitForCondition;
use crate::ops::with_retry::WithRetry;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A durable operation: something a workflow body may `.await`.
///
/// Every impl carries `#[diagnostic::do_not_recommend]`, so the error for a non-durable `.await` does
/// not list the implementors (a list that would change with every new operation).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a durable operation, so it cannot be awaited in a `#[durable_workflow]`",
    label = "not a durable operation: replay would run it again",
    note = "move this call into a `#[durable_step]` function and await that step instead",
    note = "durable operations are `#[durable_step]` and `#[durable_workflow]` calls and `ctx` operations; \
            for a reviewed exception, await `durable_runtime::unchecked(..)`"
)]
pub trait DurableOperation {}

#[diagnostic::do_not_recommend]
impl<R> DurableOperation for StepCall<R> {}
#[diagnostic::do_not_recommend]
impl<R> DurableOperation for WorkflowCall<R> {}
#[diagnostic::do_not_recommend]
impl<T> DurableOperation for Unchecked<T> {}
#[diagnostic::do_not_recommend]
impl<F, S> DurableOperation for Step<F, S> {}
#[diagnostic::do_not_recommend]
impl<F, S> DurableOperation for ChildContext<F, S> {}
#[diagnostic::do_not_recommend]
impl DurableOperation for Wait {}
#[diagnostic::do_not_recommend]
impl<T, F, R> DurableOperation for Map<T, F, R> {}
#[diagnostic::do_not_recommend]
impl<R> DurableOperation for Parallel<R> {}
#[diagnostic::do_not_recommend]
impl<F, Out> DurableOperation for Combinator<F, Out> {}
#[diagnostic::do_not_recommend]
impl<F> DurableOperation for WithRetry<F> {}
#[diagnostic::do_not_recommend]
impl<T, R> DurableOperation for Recorded<T, R> {}
#[diagnostic::do_not_recommend]
impl DurableOperation for WaitUntil {}
#[diagnostic::do_not_recommend]
impl<T> DurableOperation for CreateCallback<T> {}
#[diagnostic::do_not_recommend]
impl<T> DurableOperation for CallbackResult<T> {}
#[diagnostic::do_not_recommend]
impl<T, F> DurableOperation for WaitForCallback<T, F> {}
#[diagnostic::do_not_recommend]
impl<I, O> DurableOperation for Invoke<I, O> {}
#[diagnostic::do_not_recommend]
impl<S, F, W> DurableOperation for WaitForCondition<S, F, W> {}

/// What a workflow body iterates, named in a check that never runs (see [`HashOrder`]).
pub struct OrderCheck<'a, T: ?Sized>(pub &'a T);

/// Iteration in hash order: no type implements it, so the bound of
/// [`HashOrder::durable_iteration_order`] fails with this message.
#[diagnostic::on_unimplemented(
    message = "iterating a `HashMap` or `HashSet` in a `#[durable_workflow]` follows hash order, which changes from \
               one process to the next, so replay can start operations in another order; use a `BTreeMap` / \
               `BTreeSet` or an `IndexMap`, or collect the entries and sort them",
    label = "iterated in hash order",
    note = "lookups (`get`, `contains_key`, `len`) are deterministic and allowed; a reviewed, order-independent \
            use can go through `durable_runtime::unchecked(..)`"
)]
pub trait DeterministicOrder {}

/// Chosen by method resolution for hash collections and their iterators (`(&&OrderCheck(&x))`
/// matches these impls first); its bound cannot hold, which makes the iteration a compile error.
pub trait HashOrder {
    /// Never called: the check sits in an `if false` block.
    fn durable_iteration_order(self)
    where
        Self: DeterministicOrder;
}

/// Chosen for everything else: the check passes.
pub trait AnyOrder {
    /// Never called: the check sits in an `if false` block.
    fn durable_iteration_order(self);
}

impl<T: ?Sized> AnyOrder for &OrderCheck<'_, T> {
    fn durable_iteration_order(self) {}
}

/// `HashOrder` for each type, as owned, shared and mutable references.
macro_rules! hash_ordered {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)*> HashOrder for &&OrderCheck<'_, $ty> {
            fn durable_iteration_order(self) where Self: DeterministicOrder {}
        }
        impl<$($generics)*> HashOrder for &&OrderCheck<'_, &$ty> {
            fn durable_iteration_order(self) where Self: DeterministicOrder {}
        }
        impl<$($generics)*> HashOrder for &&OrderCheck<'_, &mut $ty> {
            fn durable_iteration_order(self) where Self: DeterministicOrder {}
        }
    )*};
}

use std::collections::{hash_map, hash_set, HashMap, HashSet};

hash_ordered! {
    [K, V, S] HashMap<K, V, S>;
    [T, S] HashSet<T, S>;
    ['a, K, V] hash_map::Iter<'a, K, V>;
    ['a, K, V] hash_map::IterMut<'a, K, V>;
    ['a, K, V] hash_map::Keys<'a, K, V>;
    ['a, K, V] hash_map::Values<'a, K, V>;
    ['a, K, V] hash_map::ValuesMut<'a, K, V>;
    ['a, K, V] hash_map::Drain<'a, K, V>;
    [K, V] hash_map::IntoIter<K, V>;
    [K, V] hash_map::IntoKeys<K, V>;
    [K, V] hash_map::IntoValues<K, V>;
    ['a, T] hash_set::Iter<'a, T>;
    ['a, T] hash_set::Drain<'a, T>;
    [T] hash_set::IntoIter<T>;
    ['a, T, S] hash_set::Union<'a, T, S>;
    ['a, T, S] hash_set::Intersection<'a, T, S>;
    ['a, T, S] hash_set::Difference<'a, T, S>;
    ['a, T, S] hash_set::SymmetricDifference<'a, T, S>;
}

/// A static a workflow body calls a method on, named in a check that never runs (see
/// [`GlobalState`]).
pub struct GlobalCheck<'a, T: ?Sized>(pub &'a T);

/// Process-global mutable state: no type implements it, so the bound of
/// [`GlobalState::durable_global_state`] fails with this message.
#[diagnostic::on_unimplemented(
    message = "process-global state (a static atomic, lock, cell or `thread_local!`) in a `#[durable_workflow]` \
               survives between invocations of a warm Lambda process and is not restored on replay; keep state \
               in local variables computed from the input and from durable results",
    label = "process-global state",
    note = "a value that must be read from the environment once belongs in a `#[durable_step]`, whose result is \
            recorded"
)]
pub trait ReplaySafeState {}

/// Chosen by method resolution for statics of interior-mutable types; its bound cannot hold.
pub trait GlobalState {
    /// Never called: the check sits in an `if false` block.
    fn durable_global_state(self)
    where
        Self: ReplaySafeState;
}

/// Chosen for everything else: the check passes.
pub trait AnyState {
    /// Never called: the check sits in an `if false` block.
    fn durable_global_state(self);
}

impl<T: ?Sized> AnyState for &GlobalCheck<'_, T> {
    fn durable_global_state(self) {}
}

/// `GlobalState` for each interior-mutable type a static can hold.
macro_rules! global_state {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)*> GlobalState for &&GlobalCheck<'_, $ty> {
            fn durable_global_state(self) where Self: ReplaySafeState {}
        }
    )*};
}

use std::sync::atomic;

global_state! {
    [] atomic::AtomicBool;
    [] atomic::AtomicI8;
    [] atomic::AtomicI16;
    [] atomic::AtomicI32;
    [] atomic::AtomicI64;
    [] atomic::AtomicIsize;
    [] atomic::AtomicU8;
    [] atomic::AtomicU16;
    [] atomic::AtomicU32;
    [] atomic::AtomicU64;
    [] atomic::AtomicUsize;
    [T] atomic::AtomicPtr<T>;
    [T: ?Sized] std::sync::Mutex<T>;
    [T: ?Sized] std::sync::RwLock<T>;
    [T] std::sync::OnceLock<T>;
    [T, F] std::sync::LazyLock<T, F>;
    [T: 'static] std::thread::LocalKey<T>;
    [T: ?Sized] tokio::sync::Mutex<T>;
    [T: ?Sized] tokio::sync::RwLock<T>;
    [T] tokio::sync::OnceCell<T>;
}

/// Wraps every awaited expression of a workflow body, so that awaiting anything else fails to compile.
#[inline(always)]
pub fn durable<T: DurableOperation>(operation: T) -> T {
    operation
}

/// The input of a workflow: deserialized from the execution's input.
#[diagnostic::on_unimplemented(
    message = "the input of a `#[durable_workflow]` must implement `serde::Deserialize`, and `{Self}` does not",
    label = "the execution input is deserialized into this type",
    note = "add `#[derive(serde::Deserialize)]` to the type, or take a type that has it"
)]
pub trait WorkflowInput {}
impl<T: DeserializeOwned> WorkflowInput for T {}

/// The output of a workflow, serialized as the execution's result.
#[diagnostic::on_unimplemented(
    message = "the output of a `#[durable_workflow]` must implement `serde::Serialize`, and `{Self}` does not",
    label = "the workflow's result is serialized as the execution's result",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to the type, or return a type that has them"
)]
pub trait WorkflowOutputSerialize {}
impl<T: Serialize> WorkflowOutputSerialize for T {}

/// The output of a workflow, deserialized when a sub-workflow's recorded result is replayed.
#[diagnostic::on_unimplemented(
    message = "the output of a `#[durable_workflow]` must implement `serde::Deserialize`, and `{Self}` does not",
    label = "the result is replayed from the history when the workflow runs as a sub-workflow",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to the type, or return a type that has them"
)]
pub trait WorkflowOutputDeserialize {}
impl<T: DeserializeOwned> WorkflowOutputDeserialize for T {}

/// The output of a step, serialized into the history.
#[diagnostic::on_unimplemented(
    message = "the output of a `#[durable_step]` must implement `serde::Serialize`, and `{Self}` does not",
    label = "the step's result is recorded in the history",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to the type, or return a type that has them"
)]
pub trait StepOutputSerialize {}
impl<T: Serialize> StepOutputSerialize for T {}

/// The output of a step, deserialized on replay.
#[diagnostic::on_unimplemented(
    message = "the output of a `#[durable_step]` must implement `serde::Deserialize`, and `{Self}` does not",
    label = "the step's result is replayed from the history instead of running the step again",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to the type, or return a type that has them"
)]
pub trait StepOutputDeserialize {}
impl<T: DeserializeOwned> StepOutputDeserialize for T {}

/// The error of a step or workflow: recorded as an `ErrorObject`.
#[diagnostic::on_unimplemented(
    message = "the error type of a `#[durable_step]` or `#[durable_workflow]` must convert into \
               `durable_runtime::Error`, and `{Self}` does not",
    label = "the error is recorded by type name and message",
    note = "return `durable_runtime::Error`, or an error type implementing `std::error::Error + Send + Sync + 'static`"
)]
pub trait BodyError {}
impl<E: Into<Error>> BodyError for E {}

/// Asserts `T: WorkflowInput` where the workflow's input type is written.
pub const fn assert_workflow_input<T: ?Sized + WorkflowInput>() {}
/// Asserts `T: WorkflowOutputSerialize` where the workflow's output type is written.
pub const fn assert_workflow_output_serialize<T: ?Sized + WorkflowOutputSerialize>() {}
/// Asserts `T: WorkflowOutputDeserialize` where the workflow's output type is written.
pub const fn assert_workflow_output_deserialize<T: ?Sized + WorkflowOutputDeserialize>() {}
/// Asserts `T: StepOutputSerialize` where the step's output type is written.
pub const fn assert_step_output_serialize<T: ?Sized + StepOutputSerialize>() {}
/// Asserts `T: StepOutputDeserialize` where the step's output type is written.
pub const fn assert_step_output_deserialize<T: ?Sized + StepOutputDeserialize>() {}
/// Asserts `T: BodyError` where the error type is written.
pub const fn assert_body_error<T: ?Sized + BodyError>() {}
/// Asserts `T: BodyResult` where the return type is written.
pub const fn assert_body_result<T: ?Sized + BodyResult>() {}
