//! The HTML report's spec (`--html`): the feature files the run read, as the page lays
//! them out (each feature's narrative, each scenario's steps and the checks it
//! decides). The page itself is the core library's ([`Summary::to_html`]).

use crate::features::FEATURES;
use crate::tags::all_tags;
use cucumber::gherkin::{Feature, GherkinEnv, Rule, Scenario};
use ollama_verify::report::{SpecFeature, SpecScenario, Summary};
use std::path::Path;

/// The page of `summary`, laid out along the feature files under `features` (the
/// built-in ones where none is given).
pub(crate) fn page(summary: &Summary, features: Option<&Path>) -> String {
    summary.to_html(&spec(features))
}

/// The feature files, read again: they were checked before the run, and one that no
/// longer parses is left out (its results are still listed, after the others).
fn spec(features: Option<&Path>) -> Vec<SpecFeature> {
    let parsed: Vec<(String, Feature)> = match features {
        None => FEATURES
            .iter()
            .filter_map(|(name, text)| {
                let f = Feature::parse(text, GherkinEnv::default()).ok()?;
                Some((name.to_string(), f))
            })
            .collect(),
        Some(dir) => crate::spec::feature_files(dir)
            .into_iter()
            .filter_map(|path| {
                let f = Feature::parse_path(&path, GherkinEnv::default()).ok()?;
                let name = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                Some((name, f))
            })
            .collect(),
    };
    parsed.iter().map(|(file, f)| feature(file, f)).collect()
}

fn feature(file: &str, f: &Feature) -> SpecFeature {
    let scenarios = f
        .scenarios
        .iter()
        .map(|s| (None, s))
        .chain(
            f.rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
        )
        .map(|(rule, s)| scenario(f, rule, s))
        .collect();
    SpecFeature {
        file: file.to_string(),
        name: f.name.clone(),
        description: paragraphs(f.description.as_deref().unwrap_or_default()),
        scenarios,
    }
}

/// A narrative's paragraphs, each on one line (the file's line breaks are the
/// editor's, not the reader's), a blank line between them.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A scenario's steps (its background's first) and the checks its tags name (an
/// outline's Examples blocks may each name one).
fn scenario(f: &Feature, rule: Option<&Rule>, s: &Scenario) -> SpecScenario {
    let tags = all_tags(f, rule, s);
    let mut checks: Vec<String> = Vec::new();
    let example_tags = s.examples.iter().flat_map(|e| &e.tags);
    for id in tags
        .iter()
        .chain(example_tags)
        .filter_map(|t| t.strip_prefix("check."))
    {
        if !checks.iter().any(|c| c == id) {
            checks.push(id.to_string());
        }
    }
    let background = f
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()))
        .flat_map(|b| &b.steps);
    let steps = background
        .chain(&s.steps)
        .map(|step| {
            let text = format!("{} {}", step.keyword.trim(), step.value);
            match &step.docstring {
                Some(doc) => format!("{text}\n{}", doc.trim()),
                None => text,
            }
        })
        .collect();
    SpecScenario {
        name: s.name.clone(),
        checks,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in spec: every feature with its narrative, every scenario with its
    /// steps and the check it decides.
    #[test]
    fn the_built_in_spec_is_laid_out() {
        let spec = spec(None);
        assert_eq!(spec.len(), FEATURES.len());
        let api = spec.iter().find(|f| f.file == "api.feature").unwrap();
        assert!(!api.description.trim().is_empty(), "{api:?}");
        let chat = api
            .scenarios
            .iter()
            .find(|s| s.checks == ["api.chat"])
            .expect("api.chat's scenario");
        assert!(chat.steps.len() >= 2, "{chat:?}");
        assert!(chat.steps.iter().all(|s| s.contains(' ')), "{chat:?}");
        let perf = spec
            .iter()
            .find(|f| f.file == "performance.feature")
            .unwrap();
        assert!(!perf.description.contains('\n'), "{}", perf.description);
        let prompt = &perf.scenarios[0].steps;
        assert!(
            prompt
                .iter()
                .any(|s| s.starts_with("And the benchmark prompt:\nWrite a")),
            "the docstring is shown: {prompt:?}"
        );
    }
}
