//! Stopping a run early: `--deadline` expired, or SIGINT/SIGTERM arrived. Cucumber is
//! abandoned and every check of the selected scenarios that has no result yet is
//! reported as failed, so the summary still names all of them. The selection is read from the feature files
//! themselves (the same tag expression cucumber filters with), so checks whose
//! scenarios never started are reported too, not only those that started and hung.

use crate::world::CheckMeta;
use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, GherkinEnv};
use cucumber::tag::Ext as _;
use ollama_verify::check::CheckResult;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every `.feature` file under `dir` (any depth, case-insensitive suffix, sorted), as
/// cucumber's own parser finds them.
fn feature_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The checks of the scenarios a run selects: those of the feature files under
/// `features` whose tags (feature, rule and scenario) match `filter`. A file that does
/// not parse contributes nothing (cucumber reports it when the run gets that far).
pub fn selected_checks(features: &Path, filter: Option<&TagOperation>) -> Vec<CheckMeta> {
    let mut seen = HashSet::new();
    let mut checks = Vec::new();
    for file in feature_files(features) {
        let Ok(feature) = Feature::parse_path(&file, GherkinEnv::default()) else {
            continue;
        };
        let Ok(feature) = feature.expand_examples() else {
            continue;
        };
        let scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
            feature
                .rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
        );
        for (rule, scenario) in scenarios {
            let tags = crate::run::all_tags(&feature, rule, scenario);
            if filter.is_some_and(|f| !f.eval(tags.iter())) {
                continue;
            }
            if let Some(meta) = CheckMeta::from_tags(&scenario.name, &tags) {
                if seen.insert(meta.id.clone()) {
                    checks.push(meta);
                }
            }
        }
    }
    checks
}

/// `N s` as a person writes it: `5 s`, `2.5 s`.
pub fn seconds(limit: Duration) -> String {
    format!("{} s", limit.as_secs_f64())
}

/// The failures to add for checks of `selected` that have no result in `results`.
pub fn unfinished(
    selected: &[CheckMeta],
    results: &[CheckResult],
    why: &Stopped,
) -> Vec<CheckResult> {
    let decided: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    selected
        .iter()
        .filter(|m| !decided.contains(m.id.as_str()))
        .map(|m| {
            let detail = match why {
                Stopped::Deadline(limit) => format!(
                    "not finished within the --deadline of {}: the run was stopped before this check decided. Run it alone (--tags \"@check.{}\") to see where it waits, shorten --request-timeout / --generation-timeout, or raise --deadline",
                    seconds(*limit),
                    m.id
                ),
                Stopped::Signal(name) => format!(
                    "not finished: the run was interrupted ({name}) before this check decided"
                ),
            };
            CheckResult::unfinished(&m.id, &m.name, detail)
        })
        .collect()
}

/// Why a run stopped before cucumber finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    Deadline(Duration),
    Signal(&'static str),
}

impl Stopped {
    /// 1 for an expired deadline (checks failed); 128 + the signal's number otherwise,
    /// as shells report a process a signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Stopped::Deadline(_) => 1,
            Stopped::Signal("SIGINT") => 130,
            Stopped::Signal(_) => 143,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Stopped::Deadline(limit) => format!("the --deadline of {} expired", seconds(limit)),
            Stopped::Signal(name) => format!("{name} arrived"),
        }
    }
}

/// The next delivery of a signal; never, without a handler.
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Resolves when the run must stop: at `deadline`, or on SIGINT / SIGTERM. The signal
/// handlers are installed when this is called, so a signal that arrives before it is
/// awaited is not lost (and does not kill the process with the default action).
pub fn watch(
    deadline: Option<(tokio::time::Instant, Duration)>,
) -> impl std::future::Future<Output = Stopped> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        let at_deadline = async {
            match deadline {
                Some((at, limit)) => {
                    tokio::time::sleep_until(at).await;
                    limit
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            limit = at_deadline => Stopped::Deadline(limit),
            _ = recv(interrupt.as_mut()) => Stopped::Signal("SIGINT"),
            _ = recv(terminate.as_mut()) => Stopped::Signal("SIGTERM"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::Outcome;

    #[test]
    fn selection_follows_the_tag_expression_and_reaches_every_check() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("more");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            dir.path().join("a.feature"),
            "@area\nFeature: A\n  @check.a.one\n  Scenario: One\n    Given x\n\n  @check.a.two @slow\n  Scenario: Two\n    Given x\n\n  Scenario: Untagged\n    Given x\n",
        )
        .unwrap();
        std::fs::write(
            sub.join("b.FEATURE"),
            "Feature: B\n  Rule: R\n    @check.b.one\n    Scenario: Three\n      Given x\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.feature"), "not gherkin at all\n").unwrap();
        let ids = |filter: Option<&str>| {
            let op: Option<TagOperation> = filter.map(|f| f.parse().unwrap());
            selected_checks(dir.path(), op.as_ref())
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(None), ["a.one", "a.two", "b.one"]);
        assert_eq!(ids(Some("not @slow")), ["a.one", "b.one"]);
        assert_eq!(ids(Some("@area")), ["a.one", "a.two"]);
    }

    #[test]
    fn only_checks_without_a_result_fail() {
        let selected = vec![
            CheckMeta::from_tags("One", &["check.a.one".to_string()]).unwrap(),
            CheckMeta::from_tags("Two", &["check.a.two".to_string()]).unwrap(),
        ];
        let done = [CheckResult::new("a.one", "One", Outcome::pass("ok"))];
        let added = unfinished(
            &selected,
            &done,
            &Stopped::Deadline(Duration::from_millis(2500)),
        );
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].id, "a.two");
        assert!(added[0]
            .detail
            .starts_with("not finished within the --deadline of 2.5 s"));
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        let interrupted = unfinished(&selected, &done, &Stopped::Signal("SIGTERM"));
        assert!(interrupted[0].detail.contains("interrupted (SIGTERM)"));
        assert_eq!(Stopped::Signal("SIGTERM").exit_code(), 143);
        assert_eq!(Stopped::Signal("SIGINT").exit_code(), 130);
    }
}
