//! The fleet's verdict in each format: a console table (hosts × checks while the hosts
//! fit side by side, a row per host beyond), the fleet JSON, Markdown for a CI job
//! summary, and JUnit with one testsuite per host. Formatting only.

use super::{Fleet, HostReport};
use crate::check::{CheckResult, Status};
use crate::facts::RunFacts;
use crate::text::{markdown_text, printable, shorten};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use serde::Serialize;

/// What the fleet JSON (`--summary-json`) holds: each host's verdict, its failed and
/// warned checks and its facts; each check's hosts; the counts.
#[derive(Serialize)]
struct FleetJson<'a> {
    hosts: Vec<HostJson<'a>>,
    checks: Vec<CheckJson<'a>>,
    hosts_passed: usize,
    hosts_failed: usize,
}

#[derive(Serialize)]
struct HostJson<'a> {
    name: &'a str,
    report: &'a str,
    /// `pass` or `fail`.
    status: &'static str,
    /// Why the host has no report to tell (missing, unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<Counts>,
    /// Its failed and warned checks.
    problems: Vec<&'a CheckResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facts: Option<&'a RunFacts>,
}

#[derive(Serialize)]
struct Counts {
    passed: usize,
    failed: usize,
    warned: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    id: String,
    failed_on: Vec<&'a str>,
    warned_on: Vec<&'a str>,
    passed: usize,
    skipped: usize,
    /// Hosts whose report holds no such check (another `--tags`, an older release).
    absent: usize,
}

fn status_word(h: &HostReport) -> &'static str {
    match h.failed() {
        true => "fail",
        false => "pass",
    }
}

/// A host's verdict for a table: `PASS`, `FAIL`, or why it has none.
fn verdict(h: &HostReport) -> &'static str {
    match &h.state {
        super::HostState::Missing(_) => "NO REPORT",
        super::HostState::Unreadable(_) => "UNREADABLE",
        super::HostState::Reported(_) if h.failed() => "FAIL",
        super::HostState::Reported(_) => "PASS",
    }
}

fn colored(text: &str, color: bool) -> Cell {
    let cell = Cell::new(text);
    if !color {
        return cell;
    }
    cell.fg(match text {
        "PASS" => Color::Green,
        "WARN" => Color::Yellow,
        "SKIP" | "—" => Color::DarkGrey,
        _ => Color::Red,
    })
}

/// The GPU and the Ollama of a host, in a few words, from its facts.
fn gpu_and_ollama(h: &HostReport) -> (String, String) {
    let Some(f) = h.facts() else {
        return (String::new(), String::new());
    };
    let gpu = f
        .gpus
        .first()
        .map(|g| {
            let name = g.name.clone().unwrap_or_default();
            match &g.driver {
                Some(d) => format!("{name}, driver {d}"),
                None => name,
            }
        })
        .unwrap_or_default();
    let ollama = f
        .ollama
        .as_ref()
        .and_then(|o| o.version.clone())
        .unwrap_or_default();
    (gpu, ollama)
}

