//! [`CheckpointClient`] over `aws-sdk-lambda`: the client a durable function uses in Lambda.
//!
//! Endpoint, region and credentials come from the environment exactly as the AWS SDK reads them
//! ([`AwsCheckpointClient::from_env`]), so `AWS_ENDPOINT_URL_LAMBDA` (or `AWS_ENDPOINT_URL`) points the
//! client at a local service. Transport-level retries (throttling, 5xx, I/O errors) are the SDK's
//! standard retries; every retry of one checkpoint re-sends the same `ClientToken`, which is what makes
//! retrying a checkpoint whose response was lost safe.
//!
//! Errors are classified with [`CheckpointError::classify`]: the HTTP status comes from the raw
//! response, the code from the error metadata (the `x-amzn-errortype` header or the body's `code` /
//! `__type`), the message from the body. Errors without a response (dispatch, timeout) are retryable;
//! requests that cannot even be built are fatal.

use super::{BoxFuture, CheckpointClient, CheckpointError, ErrorClass};
use crate::protocol::ids::uuid_v4;
use crate::protocol::{
    self, CheckpointRequest, CheckpointResponse, ExecutionState, OperationStatus, OperationSubType, OperationType,
    Payload, Timestamp,
};
#[doc(no_inline)]
pub use aws_sdk_lambda;
use aws_sdk_lambda::error::{ErrorMetadata, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::types as sdk;
use aws_smithy_types::DateTime;
use std::fmt;

/// `MaxItems` of every `GetDurableExecutionState` call (what the other SDKs send).
pub const STATE_PAGE_SIZE: i32 = 1000;

/// The checkpoint client over `aws-sdk-lambda`'s `CheckpointDurableExecution` and
/// `GetDurableExecutionState`.
#[derive(Clone)]
pub struct AwsCheckpointClient {
    client: aws_sdk_lambda::Client,
}

impl fmt::Debug for AwsCheckpointClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCheckpointClient").finish_non_exhaustive()
    }
}

impl AwsCheckpointClient {
    /// A client configured from the environment, as the AWS SDK normally is: region, credentials,
    /// retry settings and endpoint (`AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL`) from environment
    /// variables and profile files.
    pub async fn from_env() -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        Self::from_client(aws_sdk_lambda::Client::new(&config))
    }

    /// Wraps an already configured SDK client (custom endpoint, retry or timeout settings).
    pub fn from_client(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }

    /// The wrapped SDK client.
    pub fn client(&self) -> &aws_sdk_lambda::Client {
        &self.client
    }
}

impl From<aws_sdk_lambda::Client> for AwsCheckpointClient {
    fn from(client: aws_sdk_lambda::Client) -> Self {
        Self::from_client(client)
    }
}

impl CheckpointClient for AwsCheckpointClient {
    fn checkpoint(
        &self,
        execution_arn: &str,
        request: CheckpointRequest,
    ) -> BoxFuture<Result<CheckpointResponse, CheckpointError>> {
        let client = self.client.clone();
        let execution_arn = execution_arn.to_owned();
        Box::pin(async move {
            let CheckpointRequest { checkpoint_token, client_token, updates } = request;
            let updates = updates.into_iter().map(update_to_sdk).collect::<Result<Vec<_>, _>>()?;
            let output = client
                .checkpoint_durable_execution()
                .durable_execution_arn(execution_arn)
                .checkpoint_token(checkpoint_token)
                .client_token(client_token.unwrap_or_else(uuid_v4))
                .set_updates(Some(updates))
                .send()
                .await
                .map_err(error_from_sdk)?;
            let new_execution_state = match output.new_execution_state {
                Some(state) => Some(ExecutionState {
                    operations: state.operations.unwrap_or_default().into_iter().map(operation_from_sdk).collect(),
                    next_marker: state.next_marker,
                }),
                None => None,
            };
            Ok(CheckpointResponse { checkpoint_token: output.checkpoint_token, new_execution_state })
        })
    }

