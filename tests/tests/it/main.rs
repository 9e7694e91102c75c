//! The tests of the DSL, in one test binary: compile-time (trybuild) cases and behaviour through the
//! in-process test runner.

mod dsl;
mod ui;
