//! Verdicts: pure functions from gathered facts and the spec's expected values to an
//! [`Outcome`](crate::check::Outcome). One function per check, named by its id
//! (`api.root` → [`api::root`]); the steps crate calls them, nothing else decides.

pub mod api;
pub mod baseline;
pub mod cli;
pub mod cloud;
pub mod diagnose;
pub mod gpu;
pub mod modelfile;
pub mod models;
pub mod openai;
pub mod parallel;
pub mod perf;
pub mod precision;
pub mod security;
pub mod service;

use crate::check::Outcome;
use crate::ClientError;

/// An API call that failed, as a finding: one that only echoes a failed `GET /` is
/// reported once, by api.root.
#[derive(Debug, Clone)]
pub enum Unanswered {
    /// It only echoes a failed `GET /`: the reason api.root reports.
    RootDown(String),
    /// It failed on its own: the error.
    Failed(ClientError),
}

impl Unanswered {
    pub fn of(e: &ClientError, unreachable_reason: Option<&str>) -> Self {
        match root_reason(e, unreachable_reason) {
            Some(reason) => Unanswered::RootDown(reason.to_string()),
            None => Unanswered::Failed(e.clone()),
        }
    }

    /// The finding in words: a skip for an echo of `GET /`, else a failure.
    pub fn outcome(&self) -> Outcome {
        match self {
            Unanswered::RootDown(reason) => Outcome::skip(reason.clone()),
            Unanswered::Failed(e) => Outcome::fail(e.to_string()),
        }
    }
}

/// An API failure as an outcome: unreachable servers skip (api.root reports them once).
pub(crate) fn api_error(e: &ClientError, unreachable_reason: Option<&str>) -> Outcome {
    Unanswered::of(e, unreachable_reason).outcome()
}

/// `unreachable_reason` (set only when `GET /` failed) where `e` only echoes that
/// failure: the server is silent, or answers as no Ollama does.
pub fn root_reason<'a>(e: &ClientError, unreachable_reason: Option<&'a str>) -> Option<&'a str> {
    unreachable_reason.filter(|_| e.is_unresponsive() || e.is_foreign())
}

/// Bytes as `ollama list` shows them (decimal units).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, f64); 4] = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    UNITS
        .iter()
        .find(|(_, size)| n as f64 >= *size)
        .map_or(format!("{n} B"), |(unit, size)| {
            format!("{:.1} {unit}", n as f64 / size)
        })
}
