//! Many hosts' summary JSONs as one verdict (`ollama-verify fleet`): each host's checks
//! side by side, and a host whose report is missing or unreadable failed, by name. Pure:
//! the caller reads the files; `render.rs` writes the console table, the JSON, the
//! Markdown and the JUnit report.

mod render;

use crate::check::{order, CheckResult, Status};
use crate::facts::RunFacts;
use crate::report::Summary;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A host's report as the caller read it (or why it could not).
#[derive(Debug)]
pub struct ReportFile {
    pub path: PathBuf,
    pub text: Result<String, std::io::Error>,
}

/// What became of one host's report.
#[derive(Debug, Clone, PartialEq)]
pub enum HostState {
    /// Read: its checks decide (ordered, masked and cut like a run's).
    Reported(Box<Summary>),
    /// No file at the path: the host's run wrote none, or it was never fetched.
    Missing(String),
    /// A file that is not a summary JSON with checks in it.
    Unreadable(String),
}

/// One host of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct HostReport {
    /// Its report's `facts.host.name`, else the file's name without `.json`; the file
    /// is added where two reports give one name.
    pub name: String,
    /// The report's path, as given.
    pub file: String,
    pub state: HostState,
}

/// What a summary JSON must hold for the fleet: its checks (and its facts, if any).
#[derive(Deserialize)]
struct Input {
    checks: Vec<CheckResult>,
    #[serde(default)]
    facts: Option<RunFacts>,
}

impl HostReport {
    /// Reads one host's report.
    pub fn read(file: ReportFile) -> HostReport {
        let shown = file.path.display().to_string();
        let stem = stem(&file.path);
        let parsed = match file.text {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(HostState::Missing(format!(
                "no report at {shown}: the host's run wrote none, or it was not fetched; see that host's run"
            ))),
            Err(e) => Err(HostState::Unreadable(format!(
                "cannot read {shown}: {e}"
            ))),
            Ok(text) => match serde_json::from_str::<Input>(&text) {
                Err(e) => Err(HostState::Unreadable(format!(
                    "{shown} is not a summary JSON (expected what `ollama-verify --summary-json` writes): {e}"
                ))),
                Ok(input) if input.checks.is_empty() => Err(HostState::Unreadable(format!(
                    "{shown} holds no checks: a run that checked nothing proves nothing; see that host's run"
                ))),
                Ok(input) => Ok(Box::new(Summary::new(input.checks).with_facts(input.facts))),
            },
        };
        match parsed {
            Ok(summary) => HostReport {
                name: summary
                    .facts
                    .as_ref()
                    .and_then(|f| f.host_name())
                    .map(crate::text::printable)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or(stem),
                file: shown,
                state: HostState::Reported(summary),
            },
            Err(state) => HostReport {
                name: stem,
                file: shown,
                state,
            },
        }
    }

    /// Whether the host fails the fleet: a failed check, or no report to tell.
    pub fn failed(&self) -> bool {
        match &self.state {
            HostState::Reported(s) => s.failed > 0,
            _ => true,
        }
    }

    /// Why the host has no verdict of its own: its report is missing or unreadable.
    pub fn problem(&self) -> Option<&str> {
        match &self.state {
            HostState::Reported(_) => None,
            HostState::Missing(why) | HostState::Unreadable(why) => Some(why),
        }
    }

    pub fn summary(&self) -> Option<&Summary> {
        match &self.state {
            HostState::Reported(s) => Some(s),
            _ => None,
        }
    }

    pub fn facts(&self) -> Option<&RunFacts> {
        self.summary()?.facts.as_ref()
    }

    /// The host's result of check `id`, if its report has one.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.summary()?.checks.iter().find(|c| c.id == id)
    }

    /// Its checks that failed or warned, failures first.
    pub fn problems(&self) -> Vec<&CheckResult> {
        let Some(s) = self.summary() else {
            return Vec::new();
        };
        let of = |status| s.checks.iter().filter(move |c| c.status == status);
        of(Status::Fail).chain(of(Status::Warn)).collect()
    }
}

/// The file's name without its extension, else the whole path.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.display().to_string())
}

/// The fleet: every host, in the order the reports were given.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    pub hosts: Vec<HostReport>,
}

impl Fleet {
    /// Reads each report; two hosts of one name are told apart by their files.
    pub fn merge(files: Vec<ReportFile>) -> Fleet {
        let mut hosts: Vec<HostReport> = files.into_iter().map(HostReport::read).collect();
        let mut count: HashMap<String, usize> = HashMap::new();
        for h in &hosts {
            *count.entry(h.name.clone()).or_default() += 1;
        }
        for h in &mut hosts {
            if count[&h.name] > 1 {
                h.name = format!("{} ({})", h.name, h.file);
            }
        }
        Fleet { hosts }
    }

