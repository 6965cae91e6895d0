//! Turns check results into what people and pipelines read, one writer per format:
//! the console table (`table.rs`), the summary JSON (`json.rs`), JUnit XML
//! (`junit.rs`), Markdown for a CI job summary (`markdown.rs`) and the HTML page for
//! reviewers (`html/`). Here: the
//! [`Summary`] they all write, ordered, counted, masked and capped once. Formatting
//! only; no verdicts here.

mod facts;
mod html;
mod json;
mod junit;
mod markdown;
mod table;

pub use html::{SpecFeature, SpecScenario};
pub(crate) use junit::check_case;
pub use table::plain_table;

// The text helpers and the masking live in lower modules (`text`, `secrets`) that the
// client and the verdicts import; these re-exports keep the old `report::` paths.
pub use crate::secrets::{
    looks_secret, mask_secrets, mask_url_credentials, mask_value, name_matches, MASK,
    SECRET_PATTERNS,
};
pub use crate::text::{cap, markdown_text, nearest, printable, shorten};

use crate::check::{order, CheckResult, Status};
use crate::facts::RunFacts;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub checks: Vec<CheckResult>,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
    /// What makes the run comparable with another (host, GPUs, Ollama, models), where
    /// gathered: see [`RunFacts`]. Absent from the JSON when not gathered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<RunFacts>,
    /// The whole run's wall time, where the run measured it (the JUnit report's
    /// `time`); not part of the summary JSON.
    #[serde(skip)]
    pub wall_time: Option<Duration>,
}

/// The most bytes of a detail, value or diagnosis line a report carries: a server's
/// message can be as long as a body may be (16 MiB), and no reader wants that in a
/// table cell or a JUnit attribute.
pub const TEXT_LIMIT: usize = 4096;

impl Summary {
    /// Orders and counts the results; a secret-looking `NAME=value` in a detail or a
    /// value is masked ([`mask_secrets`]), so no report carries one in clear, and each
    /// is cut at [`TEXT_LIMIT`] bytes ([`cap`]).
    pub fn new(mut checks: Vec<CheckResult>) -> Self {
        checks.sort_by_key(|c| order(&c.id));
        crate::check::attach_diagnoses(&mut checks);
        for c in &mut checks {
            c.detail = cap(&mask_secrets(&c.detail), TEXT_LIMIT);
            c.value = c
                .value
                .as_deref()
                .map(|v| cap(&mask_secrets(v), TEXT_LIMIT));
            for d in &mut c.diagnosis {
                *d = cap(&mask_secrets(d), TEXT_LIMIT);
            }
        }
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        Summary {
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            warned: count(Status::Warn),
            skipped: count(Status::Skip),
            checks,
            facts: None,
            wall_time: None,
        }
    }

    /// The summary with the run's facts, masked and cut as the details are.
    pub fn with_facts(mut self, facts: Option<RunFacts>) -> Self {
        self.facts = facts.map(|f| f.map_text(|s| cap(&mask_secrets(s), TEXT_LIMIT)));
        self
    }

    /// The summary of a run that took `wall_time` from its start to its reports.
    pub fn with_wall_time(mut self, wall_time: Duration) -> Self {
        self.wall_time = Some(wall_time);
        self
    }

    pub fn counts_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} warned, {} skipped",
            self.passed, self.failed, self.warned, self.skipped
        )
    }
}

/// A check's detail, then its diagnosis lines (`why: diagnose.offload: ...`).
fn with_diagnosis(c: &CheckResult, sep: &str) -> String {
    let mut text = c.detail.clone();
    for d in &c.diagnosis {
        text.push_str(sep);
        text.push_str("why: ");
        text.push_str(d);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;

    /// Three checks, one each passed, skipped and failed, for every writer's tests.
    pub(super) fn sample() -> Summary {
        Summary::new(vec![
            CheckResult::new(
                "perf.generation",
                "speed",
                Outcome::pass("median of 1").with_value("63.3 tok/s"),
            ),
            CheckResult::new(
                "service.active",
                "active",
                Outcome::skip("no systemd | here"),
            ),
            CheckResult::new("api.root", "root", Outcome::fail("refused")),
        ])
    }

    #[test]
    fn counts_and_orders() {
        let s = sample();
        assert_eq!((s.passed, s.failed, s.warned, s.skipped), (1, 1, 0, 1));
        let ids: Vec<_> = s.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["service.active", "api.root", "perf.generation"]);
    }

    #[test]
    fn failed_checks_show_their_diagnosis() {
        let s = Summary::new(vec![
            CheckResult::new(
                "perf.generation",
                "speed",
                Outcome::fail("expected 40 tok/s").with_value("12.0 tok/s"),
            ),
            CheckResult::new(
                "diagnose.offload",
                "offload",
                Outcome::warn("\"offloaded 20/29 layers to GPU\""),
            ),
        ]);
        let why = "why: diagnose.offload: \"offloaded 20/29 layers to GPU\"";
        assert!(s.to_table(false, 120).contains("why: diagnose.offload"));
        assert!(s
            .to_markdown()
            .contains(&format!("expected 40 tok/s<br>{why}")));
        let v: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        let perf = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "perf.generation")
            .unwrap();
        assert_eq!(
            perf["diagnosis"][0],
            "diagnose.offload: \"offloaded 20/29 layers to GPU\""
        );
        let diag = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "diagnose.offload")
            .unwrap();
        assert!(diag.get("diagnosis").is_none(), "absent when empty");
    }

    /// A detail as long as a body may be is cut in every report, with the cut said.
    #[test]
    fn long_details_are_cut_in_every_report() {
        let long = "x".repeat(16 << 20);
        let s = Summary::new(vec![CheckResult::new(
            "api.tags",
            "tags",
            Outcome::fail(long.clone()).with_value(long),
        )]);
        let said = format!("… ({} more bytes)", (16 << 20) - TEXT_LIMIT);
        assert!(
            s.checks[0].detail.ends_with(&said),
            "{}",
            &s.checks[0].detail[TEXT_LIMIT..]
        );
        assert_eq!(s.checks[0].detail.len(), TEXT_LIMIT + said.len());
        for (report, text) in [
            ("json", s.to_json()),
            ("markdown", s.to_markdown()),
            ("junit", s.to_junit()),
            ("table", s.to_table(false, 120)),
        ] {
            assert!(
                text.len() < 6 * TEXT_LIMIT,
                "{report}: {} bytes",
                text.len()
            );
        }
    }

    #[test]
    fn summaries_never_carry_a_secret() {
        let s = Summary::new(vec![CheckResult::new(
            "service.x",
            "x",
            Outcome::fail("expected HF_TOKEN=a, it is hf_live").with_value("HF_TOKEN=hf_live"),
        )]);
        assert!(!s.to_json().contains("HF_TOKEN=a"));
        assert!(!s.to_markdown().contains("HF_TOKEN=hf_live"));
        assert_eq!(s.checks[0].value.as_deref(), Some("HF_TOKEN=****"));
        let s = Summary::new(vec![CheckResult::new(
            "diagnose.settings",
            "x",
            Outcome::fail("the unit sets HTTPS_PROXY=http://me:s3cret@proxy:3128 but"),
        )]);
        assert!(!s.to_json().contains("s3cret"), "{}", s.to_json());
        assert!(s.checks[0].detail.contains("http://****@proxy:3128"));
    }
}
