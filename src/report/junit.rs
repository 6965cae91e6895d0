//! JUnit XML (`--junit`) for CI test reports: one suite per area, one case per check.

use super::{with_diagnosis, Summary};
use crate::check::{CheckResult, Status};
use crate::text::printable;

impl Summary {
    /// JUnit XML for CI test reports: one test case per check, named by its id (stable
    /// from run to run), grouped in one suite per area (`gpu`, `api`, `perf`, ...). A
    /// failed check is a `<failure>`, a skipped one `<skipped>` with its reason; a warning
    /// passes, as it does for the exit code, with `WARN:` before its detail. Every text
    /// is [`printable`], so the document is well-formed XML 1.0 whatever a server said.
    /// Every case has a `time` (0 where no scenario timed it); a suite's is the sum of
    /// its cases', the report's the run's wall time (else the sum of all).
    pub fn to_junit(&self) -> String {
        use quick_junit::{Report, TestSuite};
        let mut suites: Vec<TestSuite> = Vec::new();
        for c in &self.checks {
            let (area, case) = check_case(c);
            let suite = match suites.iter().position(|s| s.name.as_str() == area) {
                Some(i) => &mut suites[i],
                None => {
                    suites.push(TestSuite::new(area.as_str()));
                    suites.last_mut().expect("just pushed")
                }
            };
            suite.add_test_case(case);
        }
        let facts = self.facts_properties();
        for suite in &mut suites {
            let time = suite.test_cases.iter().filter_map(|c| c.time).sum();
            suite.set_time(time);
            // Each suite carries them: a CI tool may show one suite alone.
            for (k, v) in &facts {
                suite.add_property((k.as_str(), v.as_str()));
            }
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

/// A check as a JUnit test case named by its id, with its area (`gpu`, `api`, ...; an
/// untagged scenario's `file:line` is `scenarios`): the case's class is
/// `ollama-verify.<area>`.
pub(crate) fn check_case(c: &CheckResult) -> (String, quick_junit::TestCase) {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
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
    (area, case)
}

#[cfg(test)]
mod tests {
    use crate::check::{CheckResult, Outcome};
    use crate::report::tests::sample;
    use crate::report::Summary;

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
}
