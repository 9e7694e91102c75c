//! String enumerations of the wire format. Each reads its values case-insensitively, keeps a value it
//! does not know in `Unknown`, and writes the service's canonical spelling.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a wire value, ignoring case and `_`; unknown values are kept in `Unknown`.
            pub fn parse(value: &str) -> Self {
                // The canonical spelling, as the service sends it, without the slower comparison.
                match value {
                    $($wire => return Self::$variant,)+
                    _ => {}
                }
                $(if canonical_eq(value, $wire) { return Self::$variant; })+
                Self::Unknown(value.to_owned())
            }

            /// True for a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::parse(&text))
            }
        }
    };
}

/// Compares two spellings ignoring ASCII case and underscores (`ChainedInvoke` = `CHAINED_INVOKE`).
fn canonical_eq(a: &str, b: &str) -> bool {
    let mut a = a.bytes().filter(|c| *c != b'_');
    let mut b = b.bytes().filter(|c| *c != b'_');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
            _ => return false,
        }
    }
}

wire_enum! {
    /// `Type` of an operation.
    OperationType {
        /// The execution itself, created by the service.
        Execution = "EXECUTION",
        /// A child context, map, parallel or wait-for-callback wrapper.
        Context = "CONTEXT",
        /// A checkpointed unit of work.
        Step = "STEP",
        /// A durable timer.
        Wait = "WAIT",
        /// A callback answered by an external system.
        Callback = "CALLBACK",
        /// An invocation of another function.
        ChainedInvoke = "CHAINED_INVOKE",
    }
}

wire_enum! {
    /// `Status` of an operation.
    OperationStatus {
        /// Running.
        Started = "STARTED",
        /// A step waiting for its retry delay.
        Pending = "PENDING",
        /// A step whose retry delay elapsed.
        Ready = "READY",
        /// Finished with a result.
        Succeeded = "SUCCEEDED",
        /// Finished with an error.
        Failed = "FAILED",
        /// Cancelled.
        Cancelled = "CANCELLED",
        /// Timed out.
        TimedOut = "TIMED_OUT",
        /// Stopped.
        Stopped = "STOPPED",
    }
}

impl OperationStatus {
    /// True for SUCCEEDED, FAILED, CANCELLED, TIMED_OUT and STOPPED.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut | Self::Stopped)
    }
}

wire_enum! {
    /// `Action` of an operation update.
    OperationAction {
        /// Start the operation.
        Start = "START",
        /// Finish it with a result.
        Succeed = "SUCCEED",
        /// Finish it with an error.
        Fail = "FAIL",
        /// Finish a step attempt and schedule another.
        Retry = "RETRY",
        /// Cancel a wait or chained invoke.
        Cancel = "CANCEL",
    }
}

wire_enum! {
    /// `SubType` of an operation.
    OperationSubType {
        /// A step.
        Step = "Step",
        /// A wait-for-condition step.
        WaitForCondition = "WaitForCondition",
        /// A wait.
        Wait = "Wait",
        /// A callback.
        Callback = "Callback",
        /// A chained invoke.
        ChainedInvoke = "ChainedInvoke",
        /// A child context.
        RunInChildContext = "RunInChildContext",
        /// The wrapper context of wait-for-callback.
        WaitForCallback = "WaitForCallback",
        /// A map.
        Map = "Map",
        /// One item of a map.
        MapIteration = "MapIteration",
        /// A parallel.
        Parallel = "Parallel",
        /// One branch of a parallel.
        ParallelBranch = "ParallelBranch",
    }
}
