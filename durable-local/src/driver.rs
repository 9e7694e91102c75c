//! The scheduler of hosted functions: invokes an execution whenever the service would (it was just
//! started, a timer fired, a callback was answered, a chained invoke finished, the last invocation
//! failed), fires timers in real or skipped time, and enforces execution timeouts.
//!
//! One loop per service looks at every running execution of a hosted function:
//! - past its execution deadline → TIMED_OUT;
//! - needs an invocation and none is in flight → an invocation task builds the envelope, calls the
//!   function and records the outcome (one invocation in flight per execution, as Lambda does);
//! - otherwise its next timer (a wait's end, a retry delay, a callback timeout) is a wake-up.
//!
//! In real time the loop sleeps until the earliest wake-up or until something changes. With skipped
//! time, when no invocation is in flight and none is due, the clock jumps to the earliest operation
//! timer (never to an execution deadline: an execution waiting for a callback is not timed out by
//! skipping).
//! An execution whose function is not hosted is left alone (a [`LocalRunner`](crate::LocalRunner)
//! drives it), except the target of a chained invoke, which fails as Lambda fails an invoke of a
//! function that does not exist.

use super::function::Function;
use super::Shared;
use durable_runtime::checkpoint::memory::{function_arn, function_name_of};
use durable_runtime::protocol::ids::uuid_v4;
use durable_runtime::protocol::{ErrorObject, InvocationOutput, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::Notify;

/// `ErrorType` recorded when a function answered with something that is not an invocation envelope.
pub(crate) const INVALID_OUTPUT_ERROR_TYPE: &str = "Durable.InvalidOutput";

/// How long the service waits before invoking again after a failed invocation (in real time).
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// A function the service hosts.
#[derive(Clone)]
pub(crate) struct Hosted {
    pub(crate) function: Arc<dyn Function>,
    /// `ExecutionTimeout` of the executions it starts, in seconds.
    pub(crate) execution_timeout: u64,
    /// A durable function (`false`: a plain one, see [`FunctionSpec::durable`](crate::FunctionSpec::durable)).
    pub(crate) durable: bool,
}

/// What the scheduler keeps (see the [module docs](self)).
#[derive(Default)]
pub(crate) struct Driver {
    functions: RwLock<HashMap<String, Hosted>>,
    /// Executions with an invocation in flight (or in its retry delay).
    running: Mutex<HashSet<String>>,
    skip_time: AtomicBool,
    wake: Notify,
}

impl Driver {
    pub(crate) fn host(&self, name: &str, hosted: Hosted) {
        self.functions.write().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), hosted);
        self.wake();
    }

    pub(crate) fn function(&self, name: &str) -> Option<Hosted> {
        self.functions.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    pub(crate) fn hosts_any(&self) -> bool {
        !self.functions.read().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// The names of the hosted functions, sorted.
    pub(crate) fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.functions.read().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn set_skip_time(&self, skip: bool) {
        self.skip_time.store(skip, Ordering::Relaxed);
        self.wake();
    }

    /// Makes the loop look again (an execution started or changed).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The function name in an execution ARN.
pub(crate) fn function_of(arn: &str) -> String {
    function_name_of(arn.split_once("/durable-execution/").map_or(arn, |(function, _)| function))
}

/// The error of an invoke of a function the service does not host.
pub(crate) fn function_not_found(name: &str) -> ErrorObject {
    ErrorObject {
        error_type: Some("ResourceNotFoundException".to_owned()),
        error_message: Some(format!("Function not found: {}", function_arn(name).trim_end_matches(":$LATEST"))),
        ..Default::default()
    }
}

/// The scheduler loop; runs as long as the service.
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let Wakeups { timer, deadline } = step(&shared).await;
        let driver = &shared.driver;
        let service = &shared.service;
        let idle = driver.running().is_empty();
        if let (true, true, Some(at)) = (driver.skip_time.load(Ordering::Relaxed), idle, timer) {
            // Nothing runs: jump to the next wake-up.
            if let Err(e) = shared.change(|| async { service.advance_to("", at) }).await {
                tracing::error!(error = %e, "fired timers were not stored; trying again");
                tokio::time::sleep(RETRY_DELAY).await;
            }
            continue;
        }
        let wake_at = match (timer, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep = wake_at.map(|at| at.since(service.now()));
        tokio::select! {
            () = async {
                match sleep {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => std::future::pending().await,
                }
            } => {
                if let Err(e) = shared.change(|| async { service.advance(Duration::ZERO) }).await {
                    tracing::error!(error = %e, "fired timers were not stored; trying again");
                    tokio::time::sleep(RETRY_DELAY).await;
                }
            }
            () = driver.wake.notified() => {}
        }
    }
}

/// The earliest wake-ups of the executions left waiting.
#[derive(Default)]
struct Wakeups {
    /// An operation's timer: skipped time jumps to it.
    timer: Option<Timestamp>,
    /// An execution deadline: reached in real time only, so skipped time never times out an
    /// execution that waits for a callback.
    deadline: Option<Timestamp>,
}

fn earliest(slot: &mut Option<Timestamp>, t: Timestamp) {
    *slot = Some(slot.map_or(t, |w| w.min(t)));
}

/// One pass over the running executions: dispatches invocations, times out, and returns the
/// earliest wake-ups of those left waiting.
async fn step(shared: &Arc<Shared>) -> Wakeups {
    let service = &shared.service;
    let driver = &shared.driver;
    let now = service.now();
    let mut wake = Wakeups::default();
    for arn in service.running_executions() {
        let name = function_of(&arn);
        let link = service.chained_invocation_of(&arn);
        // The target of a chained invoke starts once its caller's invocation has ended, so its
        // outcome is recorded after the caller's InvocationCompleted, in the order the service's
        // history has it (the caller suspends waiting for it, or goes on to its end).
        if link.as_ref().is_some_and(|link| driver.running().contains(&link.caller_arn)) {
            continue;
        }
        let Some(hosted) = driver.function(&name) else {
            if driver.hosts_any() && link.is_some() {
                let error = function_not_found(&name);
                let _ = shared.change(|| async { service.fail_execution(&arn, error) }).await;
            }
            continue;
        };
        if let Some(deadline) = service.execution_deadline(&arn) {
            if deadline <= now {
                let _ = shared.change(|| async { service.time_out_execution(&arn) }).await;
                continue;
            }
            earliest(&mut wake.deadline, deadline);
        }
        if driver.running().contains(&arn) {
            continue;
        }
        if service.needs_invocation(&arn) {
            driver.running().insert(arn.clone());
            tokio::spawn(invoke(Arc::clone(shared), arn, hosted));
            continue;
        }
        if let Some(at) = service.next_timer(&arn) {
            earliest(&mut wake.timer, at);
        }
    }
    wake
}

/// One invocation of the execution `arn`: the envelope in, the outcome recorded.
async fn invoke(shared: Arc<Shared>, arn: String, hosted: Hosted) {
    let function = &hosted.function;
    let service = &shared.service;
    let started = shared.change(|| async { service.invocation_input(&arn) }).await;
    let failed = match started {
        Err(e) => {
            tracing::error!(%arn, error = %e, "the start of an invocation was not stored; trying again");
            true
        }
        Ok(Err(_)) => false,
        Ok(Ok(input)) => {
            let request_id = service.current_request_id(&arn).unwrap_or_else(uuid_v4);
            if !hosted.durable {
                // A plain function (the target of a chained invoke): its input in, its response or
                // error is the execution's outcome.
                let payload = execution_input(&input).unwrap_or_else(|| "{}".to_owned()).into_bytes();
                let outcome = plain_outcome(function.invoke(payload, &request_id).await);
                return finish(&shared, &arn, Ok(outcome)).await;
            }
            let outcome = invoke_durable(function.as_ref(), &input, &request_id).await;
            return finish(&shared, &arn, outcome).await;
        }
    };
    settle(&shared, &arn, failed).await;
}

/// Invokes a durable function with the envelope `input`: the output envelope it answers, or the
/// invocation's error (a function error, a dead process, or a response that is no envelope).
pub(crate) async fn invoke_durable(
    function: &dyn Function,
    input: &durable_runtime::protocol::InvocationInput,
    request_id: &str,
) -> Result<InvocationOutput, ErrorObject> {
    let invalid = |message: String| ErrorObject {
        error_type: Some(INVALID_OUTPUT_ERROR_TYPE.to_owned()),
        error_message: Some(message),
        ..Default::default()
    };
    let payload =
        serde_json::to_vec(input).map_err(|e| invalid(format!("the invocation envelope does not serialize: {e}")))?;
    let response = function.invoke(payload, request_id).await?;
    serde_json::from_slice::<InvocationOutput>(&response)
        .map_err(|e| invalid(format!("the function's response is not a durable-execution envelope: {e}")))
}

/// Records the outcome of the invocation of `arn` and lets the scheduler look again.
async fn finish(shared: &Arc<Shared>, arn: &str, outcome: Result<InvocationOutput, ErrorObject>) {
    let service = &shared.service;
    let failed = match shared.change(|| async { service.complete_invocation(arn, outcome) }).await {
        Ok(completed) => completed.is_ok_and(|c| c.invocation_error.is_some() && !c.status.is_terminal()),
        Err(e) => {
            // The store holds the invocation as still running: it is recorded as interrupted
            // when the service next starts; meanwhile the execution is invoked again.
            tracing::error!(%arn, error = %e, "the end of an invocation was not stored");
            true
        }
    };
    settle(shared, arn, failed).await;
}

/// Ends the invocation task of `arn`: after a failed invocation, Lambda's pause before the retry.
async fn settle(shared: &Arc<Shared>, arn: &str, failed: bool) {
    if failed && !shared.driver.skip_time.load(Ordering::Relaxed) {
        tokio::time::sleep(RETRY_DELAY).await;
    }
    shared.driver.running().remove(arn);
    shared.driver.wake();
}

/// The user's input of an execution, from its envelope's EXECUTION operation.
fn execution_input(input: &durable_runtime::protocol::InvocationInput) -> Option<String> {
    input
        .initial_execution_state
        .operations
        .iter()
        .find(|op| op.op_type == durable_runtime::protocol::OperationType::Execution)
        .and_then(|op| op.execution_details.as_ref())
        .and_then(|details| details.input_payload.as_ref())
        .map(|payload| payload.text().into_owned())
}

/// A plain function's response or error as the envelope of a finished execution.
pub(crate) fn plain_outcome(response: Result<Vec<u8>, ErrorObject>) -> InvocationOutput {
    match response {
        Ok(bytes) => InvocationOutput {
            status: durable_runtime::protocol::InvocationStatus::Succeeded,
            result: Some(String::from_utf8_lossy(&bytes).into_owned()),
            error: None,
        },
        Err(error) => InvocationOutput {
            status: durable_runtime::protocol::InvocationStatus::Failed,
            result: None,
            error: Some(error),
        },
    }
}
