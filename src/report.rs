//! Turns check results into what people and pipelines read: the summary table, the
//! summary JSON, and Markdown for a CI job summary. Formatting only; no verdicts here.

use crate::check::{order, CheckResult, Status};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub checks: Vec<CheckResult>,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
}

impl Summary {
    /// Orders and counts the results; a secret-looking `NAME=value` in a detail or a
    /// value is masked ([`mask_secrets`]), so no report carries one in clear.
    pub fn new(mut checks: Vec<CheckResult>) -> Self {
        checks.sort_by_key(|c| order(&c.id));
        crate::check::attach_diagnoses(&mut checks);
        for c in &mut checks {
            c.detail = mask_secrets(&c.detail);
            c.value = c.value.as_deref().map(mask_secrets);
            for d in &mut c.diagnosis {
                *d = mask_secrets(d);
            }
        }
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        Summary {
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            warned: count(Status::Warn),
            skipped: count(Status::Skip),
            checks,
        }
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
            table.add_row(vec![
                Cell::new(&c.id),
                status,
                Cell::new(c.value.as_deref().unwrap_or("")),
                Cell::new(with_diagnosis(c, "\n")),
            ]);
        }
        format!("{table}\n{}", self.counts_line())
    }

    /// A Markdown table fit for `$GITHUB_STEP_SUMMARY`.
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
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
            out.push_str(&format!(
                "| `{}` | {icon} {} | {} | {} |\n",
                c.id,
                c.status.label(),
                esc(c.value.as_deref().unwrap_or("")),
                esc(&with_diagnosis(c, "<br>"))
            ));
        }
        out.push_str(&format!("\n**{}**\n", self.counts_line()));
        out
    }

    /// JUnit XML for CI test reports: one test case per check, named by its id (stable
    /// from run to run), grouped in one suite per area (`gpu`, `api`, `perf`, ...). A
    /// failed check is a `<failure>`, a skipped one `<skipped>` with its reason; a warning
    /// passes, as it does for the exit code, with `WARN:` before its detail.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suites: Vec<TestSuite> = Vec::new();
        for c in &self.checks {
            let area = c.id.split('.').next().unwrap_or(&c.id);
            let text = with_diagnosis(c, "\n");
            let (status, out) = match c.status {
                Status::Pass => (TestCaseStatus::success(), Some(text)),
                Status::Warn => (TestCaseStatus::success(), Some(format!("WARN: {text}"))),
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(c.detail.as_str())
                        .set_type("fail")
                        .set_description(text);
                    (s, None)
                }
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(c.detail.as_str());
                    (s, None)
                }
            };
            let mut case = TestCase::new(c.id.as_str(), status);
            case.set_classname(format!("ollama-verify.{area}"));
            case.add_property(("scenario", c.name.as_str()));
            case.add_property(("status", c.status.label()));
            if let Some(v) = &c.value {
                case.add_property(("value", v.as_str()));
            }
            if let Some(t) = c.elapsed {
                case.set_time(t);
            }
            if let Some(out) = out {
                case.set_system_out(out);
            }
            let suite = match suites.iter().position(|s| s.name.as_str() == area) {
                Some(i) => &mut suites[i],
                None => {
                    suites.push(TestSuite::new(area));
                    suites.last_mut().expect("just pushed")
                }
            };
            suite.add_test_case(case);
        }
        let mut report = Report::new("ollama-verify");
        report
            .set_timestamp(chrono::Local::now().fixed_offset())
            .add_test_suites(suites);
        report.to_string().expect("a JUnit report serialises")
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

/// `text` on one line (runs of whitespace as one space), cut at `max` characters with
/// `…` where it is longer.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
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

/// Names of variables that hold secrets, as `*` patterns matched case-insensitively:
/// what reports mask and what `security.masking` looks for by default.
pub const SECRET_PATTERNS: [&str; 4] = ["*_KEY", "*_TOKEN", "*_SECRET", "*PASSWORD*"];

/// What a masked value shows.
pub const MASK: &str = "****";

