//! The acceptance suite entry point for `cargo test` (harness = false).
fn main() {}