    fn get_state(
        &self,
        execution_arn: &str,
        checkpoint_token: &str,
        marker: Option<&str>,
    ) -> BoxFuture<Result<ExecutionState, CheckpointError>> {
        let request = self
            .client
            .get_durable_execution_state()
            .durable_execution_arn(execution_arn)
            .checkpoint_token(checkpoint_token)
            .set_marker(marker.map(str::to_owned))
            .max_items(STATE_PAGE_SIZE);
        Box::pin(async move {
            let output = request.send().await.map_err(error_from_sdk)?;
            Ok(ExecutionState {
                operations: output.operations.into_iter().map(operation_from_sdk).collect(),
                next_marker: output.next_marker,
            })
        })
    }
}

/// Maps a failed SDK call to a classified [`CheckpointError`].
fn error_from_sdk<E>(err: SdkError<E>) -> CheckpointError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = aws_sdk_lambda::error::DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service_error = context.err();
            // An error the SDK could not match to a modeled one (no error code: emulators send
            // `{"Type":…,"message":…}` without `x-amzn-errortype`) keeps its parsed metadata as its source.
            let parsed = service_error.source().and_then(metadata_in_chain);
            let body = context.raw().body().bytes().and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
            let body_type = body.as_ref().and_then(|b| b.get("Type")).and_then(serde_json::Value::as_str);
            let code = service_error.code().or_else(|| parsed.and_then(ErrorMetadata::code)).or(body_type);
            let message = service_error.message().or_else(|| parsed.and_then(ErrorMetadata::message));
            CheckpointError::classify(Some(status), code, message.unwrap_or(&detail))
        }
        SdkError::ResponseError(context) => {
            CheckpointError::classify(Some(context.raw().status().as_u16()), None, &detail)
        }
        SdkError::ConstructionFailure(_) => CheckpointError::new(ErrorClass::Fatal, None, None, detail),
        // Dispatch failures, timeouts and anything newer: no usable response, so retrying may help.
        _ => CheckpointError::classify(None, None, &detail),
    }
}

/// The first [`ErrorMetadata`] in an error's source chain.
fn metadata_in_chain<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a ErrorMetadata> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(meta) = e.downcast_ref::<ErrorMetadata>() {
            return Some(meta);
        }
        current = e.source();
    }
    None
}

/// A conversion that the SDK's builders rejected: the request cannot be sent as it is.
fn invalid_update(what: &str, err: impl fmt::Display) -> CheckpointError {
    CheckpointError::new(ErrorClass::Fatal, None, None, format!("invalid operation update ({what}): {err}"))
}

fn seconds_to_sdk(field: &str, value: Option<u64>) -> Result<Option<i32>, CheckpointError> {
    value.map(|v| i32::try_from(v).map_err(|_| invalid_update(field, format_args!("{v} is out of range")))).transpose()
}

/// Our [`protocol::OperationUpdate`] as the SDK's `OperationUpdate`.
pub(crate) fn update_to_sdk(update: protocol::OperationUpdate) -> Result<sdk::OperationUpdate, CheckpointError> {
    let protocol::OperationUpdate {
        id,
        parent_id,
        name,
        op_type,
        sub_type,
        action,
        payload,
        error,
        context_options,
        step_options,
        wait_options,
        callback_options,
        chained_invoke_options,
    } = update;
    let context_options =
        context_options.map(|o| sdk::ContextOptions::builder().set_replay_children(o.replay_children).build());
    let step_options = match step_options {
        Some(o) => Some(
            sdk::StepOptions::builder()
                .set_next_attempt_delay_seconds(seconds_to_sdk(
                    "NextAttemptDelaySeconds",
                    o.next_attempt_delay_seconds,
                )?)
                .build(),
        ),
        None => None,
    };
    let wait_options = match wait_options {
        Some(o) => {
            Some(sdk::WaitOptions::builder().set_wait_seconds(seconds_to_sdk("WaitSeconds", o.wait_seconds)?).build())
        }
        None => None,
    };
    let callback_options = match callback_options {
        Some(o) => Some(
            sdk::CallbackOptions::builder()
                .set_timeout_seconds(seconds_to_sdk("TimeoutSeconds", o.timeout_seconds)?)
                .set_heartbeat_timeout_seconds(seconds_to_sdk("HeartbeatTimeoutSeconds", o.heartbeat_timeout_seconds)?)
                .build(),
        ),
        None => None,
    };
    let chained_invoke_options = match chained_invoke_options {
        Some(o) => Some(
            sdk::ChainedInvokeOptions::builder()
                .function_name(o.function_name)
                .set_tenant_id(o.tenant_id)
                .set_x_amzn_trace_id(o.x_amzn_trace_id)
                .build()
                .map_err(|e| invalid_update("ChainedInvokeOptions", e))?,
        ),
        None => None,
    };
    sdk::OperationUpdate::builder()
        .id(id)
        .set_parent_id(parent_id)
        .set_name(name)
        .r#type(sdk::OperationType::from(op_type.as_str()))
        .set_sub_type(sub_type.map(|s| s.as_str().to_owned()))
        .action(sdk::OperationAction::from(action.as_str()))
        .set_payload(payload)
        .set_error(error.map(error_to_sdk))
        .set_context_options(context_options)
        .set_step_options(step_options)
        .set_wait_options(wait_options)
        .set_callback_options(callback_options)
        .set_chained_invoke_options(chained_invoke_options)
        .build()
        .map_err(|e| invalid_update("OperationUpdate", e))
}

