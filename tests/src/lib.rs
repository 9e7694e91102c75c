//! Compile-time and behaviour tests live in `tests/`.
