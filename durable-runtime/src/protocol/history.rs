//! Execution history events, as `GetDurableExecutionHistory` returns them, and the execution status of
//! `GetDurableExecution`.
//!
//! An event carries `EventType`, `SubType`, a gapless 1-based `EventId`, the operation's `Id`, `Name`
//! and `ParentId`, `EventTimestamp`, and exactly one details object named `<EventType>Details` (always
//! present, possibly empty). Payloads in details are wrapped as `{"Payload": "...", "Truncated": false}`
//! and errors as `{"Payload": {ErrorObject}, "Truncated": false}`.

use super::{ErrorObject, OperationSubType, Timestamp};
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! event_types {
    ($($(#[$vmeta:meta])* $variant:ident),+ $(,)?) => {
        /// `EventType` of a history event. Unknown values are kept in `Unknown`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl EventType {
            /// The wire spelling (the variant name, e.g. `StepSucceeded`).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a wire value; unknown values are kept in `Unknown`.
            pub fn parse(value: &str) -> Self {
                $(if value == stringify!($variant) { return Self::$variant; })+
                Self::Unknown(value.to_owned())
            }
        }
    };
}

event_types! {
    /// The execution was created (always event 1).
    ExecutionStarted,
    /// The execution finished with a result.
    ExecutionSucceeded,
    /// The execution finished with an error.
    ExecutionFailed,
    /// The execution exceeded its timeout.
    ExecutionTimedOut,
    /// The execution was stopped.
    ExecutionStopped,
    /// A CONTEXT operation started.
    ContextStarted,
    /// A CONTEXT operation succeeded.
    ContextSucceeded,
    /// A CONTEXT operation failed.
    ContextFailed,
    /// A STEP attempt started.
    StepStarted,
    /// A STEP succeeded (or a wait-for-condition step carried its state to the next check).
    StepSucceeded,
    /// A STEP attempt failed (terminally, or with a retry scheduled).
    StepFailed,
    /// A WAIT started.
    WaitStarted,
    /// A WAIT's timer fired.
    WaitSucceeded,
    /// A WAIT was cancelled.
    WaitCancelled,
    /// A CHAINED_INVOKE started.
    ChainedInvokeStarted,
    /// A CHAINED_INVOKE target succeeded.
    ChainedInvokeSucceeded,
    /// A CHAINED_INVOKE target failed.
    ChainedInvokeFailed,
    /// A CHAINED_INVOKE target timed out.
    ChainedInvokeTimedOut,
    /// A CHAINED_INVOKE target was stopped (or the invoke was cancelled).
    ChainedInvokeStopped,
    /// A CALLBACK started; the service minted its id.
    CallbackStarted,
    /// A CALLBACK was answered with success.
    CallbackSucceeded,
    /// A CALLBACK was answered with failure.
    CallbackFailed,
    /// A CALLBACK timed out (overall or heartbeat timeout).
    CallbackTimedOut,
    /// One invocation of the function ended.
    InvocationCompleted,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

/// One event of an execution's history.
///
/// Serializes with the service's member names, the details under `<EventType>Details`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// What happened.
    pub event_type: EventType,
    /// Subtype of the operation the event is about.
    pub sub_type: Option<OperationSubType>,
    /// 1-based, gapless, in append order.
    pub event_id: u64,
    /// Id of the operation the event is about (absent for `InvocationCompleted`).
    pub id: Option<String>,
    /// Name of the operation.
    pub name: Option<String>,
    /// When the event was recorded.
    pub event_timestamp: Timestamp,
    /// Id of the operation's enclosing CONTEXT.
    pub parent_id: Option<String>,
    /// The `<EventType>Details` object.
    pub details: EventDetails,
}

impl HistoryEvent {
    /// The key the details are serialized under, e.g. `StepSucceededDetails`.
    pub fn details_key(&self) -> String {
        format!("{}Details", self.event_type)
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("EventType", &self.event_type)?;
        if let Some(sub_type) = &self.sub_type {
            map.serialize_entry("SubType", sub_type)?;
        }
        map.serialize_entry("EventId", &self.event_id)?;
        if let Some(id) = &self.id {
            map.serialize_entry("Id", id)?;
        }
        if let Some(name) = &self.name {
            map.serialize_entry("Name", name)?;
        }
        map.serialize_entry("EventTimestamp", &self.event_timestamp)?;
        if let Some(parent_id) = &self.parent_id {
            map.serialize_entry("ParentId", parent_id)?;
        }
        map.serialize_entry(&self.details_key(), &self.details)?;
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawEvent {
    event_type: EventType,
    #[serde(default)]
    sub_type: Option<OperationSubType>,
    event_id: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    event_timestamp: Timestamp,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut raw = RawEvent::deserialize(deserializer)?;
        let key = format!("{}Details", raw.event_type);
        let details = match raw.rest.remove(&key) {
            Some(value) => serde_json::from_value(value).map_err(D::Error::custom)?,
            None => EventDetails::default(),
        };
        Ok(Self {
            event_type: raw.event_type,
            sub_type: raw.sub_type,
            event_id: raw.event_id,
            id: raw.id,
            name: raw.name,
            event_timestamp: raw.event_timestamp,
            parent_id: raw.parent_id,
            details,
        })
    }
}

/// The members of every `<EventType>Details` object. Each event type uses a subset (see the protocol
/// notes); the others stay `None` and are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventDetails {
    /// `ExecutionStarted`: the execution's input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<EventPayload>,
    /// `ExecutionStarted`: the execution timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<u64>,
    /// `*Succeeded`: the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<EventPayload>,
    /// `*Failed`, `*TimedOut`, `*Stopped`, `WaitCancelled`, `InvocationCompleted`: the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    /// `StepSucceeded` / `StepFailed`: the attempt and the delay before the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_details: Option<RetryDetails>,
    /// `WaitStarted` / `WaitSucceeded`: the wait in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// `WaitStarted`: when the timer fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
    /// `CallbackStarted`: the id minted by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// `CallbackStarted`: the overall timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// `CallbackStarted`: the heartbeat timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout: Option<u64>,
    /// `ChainedInvokeStarted`: the target function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// `ChainedInvokeStarted`: the tenant id passed to the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `ChainedInvokeStarted`: the version of the target that ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_version: Option<String>,
    /// `ChainedInvokeStarted`: the target's durable execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_execution_arn: Option<String>,
    /// `InvocationCompleted`: when the invocation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Timestamp>,
    /// `InvocationCompleted`: when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    /// `InvocationCompleted`: the Lambda request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A payload in a history event: `{"Payload": "...", "Truncated": false}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventPayload {
    /// The payload text (absent when not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// True when the payload was left out.
    #[serde(default)]
    pub truncated: bool,
}

impl EventPayload {
    /// A payload included in full.
    pub fn full(payload: impl Into<String>) -> Self {
        Self { payload: Some(payload.into()), truncated: false }
    }
}

/// An error in a history event: `{"Payload": {ErrorObject}, "Truncated": false}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventError {
    /// The error (absent when not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<ErrorObject>,
    /// True when the error was left out.
    #[serde(default)]
    pub truncated: bool,
}

