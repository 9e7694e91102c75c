//! The re-invocation loop of one execution, and everything outside the function under test: the
//! service, the chained-invoke targets, the callback senders.

use super::callbacks::{self, Responders};
use super::{InvokeFn, Target, TestError, FUNCTION_NOT_FOUND_ERROR_TYPE};
use crate::checkpoint::memory::{MemoryError, MemoryService};
use crate::checkpoint::CheckpointClient;
use crate::invocation::InvocationError;
use crate::protocol::{ErrorObject, InvocationOutput};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

/// Everything outside the function under test: the service, the other functions, the callback senders.
pub(super) struct World<'a> {
    pub(super) service: &'a MemoryService,
    pub(super) max_invocations: usize,
    pub(super) targets: &'a HashMap<String, Target>,
    pub(super) responders: &'a Mutex<Responders>,
}

type DriveFuture<'a> = Pin<Box<dyn Future<Output = Result<(), TestError>> + Send + 'a>>;

impl<'a> World<'a> {
    fn responders(&self) -> MutexGuard<'a, Responders> {
        self.responders.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The re-invocation loop of one execution (see the [module docs](self)). With `until_callback`,
    /// it stops as soon as the callback of that name waits for an answer, before time moves on.
    pub(super) fn drive(
        &'a self,
        arn: &'a str,
        handler: &'a InvokeFn,
        until_callback: Option<&'a str>,
    ) -> DriveFuture<'a> {
        Box::pin(async move {
            let client: Arc<dyn CheckpointClient> = Arc::new(self.service.clone());
            let mut invocations = 0;
            loop {
                let status =
                    self.service.execution_status(arn).ok_or_else(|| MemoryError::UnknownExecution(arn.to_owned()))?;
                if status.is_terminal() {
                    break;
                }
                if self.service.needs_invocation(arn) {
                    if invocations >= self.max_invocations {
                        return Err(TestError::MaxInvocations { limit: self.max_invocations, arn: arn.to_owned() });
                    }
                    invocations += 1;
                    self.invoke_once(arn, handler, &client).await?;
                    continue;
                }
                if until_callback.is_some_and(|name| self.service.pending_callback(arn, name).is_some()) {
                    break;
                }
                self.responders().schedule(self.service, arn);
                if self.run_targets(arn).await? {
                    continue;
                }
                let answer = self.responders().next_due(arn);
                let wake = match (self.service.next_timer(arn), answer) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => match a.or(b) {
                        Some(t) => t,
                        None => break,
                    },
                };
                // As the service does: an execution still running at its deadline ends TIMED_OUT.
                if let Some(deadline) = self.service.execution_deadline(arn).filter(|d| *d <= wake) {
                    self.service.advance_to(arn, deadline);
                    self.service.time_out_execution(arn)?;
                    continue;
                }
                self.service.advance_to(arn, wake);
                let due = self.responders().take_due(arn, self.service.now());
                for scheduled in due {
                    callbacks::send(self.service, scheduled);
                }
            }
            Ok(())
        })
    }

    async fn invoke_once(
        &self,
        arn: &str,
        handler: &InvokeFn,
        client: &Arc<dyn CheckpointClient>,
    ) -> Result<(), TestError> {
        let envelope = self.service.invocation_input(arn)?;
        let event = serde_json::to_value(&envelope).map_err(|e| TestError::Input(e.to_string()))?;
        let outcome = match handler(event, client.clone()).await {
            Ok(value) => serde_json::from_value::<InvocationOutput>(value).map_err(|e| ErrorObject {
                error_type: Some("Durable.InvalidOutput".to_owned()),
                error_message: Some(format!("the handler's output is not a durable-execution envelope: {e}")),
                ..Default::default()
            }),
            Err(error) => Err(invocation_error_object(&error)),
        };
        self.service.complete_invocation(arn, outcome)?;
        Ok(())
    }

    /// Runs the target executions of the chained invokes of `arn` that the service would invoke now.
    /// True when one ran.
    async fn run_targets(&'a self, arn: &str) -> Result<bool, TestError> {
        let mut ran = false;
        for invocation in self.service.chained_invocations(arn) {
            if !self.service.needs_invocation(&invocation.target_arn) {
                continue;
            }
            ran = true;
            let target =
                self.targets.get(&invocation.function_name).or_else(|| self.targets.get(&invocation.target_function));
            match target.cloned() {
                Some(Target::Workflow(handler)) => self.drive(&invocation.target_arn, &handler, None).await?,
                Some(Target::Stub(stub)) => self.run_stub(&invocation.target_arn, |input| stub(input))?,
                None => {
                    let name = invocation.function_name.clone();
                    self.run_stub(&invocation.target_arn, move |_| {
                        Err(ErrorObject {
                            error_type: Some(FUNCTION_NOT_FOUND_ERROR_TYPE.to_owned()),
                            error_message: Some(format!(
                                "Function not found: {name} (register it with `TestRunner::register_workflow` or \
                                 `TestRunner::register_stub`)"
                            )),
                            ..Default::default()
                        })
                    })?
                }
            }
        }
        Ok(ran)
    }

    /// One invocation of a plain function as the execution `arn`.
    fn run_stub(
        &self,
        arn: &str,
        stub: impl FnOnce(serde_json::Value) -> Result<serde_json::Value, ErrorObject>,
    ) -> Result<(), TestError> {
        let envelope = self.service.invocation_input(arn)?;
        let payload = envelope.initial_execution_state.operations.iter().find_map(|op| {
            op.execution_details.as_ref().and_then(|d| d.input_payload.as_ref()).map(|p| p.text().into_owned())
        });
        let input = match payload.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => serde_json::Value::Null,
            Some(text) => serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned())),
        };
        let output = match stub(input) {
            Ok(value) => InvocationOutput::succeeded(value.to_string()),
            Err(error) => InvocationOutput::failed(error),
        };
        self.service.complete_invocation(arn, Ok(output))?;
        Ok(())
    }
}

/// The error object recorded for an invocation that ended with an [`InvocationError`] (the same
/// error types the Lambda entry point reports).
fn invocation_error_object(error: &InvocationError) -> ErrorObject {
    #[allow(unreachable_patterns)] // `InvocationError` is non-exhaustive for users of the crate.
    let error_type = match error {
        InvocationError::Envelope(_) => "Durable.InvalidEnvelope",
        InvocationError::Checkpoint(_) => "Durable.CheckpointError",
        _ => "Durable.InvocationError",
    };
    ErrorObject {
        error_type: Some(error_type.to_owned()),
        error_message: Some(error.to_string()),
        ..Default::default()
    }
}
