//! What a check yields: a status, a detail that explains it, and the measured value.
//! Every check produces the same record, whatever it inspects.

use serde::{Deserialize, Serialize};

/// The 14 checks of the seed's script, in its order: the order of every report.
pub const CHECK_IDS: [&str; 14] = [
    "gpu.visible",
    "service.active",
    "service.enabled",
    "service.override",
    "service.host",
    "service.flash_attention",
    "cli.available",
    "models.base",
    "models.custom",
    "api.root",
    "api.tags",
    "api.chat",
    "gpu.offload",
    "perf.generation",
];

/// Position of a check in reports: the seed's order first, then any others by id.
pub fn order(id: &str) -> (usize, String) {
    let pos = CHECK_IDS.iter().position(|c| *c == id);
    (pos.unwrap_or(CHECK_IDS.len()), id.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        }
    }
}

/// How much a check's failure matters: `@warn` scenarios report, they do not fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Warn,
}

/// A check's verdict before it is tied to a check id.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub detail: String,
    /// What was measured, with its unit (`63.3 tok/s`); shown in the summary table.
    pub value: Option<String>,
}

impl Outcome {
    pub fn pass(detail: impl Into<String>) -> Self {
        Self::new(Status::Pass, detail)
    }
    pub fn fail(detail: impl Into<String>) -> Self {
        Self::new(Status::Fail, detail)
    }
    pub fn warn(detail: impl Into<String>) -> Self {
        Self::new(Status::Warn, detail)
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Self::new(Status::Skip, reason)
    }
    fn new(status: Status, detail: impl Into<String>) -> Self {
        Outcome {
            status,
            detail: detail.into(),
            value: None,
        }
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// A failure of a warn-severity check is a warning.
    pub fn under(mut self, severity: Severity) -> Self {
        if severity == Severity::Warn && self.status == Status::Fail {
            self.status = Status::Warn;
        }
        self
    }

    /// With `--strict`, a check that could not run fails the run.
    pub fn strict(mut self, strict: bool) -> Self {
        if strict && self.status == Status::Skip {
            self.status = Status::Fail;
            self.detail = format!("{} (--strict: a skipped check fails)", self.detail);
        }
        self
    }
}

/// One check's result as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub value: Option<String>,
}

impl CheckResult {
    pub fn new(id: &str, name: &str, outcome: Outcome) -> Self {
        CheckResult {
            id: id.to_string(),
            name: name.to_string(),
            status: outcome.status,
            detail: outcome.detail,
            value: outcome.value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warn_severity_turns_failures_into_warnings_only() {
        assert_eq!(
            Outcome::fail("x").under(Severity::Warn).status,
            Status::Warn
        );
        assert_eq!(
            Outcome::fail("x").under(Severity::Fail).status,
            Status::Fail
        );
        assert_eq!(
            Outcome::pass("x").under(Severity::Warn).status,
            Status::Pass
        );
        assert_eq!(
            Outcome::skip("x").under(Severity::Warn).status,
            Status::Skip
        );
    }

    #[test]
    fn strict_turns_skips_into_failures() {
        let o = Outcome::skip("no systemd").strict(true);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("no systemd"));
        assert_eq!(Outcome::skip("x").strict(false).status, Status::Skip);
    }

    #[test]
    fn reports_follow_the_seed_order() {
        let mut ids = vec!["perf.generation", "api.root", "gpu.visible", "zzz.extra"];
        ids.sort_by_key(|id| order(id));
        assert_eq!(
            ids,
            ["gpu.visible", "api.root", "perf.generation", "zzz.extra"]
        );
    }
}