/// Whether `name` matches the `*` pattern `pattern`, ignoring case.
pub fn name_matches(name: &str, pattern: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let pattern = pattern.to_ascii_uppercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty(); // no `*`: the whole name
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether a variable's name looks like it holds a secret ([`SECRET_PATTERNS`]).
pub fn looks_secret(name: &str) -> bool {
    SECRET_PATTERNS.iter().any(|p| name_matches(name, p))
}

/// `value` as a report may show it: masked when `name` looks like a secret's.
pub fn mask_value<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if looks_secret(name) && !value.is_empty() {
        MASK.into()
    } else {
        value.into()
    }
}

/// Masks the value of every `NAME=value` in `text` whose name looks like a secret's:
/// `HF_TOKEN=hf_abc` → `HF_TOKEN=****`. A value runs to the next space, quote or
/// separator; quoted ones (`NAME="a b"`, `"NAME=a b"`) to their closing quote.
pub fn mask_secrets(text: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while let Some(eq) = text[i..].find('=').map(|e| e + i) {
        let start = text[..eq]
            .char_indices()
            .rev()
            .take_while(|(_, c)| ident(*c))
            .last()
            .map_or(eq, |(s, _)| s);
        i = eq + 1;
        if start == eq || !looks_secret(&text[start..eq]) {
            continue;
        }
        let after = &text[eq + 1..];
        let quote_before = text[..start].ends_with('"').then_some('"');
        let (skip, end) = match (quote_before, after.chars().next()) {
            (Some(q), _) => (0, closing(after, q)),
            (None, Some(q @ ('"' | '\''))) => (1, 1 + closing(&after[1..], q)),
            _ => (
                0,
                after
                    .find(|c: char| c.is_whitespace() || "\"'`,;)]}".contains(c))
                    .unwrap_or(after.len()),
            ),
        };
        let (from, to) = (eq + 1 + skip, eq + 1 + end);
        if to > from {
            out.push_str(&text[copied..from]);
            out.push_str(MASK);
            copied = to;
        }
        i = to.max(i);
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the quoted text starting at `s` ends: the first `q` not escaped by `\`.
fn closing(s: &str, q: char) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == q => return i,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod mask_tests {
    use super::*;
    use crate::check::Outcome;
    use rstest::rstest;

    #[rstest]
    #[case("HF_TOKEN", true)]
    #[case("openai_api_key", true)]
    #[case("AWS_SECRET", true)]
    #[case("DB_PASSWORD_FILE", true)]
    #[case("PASSWORD", true)]
    #[case("OLLAMA_KEEP_ALIVE", false)]
    #[case("KEY", false)]
    #[case("TOKENIZER", false)]
    #[case("OLLAMA_HOST", false)]
    fn secret_names(#[case] name: &str, #[case] secret: bool) {
        assert_eq!(looks_secret(name), secret, "{name}");
    }

    #[rstest]
    #[case("HF_TOKEN=hf_abc123", "HF_TOKEN=****")]
    #[case(
        "HF_TOKEN=hf_abc OLLAMA_HOST=0.0.0.0",
        "HF_TOKEN=**** OLLAMA_HOST=0.0.0.0"
    )]
    #[case(
        "expected API_KEY=x, saw API_KEY=y.",
        "expected API_KEY=****, saw API_KEY=****"
    )]
    #[case("\"MY_SECRET=a b c\" X=1", "\"MY_SECRET=****\" X=1")]
    #[case("MY_SECRET='a b' X=1", "MY_SECRET='****' X=1")]
    #[case("DB_PASSWORD=\"p\\\"q\" X=1", "DB_PASSWORD=\"****\" X=1")]
    #[case("HF_TOKEN= empty", "HF_TOKEN= empty")]
    #[case("OLLAMA_ORIGINS=* a=b == =", "OLLAMA_ORIGINS=* a=b == =")]
    #[case("ünï HF_TOKEN=ß", "ünï HF_TOKEN=****")]
    fn masks_values_of_secret_names(#[case] text: &str, #[case] masked: &str) {
        assert_eq!(mask_secrets(text), masked);
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

    #[test]
    fn table_shows_values() {
        let t = sample().to_table(false);
        assert!(t.contains("63.3 tok/s") && t.contains("FAIL"));
        assert!(t.ends_with("1 passed, 1 failed, 0 warned, 1 skipped"));
    }
}
