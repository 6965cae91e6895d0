//! The ollama-verify acceptance suite: the cucumber World, the step definitions (one
//! module per feature file), and [`run`], shared by the `ollama-verify` binary and the
//! `acceptance` test.

/// `println!` for a stdout that may close early (`| head`): a write that fails is
/// dropped instead of panicking, so the run goes on and writes its reports.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod config_file;
pub mod features;
mod progress;
pub mod run;
pub mod spec;
mod steps;
pub mod stop;
pub mod world;

pub use run::{list, run, RunOptions, RunReport};
