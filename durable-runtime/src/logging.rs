//! Replay-aware logging through [`tracing`].
//!
//! Workflow code runs again on every replay, so a `tracing::info!` in it would repeat its record on
//! every invocation. The runtime knows, for the code being polled, whether it is **replaying**, and
//! the layers here use it:
//!
//! - [`JsonLayer`] (feature `json-logs`, on by default) writes each record as one line of JSON with
//!   top-level fields (`timestamp`, `level`, `target`, `message`, the event's own fields, and
//!   `durableExecutionArn`, `operationId`, `attempt` inside a workflow), the shape CloudWatch Logs
//!   filters (`{ $.durableExecutionArn = "..." }`) and Logs Insights read, and drops the records
//!   emitted while replaying;
//! - [`ReplayFilter`] (feature `json-logs`) drops them for every other layer (e.g. `tracing-subscriber`'s
//!   `fmt` layer) of the subscriber it is part of;
//! - [`init_json`] installs a [`JsonLayer`] writing to stdout as the global subscriber, for Lambda.
//!
//! [`Options::log_replay(true)`](crate::Options::log_replay) keeps the replayed records (to observe
//! re-execution). Without a durable workflow around it (no [`DurableContext::current`]), a record is
//! never suppressed and carries no execution fields.
//!
//! **What "replaying" means.** Decided per context (the root, each child context, each branch or
//! item): the code of a context is replaying until it reaches an operation that has no terminal
//! record in this invocation; from there on (for the rest of the invocation) it runs live. Before
//! reaching any operation, the code is replaying when the context's *next* operation already has a
//! terminal record. The body of a child context whose own record is terminal (a `ReplayChildren`
//! context rebuilding its result) is replaying throughout. A step body never replays: it only runs
//! live.
//!
//! ```no_run
//! # #[cfg(feature = "json-logs")]
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! durable_runtime::logging::init_json()?; // once, in `main`
//! // in a workflow: `tracing::info!(order = 42, "charging")` prints, on the live run only:
//! // {"timestamp":"2025-01-01T00:00:00.000Z","level":"INFO","target":"my_fn","message":"charging",
//! //  "order":42,"durableExecutionArn":"arn:...","operationId":"6b86..."}
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "json-logs"))]
//! # fn main() {}
//! ```

use crate::context::DurableContext;
use crate::ops::step::StepContext;
use crate::protocol::Timestamp;

/// Where a record is emitted: the execution, the operation, and whether the code is replaying.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogContext {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The step whose body runs, or else the context operation whose body runs (`None` at the root).
    pub operation_id: Option<String>,
    /// The attempt number, inside a step body.
    pub attempt: Option<u32>,
    /// True while the code is replaying (see the [module docs](self)).
    pub replaying: bool,
    /// True when [`Options::log_replay`](crate::Options::log_replay) keeps replayed records.
    pub log_replay: bool,
}

impl LogContext {
    /// True when a record emitted here is dropped: replaying, and replayed records not kept.
    pub fn suppressed(&self) -> bool {
        self.replaying && !self.log_replay
    }
}

/// The log context of the code being polled right now; `None` outside a durable workflow.
pub fn current() -> Option<LogContext> {
    let ctx = DurableContext::current()?;
    let (operation_id, attempt, replaying) = match StepContext::current() {
        Some(step) => (Some(step.operation_id().to_owned()), Some(step.attempt()), false),
        None => (ctx.ns.owner().map(|o| o.id.to_string()), None, ctx.exec.replaying(&ctx.ns)),
    };
    Some(LogContext {
        execution_arn: ctx.exec.arn.clone(),
        operation_id,
        attempt,
        replaying,
        log_replay: ctx.exec.log_replay,
    })
}

/// True when the code being polled is replaying (see the [module docs](self)).
pub fn is_replaying() -> bool {
    current().is_some_and(|c| c.replaying)
}

