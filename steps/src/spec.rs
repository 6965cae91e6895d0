//! The feature files, read and checked before anything runs: every file parses, no two
//! scenarios (nor two example rows of an outline) claim one `@check.<id>`, and every
//! step of a selected scenario matches exactly one step definition. A mistake there is a usage error (exit 2) that names
//! the file and line, found before a server is asked anything or a report is touched.

use crate::run::UsageError;
use crate::world::{CheckMeta, VerifyWorld};
use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, GherkinEnv, Rule, Scenario};
use cucumber::tag::Ext as _;
use cucumber::World as _;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
            // Links to folders are not followed (cucumber's walk does not either, and
            // a loop would never end).
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
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

/// A feature's scenarios with the rule each stands under.
fn scenarios(feature: &Feature) -> impl Iterator<Item = (Option<&Rule>, &Scenario)> {
    feature.scenarios.iter().map(|s| (None, s)).chain(
        feature
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
    )
}

/// The checks of the scenarios a run selects (those whose tags, feature and rule
/// included, match `filter`), in file order, once the feature files under `features`
/// have passed the checks this module is about.
pub fn selected_checks(
    features: &Path,
    filter: Option<&TagOperation>,
) -> Result<Vec<CheckMeta>, UsageError> {
    let steps = VerifyWorld::collection();
    let mut problems = Vec::new();
    let mut claimed: HashMap<String, String> = HashMap::new();
    let mut checks = Vec::new();
    for file in feature_files(features) {
        let name = file
            .strip_prefix(features)
            .unwrap_or(&file)
            .display()
            .to_string();
        let feature = match Feature::parse_path(&file, GherkinEnv::default()) {
            Ok(f) => f,
            Err(cucumber::gherkin::ParseFileError::Reading { source, .. }) => {
                problems.push(format!("{name}: cannot be read: {source}"));
                continue;
            }
            Err(e) => {
                // gherkin's error reads `Error at LINE:COL: {expected}`; the place is the news.
                let why = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
                let place = why
                    .strip_prefix("Error at ")
                    .and_then(|r| r.split(": ").next())
                    .and_then(|lc| lc.split_once(':'))
                    .map_or(why.clone(), |(l, c)| {
                        format!("the parser stopped at line {l}, column {c}")
                    });
                problems.push(format!(
                    "{name}: not Gherkin ({place}); check the keywords (Feature:, Scenario:, Given/When/Then/And) at and above it"
                ));
                continue;
            }
        };
        // An outline's examples share their scenario's id; two scenarios may not. The
        // ids a scenario claims: its own tags', and each Examples block's with them.
        for (rule, scenario) in scenarios(&feature) {
            let tags = crate::run::all_tags(&feature, rule, scenario);
            let mut ids: Vec<String> = Vec::new();
            // An outline's rows are scenarios of their own, and a check is decided by
            // one: the example rows under each id.
            let mut rows: Vec<(String, usize)> = Vec::new();
            let blocks =
                std::iter::once((Vec::new(), 0)).chain(scenario.examples.iter().map(|e| {
                    let n = e
                        .table
                        .as_ref()
                        .map_or(0, |t| t.rows.len().saturating_sub(1));
                    (e.tags.clone(), n)
                }));
            for (extra, n) in blocks {
                let all: Vec<String> = tags.iter().chain(&extra).cloned().collect();
                if let Some(meta) = CheckMeta::from_tags(&scenario.name, &all) {
                    if !ids.contains(&meta.id) {
                        ids.push(meta.id.clone());
                    }
                    match rows.iter_mut().find(|(id, _)| *id == meta.id) {
                        Some((_, count)) => *count += n,
                        None => rows.push((meta.id, n)),
                    }
                }
            }
            let here = format!("{name}:{}", scenario.position.line);
            for (id, n) in rows.iter().filter(|(_, n)| *n > 1) {
                problems.push(format!(
                    "{here}: the Scenario Outline's @check.{id} covers {n} example rows, but a check has one result. Give each row an Examples block of its own tagged with its own @check.<id>, or write a Scenario per case"
                ));
            }
            for id in ids {
                if let Some(first) = claimed.insert(id.clone(), here.clone()) {
                    problems.push(format!(
                        "{here}: @check.{id} is already the id of the scenario at {first}; each check needs an id of its own"
                    ));
                }
            }
        }
        let feature = match feature.expand_examples() {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        for (rule, scenario) in scenarios(&feature) {
            let tags = crate::run::all_tags(&feature, rule, scenario);
            if filter.is_some_and(|f| !f.eval(tags.iter())) {
                continue;
            }
            let background = feature
                .background
                .iter()
                .chain(rule.and_then(|r| r.background.as_ref()))
                .flat_map(|b| &b.steps);
            for step in background.chain(&scenario.steps) {
                let said = format!(
                    "{name}:{}: `{} {}`",
                    step.position.line,
                    step.keyword.trim(),
                    step.value
                );
                match steps.find(step) {
                    Ok(Some(_)) => {}
                    Ok(None) => problems.push(format!("{said} matches no step definition")),
                    Err(e) => problems.push(format!(
                        "{said} matches {} step definitions; reword it",
                        e.possible_matches.len()
                    )),
                }
            }
            if let Some(meta) = CheckMeta::from_tags(&scenario.name, &tags) {
                if !checks.iter().any(|c: &CheckMeta| c.id == meta.id) {
                    checks.push(meta);
                }
            }
        }
    }
    // A Background's step, or an outline's, is met once per scenario or row.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if problems.is_empty() {
        return Ok(checks);
    }
    Err(format!(
        "the feature files in {} cannot be run as they are:\n  {}\nThe sentences this suite knows are the ones in the built-in feature files (the repository's features/ folder)",
        features.display(),
        problems.join("\n  ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: &str = "Given the Ollama install under verification";

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn selection_follows_the_tag_expression_and_reaches_every_check() {
        let a = format!("@area\nFeature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n\n  @check.a.two @slow\n  Scenario: Two\n    {STEP}\n\n  Scenario: Untagged\n    {STEP}\n");
        let b =
            format!("Feature: B\n  Rule: R\n    @check.b.one\n    Scenario: Three\n      {STEP}\n");
        let dir = folder(&[("a.feature", &a), ("more/b.FEATURE", &b)]);
        let ids = |filter: Option<&str>| {
            let op: Option<TagOperation> = filter.map(|f| f.parse().unwrap());
            selected_checks(dir.path(), op.as_ref())
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(None), ["a.one", "a.two", "b.one"]);
        assert_eq!(ids(Some("not @slow")), ["a.one", "b.one"]);
        assert_eq!(ids(Some("@area")), ["a.one", "a.two"]);
    }

    #[test]
    fn the_builtin_spec_is_sound() {
        let spec = crate::features::materialize().unwrap();
        let checks = selected_checks(&spec.path().join("features"), None).unwrap();
        assert!(checks.len() >= 14, "{}", checks.len());
    }

    #[test]
    fn mistakes_are_named_with_file_and_line() {
        let unknown = format!("Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n    Then the moon is made of cheese\n");
        let twice = format!("Feature: B\n  @check.a.one\n  Scenario: Again\n    {STEP}\n");
        let dir = folder(&[
            ("a.feature", &unknown),
            ("b.feature", &twice),
            (
                "c.feature",
                "Feature: C\n  Scenario: One\n    Given a\n  Scenaro: typo\n",
            ),
        ]);
        let e = selected_checks(dir.path(), None).unwrap_err();
        for part in [
            "a.feature:5: `Then the moon is made of cheese` matches no step definition",
            "b.feature:3: @check.a.one is already the id of the scenario at a.feature:3",
            "c.feature: not Gherkin (the parser stopped at line 5, column 1)",
        ] {
            assert!(e.contains(part), "{part}\n{e}");
        }
    }

    #[test]
    fn an_id_on_examples_counts_and_a_background_problem_shows_once() {
        let text = format!("Feature: A\n  Background:\n    Given no such sentence\n\n  @check.a.one\n  Scenario: One\n    {STEP}\n\n  @check.a.two\n  Scenario: Two\n    {STEP}\n\n  Scenario Outline: Three <n>\n    {STEP}\n\n    @check.a.one\n    Examples:\n      | n |\n      | 1 |\n");
        let dir = folder(&[("a.feature", &text)]);
        let e = selected_checks(dir.path(), None).unwrap_err();
        assert_eq!(
            e.matches("`Given no such sentence` matches no step definition")
                .count(),
            1,
            "{e}"
        );
        assert!(
            e.contains(
                "a.feature:13: @check.a.one is already the id of the scenario at a.feature:6"
            ),
            "{e}"
        );
    }

    /// An outline's example rows each run as a scenario: under one id, several rows
    /// would give one check several results.
    #[rstest::rstest]
    #[case::two_rows_one_block(
        "  @check.a.one\n  Scenario Outline: O <n>\n    {STEP}\n\n    Examples:\n      | n |\n      | 1 |\n      | 2 |\n",
        Some("a.feature:3: the Scenario Outline's @check.a.one covers 2 example rows")
    )]
    #[case::one_row_in_each_of_two_blocks(
        "  @check.a.one\n  Scenario Outline: O <n>\n    {STEP}\n\n    Examples:\n      | n |\n      | 1 |\n\n    Examples:\n      | n |\n      | 2 |\n",
        Some("a.feature:3: the Scenario Outline's @check.a.one covers 2 example rows")
    )]
    #[case::an_id_per_block(
        "  Scenario Outline: O <n>\n    {STEP}\n\n    @check.a.one\n    Examples:\n      | n |\n      | 1 |\n\n    @check.a.two\n    Examples:\n      | n |\n      | 2 |\n",
        None
    )]
    #[case::untagged_rows(
        "  Scenario Outline: O <n>\n    {STEP}\n\n    Examples:\n      | n |\n      | 1 |\n      | 2 |\n\n  @check.a.one\n  Scenario: One\n    {STEP}\n",
        None
    )]
    fn an_outline_gives_each_check_one_row(#[case] scenarios: &str, #[case] problem: Option<&str>) {
        let text = format!("Feature: A\n{}", scenarios.replace("{STEP}", STEP));
        let dir = folder(&[("a.feature", &text)]);
        match (selected_checks(dir.path(), None), problem) {
            (Err(e), Some(p)) => assert!(e.contains(p), "{p}\n{e}"),
            (Ok(_), None) => {}
            (other, _) => panic!("{other:?} for\n{text}"),
        }
    }

    #[test]
    fn unselected_scenarios_need_no_known_steps_but_parse_and_keep_ids_apart() {
        let text = format!("Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n\n  @check.a.two @draft\n  Scenario: Draft\n    Then something not written yet\n");
        let dir = folder(&[("a.feature", &text)]);
        let op: TagOperation = "not @draft".parse().unwrap();
        let checks = selected_checks(dir.path(), Some(&op)).unwrap();
        assert_eq!(checks.len(), 1);
        assert!(selected_checks(dir.path(), None).is_err());
    }
}
