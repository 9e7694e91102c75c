//! Combinators over durable operations: [`all`](DurableContext::all),
//! [`all_settled`](DurableContext::all_settled), [`any`](DurableContext::any) and
//! [`race`](DurableContext::race), over a tuple of operations of different types (arity 2 to 5), and
//! their homogeneous forms over a `Vec` ([`all_vec`](DurableContext::all_vec), ...).
//!
//! Each combinator is one child context (`CONTEXT`, SubType `RunInChildContext`, named `all`,
//! `all-settled`, `any` or `race` unless renamed with `.name(..)`). The closure receives that child's
//! context and creates the constituent operations there, so their ids live in its namespace. The
//! child's body polls the constituents concurrently in one task and records the *combined outcome*
//! as its result (or failure). Replay returns the recorded outcome without calling the closure, so a
//! race whose winner could come out differently on replay returns the recorded winner.
//!
//! Constituents still pending when `all` fails, or when `any` / `race` completes, are dropped: their
//! operations stay `STARTED`.
//!
//! Errors yielded by a combinator (and the errors inside [`Settled::Err`]) are rebuilt from their
//! recorded `ErrorObject`, live and on replay alike: type, message and data are those of the
//! constituent's error, and the [`kind`](DurableError::kind) is [`ErrorKind::ChildFailed`] unless the
//! type names a more specific kind.

use super::child::{self, ChildContext};
use super::shell::Shell;
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, ErrorKind};
use crate::protocol::ErrorObject;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::Poll;

/// `ErrorType` of an [`any`](DurableContext::any) whose constituents all failed. Its `ErrorData` is the
/// JSON array of the constituents' error objects, in constituent order.
pub const ALL_FAILED_ERROR_TYPE: &str = "CombinatorError.AllFailed";

/// The outcome of one constituent of [`all_settled`](DurableContext::all_settled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled<T> {
    /// The operation succeeded with this value.
    Ok(T),
    /// The operation failed with this error.
    Err(DurableError),
}

impl<T> Settled<T> {
    /// The outcome as a `Result`.
    pub fn into_result(self) -> Result<T, DurableError> {
        match self {
            Self::Ok(value) => Ok(value),
            Self::Err(error) => Err(error),
        }
    }

    /// True for [`Settled::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok(_))
    }
}

#[derive(Deserialize)]
enum SettledRepr<T> {
    Ok(T),
    Err(ErrorObject),
}

#[derive(Serialize)]
enum SettledRef<'a, T> {
    Ok(&'a T),
    Err(ErrorObject),
}

impl<T: Serialize> Serialize for Settled<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ok(value) => SettledRef::Ok(value),
            Self::Err(error) => SettledRef::Err(error.to_object()),
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Settled<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match SettledRepr::<T>::deserialize(deserializer)? {
            SettledRepr::Ok(value) => Self::Ok(value),
            SettledRepr::Err(object) => Self::Err(DurableError::from_object(ErrorKind::ChildFailed, &object)),
        })
    }
}

/// Which of two operations won an [`any`](DurableContext::any) or [`race`](DurableContext::race).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OneOf2<A, B> {
    /// The first operation.
    A(A),
    /// The second operation.
    B(B),
}

/// Which of three operations won an [`any`](DurableContext::any) or [`race`](DurableContext::race).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OneOf3<A, B, C> {
    /// The first operation.
    A(A),
    /// The second operation.
    B(B),
    /// The third operation.
    C(C),
}

/// Which of four operations won an [`any`](DurableContext::any) or [`race`](DurableContext::race).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OneOf4<A, B, C, D> {
    /// The first operation.
    A(A),
    /// The second operation.
    B(B),
    /// The third operation.
    C(C),
    /// The fourth operation.
    D(D),
}

/// Which of five operations won an [`any`](DurableContext::any) or [`race`](DurableContext::race).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OneOf5<A, B, C, D, E> {
    /// The first operation.
    A(A),
    /// The second operation.
    B(B),
    /// The third operation.
    C(C),
    /// The fourth operation.
    D(D),
    /// The fifth operation.
    E(E),
}