/// `ts` as ISO-8601 UTC with milliseconds (`2025-01-31T12:00:00.250Z`).
pub fn iso8601(ts: Timestamp) -> String {
    let millis = ts.as_millis();
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (year, month, day) = crate::protocol::civil_from_days(days);
    let (h, m, s, ms) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

#[cfg(feature = "json-logs")]
pub use json::{init_json, JsonLayer, ReplayFilter};

#[cfg(feature = "json-logs")]
mod json {
    use super::{current, iso8601};
    use crate::protocol::Timestamp;
    use serde_json::{Map, Value};
    use std::fmt;
    use std::io::Write;
    use std::sync::Arc;
    use tracing::field::{Field, Visit};
    use tracing::{Event, Level, Metadata, Subscriber};
    use tracing_subscriber::layer::{Context, Layer};

    type Sink = Arc<dyn Fn(&str) + Send + Sync>;

    /// A layer that writes each record as one line of JSON with top-level fields, and drops the
    /// records emitted while replaying (see the [module docs](super)).
    #[derive(Clone)]
    pub struct JsonLayer {
        sink: Sink,
        max_level: Level,
    }

    impl fmt::Debug for JsonLayer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("JsonLayer").field("max_level", &self.max_level).finish_non_exhaustive()
        }
    }

    impl JsonLayer {
        /// Writes to stdout (where Lambda sends it to CloudWatch Logs), records up to `INFO`.
        pub fn stdout() -> Self {
            Self::with_writer(|line| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            })
        }

        /// Hands every line (without its newline) to `write`.
        pub fn with_writer(write: impl Fn(&str) + Send + Sync + 'static) -> Self {
            Self { sink: Arc::new(write), max_level: Level::INFO }
        }

        /// The most verbose level written (default: `INFO`).
        #[must_use]
        pub fn max_level(mut self, level: Level) -> Self {
            self.max_level = level;
            self
        }

        /// The JSON line of `event`, or `None` when it is suppressed.
        fn format(&self, event: &Event<'_>) -> Option<String> {
            let meta = event.metadata();
            if *meta.level() > self.max_level {
                return None;
            }
            let log = current();
            if log.as_ref().is_some_and(|l| l.suppressed()) {
                return None;
            }
            let mut fields = Map::new();
            fields.insert("timestamp".into(), iso8601(Timestamp::now()).into());
            fields.insert("level".into(), meta.level().as_str().into());
            fields.insert("target".into(), meta.target().into());
            event.record(&mut Fields(&mut fields));
            if let Some(log) = log {
                fields.insert("durableExecutionArn".into(), log.execution_arn.into());
                if let Some(id) = log.operation_id {
                    fields.insert("operationId".into(), id.into());
                }
                if let Some(attempt) = log.attempt {
                    fields.insert("attempt".into(), attempt.into());
                }
            }
            serde_json::to_string(&Value::Object(fields)).ok()
        }
    }

    impl<S: Subscriber> Layer<S> for JsonLayer {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            if let Some(line) = self.format(event) {
                (self.sink)(&line);
            }
        }
    }

    /// Drops the records emitted while replaying for every layer of the subscriber it is part of
    /// (unless [`Options::log_replay`](crate::Options::log_replay) keeps them).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct ReplayFilter;

    impl<S: Subscriber> Layer<S> for ReplayFilter {
        fn event_enabled(&self, _event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
            !current().is_some_and(|l| l.suppressed())
        }

        fn enabled(&self, _metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
            true
        }
    }

    /// Installs a [`JsonLayer`] writing to stdout as the global `tracing` subscriber. Call it once,
    /// in `main`; it fails when a global subscriber is already set.
    pub fn init_json() -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(JsonLayer::stdout()))
    }

    /// Collects an event's fields as JSON values (`message` included).
    struct Fields<'a>(&'a mut Map<String, Value>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}").into());
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.into());
        }

        fn record_i64(&mut self, field: &Field, value: i64) {
            self.0.insert(field.name().to_owned(), value.into());
        }

        fn record_u64(&mut self, field: &Field, value: u64) {
            self.0.insert(field.name().to_owned(), value.into());
        }

        fn record_f64(&mut self, field: &Field, value: f64) {
            self.0.insert(field.name().to_owned(), value.into());
        }

        fn record_bool(&mut self, field: &Field, value: bool) {
            self.0.insert(field.name().to_owned(), value.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc_millis() {
        assert_eq!(iso8601(Timestamp::from_millis(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(Timestamp::from_millis(1_738_324_800_250)), "2025-01-31T12:00:00.250Z");
        assert_eq!(iso8601(Timestamp::from_millis(951_782_400_000)), "2000-02-29T00:00:00.000Z");
    }
}
