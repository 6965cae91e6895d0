//! What a check yields: a status, a detail that explains it, and the measured value.
//! Every check produces the same record, whatever it inspects.

use crate::catalog::CheckId;
use crate::figure::Figure;
use serde::{Deserialize, Serialize};

pub use crate::catalog::{order, Severity};

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

/// A check's verdict before it is tied to a check id.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub detail: String,
    /// What was measured, with its unit (`63.3 tok/s`); shown in the summary table.
    pub value: Option<String>,
    /// The same measurements as numbers, for charts, metrics and comparisons.
    pub figures: Vec<Figure>,
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
            figures: Vec::new(),
        }
    }

    /// `Status [value] detail`, one line: how the verdicts' snapshot tests show an outcome.
    #[cfg(test)]
    pub(crate) fn snapshot_line(self) -> String {
        format!(
            "{:?} [{}] {}\n",
            self.status,
            self.value.unwrap_or_default(),
            self.detail
        )
    }

    pub fn with_figure(mut self, figure: Figure) -> Self {
        self.figures.push(figure);
        self
    }

    /// Names `model` as the model of every figure that names none.
    pub fn for_model(mut self, model: &str) -> Self {
        for f in self.figures.iter_mut().filter(|f| f.model.is_none()) {
            f.model = Some(model.to_string());
        }
        self
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
            self.detail = format!("{}{STRICT_NOTE}", self.detail);
        }
        self
    }
}

impl Outcome {
    /// An outcome that points at checks `--tags` left out (`unselected`, with their
    /// severities): their verdicts are in no report, so it says how to see them. A skip
    /// that rests on one ("the model could not answer a chat (see api.chat)") stands
    /// in its place: it fails (or warns, for a `@warn` one), so that a selection cannot
    /// turn a broken install green.
    pub fn past_selection(mut self, unselected: &[(String, Severity)]) -> Self {
        if self.status == Status::Pass {
            return self;
        }
        let absent: Vec<&(String, Severity)> = unselected
            .iter()
            .filter(|(id, _)| mentions(&self.detail, id))
            .collect();
        if absent.is_empty() {
            return self;
        }
        let ids: Vec<&str> = absent.iter().map(|(id, _)| id.as_str()).collect();
        let tags: Vec<String> = ids.iter().map(|id| format!("or @check.{id}")).collect();
        let (them, it) = if ids.len() == 1 {
            ("it", "its")
        } else {
            ("them", "their")
        };
        let instead = if self.status == Status::Skip {
            let fails = absent.iter().any(|(_, s)| *s == Severity::Fail);
            self.status = if fails { Status::Fail } else { Status::Warn };
            format!(
                "; this check {} in {it} place",
                if fails { "fails" } else { "warns" }
            )
        } else {
            String::new()
        };
        self.detail = format!(
            "{} ({} not selected by --tags{instead}: add `{}` to see {them})",
            self.detail,
            ids.join(", "),
            tags.join(" "),
        );
        self
    }
}

/// Whether `text` names the check `id` as a word (`api.chat`, not `api.chatter`).
fn mentions(text: &str, id: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + id.len()..];
        // A full stop may end the sentence; `.x` goes on with a longer name.
        let goes_on =
            rest.starts_with(word) || rest.strip_prefix('.').is_some_and(|r| r.starts_with(word));
        !before.is_some_and(|c| word(c) || c == '.') && !goes_on
    })
}

/// What `--strict` adds to the reason of a skipped check it fails.
const STRICT_NOTE: &str = " (--strict: a skipped check fails)";

/// One check's result as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub value: Option<String>,
    /// For a failed check: the `diagnose.*` findings that explain it
    /// (`diagnose.offload: offloaded 20/29 layers ...`). Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnosis: Vec<String>,
    /// What the check measured, as numbers (`perf.*`); absent when nothing was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<Figure>,
    /// From the scenario's start to its verdict, where a scenario decided it (the JUnit
    /// report's `time`); not part of the summary JSON.
    #[serde(skip)]
    pub elapsed: Option<std::time::Duration>,
    /// Set for a check the run stopped before it decided (`--deadline`, a signal): its
    /// failure says so, and explains no other check.
    #[serde(skip)]
    pub unfinished: bool,
}

impl CheckResult {
    pub fn new(id: &str, name: &str, outcome: Outcome) -> Self {
        CheckResult {
            id: id.to_string(),
            name: name.to_string(),
            status: outcome.status,
            detail: outcome.detail,
            value: outcome.value,
            diagnosis: Vec::new(),
            figures: outcome.figures,
            elapsed: None,
            unfinished: false,
        }
    }