/// A constituent with its type erased: its value as JSON.
pub type ErasedFuture = BoxFuture<Result<Value, DurableError>>;

const VARIANTS: [&str; 5] = ["A", "B", "C", "D", "E"];

/// The operations a combinator combines: a tuple of 2 to 5 durable operations (anything
/// `IntoFuture<Output = Result<T, DurableError>>` with a serializable `T`), or a `Vec` of operations of
/// one type.
pub trait Constituents {
    /// What [`all`](DurableContext::all) yields: the values, in constituent order.
    type Values: DeserializeOwned + Send + 'static;
    /// What [`all_settled`](DurableContext::all_settled) yields: the outcomes, in constituent order.
    type Settled: DeserializeOwned + Send + 'static;
    /// What [`any`](DurableContext::any) and [`race`](DurableContext::race) yield: the winner, tagged
    /// with its position (`OneOf2`, `OneOf3`, ... for tuples; `(index, value)` for a `Vec`).
    type Winner: DeserializeOwned + Send + 'static;

    /// The constituents as futures of their JSON values, in order.
    fn into_erased(self) -> Vec<ErasedFuture>;

    /// The JSON form of [`Self::Winner`] for the value of constituent `index`.
    fn tag(index: usize, value: Value) -> Value;
}

fn erase<F, T>(op: F) -> ErasedFuture
where
    F: IntoFuture<Output = Result<T, DurableError>>,
    F::IntoFuture: Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let fut = op.into_future();
    Box::pin(async move {
        let value = fut.await?;
        serde_json::to_value(&value).map_err(|e| {
            DurableError::new(ErrorKind::Serialization, format!("cannot serialize the result of a constituent: {e}"))
        })
    })
}

macro_rules! tuple_constituents {
    ($winner:ident; $($f:ident $t:ident),+) => {
        impl<$($f, $t),+> Constituents for ($($f,)+)
        where
            $(
                $f: IntoFuture<Output = Result<$t, DurableError>>,
                $f::IntoFuture: Send + 'static,
                $t: Serialize + DeserializeOwned + Send + 'static,
            )+
        {
            type Values = ($($t,)+);
            type Settled = ($(Settled<$t>,)+);
            type Winner = $winner<$($t),+>;

            #[allow(non_snake_case)]
            fn into_erased(self) -> Vec<ErasedFuture> {
                let ($($f,)+) = self;
                vec![$(erase($f)),+]
            }

            fn tag(index: usize, value: Value) -> Value {
                let mut map = serde_json::Map::new();
                map.insert(VARIANTS.get(index).copied().unwrap_or("A").to_owned(), value);
                Value::Object(map)
            }
        }
    };
}

tuple_constituents!(OneOf2; F1 T1, F2 T2);
tuple_constituents!(OneOf3; F1 T1, F2 T2, F3 T3);
tuple_constituents!(OneOf4; F1 T1, F2 T2, F3 T3, F4 T4);
tuple_constituents!(OneOf5; F1 T1, F2 T2, F3 T3, F4 T4, F5 T5);

impl<F, T> Constituents for Vec<F>
where
    F: IntoFuture<Output = Result<T, DurableError>>,
    F::IntoFuture: Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Values = Vec<T>;
    type Settled = Vec<Settled<T>>;
    type Winner = (usize, T);

    fn into_erased(self) -> Vec<ErasedFuture> {
        self.into_iter().map(erase).collect()
    }

    fn tag(index: usize, value: Value) -> Value {
        Value::Array(vec![Value::from(index), value])
    }
}

/// Which combinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    All,
    AllSettled,
    Any,
    Race,
}

impl Mode {
    fn default_name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::AllSettled => "all-settled",
            Self::Any => "any",
            Self::Race => "race",
        }
    }
}

/// A combinator being configured. Created by [`DurableContext::all`], [`DurableContext::any`], ...;
/// await it for the combined outcome.
#[must_use = "a combinator does nothing until it is awaited: add `.await`"]
pub struct Combinator<F, Out> {
    shell: Shell,
    mode: Mode,
    f: F,
    out: PhantomData<fn() -> Out>,
}

