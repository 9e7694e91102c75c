//! The replay engine: the merged execution state of one invocation, the checkpoint queue, and the
//! bookkeeping that tells the driver when user code can make no more progress.
//!
//! Everything lives behind one mutex that is never held across an `.await`. Operations look their
//! record up by id, queue updates, wait for updates to become durable, and park when the service has to
//! act before they can go on (a timer, a retry delay, a callback).

pub(crate) mod ids;
mod records;
mod waits;

use crate::checkpoint::batch::{Batch, Queue};
use crate::checkpoint::{Batching, CheckpointClient, CheckpointError, ErrorClass};
use crate::error::{DurableError, ErrorKind};
use crate::protocol::{Operation, OperationSubType, OperationType, OperationUpdate};
use ids::OpId;
use records::Records;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant, SystemTime};
pub(crate) use waits::{Busy, Durable, Halted, Parked};

/// The state of one invocation of one execution.
pub(crate) struct Execution {
    pub(crate) arn: String,
    pub(crate) client: Arc<dyn CheckpointClient>,
    /// The registered plugins (see [`crate::plugin`]).
    pub(crate) hooks: crate::plugin::Hooks,
    /// Log records emitted while replaying are kept (see [`crate::logging`]).
    pub(crate) log_replay: bool,
    inner: Mutex<Inner>,
}

struct Inner {
    ops: Records,
    queue: Queue,
    token: Option<String>,
    /// Every update with a sequence number below this is durable.
    durable_seq: u64,
    in_flight: bool,
    /// A failed checkpoint call; latched, nothing more is sent.
    failure: Option<CheckpointError>,
    /// A failure that ends the execution whatever user code does (nondeterminism, ...).
    fatal: Option<DurableError>,
    /// Step bodies running right now.
    busy: usize,
    /// Operations waiting for the service (suspension points).
    parked: usize,
    waiters: Vec<Waker>,
    driver: Option<Waker>,
    /// Namespaces (positional prefix, `""` at the root) whose code reached an operation without a
    /// terminal record: their code runs live from there on (see [`Execution::replaying`]).
    live: HashSet<String>,
    /// The ids of the recorded operations the code reached, in order, when they are tracked (the
    /// test runner's replay audit); `None` otherwise, which costs nothing.
    visited: Option<Vec<Arc<str>>>,
    /// Checkpoint batching for at-least-once work, when on.
    batching: Option<Batching>,
    /// Every queued update with a sequence number below this must be sent without delay: it needs
    /// durability, or comes before one that does.
    urgent_seq: u64,
    /// Everything queued goes out now (the invocation is ending).
    flush_all: bool,
    /// Batched updates are sent before this instant (the Lambda deadline, less a margin).
    flush_by: Option<Instant>,
}

/// Time kept between sending the last batched updates and the Lambda deadline.
const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// What the recorded operation at a position looks like, for the nondeterminism check.
pub(crate) struct Expected<'a> {
    pub(crate) op_type: &'a OperationType,
    pub(crate) sub_type: &'a OperationSubType,
    pub(crate) name: Option<&'a str>,
}

impl Execution {
    pub(crate) fn new(
        arn: String,
        token: String,
        operations: impl IntoIterator<Item = Operation>,
        client: Arc<dyn CheckpointClient>,
    ) -> Self {
        let ops = Records::new(operations.into_iter().collect());
        Self {
            arn,
            client,
            hooks: crate::plugin::Hooks::default(),
            log_replay: false,
            inner: Mutex::new(Inner {
                ops,
                queue: Queue::default(),
                token: Some(token),
                durable_seq: 0,
                in_flight: false,
                failure: None,
                fatal: None,
                busy: 0,
                parked: 0,
                waiters: Vec::new(),
                driver: None,
                live: HashSet::new(),
                visited: None,
                batching: None,
                urgent_seq: 0,
                flush_all: false,
                flush_by: None,
            }),
        }
    }

