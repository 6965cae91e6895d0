//! The feature files, read and checked before anything runs: every file parses, no two
//! scenarios (nor two example rows of an outline) claim one `@check.<id>`, and every
//! step of a selected scenario matches exactly one step definition. A mistake there is a usage error (exit 2) that names
//! the file and line, found before a server is asked anything or a report is touched.

use crate::tags::all_tags;
use crate::usage::UsageError;
use crate::world::{CheckMeta, VerifyWorld};
use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, GherkinEnv, Rule, Scenario};
use cucumber::tag::Ext as _;
use cucumber::World as _;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every `.feature` file under `dir` (any depth, case-insensitive suffix, sorted), as
/// cucumber's own parser finds them.
pub(crate) fn feature_files(dir: &Path) -> Vec<PathBuf> {
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
    // Every tag some scenario carries (its feature's, rule's and examples' included).
    let mut known: HashSet<String> = HashSet::new();
    let files = feature_files(features);
    if files.is_empty() {
        return Err(no_feature_files(features));
    }
    for file in files {
        let name = file
            .strip_prefix(features)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let feature = match Feature::parse_path(&file, GherkinEnv::default()) {
            Ok(f) => f,
            Err(cucumber::gherkin::ParseFileError::Reading { source, .. }) => {
                problems.push(format!("{name}: cannot be read: {source}"));
                continue;
            }
            Err(e) => {
                // The parser names where it gave up, often lines below the mistake (the
                // end of the file for a misspelt keyword): the first line that is no
                // Gherkin is the news, where one is found.
                if let Some((line, why)) = mistake(&text) {
                    problems.push(format!("{name}:{line}: not Gherkin: {why}"));
                    continue;
                }
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
        // The parser cuts a table row longer than the table's first to its width.
        problems.extend(
            ragged_rows(&text)
                .into_iter()
                .map(|(line, why)| format!("{name}:{line}: {why}")),
        );
        // An outline's examples share their scenario's id; two scenarios may not. The
        // ids a scenario claims: its own tags', and each Examples block's with them.
        for (rule, scenario) in scenarios(&feature) {
            let tags = all_tags(&feature, rule, scenario);
            known.extend(tags.iter().cloned());
            known.extend(
                scenario
                    .examples
                    .iter()
                    .flat_map(|e| e.tags.iter().cloned()),
            );
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
            let here = format!("{name}:{}", scenario.position.line);
            for (extra, n) in blocks {
                let all: Vec<String> = tags.iter().chain(&extra).cloned().collect();
                // A scenario decides one check: a second id would be dropped unsaid.
                let mut own: Vec<&str> = Vec::new();
                for id in all.iter().filter_map(|t| t.strip_prefix("check.")) {
                    if !own.contains(&id) {
                        own.push(id);
                    }
                }
                if own.len() > 1 {
                    problems.push(format!(
                        "{here}: the scenario carries {}, but a scenario decides one check: keep one id (an outline may give each Examples block its own)",
                        own.iter().map(|id| format!("@check.{id}")).collect::<Vec<_>>().join(" and ")
                    ));
                }
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
            let tags = all_tags(&feature, rule, scenario);
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
    // A selection of no check is refused with its own reason; otherwise a tag no
    // scenario carries is likely a typo beside a good one.
    if let Some(filter) = filter.filter(|_| !checks.is_empty()) {
        for tag in unknown_tags(filter, &known) {
            eprintln!(
                "ollama-verify: --tags names @{tag}, which no scenario carries (a misspelt tag?); `ollama-verify --list` shows the checks"
            );
        }
    }
    // A Background's step, or an outline's, is met once per scenario or row.
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if problems.is_empty() {
        return Ok(checks);
    }
    // Where the known sentences are is news only for a sentence that matched none.
    let sentences = match problems.iter().any(|p| p.contains(" step definition")) {
        true => "\nThe sentences this suite knows are the ones in the built-in feature files (the repository's features/ folder)",
        false => "",
    };
    Err(UsageError::new(format!(
        "the feature files in {} cannot be run as they are:\n  {}{sentences}",
        features.display(),
        problems.join("\n  ")
    )))
}

/// Why a `--features` folder without a single `.feature` file cannot run, with what it
/// holds instead.
fn no_feature_files(features: &Path) -> UsageError {
    let mut names: Vec<String> = std::fs::read_dir(features)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let holds = match names.len() {
        0 => "it is empty".to_string(),
        n if n <= 5 => format!("it holds {}", names.join(", ")),
        n => format!("it holds {}, ... ({n} entries)", names[..5].join(", ")),
    };
    UsageError::new(format!(
        "--features {}: no .feature file in it or its subfolders ({holds}); feature files are named *.feature, and the built-in ones are in the repository's features/ folder",
        features.display()
    ))
}

/// The tags of `filter` that no scenario carries, in the expression's order.
fn unknown_tags(filter: &TagOperation, known: &HashSet<String>) -> Vec<String> {
    fn walk<'a>(op: &'a TagOperation, out: &mut Vec<&'a str>) {
        match op {
            TagOperation::And(l, r) | TagOperation::Or(l, r) => {
                walk(l, out);
                walk(r, out);
            }
            TagOperation::Not(t) => walk(t, out),
            TagOperation::Tag(t) => out.push(t),
        }
    }
    let mut tags = Vec::new();
    walk(filter, &mut tags);
    let mut unknown: Vec<String> = Vec::new();
    for tag in tags {
        if !known.contains(tag) && !unknown.iter().any(|u| u == tag) {
            unknown.push(tag.to_string());
        }
    }
    unknown
}

/// The English Gherkin keywords that open a section, longest first.
const SECTIONS: [&str; 9] = [
    "Feature:",
    "Rule:",
    "Background:",
    "Scenario Outline:",
    "Scenario Template:",
    "Scenario:",
    "Example:",
    "Examples:",
    "Scenarios:",
];
const STEPS: [&str; 6] = ["Given ", "When ", "Then ", "And ", "But ", "* "];

/// The first line of a feature file that the Gherkin parser refused (its line from 1,
/// and why), found by reading it line by line: the parser's own position is where it
/// gave up, often lines below the mistake. `None` where no line looks wrong (the
/// parser's position is all there is) or the file is in another language
/// (`# language:`), whose keywords differ.
fn mistake(text: &str) -> Option<(usize, String)> {
    if text.starts_with('\u{feff}') {
        return Some((1, "the file begins with a byte-order mark (U+FEFF), which the Gherkin parser does not take; save it as UTF-8 without a BOM".into()));
    }
    let comment = |l: &str| l.starts_with('#');
    if text
        .lines()
        .map(str::trim)
        .filter(|l| comment(l))
        .any(|l| l[1..].trim_start().starts_with("language:"))
    {
        return None;
    }
    if let Some((line, why)) = ragged_rows(text).into_iter().next() {
        return Some((line, why));
    }
    let mut feature = false;
    // After a keyword line and before its first step or table, free text is its
    // description.
    let mut description = false;
    // An open doc string: its delimiter and its line.
    let mut doc: Option<(&str, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if let Some((delimiter, _)) = doc {
            if line.starts_with(delimiter) {
                doc = None;
            }
            continue;
        }
        if line.is_empty() || comment(line) {
            continue;
        }
        if let Some(keyword) = SECTIONS.iter().find(|k| line.starts_with(*k)) {
            if *keyword == "Feature:" {
                if feature {
                    return Some((n, "a second `Feature:`: a file holds one feature; move this one to a file of its own".into()));
                }
                feature = true;
            } else if !feature {
                return Some((
                    n,
                    format!("`{keyword}` comes before the file's `Feature:` line"),
                ));
            }
            description = true;
            continue;
        }
        if line.starts_with('@') {
            let tags = line.split(" #").next().unwrap_or_default();
            if let Some(bad) = tags
                .split_whitespace()
                .find(|t| !t.starts_with('@') || t.len() == 1)
            {
                return Some((n, format!("`{bad}` in `{line}` is no tag: a tag is @ and a name (@check.api.root), tags are separated by spaces")));
            }
            continue;
        }
        let step = STEPS.iter().any(|k| line.starts_with(k)) || line == "*";
        let table = line.starts_with('|');
        let opens_doc = ["\"\"\"", "```"].into_iter().find(|d| line.starts_with(d));
        if step || table || opens_doc.is_some() {
            if !feature {
                return Some((
                    n,
                    format!("`{line}` comes before the file's `Feature:` line"),
                ));
            }
            description = false;
            doc = opens_doc.map(|d| (d, n));
            continue;
        }
        if !feature {
            return Some((n, format!("`{line}` comes before the file's `Feature:` line; a feature file begins with `Feature: <name>`, with only tags and # comments above it")));
        }
        if !description {
            return Some((n, format!("`{line}` is not a step (Given/When/Then/And/But), a table row (|), a tag (@), a # comment nor a keyword line (Scenario:, Examples:, ...); a misspelt keyword?")));
        }
    }
    if let Some((delimiter, line)) = doc {
        return Some((
            line,
            format!("this doc string's {delimiter} is never closed"),
        ));
    }
    if !feature {
        return Some((
            1,
            "no `Feature:` line: a feature file begins with `Feature: <name>`".into(),
        ));
    }
    None
}

/// The rows of tables that have more or fewer cells than their table's first row
/// (line from 1, and why). The parser refuses a shorter row, but cuts a longer one to
/// the first row's width: an example's value would be dropped without a word.
fn ragged_rows(text: &str) -> Vec<(usize, String)> {
    // Cells of a row: the unescaped `|` less one (`\|` is a `|` in a cell).
    let cells = |row: &str| {
        let mut bars = 0usize;
        let mut chars = row.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '|' => bars += 1,
                _ => {}
            }
        }
        bars.saturating_sub(1)
    };
    let mut found = Vec::new();
    // The open table's first row: its line and width.
    let mut first: Option<(usize, usize)> = None;
    let mut doc: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(delimiter) = doc {
            if line.starts_with(delimiter) {
                doc = None;
            }
            continue;
        }
        if let Some(d) = ["\"\"\"", "```"].into_iter().find(|d| line.starts_with(d)) {
            doc = Some(d);
            first = None;
            continue;
        }
        if !line.starts_with('|') {
            first = None;
            continue;
        }
        let width = cells(line);
        match first {
            None => first = Some((i + 1, width)),
            Some((at, w)) if w != width => found.push((
                i + 1,
                format!("this table row has {width} cell(s) and the table's first row (line {at}) has {w}; give every row a cell for each column"),
            )),
            Some(_) => {}
        }
    }
    found
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
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        for part in [
            "a.feature:5: `Then the moon is made of cheese` matches no step definition",
            "b.feature:3: @check.a.one is already the id of the scenario at a.feature:3",
            "c.feature:4: not Gherkin: `Scenaro: typo` is not a step (Given/When/Then/And/But)",
            "\nThe sentences this suite knows are the ones in the built-in feature files",
        ] {
            assert!(e.contains(part), "{part}\n{e}");
        }
    }

    /// Two ids on one scenario are refused (the last would win unsaid), and a mistake
    /// that is no unknown sentence is not told where the known sentences are.
    #[test]
    fn a_scenario_with_two_ids_is_a_problem() {
        let text =
            format!("Feature: A\n  @check.a.one @check.a.two\n  Scenario: One\n    {STEP}\n");
        let dir = folder(&[("a.feature", &text)]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        assert!(
            e.contains("a.feature:3: the scenario carries @check.a.one and @check.a.two, but a scenario decides one check"),
            "{e}"
        );
        assert!(!e.contains("The sentences this suite knows"), "{e}");
        // A feature's id and its scenario's are two ids too.
        let text =
            format!("@check.a.one\nFeature: A\n  @check.a.two\n  Scenario: One\n    {STEP}\n");
        let dir = folder(&[("a.feature", &text)]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("carries @check.a.one and @check.a.two"), "{e}");
    }

    #[test]
    fn an_id_on_examples_counts_and_a_background_problem_shows_once() {
        let text = format!("Feature: A\n  Background:\n    Given no such sentence\n\n  @check.a.one\n  Scenario: One\n    {STEP}\n\n  @check.a.two\n  Scenario: Two\n    {STEP}\n\n  Scenario Outline: Three <n>\n    {STEP}\n\n    @check.a.one\n    Examples:\n      | n |\n      | 1 |\n");
        let dir = folder(&[("a.feature", &text)]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
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
            (Err(e), Some(p)) => assert!(e.to_string().contains(p), "{p}\n{e}"),
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

    /// A file the parser refuses is named with the line of its mistake, not the line
    /// where the parser gave up (often the end of the file).
    #[rstest::rstest]
    #[case::misspelt_keyword_after_steps(
        "Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n  Scenaro: typo\n    {STEP}\n",
        "a.feature:5: not Gherkin: `Scenaro: typo` is not a step"
    )]
    #[case::misspelt_step(
        "Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n    Givn more\n",
        "a.feature:5: not Gherkin: `Givn more` is not a step"
    )]
    #[case::misspelt_feature(
        "Featur: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n",
        "a.feature:1: not Gherkin: `Featur: A` comes before the file's `Feature:` line"
    )]
    #[case::empty("", "a.feature:1: not Gherkin: no `Feature:` line")]
    #[case::byte_order_mark(
        "\u{feff}Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n",
        "a.feature:1: not Gherkin: the file begins with a byte-order mark"
    )]
    #[case::second_feature(
        "Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n\nFeature: B\n",
        "a.feature:6: not Gherkin: a second `Feature:`"
    )]
    #[case::lone_at(
        "Feature: A\n  @check.a.one @\n  Scenario: One\n    {STEP}\n",
        "a.feature:2: not Gherkin: `@` in `@check.a.one @` is no tag"
    )]
    #[case::unclosed_doc_string(
        "Feature: A\n  @check.a.one\n  Scenario: One\n    {STEP}\n      \"\"\"\n      text\n",
        "a.feature:5: not Gherkin: this doc string's \"\"\" is never closed"
    )]
    #[case::short_row(
        "Feature: A\n  Scenario Outline: O <n>\n    {STEP}\n\n    @check.a.one\n    Examples:\n      | n | m |\n      | 1 |\n",
        "a.feature:8: not Gherkin: this table row has 1 cell(s) and the table's first row (line 7) has 2"
    )]
    // Another language's keywords are not read: the parser's position it is.
    #[case::another_language(
        "# language: de\nFunktionalität: A\n  Szenario: One\n    Angenommen a\n  Szenaro: typo\n",
        "a.feature: not Gherkin (the parser stopped at line"
    )]
    fn a_mistake_is_named_by_its_line(#[case] text: &str, #[case] problem: &str) {
        let dir = folder(&[("a.feature", &text.replace("{STEP}", STEP))]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains(problem), "{problem}\n{e}");
    }

    /// What the line reading allows that the parser allows: descriptions, comments,
    /// doc strings, tables, tags with a comment after them.
    #[test]
    fn a_valid_file_has_no_mistake() {
        let text = format!("# a comment\n@area\nFeature: A\n  Some description.\n  More of it: with a colon.\n\n  Background:\n    {STEP}\n\n  @check.a.one # the id\n  Scenario Outline: One <n>\n    What it is about.\n    {STEP}\n      \"\"\"\n      Givn free text | in a doc string\n      \"\"\"\n    And a table\n      | a \\| b | c |\n      | 1      | 2 |\n\n    Examples:\n      | n |\n      | 1 |\n");
        assert_eq!(mistake(&text), None);
        assert!(ragged_rows(&text).is_empty(), "{:?}", ragged_rows(&text));
        assert!(Feature::parse(&text, GherkinEnv::default()).is_ok());
    }

    /// The parser cuts a longer row to the first row's width; that is refused.
    #[test]
    fn a_row_longer_than_its_table_is_a_problem() {
        let text = format!("Feature: A\n  Scenario Outline: O <n>\n    {STEP}\n\n    @check.a.one\n    Examples:\n      | n |\n      | 1 | 2 |\n");
        let dir = folder(&[("a.feature", &text)]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        assert!(
            e.contains("a.feature:8: this table row has 2 cell(s) and the table's first row (line 7) has 1"),
            "{e}"
        );
    }

    #[test]
    fn a_folder_without_feature_files_says_what_it_holds() {
        let dir = folder(&[("notes.txt", "Feature: A\n"), ("sub/b.md", "")]);
        let e = selected_checks(dir.path(), None).unwrap_err().to_string();
        assert!(
            e.contains("no .feature file in it or its subfolders (it holds notes.txt, sub)"),
            "{e}"
        );
        let empty = tempfile::tempdir().unwrap();
        let e = selected_checks(empty.path(), None).unwrap_err().to_string();
        assert!(e.contains("(it is empty)"), "{e}");
    }

    #[test]
    fn tags_that_no_scenario_carries_are_found() {
        let known: HashSet<String> = ["api", "check.api.root"].map(String::from).into();
        let op: TagOperation = "@check.api.root or (@api and not @nope) or @check.api.rot or @nope"
            .parse()
            .unwrap();
        assert_eq!(unknown_tags(&op, &known), ["nope", "check.api.rot"]);
    }
}