impl<F, Out> Combinator<F, Out> {
    fn new(ctx: &DurableContext, mode: Mode, f: F) -> Self {
        Self { shell: child::named(ctx, mode.default_name()), mode, f, out: PhantomData }
    }

    /// The combinator's name (default `all`, `all-settled`, `any` or `race`), recorded in the history
    /// and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }
}

impl<F, C, Out> IntoFuture for Combinator<F, Out>
where
    F: FnOnce(DurableContext) -> C + Send + 'static,
    C: Constituents,
    Out: DeserializeOwned + Send + 'static,
{
    type Output = Result<Out, DurableError>;
    type IntoFuture = BoxFuture<Result<Out, DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { shell, mode, f, .. } = self;
        let what = format!("combinator `{}`", shell.name.as_deref().unwrap_or_default());
        // The constituents are created while the child's body is polled, so the child is the current
        // context of anything that binds to it (`#[durable_step]` calls).
        let body = move |child: DurableContext| async move {
            let futures = f(child).into_erased();
            combine(mode, futures, C::tag).await
        };
        let child = ChildContext::in_shell(shell, body);
        Box::pin(async move {
            let value: Value = child.await?;
            serde_json::from_value(value).map_err(|e| {
                DurableError::new(ErrorKind::Serialization, format!("cannot deserialize the result of {what}: {e}"))
            })
        })
    }
}