    /// The result of a check the run stopped before it decided, failed with `why`.
    pub fn unfinished(id: &str, name: &str, why: String) -> Self {
        let mut r = CheckResult::new(id, name, Outcome::fail(why));
        r.unfinished = true;
        r
    }

    pub fn took(mut self, elapsed: std::time::Duration) -> Self {
        self.elapsed = Some(elapsed);
        self
    }
}

/// Adds to each failed (or warned) verification check the findings of the `diagnose.*`
/// checks the catalogue says explain it (`explained_by`) that decided and did not pass:
/// `diagnose.offload: offloaded 20/29 layers ...`. A diagnostic that could not run,
/// failed only by `--strict`, found nothing, and explains nothing.
pub fn attach_diagnoses(results: &mut [CheckResult]) {
    let findings: Vec<(String, String)> = results
        .iter()
        .filter(|r| {
            r.id.starts_with("diagnose.")
                && !r.unfinished
                && !r.detail.ends_with(STRICT_NOTE)
                && matches!(r.status, Status::Fail | Status::Warn)
        })
        .map(|r| (r.id.clone(), format!("{}: {}", r.id, r.detail)))
        .collect();
    for r in results.iter_mut() {
        if !matches!(r.status, Status::Fail | Status::Warn) {
            continue;
        }
        let Some(check) = CheckId::parse(&r.id) else {
            continue;
        };
        r.diagnosis = check
            .entry()
            .explained_by
            .iter()
            .filter_map(|d| findings.iter().find(|(id, _)| id == d.as_str()))
            .map(|(_, line)| line.clone())
            .collect();
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

    /// A pointer to a check --tags left out says how to see it; a skip resting on one
    /// fails in its place (warns, for a @warn one); a pass, or a longer id, is left be.
    #[test]
    fn pointers_past_the_selection_say_how_to_follow_them() {
        let unselected = [
            ("api.chat".to_string(), Severity::Fail),
            ("service.override".to_string(), Severity::Warn),
        ];
        let o = Outcome::skip("the model could not answer a chat (see api.chat): HTTP 404")
            .past_selection(&unselected);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.detail,
            "the model could not answer a chat (see api.chat): HTTP 404 (api.chat not selected by --tags; this check fails in its place: add `or @check.api.chat` to see it)"
        );
        let o = Outcome::skip("no drop-in (see service.override).").past_selection(&unselected);
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        let o = Outcome::fail("slow. Is it on the GPU (see api.chat)?").past_selection(&unselected);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail
                .ends_with("(api.chat not selected by --tags: add `or @check.api.chat` to see it)"),
            "{}",
            o.detail
        );
        for untouched in [
            Outcome::skip("see api.chatter"),
            Outcome::skip("see xapi.chat"),
            Outcome::skip("see perf.generation"),
            Outcome::pass("see api.chat"),
        ] {
            assert_eq!(untouched.clone().past_selection(&unselected), untouched);
        }
        assert!(mentions("(see api.chat).", "api.chat"));
    }

    #[test]
    fn strict_turns_skips_into_failures() {
        let o = Outcome::skip("no systemd").strict(true);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("no systemd"));
        assert_eq!(Outcome::skip("x").strict(false).status, Status::Skip);
    }

    #[test]
    fn failed_checks_carry_the_diagnoses_linked_to_them() {
        let mut results = vec![
            CheckResult::new("perf.generation", "speed", Outcome::fail("12 tok/s")),
            CheckResult::new("api.root", "root", Outcome::pass("ok")),
            CheckResult::new(
                "diagnose.offload",
                "offload",
                Outcome::warn("offloaded 20/29 layers to GPU"),
            ),
            CheckResult::new("diagnose.context", "ctx", Outcome::pass("fits")),
            CheckResult::new("diagnose.port_owner", "port", Outcome::fail("python3")),
            CheckResult::new("service.active", "active", Outcome::fail("inactive")),
            CheckResult::unfinished("diagnose.service_health", "health", "stopped".into()),
            CheckResult::new(
                "diagnose.platform",
                "platform",
                Outcome::skip("the GPU is emulated").strict(true),
            ),
            CheckResult::new("gpu.offload", "offload", Outcome::warn("40% on the CPU")),
        ];
        attach_diagnoses(&mut results);
        assert_eq!(
            results[0].diagnosis,
            ["diagnose.offload: offloaded 20/29 layers to GPU"]
        );
        assert!(results[1].diagnosis.is_empty(), "passed checks need none");
        assert!(results[2].diagnosis.is_empty());
        assert_eq!(
            results[5].diagnosis,
            ["diagnose.port_owner: python3"],
            "an unfinished diagnosis explains nothing"
        );
        assert_eq!(
            results[8].diagnosis,
            ["diagnose.offload: offloaded 20/29 layers to GPU"],
            "a skip that --strict failed explains nothing"
        );
    }
}