    /// Registers the invocation's plugins, and keeps log records emitted while replaying when
    /// `log_replay` is set.
    pub(crate) fn with_plugins(mut self, plugins: Vec<Arc<dyn crate::plugin::Plugin>>, log_replay: bool) -> Self {
        self.hooks = crate::plugin::Hooks::new(plugins);
        self.log_replay = log_replay;
        self
    }

    /// Turns checkpoint batching on for at-least-once updates (see [`Batching`]); batched updates are
    /// sent well before `deadline`.
    pub(crate) fn with_batching(self, batching: Option<Batching>, deadline: Option<SystemTime>) -> Self {
        {
            let mut inner = self.lock();
            inner.batching = batching;
            inner.flush_by = deadline.map(|deadline| {
                let left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
                Instant::now() + left.saturating_sub(DEADLINE_MARGIN)
            });
        }
        self
    }

    /// True when at-least-once updates are batched.
    pub(crate) fn batching(&self) -> bool {
        self.lock().batching.is_some()
    }

    /// Tracks which recorded operations the code reaches (see [`Self::visited`]).
    pub(crate) fn tracking_visits(self) -> Self {
        self.lock().visited = Some(Vec::new());
        self
    }

    /// The ids of the recorded operations the code reached so far, in order (empty unless tracked).
    pub(crate) fn visited(&self) -> Vec<Arc<str>> {
        self.lock().visited.clone().unwrap_or_default()
    }

    /// True while the code of namespace `ns` is replaying: its owner has a terminal record (a
    /// `ReplayChildren` context rebuilding its result), or no operation of `ns` without a terminal
    /// record was reached yet and the next one has a terminal record.
    pub(crate) fn replaying(&self, ns: &ids::Namespace) -> bool {
        let inner = self.lock();
        let terminal = |id: &str| inner.ops.get(id).is_some_and(|r| r.status.is_terminal());
        if ns.owner().is_some_and(|owner| terminal(&owner.id)) {
            return true;
        }
        if inner.live.contains(ns.owner().map_or("", |o| &*o.positional)) {
            return false;
        }
        terminal(&ns.peek_id())
    }

