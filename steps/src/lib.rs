//! The ollama-verify acceptance suite: the cucumber World, the step definitions (one
//! module per feature file), and [`run`], shared by the `ollama-verify` binary and the
//! `acceptance` test.

pub mod config_file;
pub mod features;
mod progress;
pub mod run;
mod steps;
pub mod stop;
pub mod world;

pub use run::{list, run, RunOptions, RunReport};