/// Polls every constituent in this task, in constituent order, and settles as `mode` says.
async fn combine(
    mode: Mode,
    futures: Vec<ErasedFuture>,
    tag: fn(usize, Value) -> Value,
) -> Result<Value, DurableError> {
    let count = futures.len();
    let mut slots: Vec<Option<ErasedFuture>> = futures.into_iter().map(Some).collect();
    let mut outcomes: Vec<Option<Result<Value, DurableError>>> = (0..count).map(|_| None).collect();
    let winner = std::future::poll_fn(|cx| {
        for (index, slot) in slots.iter_mut().enumerate() {
            let Some(fut) = slot else { continue };
            let Poll::Ready(outcome) = Pin::new(fut).poll(cx) else { continue };
            *slot = None;
            match (mode, outcome) {
                (Mode::All, Err(error)) | (Mode::Race, Err(error)) => return Poll::Ready(Some(Err(error))),
                (Mode::Any, Ok(value)) | (Mode::Race, Ok(value)) => return Poll::Ready(Some(Ok(tag(index, value)))),
                (_, outcome) => {
                    if let Some(out) = outcomes.get_mut(index) {
                        *out = Some(outcome);
                    }
                }
            }
        }
        if slots.iter().all(Option::is_none) {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
    .await;
    if let Some(outcome) = winner {
        return outcome;
    }
    let outcomes = outcomes.into_iter().flatten();
    match mode {
        Mode::All => outcomes.collect::<Result<Vec<_>, _>>().map(Value::Array),
        Mode::AllSettled => {
            let settled = outcomes
                .map(|outcome| match outcome {
                    Ok(value) => serde_json::json!({ "Ok": value }),
                    Err(error) => serde_json::json!({ "Err": error.to_object() }),
                })
                .collect();
            Ok(Value::Array(settled))
        }
        Mode::Any | Mode::Race => {
            let errors: Vec<ErrorObject> = outcomes.filter_map(Result::err).map(|e| e.to_object()).collect();
            if count == 0 {
                return Err(DurableError::with_type(ALL_FAILED_ERROR_TYPE, "no operations to combine"));
            }
            let messages: Vec<String> = errors
                .iter()
                .map(|o| {
                    format!(
                        "{}: {}",
                        o.error_type.as_deref().unwrap_or("Error"),
                        o.error_message.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            let error = DurableError::with_type(
                ALL_FAILED_ERROR_TYPE,
                format!("all {count} operations failed: {}", messages.join("; ")),
            );
            Err(match serde_json::to_string(&errors) {
                Ok(data) => error.data(data),
                Err(_) => error,
            })
        }
    }
}

impl DurableContext {
    /// Runs the operations `f` creates (a tuple of 2 to 5, of different types) concurrently and yields
    /// all their values, or the first error in completion order (the other operations are dropped).
    /// One recorded child context named `all`; replay returns its recorded outcome without calling `f`.
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn demo(ctx: durable_runtime::DurableContext) -> Result<(), durable_runtime::DurableError> {
    /// use std::time::Duration;
    /// let (n, ()) = ctx
    ///     .all(|ctx| {
    ///         (ctx.step(|_| async { Ok::<_, durable_runtime::Error>(1) }), ctx.wait(Duration::from_secs(5)))
    ///     })
    ///     .await?;
    /// # let _ = n; Ok(()) }
    /// ```
    pub fn all<F, C>(&self, f: F) -> Combinator<F, C::Values>
    where
        F: FnOnce(DurableContext) -> C + Send + 'static,
        C: Constituents,
    {
        Combinator::new(self, Mode::All, f)
    }

    /// Runs the operations `f` creates concurrently and yields every outcome, success or failure, in
    /// constituent order. Never fails because an operation failed. One recorded child context named
    /// `all-settled`.
    pub fn all_settled<F, C>(&self, f: F) -> Combinator<F, C::Settled>
    where
        F: FnOnce(DurableContext) -> C + Send + 'static,
        C: Constituents,
    {
        Combinator::new(self, Mode::AllSettled, f)
    }

    /// Runs the operations `f` creates concurrently and yields the first success, tagged with its
    /// position ([`OneOf2`], [`OneOf3`], ...); the others are dropped. Fails with
    /// [`ALL_FAILED_ERROR_TYPE`] when every operation failed. One recorded child context named `any`.
    pub fn any<F, C>(&self, f: F) -> Combinator<F, C::Winner>
    where
        F: FnOnce(DurableContext) -> C + Send + 'static,
        C: Constituents,
    {
        Combinator::new(self, Mode::Any, f)
    }

    /// Runs the operations `f` creates concurrently and yields the first to settle: its value tagged
    /// with its position ([`OneOf2`], [`OneOf3`], ...), or its error. The others are dropped. One
    /// recorded child context named `race`; replay returns the recorded winner.
    pub fn race<F, C>(&self, f: F) -> Combinator<F, C::Winner>
    where
        F: FnOnce(DurableContext) -> C + Send + 'static,
        C: Constituents,
    {
        Combinator::new(self, Mode::Race, f)
    }

    /// [`all`](Self::all) over a `Vec` of operations of one type: yields their values in order.
    pub fn all_vec<F, Op, T>(&self, f: F) -> Combinator<F, Vec<T>>
    where
        F: FnOnce(DurableContext) -> Vec<Op> + Send + 'static,
        Vec<Op>: Constituents<Values = Vec<T>>,
    {
        Combinator::new(self, Mode::All, f)
    }

    /// [`all_settled`](Self::all_settled) over a `Vec` of operations of one type.
    pub fn all_settled_vec<F, Op, T>(&self, f: F) -> Combinator<F, Vec<Settled<T>>>
    where
        F: FnOnce(DurableContext) -> Vec<Op> + Send + 'static,
        Vec<Op>: Constituents<Settled = Vec<Settled<T>>>,
    {
        Combinator::new(self, Mode::AllSettled, f)
    }

    /// [`any`](Self::any) over a `Vec` of operations of one type: yields the index and value of the
    /// first success.
    pub fn any_vec<F, Op, T>(&self, f: F) -> Combinator<F, (usize, T)>
    where
        F: FnOnce(DurableContext) -> Vec<Op> + Send + 'static,
        Vec<Op>: Constituents<Winner = (usize, T)>,
    {
        Combinator::new(self, Mode::Any, f)
    }

    /// [`race`](Self::race) over a `Vec` of operations of one type: yields the index and value of the
    /// first to settle, or its error.
    pub fn race_vec<F, Op, T>(&self, f: F) -> Combinator<F, (usize, T)>
    where
        F: FnOnce(DurableContext) -> Vec<Op> + Send + 'static,
        Vec<Op>: Constituents<Winner = (usize, T)>,
    {
        Combinator::new(self, Mode::Race, f)
    }
}
