//! The ollama-verify acceptance suite: the cucumber World, the step definitions (one
//! module per feature file), and [`run`], shared by the `ollama-verify` binary and the
//! `acceptance` test.
//!
//! Each module uses only modules below it here (no cycle):
//!
//! ```text
//! run          one run, start to exit code     -> facts, progress, reports, options, spec,
//!                                                 features, tags, usage, exit, stop, world
//! explain      explain a pasted server log     -> exit
//! init         `init DIR`: a spec for an install -> features, staged, usage, exit
//! list         --list                          -> spec, features, tags, usage
//! closing      the console's closing summary   -> progress
//! facts        the run's facts, from its session
//! fleet        many hosts' reports as one      -> options, reports, staged, terminal,
//!                                                 usage, exit
//! progress     the console's line per check    -> tags, world
//! reports      report files: checked, written  -> html, options, staged, usage
//! html         the HTML report's spec          -> features, spec, tags
//! options      RunOptions
//! staged       a file written whole or not at all
//! config_file  ollama-verify.toml              -> usage
//! spec         the feature files, checked      -> tags, usage, world
//! features     built-in ones, --features       -> usage
//! tags         --tags, a scenario's tags       -> usage
//! usage        UsageError (exit code 2)        -> exit
//! exit         exit codes, the exit policy     -> stop
//! stop         --deadline, signals             -> world
//! steps        the step definitions            -> world
//! world        the cucumber World, CheckMeta
//! terminal     --color, NO_COLOR, the width     (leaf)
//! ```

/// `println!` for a stdout that may close early (`| head`): a write that fails is
/// dropped instead of panicking, so the run goes on and writes its reports.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod closing;
pub mod config_file;
pub mod exit;
pub mod explain;
pub mod facts;
pub mod features;
pub mod flag_values;
pub mod fleet;
mod html;
pub mod init;
pub mod list;
pub mod metrics;
pub mod options;
mod progress;
mod reports;
pub mod run;
pub mod serve;
pub mod spec;
mod staged;
mod steps;
pub mod stop;
pub mod tags;
pub mod terminal;
pub mod usage;
pub mod world;

pub use list::list;
pub use options::RunOptions;
pub use run::{run, RunReport};
pub use usage::UsageError;