    /// Every known operation (for the plugin hooks).
    pub(crate) fn operations_count(&self) -> usize {
        self.lock().ops.ops.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the state itself stays consistent because every
        // critical section is a handful of field updates.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Looks the record at `id` up, checks it against what the code expects there, and hands it to `f`.
    ///
    /// A mismatch (type, subtype or name) is fatal: the execution fails with a nondeterminism error
    /// naming both operations, and `None` is returned for the caller to stop (see [`Self::halt`]).
    pub(crate) fn with_record<R>(
        &self,
        op: &OpId,
        expected: &Expected<'_>,
        f: impl FnOnce(Option<&Operation>) -> R,
    ) -> Option<R> {
        let mut inner = self.lock();
        if inner.visited.is_some() && inner.ops.get(&op.id).is_some() {
            if let Some(visited) = inner.visited.as_mut() {
                visited.push(Arc::from(&*op.id));
            }
        }
        let record = inner.ops.get(&op.id);
        if let Some(record) = record {
            if let Some(mismatch) = mismatch(record, expected) {
                let error = DurableError::new(
                    ErrorKind::NonDeterministic,
                    format!(
                        "operation at position {} was recorded as {mismatch} but the code now runs {}; \
                         the workflow changed in a way that breaks replay",
                        op.positional,
                        describe(expected.op_type, Some(expected.sub_type), expected.name),
                    ),
                );
                inner.set_fatal(error);
                return None;
            }
        }
        let live = record.is_none_or(|r| !r.status.is_terminal());
        let start = (live && self.hooks.enabled()).then(|| {
            let mut info = record.map_or_else(Default::default, |r| crate::plugin::OperationInfo::from_record(r, true));
            info.id = op.id.to_string();
            info.parent_id = op.parent_id.as_deref().map(str::to_owned);
            info.name = expected.name.map(str::to_owned);
            info.op_type = Some(expected.op_type.clone());
            info.sub_type = Some(expected.sub_type.clone());
            info
        });
        let result = f(record);
        if live {
            inner.live.insert(op.positional.rsplit_once('-').map_or("", |(ns, _)| ns).to_owned());
        }
        drop(inner);
        if let Some(info) = start {
            self.hooks.emit(|p| p.on_operation_start(&info));
        }
        Some(result)
    }

    /// Reads the record at `id` without checks.
    pub(crate) fn read<R>(&self, id: &str, f: impl FnOnce(Option<&Operation>) -> R) -> R {
        f(self.lock().ops.get(id))
    }

    /// Queues an update that must be sent without delay, and returns its sequence number.
    pub(crate) fn enqueue(&self, update: OperationUpdate) -> u64 {
        self.push(update, true)
    }

    /// Queues an update of at-least-once work, which may wait for later updates when batching is on
    /// (see [`Batching`]), and returns its sequence number.
    pub(crate) fn enqueue_batched(&self, update: OperationUpdate) -> u64 {
        self.push(update, false)
    }

    fn push(&self, update: OperationUpdate, urgent: bool) -> u64 {
        let mut inner = self.lock();
        let seq = inner.queue.push(update);
        if urgent {
            inner.urgent_seq = inner.urgent_seq.max(seq + 1);
        }
        if let Some(waker) = inner.driver.take() {
            waker.wake();
        }
        seq
    }

    /// Sends everything queued without delay from now on (the invocation is ending).
    pub(crate) fn flush_all(&self) {
        self.lock().flush_all = true;
    }

    /// When batched updates are being held: the instant they must be sent by.
    pub(crate) fn hold_until(&self) -> Option<Instant> {
        let inner = self.lock();
        if inner.in_flight || inner.failure.is_some() || inner.queue.is_empty() || inner.must_send(Instant::now()) {
            return None;
        }
        inner.send_by()
    }

    /// Resolves once the update numbered `seq` is durable. Never resolves if checkpointing failed: the
    /// driver ends the invocation instead, so user code never sees an outcome the service did not record.
    pub(crate) fn durable(self: &Arc<Self>, seq: u64) -> Durable {
        Durable { exec: self.clone(), seq }
    }

    /// Ends the execution with `error` whatever user code does next, and returns a future that never
    /// resolves, for the operation that detected it.
    pub(crate) fn halt(&self, error: DurableError) -> Halted {
        self.lock().set_fatal(error);
        Halted
    }

    /// A future that never resolves and counts as a suspension point while it is alive.
    pub(crate) fn park(self: &Arc<Self>) -> Parked {
        Parked { exec: self.clone(), counted: false }
    }

    /// Marks a step body as running until the guard is dropped.
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        let mut inner = self.lock();
        inner.busy += 1;
        Busy { exec: self.clone() }
    }

    /// The latched fatal error, if any.
    pub(crate) fn fatal(&self) -> Option<DurableError> {
        self.lock().fatal.clone()
    }

    /// The latched checkpoint failure, if any.
    pub(crate) fn failure(&self) -> Option<CheckpointError> {
        self.lock().failure.clone()
    }

    /// Registers the driver's waker.
    pub(crate) fn set_driver(&self, waker: &Waker) {
        let mut inner = self.lock();
        match &inner.driver {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.driver = Some(waker.clone()),
        }
    }

    /// True when nothing is queued or in flight.
    pub(crate) fn flushed(&self) -> bool {
        let inner = self.lock();
        inner.queue.is_empty() && !inner.in_flight
    }

    /// True when user code can make no progress until the service acts: everything is flushed, no step
    /// body runs, and at least one operation waits for the service.
    pub(crate) fn suspendable(&self) -> bool {
        let inner = self.lock();
        inner.queue.is_empty() && !inner.in_flight && inner.busy == 0 && inner.parked > 0
    }

