//! The feature files as living documentation: each feature's narrative, each
//! scenario's steps, and beside them the verdict of the check the scenario decides
//! (its evidence, next step, diagnoses and chart).

use super::charts::chart;
use crate::check::{CheckResult, Status};
use maud::{html, Markup};

/// A feature file as the report shows it: read from the spec the run ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecFeature {
    /// Its file, relative to the features folder (`api.feature`).
    pub file: String,
    pub name: String,
    /// The narrative under `Feature:` (who wants what, and why).
    pub description: String,
    pub scenarios: Vec<SpecScenario>,
}

/// A scenario: its name, the checks it decides (an outline may decide one per
/// Examples block), and its steps (`Given the API is reachable`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecScenario {
    pub name: String,
    pub checks: Vec<String>,
    pub steps: Vec<String>,
}

/// The anchor of a check's verdict in the page (`check-api.chat`).
pub(super) fn anchor(id: &str) -> String {
    format!("check-{id}")
}

/// One feature: its narrative, then its scenarios with their verdicts.
pub(super) fn feature(f: &SpecFeature, results: &[CheckResult]) -> Markup {
    html! {
        section.feature {
            h2 { (f.name) }
            p.file { (f.file) }
            @if !f.description.trim().is_empty() {
                p.narrative { (f.description.trim()) }
            }
            @for s in &f.scenarios {
                (scenario(s, results))
            }
        }
    }
}

fn scenario(s: &SpecScenario, results: &[CheckResult]) -> Markup {
    let decided: Vec<&CheckResult> = s
        .checks
        .iter()
        .filter_map(|id| results.iter().find(|r| &r.id == id))
        .collect();
    let Some(first) = decided.first() else {
        return not_run(s);
    };
    let class = status_class(first.status);
    html! {
        article.scenario.(class) {
            h3 {
                (s.name)
                @for id in &s.checks {
                    " " code.id { (id) }
                }
            }
            ol.steps {
                @for step in &s.steps {
                    li { (step) }
                }
            }
            @for r in decided {
                (verdict(r))
            }
        }
    }
}

/// A scenario the run did not decide, folded to its name: its steps open on a click.
fn not_run(s: &SpecScenario) -> Markup {
    html! {
        details.scenario.notrun {
            summary {
                (s.name)
                @for id in &s.checks {
                    " " code.id { (id) }
                }
                " " span.notrun-note { "not run (not selected by --tags, or the run stopped first)" }
            }
            ol.steps {
                @for step in &s.steps {
                    li { (step) }
                }
            }
        }
    }
}

/// A check's verdict: its status and value, the evidence, the next step (for a
/// failure or warning), the diagnoses that explain it, and its chart.
pub(super) fn verdict(r: &CheckResult) -> Markup {
    let (evidence, next) = match r.status {
        Status::Fail | Status::Warn => split_next_step(&r.detail),
        _ => (r.detail.as_str(), None),
    };
    html! {
        div.verdict.(status_class(r.status)) id=(anchor(&r.id)) {
            p.head {
                span.badge.(status_class(r.status)) { (r.status.label()) }
                " " code.id { (r.id) }
                @if let Some(v) = &r.value {
                    " " span.value { (v) }
                }
            }
            p.evidence { (evidence) }
            @if let Some(next) = next {
                p.next { strong { "Next step: " } (next) }
            }
            @if !r.diagnosis.is_empty() {
                ul.diagnosis {
                    @for d in &r.diagnosis {
                        li { strong { "Why: " } (d) }
                    }
                }
            }
            @if !r.figures.is_empty() {
                (chart(&r.figures))
            }
        }
    }
}

pub(super) fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::Skip => "skip",
    }
}

/// A failure's detail says what was expected and seen in its first sentence and what
/// to try after it: the two apart, where there is a sentence after the first.
fn split_next_step(detail: &str) -> (&str, Option<&str>) {
    let bytes = detail.as_bytes();
    for (i, w) in bytes.windows(3).enumerate() {
        if matches!(w[0], b'.' | b'?' | b'!') && w[1] == b' ' && w[2].is_ascii_uppercase() {
            return (&detail[..=i], Some(&detail[i + 2..]));
        }
    }
    (detail, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_step_follows_the_first_sentence() {
        assert_eq!(
            split_next_step("expected 40 tok/s, measured 12.0 (median of 3). Is it on the GPU?"),
            (
                "expected 40 tok/s, measured 12.0 (median of 3).",
                Some("Is it on the GPU?")
            )
        );
        assert_eq!(split_next_step("refused"), ("refused", None));
        assert_eq!(split_next_step("v0.5.7. ok"), ("v0.5.7. ok", None));
    }
}
