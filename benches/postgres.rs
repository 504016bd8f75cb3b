//! Criterion bench (being written; see the issue that owns it).
fn main() {}
