//! Turns check results into what people and pipelines read: the summary table, the
//! summary JSON, and Markdown for a CI job summary. Formatting only; no verdicts here.

use crate::check::{order, CheckResult, Status};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub checks: Vec<CheckResult>,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
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
            wall_time: None,
        }
    }

    /// The summary of a run that took `wall_time` from its start to its reports.
    pub fn with_wall_time(mut self, wall_time: Duration) -> Self {
        self.wall_time = Some(wall_time);
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary serialises")
    }

    pub fn counts_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} warned, {} skipped",
            self.passed, self.failed, self.warned, self.skipped
        )
    }

    /// The end-of-run table for a terminal.
    pub fn to_table(&self, color: bool) -> String {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["check", "status", "value", "detail"]);
        // On a terminal the table fits its width; in a log, a readable fixed one.
        if !color {
            table.set_width(120);
        }
        for c in &self.checks {
            let mut status = Cell::new(c.status.label());
            if color {
                status = status.fg(match c.status {
                    Status::Pass => Color::Green,
                    Status::Fail => Color::Red,
                    Status::Warn => Color::Yellow,
                    Status::Skip => Color::DarkGrey,
                });
            }
            // What a server said is shown, not obeyed: no escape sequence reaches the
            // terminal ([`printable`]).
            table.add_row(vec![
                Cell::new(printable(&c.id)),
                status,
                Cell::new(printable(c.value.as_deref().unwrap_or(""))),
                Cell::new(printable(&with_diagnosis(c, "\n"))),
            ]);
        }
        format!("{table}\n{}", self.counts_line())
    }

    /// A Markdown table fit for `$GITHUB_STEP_SUMMARY`. Values and details are text,
    /// never markup ([`markdown_text`]): `HF_TOKEN=****` does not turn bold, and an
    /// HTML page a server answered shows as text instead of vanishing in GitHub's
    /// sanitiser. Diagnosis lines follow the detail after a `<br>`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "## ollama-verify\n\n| check | status | value | detail |\n|---|---|---|---|\n",
        );
        for c in &self.checks {
            let icon = match c.status {
                Status::Pass => "✅",
                Status::Fail => "❌",
                Status::Warn => "⚠️",
                Status::Skip => "⏭️",
            };
            let mut detail = markdown_text(&c.detail);
            for d in &c.diagnosis {
                detail.push_str("<br>why: ");
                detail.push_str(&markdown_text(d));
            }
            out.push_str(&format!(
                "| {} | {icon} {} | {} | {detail} |\n",
                markdown_code(&c.id),
                c.status.label(),
                markdown_text(c.value.as_deref().unwrap_or("")),
            ));
        }
        out.push_str(&format!("\n**{}**\n", self.counts_line()));
        out
    }

    /// JUnit XML for CI test reports: one test case per check, named by its id (stable
    /// from run to run), grouped in one suite per area (`gpu`, `api`, `perf`, ...). A
    /// failed check is a `<failure>`, a skipped one `<skipped>` with its reason; a warning
    /// passes, as it does for the exit code, with `WARN:` before its detail. Every text
    /// is [`printable`], so the document is well-formed XML 1.0 whatever a server said.
    /// Every case has a `time` (0 where no scenario timed it); a suite's is the sum of
    /// its cases', the report's the run's wall time (else the sum of all).
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suites: Vec<TestSuite> = Vec::new();
        for c in &self.checks {
            // Not a check's id (an untagged scenario's `file:line`): a suite of its own.
            let area = match c.id.contains(':') {
                true => "scenarios",
                false => c.id.split('.').next().unwrap_or(&c.id),
            };
            let area = printable(area);
            let text = printable(&with_diagnosis(c, "\n"));
            let (status, out) = match c.status {
                Status::Pass => (TestCaseStatus::success(), Some(text)),
                Status::Warn => (TestCaseStatus::success(), Some(format!("WARN: {text}"))),
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(printable(&c.detail))
                        .set_type("fail")
                        .set_description(text);
                    (s, None)
                }
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(printable(&c.detail));
                    (s, None)
                }
            };
            let mut case = TestCase::new(printable(&c.id), status);
            case.set_classname(format!("ollama-verify.{area}"));
            case.add_property(("scenario".to_string(), printable(&c.name)));
            case.add_property(("status", c.status.label()));
            if let Some(v) = &c.value {
                case.add_property(("value".to_string(), printable(v)));
            }
            // A check the run stopped before it decided took until the stop, as far as
            // the run knows it; one never timed, 0 (a report tool reads none as NaN).
            case.set_time(c.elapsed.unwrap_or_default());
            if let Some(out) = out {
                case.set_system_out(out);
            }
            let suite = match suites.iter().position(|s| s.name.as_str() == area) {
                Some(i) => &mut suites[i],
                None => {
                    suites.push(TestSuite::new(area.as_str()));
                    suites.last_mut().expect("just pushed")
                }
            };
            suite.add_test_case(case);
        }
        for suite in &mut suites {
            let time = suite.test_cases.iter().filter_map(|c| c.time).sum();
            suite.set_time(time);
        }
        let total = suites.iter().filter_map(|s| s.time).sum();
        let mut report = Report::new("ollama-verify");
        report
            .set_timestamp(chrono::Local::now().fixed_offset())
            .set_time(self.wall_time.unwrap_or(total))
            .add_test_suites(suites);
        report.to_string().expect("a JUnit report serialises")
    }
}

