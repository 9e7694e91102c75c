//! `wait`: a durable timer. The invocation suspends; the service re-invokes the workflow when the
//! time has passed, and replay then goes straight past the wait.

use super::label;
use crate::checkpoint::BoxFuture;
use crate::context::DurableContext;
use crate::engine::ids::OpId;
use crate::engine::{Expected, Halted};
use crate::error::{DurableError, ErrorKind};
use crate::protocol::limits::MAX_WAIT_SECONDS;
use crate::protocol::{
    OperationAction, OperationStatus, OperationSubType, OperationType, OperationUpdate, WaitOptions,
};
use std::future::IntoFuture;
use std::time::Duration;

/// A wait being configured. Created by [`DurableContext::wait`]; await it to wait.
#[must_use = "a wait does nothing until it is awaited"]
pub struct Wait {
    ctx: DurableContext,
    op: OpId,
    name: Option<String>,
    duration: Duration,
}

impl DurableContext {
    /// A durable wait: the invocation suspends and the service re-invokes the workflow once `duration`
    /// has passed. The duration is rounded up to whole seconds and must be between 1 second and
    /// 366 days.
    pub fn wait(&self, duration: Duration) -> Wait {
        Wait::new(self, duration)
    }
}

impl Wait {
    pub(crate) fn new(ctx: &DurableContext, duration: Duration) -> Self {
        Self { ctx: ctx.clone(), op: ctx.next_id(), name: None, duration }
    }

    /// The wait's name, recorded in the history and checked on replay.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    async fn run(self) -> Result<(), DurableError> {
        let what = label("wait", self.name.as_deref(), &self.op.positional);
        let seconds = wait_seconds(self.duration)
            .map_err(|msg| DurableError::new(ErrorKind::InvalidArgument, format!("{what}: {msg}")))?;
        let exec = self.ctx.exec.clone();
        let expected =
            Expected { op_type: OperationType::Wait, sub_type: OperationSubType::Wait, name: self.name.as_deref() };
        let status = exec.with_record(&self.op, &expected, |record| record.map(|r| r.status.clone()));
        let Some(status) = status else { match Halted.await {} };
        match status {
            None => {
                let mut update = OperationUpdate::new(&*self.op.id, OperationType::Wait, OperationAction::Start);
                update.parent_id = self.op.parent_id.as_deref().map(str::to_owned);
                update.name = self.name.clone();
                update.sub_type = Some(OperationSubType::Wait);
                update.wait_options = Some(WaitOptions { wait_seconds: Some(seconds) });
                exec.enqueue(update);
                match exec.park().await {}
            }
            Some(OperationStatus::Started) => match exec.park().await {},
            Some(OperationStatus::Succeeded) => Ok(()),
            Some(other) if other.is_terminal() => {
                Err(DurableError::new(ErrorKind::WaitFailed, format!("{what} ended with status {other}")))
            }
            Some(other) => {
                let error = DurableError::new(
                    ErrorKind::UnknownStatus,
                    format!("{what} has status `{other}`, which a wait cannot have"),
                );
                match exec.halt(error).await {}
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