    /// Takes the next request to send, with the token to send it with. `None` when nothing is queued,
    /// a request is already in flight, or checkpointing has failed.
    pub(crate) fn next_request(&self) -> Option<(Batch, String)> {
        let mut inner = self.lock();
        if inner.in_flight || inner.failure.is_some() || inner.queue.is_empty() {
            return None;
        }
        let Some(token) = inner.token.clone() else {
            inner.failure = Some(CheckpointError::new(
                ErrorClass::Fatal,
                None,
                None,
                "the service issued no checkpoint token: the execution has already ended",
            ));
            return None;
        };
        if !inner.must_send(Instant::now()) {
            return None;
        }
        let batch = inner.queue.take_batch()?;
        inner.in_flight = true;
        Some((batch, token))
    }

    /// Applies the outcome of the request that ended at `end_seq`.
    pub(crate) fn complete_request(
        &self,
        end_seq: u64,
        outcome: Result<(Option<String>, Vec<Operation>), CheckpointError>,
    ) {
        let mut inner = self.lock();
        inner.in_flight = false;
        let mut ended = Vec::new();
        let mut changed = Vec::new();
        match outcome {
            Ok((token, operations)) => {
                inner.token = token;
                for op in operations {
                    if self.hooks.enabled() {
                        let was_terminal = inner.ops.get(&op.id).is_some_and(|r| r.status.is_terminal());
                        let info = crate::plugin::OperationInfo::from_record(&op, false);
                        if op.status.is_terminal() && !was_terminal {
                            ended.push(info.clone());
                        }
                        changed.push(info);
                    }
                    inner.ops.upsert(op);
                }
                inner.durable_seq = end_seq;
            }
            Err(error) => inner.failure = Some(error),
        }
        let all = (!changed.is_empty()).then(|| {
            inner
                .ops
                .ops
                .iter()
                .map(|op| (op.id.clone(), crate::plugin::OperationInfo::from_record(op, false)))
                .collect()
        });
        for waker in inner.waiters.drain(..) {
            waker.wake();
        }
        drop(inner);
        for info in &ended {
            self.hooks.emit(|p| p.on_operation_end(info));
        }
        if let Some(operations) = all {
            let info = crate::plugin::OperationChangeInfo {
                execution_arn: self.arn.clone(),
                updated_operations: changed,
                operations,
            };
            self.hooks.emit(|p| p.on_operations_changed(&info));
        }
    }
}

impl Inner {
    /// True when the queued updates must be sent now rather than wait for more (see [`Batching`]).
    fn must_send(&self, now: Instant) -> bool {
        let Some(batching) = self.batching else { return true };
        self.flush_all
            || self.queue.head_seq() < self.urgent_seq
            || (self.busy == 0 && self.parked > 0)
            || self.fatal.is_some()
            || self.queue.len() >= batching.updates()
            || self.send_by().is_some_and(|by| now >= by)
    }

    /// When the oldest queued update must be sent by.
    fn send_by(&self) -> Option<Instant> {
        let batching = self.batching?;
        let oldest = self.queue.oldest()? + batching.delay();
        Some(self.flush_by.map_or(oldest, |by| by.min(oldest)))
    }

    fn set_fatal(&mut self, error: DurableError) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
        if let Some(waker) = self.driver.take() {
            waker.wake();
        }
    }
}

fn mismatch(record: &Operation, expected: &Expected<'_>) -> Option<String> {
    let record_name = record.name.as_deref().filter(|n| !n.is_empty());
    let expected_name = expected.name.filter(|n| !n.is_empty());
    let sub_type_differs = record.sub_type.as_ref().is_some_and(|s| s != expected.sub_type);
    if record.op_type != *expected.op_type || sub_type_differs || record_name != expected_name {
        Some(describe(&record.op_type, record.sub_type.as_ref(), record_name))
    } else {
        None
    }
}

fn describe(op_type: &OperationType, sub_type: Option<&OperationSubType>, name: Option<&str>) -> String {
    let mut text = op_type.to_string();
    if let Some(sub_type) = sub_type {
        text.push('/');
        text.push_str(sub_type.as_str());
    }
    match name {
        Some(name) => text.push_str(&format!(" `{name}`")),
        None => text.push_str(" (unnamed)"),
    }
    text
}
