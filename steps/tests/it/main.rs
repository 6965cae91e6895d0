//! The binary-level tests, one module per area, in one test binary (one link, one
//! harness). Each runs `ollama-verify` or the emulator through [`support`], which clears
//! the developer's `OLLAMA_*` settings. `acceptance.rs` stays apart: it is the entry a
//! user runs against a real install.

mod support;

mod baseline;
mod checks;
mod console;
mod diagnostics;
mod docker;
mod docs;
mod explain;
mod facts;
mod faults;
mod fleet;
mod html;
mod init;
mod ollama_cli;
mod parallel;
mod precision;
mod serve;
mod systemd;
