//! `--list`: the checks a run would decide, without running anything, as a table for
//! people, JSON for scripts, or the Markdown table of the docs' catalogue page.

use crate::features::features_dir;
use crate::spec::feature_files;
use crate::tags::{nothing_selected, selection_of};
use crate::usage::UsageError;
use ollama_verify::catalog::{Area, Changes, CheckId, Need};
use ollama_verify::check::Severity;
use ollama_verify::text::markdown_text;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// How `--list` prints the checks (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ListFormat {
    /// A table: check, severity, scenario.
    #[default]
    Text,
    /// An array of objects, one per check.
    Json,
    /// The Markdown table of the docs' check catalogue.
    Md,
}

/// One selected check: what its scenario says, and what the catalogue knows of it
/// (nothing for a check of the user's own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub id: String,
    pub area: Option<Area>,
    /// The severity of this run: the scenario's `@warn`, whatever the catalogue says.
    pub severity: &'static str,
    pub needs: Vec<Need>,
    pub changes: Option<Changes>,
    pub explained_by: Vec<CheckId>,
    /// The feature file, relative to the folder of feature files.
    pub feature: String,
    pub scenario: String,
}

/// `--list` as a table (check, severity, scenario); nothing is started or asked.
pub fn list(features: Option<&Path>, tags: Option<&str>) -> Result<String, UsageError> {
    list_as(features, tags, ListFormat::Text)
}

/// `--list --format FORMAT`: the checks that `features` and `tags` select, in report
/// order.
pub fn list_as(
    features: Option<&Path>,
    tags: Option<&str>,
    format: ListFormat,
) -> Result<String, UsageError> {
    let checks = listed(features, tags)?;
    Ok(match format {
        ListFormat::Text => text(&checks),
        ListFormat::Json => serde_json::to_string_pretty(&checks)
            .map_err(|e| UsageError::new(format!("cannot write the list as JSON: {e}")))?,
        ListFormat::Md => markdown(&checks),
    })
}

/// The selected checks in report order, the feature files checked as for a run.
pub fn listed(features: Option<&Path>, tags: Option<&str>) -> Result<Vec<Listed>, UsageError> {
    let filter = selection_of(tags)?;
    let (_builtin, dir) = features_dir(features)?;
    let mut checks = crate::spec::selected_checks(&dir, filter.as_ref())?;
    if checks.is_empty() {
        return Err(nothing_selected(features, tags));
    }
    checks.sort_by_key(|c| ollama_verify::check::order(&c.id));
    let files = files_of_checks(&dir);
    Ok(checks
        .into_iter()
        .map(|c| {
            let entry = CheckId::parse(&c.id).map(CheckId::entry);
            Listed {
                feature: files.get(&c.id).cloned().unwrap_or_default(),
                area: entry.map(|e| e.id.area()),
                severity: match c.severity {
                    Severity::Fail => "fail",
                    Severity::Warn => "warn",
                },
                needs: entry.map_or(Vec::new(), |e| e.needs.to_vec()),
                changes: entry.map(|e| e.changes),
                explained_by: entry.map_or(Vec::new(), |e| e.explained_by.to_vec()),
                id: c.id,
                scenario: c.name,
            }
        })
        .collect())
}

/// Which feature file holds each `@check.<id>` tag. The files have passed
/// `selected_checks`, so each id is on one scenario; a tag line is one that starts
/// with `@`.
fn files_of_checks(dir: &Path) -> HashMap<String, String> {
    let mut files = HashMap::new();
    for file in feature_files(dir) {
        let name = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let tags = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('@'))
            .flat_map(str::split_whitespace);
        for id in tags.filter_map(|t| t.strip_prefix("@check.")) {
            files.entry(id.to_string()).or_insert_with(|| name.clone());
        }
    }
    files
}

fn text(checks: &[Listed]) -> String {
    let rows = checks
        .iter()
        .map(|c| vec![c.id.clone(), c.severity.to_string(), c.scenario.clone()])
        .collect();
    format!(
        "{}\n{} check(s)",
        ollama_verify::report::plain_table(&["CHECK", "SEVERITY", "SCENARIO"], rows),
        checks.len()
    )
}

/// A cell of words, or `—` for none.
fn words(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    match all.is_empty() {
        true => "—".to_string(),
        false => all.join(", "),
    }
}

fn markdown(checks: &[Listed]) -> String {
    let mut out = String::from(
        "| check | area | severity | needs | changes | explained by | scenario |\n|---|---|---|---|---|---|---|\n",
    );
    for c in checks {
        let area = c.area.map_or("—".to_string(), |a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        });
        let changes = match c.changes {
            None | Some(Changes::Nothing) => "—",
            Some(Changes::LoadsModel) => "loads the model",
            Some(Changes::UnloadsModel) => "unloads the model (`--allow-unload`)",
        };
        out.push_str(&format!(
            "| `{}` | {area} | {} | {} | {changes} | {} | {} (`{}`) |\n",
            c.id,
            c.severity,
            words(c.needs.iter().map(|n| n.as_str().to_string())),
            words(c.explained_by.iter().map(|d| format!("`{d}`"))),
            markdown_text(&c.scenario),
            c.feature,
        ));
    }
    out.push_str(&format!("\n{} check(s)\n", checks.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in check is listed once, with what the catalogue says of it and the
    /// feature file that holds its scenario.
    #[test]
    fn json_lists_the_catalogue_with_its_feature_files() {
        let json = list_as(None, None, ListFormat::Json).unwrap();
        let listed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(listed.len(), ollama_verify::catalog::CATALOGUE.len());
        let chat = listed.iter().find(|c| c["id"] == "api.chat").unwrap();
        assert_eq!(chat["area"], "api");
        assert_eq!(chat["severity"], "fail");
        assert_eq!(chat["changes"], "loads_model");
        assert_eq!(chat["feature"], "api.feature");
        assert_eq!(chat["needs"], serde_json::json!(["api", "chat"]));
        let cold = listed.iter().find(|c| c["id"] == "perf.load_cold").unwrap();
        assert_eq!(cold["severity"], "warn");
        assert_eq!(cold["changes"], "unloads_model");
        assert_eq!(cold["feature"], "performance.feature");
    }

    #[test]
    fn a_check_of_ones_own_has_no_catalogue_facts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.feature"),
            "Feature: Mine\n  @check.mine.root @warn\n  Scenario: Mine answers\n    Given the Ollama install under verification\n    When the root URL is requested\n    Then the answer is \"Ollama is running\"\n",
        )
        .unwrap();
        let listed = listed(Some(dir.path()), None).unwrap();
        assert_eq!(
            listed,
            [Listed {
                id: "mine.root".into(),
                area: None,
                severity: "warn",
                needs: vec![],
                changes: None,
                explained_by: vec![],
                feature: "mine.feature".into(),
                scenario: "Mine answers".into(),
            }]
        );
        let md = markdown(&listed);
        assert!(
            md.contains("| `mine.root` | — | warn | — | — | — | Mine answers (`mine.feature`) |")
        );
    }

    #[test]
    fn a_selection_of_nothing_is_refused_in_every_format() {
        for format in [ListFormat::Text, ListFormat::Json, ListFormat::Md] {
            assert!(list_as(None, Some("@nosuchtag"), format).is_err());
        }
    }
}
