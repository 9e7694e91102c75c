//! Compile-time tests of `#[durable_workflow]` and `#[durable_step]`: one violated rule per file in
//! `ui/fail` (with its reviewed `.stderr`), and expansions that must compile cleanly in `ui/pass`.
//! Regenerate snapshots with `TRYBUILD=overwrite cargo test -p durable-tests -- ui`, then review them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
