//! `wait`: a durable timer. The invocation suspends; the service re-invokes the workflow when the
//! time has passed, and replay then goes straight past the wait.

use super::shell::{Kind, Plan, Replay, Shell};
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::error::{DurableError, ErrorKind};
use crate::protocol::limits::MAX_WAIT_SECONDS;
use crate::protocol::{OperationAction, OperationStatus, OperationSubType, OperationType, WaitOptions};
use std::future::IntoFuture;
use std::time::Duration;

/// A wait being configured. Created by [`DurableContext::wait`]; await it to wait.
#[must_use = "a wait does nothing until it is awaited: add `.await`"]
pub struct Wait {
    shell: Shell,
    duration: Duration,
}

const WAIT: Kind = Kind {
    op_type: OperationType::Wait,
    sub_type: OperationSubType::Wait,
    noun: "wait",
    failure: ErrorKind::WaitFailed,
    unknown: "which a wait cannot have",
};

impl DurableContext {
    /// A durable wait: the invocation suspends and the service re-invokes the workflow once `duration`
    /// has passed. The duration is rounded up to whole seconds and must be between 1 second and
    /// 366 days.
    pub fn wait(&self, duration: Duration) -> Wait {
        Wait { shell: Shell::new(self, WAIT), duration }
    }
}

impl Wait {
    /// The wait's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.shell.name = Some(name.into());
        self
    }

    async fn run(self) -> Result<(), DurableError> {
        let shell = &self.shell;
        let seconds = wait_seconds(self.duration)
            .map_err(|msg| DurableError::new(ErrorKind::InvalidArgument, format!("{}: {msg}", shell.label())))?;
        let replay = shell.replay(|record| match record.map(|r| &r.status) {
            None => Plan::Live(()),
            Some(OperationStatus::Started) => Plan::Park,
            Some(OperationStatus::Succeeded) => Plan::Done(Ok(())),
            Some(other) if other.is_terminal() => Plan::Done(Err(DurableError::new(
                ErrorKind::WaitFailed,
                format!("{} ended with status {other}", shell.label()),
            ))),
            Some(other) => Plan::Unknown(other.to_string()),
        });
        match replay.await {
            Replay::Recorded(outcome) => outcome,
            Replay::Live(()) => {
                let mut update = shell.update(OperationAction::Start);
                update.wait_options = Some(WaitOptions { wait_seconds: Some(seconds) });
                shell.suspend(update).await
            }
        }
    }
}

impl IntoFuture for Wait {
    type Output = Result<(), DurableError>;
    type IntoFuture = BoxFuture<Result<(), DurableError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Whole seconds the service is asked to wait: the duration rounded up, between 1 and
/// [`MAX_WAIT_SECONDS`].
pub(crate) fn wait_seconds(duration: Duration) -> Result<u64, String> {
    if duration.is_zero() {
        return Err("a wait must last at least 1 second; skip the wait instead of waiting for zero".to_owned());
    }
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    if seconds > MAX_WAIT_SECONDS {
        return Err(format!(
            "{seconds} seconds is over the longest wait the service accepts, {MAX_WAIT_SECONDS} seconds (366 days)"
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_and_stay_in_range() {
        assert_eq!(wait_seconds(Duration::from_millis(1)), Ok(1));
        assert_eq!(wait_seconds(Duration::from_millis(1500)), Ok(2));
        assert_eq!(wait_seconds(Duration::from_secs(60)), Ok(60));
        assert_eq!(wait_seconds(Duration::from_secs(MAX_WAIT_SECONDS)), Ok(MAX_WAIT_SECONDS));
        assert!(wait_seconds(Duration::ZERO).is_err());
        let over = wait_seconds(Duration::from_secs(MAX_WAIT_SECONDS + 1)).unwrap_err();
        assert!(over.contains("31622400"), "{over}");
    }
}