/// Our [`protocol::ErrorObject`] as the SDK's.
pub(crate) fn error_to_sdk(error: protocol::ErrorObject) -> sdk::ErrorObject {
    sdk::ErrorObject::builder()
        .set_error_message(error.error_message)
        .set_error_type(error.error_type)
        .set_error_data(error.error_data)
        .set_stack_trace(error.stack_trace)
        .build()
}

/// The SDK's `ErrorObject` as ours.
pub(crate) fn error_from_sdk_object(error: sdk::ErrorObject) -> protocol::ErrorObject {
    protocol::ErrorObject {
        error_message: error.error_message,
        error_type: error.error_type,
        error_data: error.error_data,
        stack_trace: error.stack_trace,
    }
}

/// A smithy `DateTime` as epoch milliseconds, rounded to the nearest millisecond (API responses carry
/// fractional epoch seconds, which rarely convert to whole nanoseconds exactly).
pub(crate) fn timestamp_from_sdk(time: DateTime) -> Timestamp {
    let millis = i128::from(time.secs()) * 1000 + (i128::from(time.subsec_nanos()) + 500_000) / 1_000_000;
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX }))
}

/// The SDK's `Operation` as ours, with every details object. Values of the SDK's enums that we do not
/// know are kept in our `Unknown` variants. The SDK fills a missing `StartTimestamp` with the epoch;
/// that placeholder becomes `None` again.
pub(crate) fn operation_from_sdk(op: sdk::Operation) -> protocol::Operation {
    let start_timestamp =
        (op.start_timestamp != DateTime::from_secs(0)).then(|| timestamp_from_sdk(op.start_timestamp));
    protocol::Operation {
        id: op.id,
        parent_id: op.parent_id,
        name: op.name,
        op_type: OperationType::parse(op.r#type.as_str()),
        sub_type: op.sub_type.as_deref().map(OperationSubType::parse),
        start_timestamp,
        end_timestamp: op.end_timestamp.map(timestamp_from_sdk),
        status: OperationStatus::parse(op.status.as_str()),
        execution_details: op
            .execution_details
            .map(|d| Box::new(protocol::ExecutionDetails { input_payload: d.input_payload.map(Payload::from) })),
        context_details: op.context_details.map(|d| {
            Box::new(protocol::ContextDetails {
                replay_children: d.replay_children,
                result: d.result.map(Payload::from),
                error: d.error.map(|e| Box::new(error_from_sdk_object(e))),
            })
        }),
        step_details: op.step_details.map(|d| {
            Box::new(protocol::StepDetails {
                attempt: Some(u32::try_from(d.attempt).unwrap_or(0)),
                next_attempt_timestamp: d.next_attempt_timestamp.map(timestamp_from_sdk),
                result: d.result.map(Payload::from),
                error: d.error.map(|e| Box::new(error_from_sdk_object(e))),
            })
        }),
        wait_details: op.wait_details.map(|d| {
            Box::new(protocol::WaitDetails {
                scheduled_end_timestamp: d.scheduled_end_timestamp.map(timestamp_from_sdk),
            })
        }),
        callback_details: op.callback_details.map(|d| {
            Box::new(protocol::CallbackDetails {
                callback_id: d.callback_id,
                result: d.result.map(Payload::from),
                error: d.error.map(|e| Box::new(error_from_sdk_object(e))),
            })
        }),
        chained_invoke_details: op.chained_invoke_details.map(|d| {
            Box::new(protocol::ChainedInvokeDetails {
                result: d.result.map(Payload::from),
                error: d.error.map(|e| Box::new(error_from_sdk_object(e))),
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        CallbackOptions, ChainedInvokeOptions, ContextOptions, ErrorObject, OperationAction, StepOptions, WaitOptions,
    };

    #[test]
    fn every_update_member_is_converted() {
        let mut update = protocol::OperationUpdate::new("op-1", OperationType::ChainedInvoke, OperationAction::Start);
        update.parent_id = Some("parent".into());
        update.name = Some("call".into());
        update.sub_type = Some(OperationSubType::ChainedInvoke);
        update.payload = Some("{}".into());
        update.error = Some(ErrorObject {
            error_message: Some("m".into()),
            error_type: Some("T".into()),
            error_data: Some("d".into()),
            stack_trace: Some(vec!["at x".into()]),
        });
        update.context_options = Some(ContextOptions { replay_children: Some(true) });
        update.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(5) });
        update.wait_options = Some(WaitOptions { wait_seconds: Some(7) });
        update.callback_options =
            Some(CallbackOptions { timeout_seconds: Some(60), heartbeat_timeout_seconds: Some(10) });
        update.chained_invoke_options = Some(ChainedInvokeOptions {
            function_name: "target".into(),
            tenant_id: Some("tenant".into()),
            x_amzn_trace_id: None,
        });
        let sdk = update_to_sdk(update).unwrap();
        assert_eq!(sdk.id(), "op-1");
        assert_eq!(sdk.parent_id(), Some("parent"));
        assert_eq!(sdk.name(), Some("call"));
        assert_eq!(sdk.r#type().as_str(), "CHAINED_INVOKE");
        assert_eq!(sdk.sub_type(), Some("ChainedInvoke"));
        assert_eq!(sdk.action().as_str(), "START");
        assert_eq!(sdk.payload(), Some("{}"));
        let error = sdk.error().unwrap();
        assert_eq!((error.error_message(), error.error_type(), error.error_data()), (Some("m"), Some("T"), Some("d")));
        assert_eq!(error.stack_trace(), ["at x".to_owned()]);
        assert_eq!(sdk.context_options().unwrap().replay_children(), Some(true));
        assert_eq!(sdk.step_options().unwrap().next_attempt_delay_seconds(), Some(5));
        assert_eq!(sdk.wait_options().unwrap().wait_seconds(), Some(7));
        assert_eq!(sdk.callback_options().unwrap().timeout_seconds(), 60);
        assert_eq!(sdk.callback_options().unwrap().heartbeat_timeout_seconds(), 10);
        let invoke = sdk.chained_invoke_options().unwrap();
        assert_eq!((invoke.function_name(), invoke.tenant_id()), ("target", Some("tenant")));
    }

    #[test]
    fn out_of_range_seconds_are_fatal() {
        let mut update = protocol::OperationUpdate::new("w", OperationType::Wait, OperationAction::Start);
        update.wait_options = Some(WaitOptions { wait_seconds: Some(u64::MAX) });
        let err = update_to_sdk(update).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Fatal);
    }

    #[test]
    fn operations_keep_unknown_values_and_round_timestamps() {
        let op = sdk::Operation::builder()
            .id("x")
            .r#type(sdk::OperationType::from("FUTURE_TYPE"))
            .status(sdk::OperationStatus::from("SOMETHING_NEW"))
            .sub_type("Fancy")
            .start_timestamp(DateTime::from_secs_f64(1_767_225_600.12))
            .step_details(sdk::StepDetails::builder().attempt(2).build())
            .build()
            .unwrap();
        let ours = operation_from_sdk(op);
        assert_eq!(ours.op_type, OperationType::Unknown("FUTURE_TYPE".into()));
        assert_eq!(ours.status, OperationStatus::Unknown("SOMETHING_NEW".into()));
        assert_eq!(ours.sub_type, Some(OperationSubType::Unknown("Fancy".into())));
        assert_eq!(ours.start_timestamp, Some(Timestamp::from_millis(1_767_225_600_120)));
        assert_eq!(ours.step_details.and_then(|d| d.attempt), Some(2));
    }
}