    /// The hosts that fail: a failed check, or no readable report.
    pub fn failed(&self) -> Vec<&HostReport> {
        self.hosts.iter().filter(|h| h.failed()).collect()
    }

    /// Every check any report holds, in the catalogue's order (a check of one's own
    /// after those, by id).
    pub fn check_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .hosts
            .iter()
            .filter_map(HostReport::summary)
            .flat_map(|s| s.checks.iter().map(|c| c.id.clone()))
            .collect();
        ids.sort_by(|a, b| order(a).cmp(&order(b)).then_with(|| a.cmp(b)));
        ids.dedup();
        ids
    }

    /// `4 hosts: 2 passed, 2 failed (host-c, host-d)`.
    pub fn counts_line(&self) -> String {
        let failed = self.failed();
        let names: Vec<&str> = failed.iter().map(|h| h.name.as_str()).collect();
        let mut line = format!(
            "{} host(s): {} passed, {} failed",
            self.hosts.len(),
            self.hosts.len() - failed.len(),
            failed.len()
        );
        if !names.is_empty() {
            const SHOWN: usize = 10;
            let mut list = names[..names.len().min(SHOWN)].join(", ");
            if names.len() > SHOWN {
                list.push_str(&format!(" and {} more", names.len() - SHOWN));
            }
            line.push_str(&format!(" ({list})"));
        }
        crate::text::printable(&line)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A summary JSON of a host named `name` whose `custom` check has `status`.
    pub(crate) fn report(name: &str, status: &str) -> String {
        serde_json::json!({
            "checks": [
                {"id": "api.root", "name": "root", "status": "pass", "detail": "ok", "value": "\"Ollama is running\""},
                {"id": "models.custom", "name": "custom", "status": status, "detail": format!("my-coder {status}"), "value": null},
                {"id": "service.enabled", "name": "enabled", "status": "warn", "detail": "not enabled", "value": null},
            ],
            "passed": 1, "failed": 0, "warned": 1, "skipped": 0,
            "facts": {"host": {"name": name}, "gpus": [{"name": "NVIDIA GeForce RTX 3060", "driver": "560.94"}],
                      "ollama": {"version": "0.17.1", "target": "native"}}
        })
        .to_string()
    }

    pub(crate) fn file(path: &str, text: Option<&str>) -> ReportFile {
        ReportFile {
            path: path.into(),
            text: text.map(String::from).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
            }),
        }
    }

    /// Three hosts, one sick, one missing, one garbage file.
    pub(crate) fn sample() -> Fleet {
        Fleet::merge(vec![
            file("r/a.json", Some(&report("host-a", "pass"))),
            file("r/b.json", Some(&report("host-b", "pass"))),
            file("r/c.json", Some(&report("host-c", "fail"))),
            file("r/host-d.json", None),
            file("r/host-e.json", Some("<html>502 Bad Gateway</html>")),
        ])
    }

    #[test]
    fn a_missing_or_unreadable_report_fails_its_host_by_name() {
        let fleet = sample();
        let failed: Vec<&str> = fleet.failed().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(failed, ["host-c", "host-d", "host-e"]);
        assert!(matches!(fleet.hosts[3].state, HostState::Missing(_)));
        let HostState::Unreadable(why) = &fleet.hosts[4].state else {
            panic!("{:?}", fleet.hosts[4])
        };
        assert!(
            why.starts_with("r/host-e.json is not a summary JSON (expected what `ollama-verify --summary-json` writes): "),
            "{why}"
        );
        assert_eq!(
            fleet.hosts[0].name, "host-a",
            "facts.host.name over the file"
        );
        assert_eq!(
            fleet.counts_line(),
            "5 host(s): 2 passed, 3 failed (host-c, host-d, host-e)"
        );
        let problems: Vec<&str> = fleet.hosts[2]
            .problems()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(problems, ["models.custom", "service.enabled"]);
    }

    #[test]
    fn checks_in_catalogue_order_and_names_told_apart() {
        let fleet = Fleet::merge(vec![
            file("x/one.json", Some(&report("same", "pass"))),
            file("y/two.json", Some(&report("same", "pass"))),
            file("y/three.json", Some(r#"{"checks": []}"#)),
        ]);
        assert_eq!(fleet.hosts[0].name, "same (x/one.json)");
        assert_eq!(fleet.hosts[1].name, "same (y/two.json)");
        assert!(fleet.hosts[2]
            .problem()
            .unwrap()
            .contains("holds no checks"));
        assert_eq!(
            fleet.check_ids(),
            ["service.enabled", "models.custom", "api.root"]
        );
    }
}