impl EventError {
    /// An error included in full.
    pub fn full(error: ErrorObject) -> Self {
        Self { payload: Some(error), truncated: false }
    }
}

/// `RetryDetails` of `StepSucceeded` / `StepFailed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryDetails {
    /// The 1-based attempt that just finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_attempt: Option<u32>,
    /// Seconds until the next attempt, when one was scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<u64>,
}

/// `Status` of a durable execution (`GetDurableExecution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Not finished yet.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Exceeded its timeout.
    TimedOut,
    /// Stopped by a user.
    Stopped,
}

impl ExecutionStatus {
    /// True for every status but `Running`.
    pub fn is_terminal(self) -> bool {
        self != Self::Running
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Stopped => "STOPPED",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_serialize_details_under_their_type_and_round_trip() {
        let event = HistoryEvent {
            event_type: EventType::StepFailed,
            sub_type: Some(OperationSubType::Step),
            event_id: 3,
            id: Some("op".into()),
            name: Some("flaky".into()),
            event_timestamp: Timestamp::from_millis(1_767_225_600_000),
            parent_id: None,
            details: EventDetails {
                error: Some(EventError::full(ErrorObject { error_type: Some("E".into()), ..Default::default() })),
                retry_details: Some(RetryDetails { current_attempt: Some(1), next_attempt_delay_seconds: Some(2) }),
                ..Default::default()
            },
        };
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(
            value,
            json!({"EventType": "StepFailed", "SubType": "Step", "EventId": 3, "Id": "op", "Name": "flaky",
                   "EventTimestamp": 1_767_225_600_000_i64,
                   "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "E"}, "Truncated": false},
                                         "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2}}})
        );
        let back: HistoryEvent = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn empty_details_are_still_written_and_unknown_types_kept() {
        let event = HistoryEvent {
            event_type: EventType::parse("Teleported"),
            sub_type: None,
            event_id: 1,
            id: None,
            name: None,
            event_timestamp: Timestamp::from_millis(0),
            parent_id: None,
            details: EventDetails::default(),
        };
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["TeleportedDetails"], json!({}));
        assert_eq!(
            serde_json::from_value::<HistoryEvent>(value).unwrap().event_type,
            EventType::Unknown("Teleported".into())
        );
        assert_eq!(serde_json::to_value(ExecutionStatus::TimedOut).unwrap(), json!("TIMED_OUT"));
    }
}