impl Fleet {
    /// The console's verdict, `width` columns wide at most: the table, each failure on
    /// a line (`FAIL  host-c  models.custom: ...`), and the counts.
    pub fn to_table(&self, color: bool, width: usize) -> String {
        let ids = self.check_ids();
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(width).unwrap_or(u16::MAX));
        let id_width = ids
            .iter()
            .map(|i| i.chars().count())
            .max()
            .unwrap_or(5)
            .max(7);
        let side_by_side: usize = 4
            + id_width
            + self
                .hosts
                .iter()
                .map(|h| h.name.chars().count().max(10) + 3)
                .sum::<usize>();
        if side_by_side <= width {
            let mut header = vec![Cell::new("check")];
            header.extend(self.hosts.iter().map(|h| Cell::new(printable(&h.name))));
            table.set_header(header);
            let mut row = vec![Cell::new("verdict")];
            row.extend(self.hosts.iter().map(|h| colored(verdict(h), color)));
            table.add_row(row);
            for id in &ids {
                let mut row = vec![Cell::new(printable(id))];
                row.extend(self.hosts.iter().map(|h| {
                    let label = match (h.summary(), h.check(id)) {
                        (None, _) => "",
                        (Some(_), None) => "—",
                        (Some(_), Some(c)) => c.status.label(),
                    };
                    colored(label, color)
                }));
                table.add_row(row);
            }
        } else {
            table.set_header([
                "host",
                "verdict",
                "passed",
                "failed",
                "warned",
                "skipped",
                "failed checks",
            ]);
            for h in &self.hosts {
                let counts = |f: fn(&crate::report::Summary) -> usize| {
                    h.summary().map(|s| f(s).to_string()).unwrap_or_default()
                };
                let failed: Vec<&str> = h
                    .problems()
                    .iter()
                    .filter(|c| c.status == Status::Fail)
                    .map(|c| c.id.as_str())
                    .collect();
                table.add_row(vec![
                    Cell::new(printable(&h.name)),
                    colored(verdict(h), color),
                    Cell::new(counts(|s| s.passed)),
                    Cell::new(counts(|s| s.failed)),
                    Cell::new(counts(|s| s.warned)),
                    Cell::new(counts(|s| s.skipped)),
                    Cell::new(printable(&failed.join(", "))),
                ]);
            }
        }
        let mut out = format!("{table}\n");
        for line in self.failure_lines(width) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(&self.counts_line());
        out
    }

    /// A line per failure, `width` columns at most: `FAIL  host-c  models.custom: ...`
    /// or `FAIL  host-d: no report at ...` (the reports hold the whole detail).
    fn failure_lines(&self, width: usize) -> Vec<String> {
        let line = |head: String, text: &str| {
            let room = width.saturating_sub(head.chars().count()).max(20);
            printable(&format!("{head}{}", shorten(text, room)))
        };
        let mut lines = Vec::new();
        for h in self.hosts.iter().filter(|h| h.failed()) {
            if let Some(why) = h.problem() {
                lines.push(line(format!("FAIL  {}: ", h.name), why));
            }
            for c in h.problems().iter().filter(|c| c.status == Status::Fail) {
                lines.push(line(format!("FAIL  {}  {}: ", h.name, c.id), &c.detail));
            }
        }
        lines
    }

    /// The fleet JSON (`--summary-json`).
    pub fn to_json(&self) -> String {
        let hosts = self
            .hosts
            .iter()
            .map(|h| HostJson {
                name: &h.name,
                report: &h.file,
                status: status_word(h),
                error: h.problem(),
                counts: h.summary().map(|s| Counts {
                    passed: s.passed,
                    failed: s.failed,
                    warned: s.warned,
                    skipped: s.skipped,
                }),
                problems: h.problems(),
                facts: h.facts(),
            })
            .collect();
        let reported: Vec<&HostReport> = self
            .hosts
            .iter()
            .filter(|h| h.summary().is_some())
            .collect();
        let checks = self
            .check_ids()
            .into_iter()
            .map(|id| {
                let mut c = CheckJson {
                    id: id.clone(),
                    failed_on: Vec::new(),
                    warned_on: Vec::new(),
                    passed: 0,
                    skipped: 0,
                    absent: 0,
                };
                for h in &reported {
                    match h.check(&id).map(|r| r.status) {
                        Some(Status::Fail) => c.failed_on.push(&h.name),
                        Some(Status::Warn) => c.warned_on.push(&h.name),
                        Some(Status::Pass) => c.passed += 1,
                        Some(Status::Skip) => c.skipped += 1,
                        None => c.absent += 1,
                    }
                }
                c
            })
            .collect();
        let failed = self.failed().len();
        let json = FleetJson {
            hosts,
            checks,
            hosts_passed: self.hosts.len() - failed,
            hosts_failed: failed,
        };
        serde_json::to_string_pretty(&json).expect("a fleet report serialises")
    }

    /// Markdown for a CI job summary: a row per host, then every failure.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "## ollama-verify fleet\n\n| host | verdict | GPU | Ollama | passed | failed | warned | skipped | failed checks |\n|---|---|---|---|---|---|---|---|---|\n",
        );
        for h in &self.hosts {
            let icon = match h.failed() {
                true => "❌",
                false => "✅",
            };
            let (gpu, ollama) = gpu_and_ollama(h);
            let counts = h
                .summary()
                .map(|s| format!("{} | {} | {} | {}", s.passed, s.failed, s.warned, s.skipped))
                .unwrap_or_else(|| " |  |  | ".into());
            let failed: Vec<String> = h
                .problems()
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| format!("`{}`", c.id.replace(['`', '|'], "")))
                .collect();
            out.push_str(&format!(
                "| {} | {icon} {} | {} | {} | {counts} | {} |\n",
                markdown_text(&h.name),
                verdict(h),
                markdown_text(&gpu),
                markdown_text(&ollama),
                failed.join(", "),
            ));
        }
        out.push_str(&format!("\n**{}**\n", markdown_text(&self.counts_line())));
        let failures: Vec<&HostReport> = self.failed();
        if !failures.is_empty() {
            out.push_str("\n### Failures\n\n");
            for h in failures {
                if let Some(why) = h.problem() {
                    out.push_str(&format!(
                        "- **{}**: {}\n",
                        markdown_text(&h.name),
                        markdown_text(why)
                    ));
                }
                for c in h.problems().iter().filter(|c| c.status == Status::Fail) {
                    out.push_str(&format!(
                        "- **{}** `{}`: {}\n",
                        markdown_text(&h.name),
                        c.id.replace(['`', '|'], ""),
                        markdown_text(&c.detail)
                    ));
                }
            }
        }
        out
    }

    /// JUnit XML: one testsuite per host, named by it, its checks as cases (classes
    /// `<host>.<area>`) and its facts as properties; a host without a readable report is
    /// a suite of one failed case, `report`, saying why.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suites = Vec::with_capacity(self.hosts.len());
        for h in &self.hosts {
            let name = printable(&h.name);
            let mut suite = TestSuite::new(name.as_str());
            suite.add_property(("report", printable(&h.file).as_str()));
            match h.summary() {
                Some(s) => {
                    for (k, v) in s.facts.as_ref().map(RunFacts::pairs).unwrap_or_default() {
                        suite.add_property((k.as_str(), printable(&v).as_str()));
                    }
                    for c in &s.checks {
                        let (area, mut case) = crate::report::check_case(c);
                        case.set_classname(format!("{name}.{area}"));
                        suite.add_test_case(case);
                    }
                }
                None => {
                    let why = printable(h.problem().unwrap_or("no report"));
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(why.as_str()).set_type("report");
                    let mut case = TestCase::new("report", status);
                    case.set_classname(format!("{name}.report"));
                    case.set_time(std::time::Duration::ZERO);
                    suite.add_test_case(case);
                }
            }
            let time = suite.test_cases.iter().filter_map(|c| c.time).sum();
            suite.set_time(time);
            suites.push(suite);
        }
        let mut report = Report::new("ollama-verify fleet");
        report
            .set_timestamp(chrono::Local::now().fixed_offset())
            .add_test_suites(suites);
        report.to_string().expect("a JUnit report serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{file, report, sample};
    use super::super::Fleet;

    #[test]
    fn the_console_table_side_by_side() {
        insta::assert_snapshot!(sample().to_table(false, 120));
    }

    #[test]
    fn many_hosts_get_a_row_each() {
        let files: Vec<_> = (0..30)
            .map(|i| {
                let status = if i == 7 { "fail" } else { "pass" };
                (
                    format!("r/n{i}.json"),
                    report(&format!("node-{i:02}"), status),
                )
            })
            .collect();
        let fleet = Fleet::merge(files.iter().map(|(p, t)| file(p, Some(t))).collect());
        let table = fleet.to_table(false, 100);
        assert!(table.contains("│ node-07 ┆ FAIL"), "{table}");
        assert!(
            table.contains("FAIL  node-07  models.custom: my-coder fail"),
            "{table}"
        );
        assert!(
            table.ends_with("30 host(s): 29 passed, 1 failed (node-07)"),
            "{table}"
        );
    }

    #[test]
    fn json_names_each_host_and_check() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(
            (v["hosts_passed"].as_u64(), v["hosts_failed"].as_u64()),
            (Some(2), Some(3))
        );
        assert_eq!(v["hosts"][2]["name"], "host-c");
        assert_eq!(v["hosts"][2]["status"], "fail");
        assert_eq!(v["hosts"][2]["problems"][0]["id"], "models.custom");
        assert_eq!(v["hosts"][2]["facts"]["ollama"]["version"], "0.17.1");
        assert_eq!(v["hosts"][3]["name"], "host-d");
        assert!(v["hosts"][3]["error"]
            .as_str()
            .unwrap()
            .starts_with("no report at r/host-d.json"));
        assert!(v["hosts"][3].get("counts").is_none());
        let custom = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "models.custom")
            .unwrap();
        assert_eq!(custom["failed_on"], serde_json::json!(["host-c"]));
        assert_eq!(custom["passed"], 2);
    }

    #[test]
    fn markdown_names_the_failures() {
        let md = sample().to_markdown();
        assert!(md.contains("| host-c | ❌ FAIL | NVIDIA GeForce RTX 3060, driver 560.94 | 0.17.1 | 1 | 1 | 1 | 0 | `models.custom` |"), "{md}");
        assert!(
            md.contains("- **host-c** `models.custom`: my-coder fail\n"),
            "{md}"
        );
        assert!(
            md.contains("- **host-d**: no report at r/host-d.json"),
            "{md}"
        );
        assert!(md.contains("| host-e | ❌ UNREADABLE |"), "{md}");
    }

    #[test]
    fn junit_has_a_suite_per_host() {
        use quick_junit::{Report, TestCaseStatus};
        let report = Report::deserialize_from_str(&sample().to_junit()).unwrap();
        let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["host-a", "host-b", "host-c", "host-d", "host-e"]);
        assert_eq!(
            report.failures, 3,
            "host-c's check, host-d's and host-e's report"
        );
        let d = &report.test_suites[3].test_cases[0];
        assert_eq!(d.name.as_str(), "report");
        assert!(matches!(d.status, TestCaseStatus::NonSuccess { .. }));
        let c = &report.test_suites[2];
        assert!(c
            .properties
            .iter()
            .any(|p| p.name.as_str() == "facts.host.name" && p.value.as_str() == "host-c"));
        assert!(c
            .test_cases
            .iter()
            .any(|t| t.classname.as_deref() == Some("host-c.models")));
    }
}
