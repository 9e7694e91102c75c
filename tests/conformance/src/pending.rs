//! The requirements that are not run (or not fully checked) yet, each with its reason. The harness
//! never skips a requirement that is not listed here, and the README mirrors this table.
//!
//! Entries name a suite (every requirement in it) or one requirement id; an id entry wins over its
//! suite's.
//!
//! Requirements whose histories depend on real concurrency (8-11, 9-11: `max_concurrency(2)`, they
//! assert only EventId 2 and the index-ordered result) are run, and matched on the events they
//! assert only, like every requirement: unlisted events are ignored, so their item events are not
//! checked.

/// Why a requirement is not (fully) checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Not run at all.
    Skip(&'static str),
    /// Run and checked, except its `ExpectedLogs`.
    LogsUnchecked(&'static str),
}

/// The table: suite name or requirement id, and what is pending.
pub const PENDING: &[(&str, Pending)] = &[];

/// What is pending for requirement `id` of `suite`, if anything.
pub fn pending(suite: &str, id: &str) -> Option<Pending> {
    let find = |key: &str| PENDING.iter().find(|(k, _)| *k == key).map(|(_, p)| *p);
    find(id).or_else(|| find(suite))
}