// The text helpers and the masking live in lower modules (`text`, `secrets`) that the
// client and the verdicts import; these re-exports keep the old `report::` paths.
pub use crate::secrets::{
    looks_secret, mask_secrets, mask_url_credentials, mask_value, name_matches, MASK,
    SECRET_PATTERNS,
};
pub use crate::text::{cap, markdown_text, nearest, printable, shorten};

/// A check's id as a Markdown code span; one a code span cannot hold (a backtick in
/// it) as escaped text. A `|` is escaped in either, as GFM tables want.
fn markdown_code(id: &str) -> String {
    match id.contains('`') {
        true => markdown_text(id),
        false => format!("`{}`", id.replace('|', "\\|")),
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

/// A borderless table, columns padded, as CLIs like `ollama list` print.
pub fn plain_table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header(headers.to_vec())
        .add_rows(rows);
    table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod mask_tests {
    use super::*;
    use crate::check::Outcome;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;

    fn sample() -> Summary {
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
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["failed"], 1);
        assert_eq!(v["checks"][2]["status"], "pass");
        assert_eq!(v["checks"][2]["value"], "63.3 tok/s");
        for key in ["id", "name", "status", "detail", "value"] {
            assert!(v["checks"][0].get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = sample().to_markdown();
        assert!(md.contains("no systemd \\| here"));
        assert!(md.contains("| `perf.generation` | ✅ PASS | 63.3 tok/s |"));
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
        assert!(s.to_table(false).contains("why: diagnose.offload"));
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

    #[test]
    fn junit_has_a_case_per_check_with_its_status() {
        use quick_junit::{Report, TestCaseStatus};
        let mut checks = sample().checks;
        checks.push(
            CheckResult::new("service.enabled", "enabled", Outcome::warn("not enabled"))
                .took(std::time::Duration::from_millis(1500)),
        );
        let xml = Summary::new(checks).to_junit();
        let report = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(
            (report.tests, report.failures, report.skipped),
            (4, 1, 1),
            "{xml}"
        );
        let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            suites,
            ["service", "api", "perf"],
            "seed order, one per area"
        );
        let case = |id: &str| {
            report
                .test_suites
                .iter()
                .flat_map(|s| &s.test_cases)
                .find(|c| c.name.as_str() == id)
                .unwrap_or_else(|| panic!("{id} in {xml}"))
        };
        match &case("api.root").status {
            TestCaseStatus::NonSuccess { message, .. } => {
                assert_eq!(message.as_ref().unwrap().as_str(), "refused")
            }
            other => panic!("api.root: {other:?}"),
        }
        match &case("service.active").status {
            TestCaseStatus::Skipped { message, .. } => {
                assert_eq!(message.as_ref().unwrap().as_str(), "no systemd | here")
            }
            other => panic!("service.active: {other:?}"),
        }
        let warned = case("service.enabled");
        assert!(matches!(warned.status, TestCaseStatus::Success { .. }));
        assert_eq!(
            warned.system_out.as_ref().unwrap().as_str(),
            "WARN: not enabled"
        );
        assert_eq!(warned.time, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(
            case("perf.generation").classname.as_ref().unwrap().as_str(),
            "ollama-verify.perf"
        );
    }

    /// Whether `c` is in XML 1.0's `Char` production (what a well-formed document holds).
    fn xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }
    /// A server's error verbatim in every text of the report: the XML holds only
    /// characters XML 1.0 allows, and what quick-junit would drop silently (a tab, a
    /// C1 control, what follows an ESC) shows instead.
    #[test]
    fn junit_is_well_formed_whatever_the_server_said() {
        use quick_junit::{Report, TestCaseStatus};
        let said = "HTTP 500 \"\u{FFFF}oops\u{FFFE}\tat\r\u{1b}[2Jline\u{85}\u{7}\"";
        let s = Summary::new(vec![
            CheckResult::new("api.chat", said, Outcome::fail(said).with_value(said)),
            CheckResult::new("api.tags", "tags", Outcome::pass(said)),
            CheckResult::new("api.root", "root", Outcome::skip(said)),
        ]);
        let xml = s.to_junit();
        if let Some(bad) = xml.chars().find(|c| !xml_char(*c)) {
            panic!("{bad:?} is not an XML 1.0 character: {xml}");
        }
        let shown = "HTTP 500 \"�oops� at �[2Jline��\"";
        let report = Report::deserialize_from_str(&xml).unwrap();
        let cases: Vec<_> = report
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .collect();
        for case in &cases {
            match &case.status {
                TestCaseStatus::NonSuccess {
                    message,
                    description,
                    ..
                } => {
                    assert_eq!(message.as_deref(), Some(shown));
                    assert_eq!(description.as_deref(), Some(shown));
                    let props: Vec<&str> =
                        case.properties.iter().map(|p| p.value.as_str()).collect();
                    assert_eq!(props, [shown, "FAIL", shown]);
                }
                TestCaseStatus::Skipped { message, .. } => {
                    assert_eq!(message.as_deref(), Some(shown))
                }
                TestCaseStatus::Success { .. } => {
                    assert_eq!(case.system_out.as_deref(), Some(shown))
                }
            }
        }
        assert_eq!(cases.len(), 3);
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
            ("table", s.to_table(false)),
        ] {
            assert!(
                text.len() < 6 * TEXT_LIMIT,
                "{report}: {} bytes",
                text.len()
            );
        }
    }

    #[rstest::rstest]
    #[case::masked_secrets(
        "HF_TOKEN=****, AWS_SECRET=****",
        "HF\\_TOKEN=\\*\\*\\*\\*, AWS\\_SECRET=\\*\\*\\*\\*"
    )]
    #[case::emphasis("*PASSWORD* ~~x~~ `code`", "\\*PASSWORD\\* \\~\\~x\\~\\~ \\`code\\`")]
    #[case::html(
        "<!DOCTYPE html><html> & co",
        "&lt;!DOCTYPE html&gt;&lt;html&gt; &amp; co"
    )]
    #[case::rows("a\rb\nc | d", "a b c \\| d")]
    #[case::links_and_escapes("[x](http://e) C:\\dir", "\\[x\\](http://e) C:\\\\dir")]
    fn markdown_shows_text_as_text(#[case] detail: &str, #[case] shown: &str) {
        let md = Summary::new(vec![CheckResult::new(
            "api.root",
            "root",
            Outcome::fail(detail).with_value(detail),
        )])
        .to_markdown();
        assert!(
            md.contains(&format!("| `api.root` | ❌ FAIL | {shown} | {shown} |\n")),
            "{md}"
        );
    }

    /// Escape sequences in what a server said never reach the terminal; line breaks
    /// between a detail and its diagnosis stay.
    #[test]
    fn the_table_prints_no_control_characters() {
        let s = Summary::new(vec![
            CheckResult::new(
                "gpu.offload",
                "offload",
                Outcome::fail("\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\rred")
                    .with_value("\u{1b}[5m5"),
            ),
            CheckResult::new(
                "diagnose.offload",
                "d",
                Outcome::warn("20/29 \u{1b}[1mlayers"),
            ),
        ]);
        let table = s.to_table(false);
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(table.contains("�]0;owned"), "{table}");
        assert!(table.contains("why: diagnose.offload"), "{table}");
    }

    #[test]
    fn junit_times_every_case_suite_and_the_run() {
        use quick_junit::Report;
        use std::time::Duration;
        let ms = Duration::from_millis;
        let mut checks = vec![
            CheckResult::new("api.root", "root", Outcome::pass("ok")).took(ms(250)),
            CheckResult::new("api.tags", "tags", Outcome::pass("ok")).took(ms(500)),
            CheckResult::new("perf.generation", "speed", Outcome::pass("ok")).took(ms(1000)),
        ];
        checks.push(CheckResult::unfinished(
            "api.chat",
            "chat",
            "stopped".into(),
        ));
        let by_suite = |report: &Report| -> Vec<(String, Option<Duration>)> {
            report
                .test_suites
                .iter()
                .map(|s| (s.name.to_string(), s.time))
                .collect()
        };
        let summary = Summary::new(checks);
        let report = Report::deserialize_from_str(&summary.to_junit()).unwrap();
        assert_eq!(
            by_suite(&report),
            [
                ("api".into(), Some(ms(750))),
                ("perf".into(), Some(ms(1000)))
            ]
        );
        assert_eq!(report.time, Some(ms(1750)), "the sum, without a wall time");
        let chat = report.test_suites[0]
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == "api.chat")
            .unwrap();
        assert_eq!(
            chat.time,
            Some(Duration::ZERO),
            "an untimed case has a time"
        );
        let report =
            Report::deserialize_from_str(&summary.with_wall_time(ms(4000)).to_junit()).unwrap();
        assert_eq!(report.time, Some(ms(4000)), "the run's wall time");
    }

    #[test]
    fn table_shows_values() {
        let t = sample().to_table(false);
        assert!(t.contains("63.3 tok/s") && t.contains("FAIL"));
        assert!(t.ends_with("1 passed, 1 failed, 0 warned, 1 skipped"));
    }
}
