//! Tags: the `--tags` expression that selects scenarios, and the tags a scenario
//! carries (its feature's and rule's included).

use crate::usage::UsageError;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, Rule, Scenario};
use std::path::Path;

/// The `--tags` expression, parsed.
pub fn selection_of(tags: Option<&str>) -> Result<Option<TagOperation>, UsageError> {
    tags.map(|t| tag_expression(t).map_err(|why| UsageError::new(format!("--tags {why}"))))
        .transpose()
}

/// A tag expression, parsed; why not, as the rest of a sentence naming it
/// (`"@api(" is not a tag expression (...); example: ...`).
pub fn tag_expression(t: &str) -> Result<TagOperation, UsageError> {
    t.parse().map_err(|e| {
        // The commonest slip: a tag without its `@`.
        let bare: Vec<String> = t
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|w| w.chars().next().is_some_and(char::is_alphanumeric))
            .filter(|w| !matches!(*w, "and" | "or" | "not"))
            .map(|w| format!("`{w}` is no tag: write `@{w}`"))
            .collect();
        let hint = match bare.is_empty() {
            true => String::new(),
            false => format!("; {}", bare.join(", ")),
        };
        UsageError::new(format!(
            "{t:?} is not a tag expression ({e}){hint}; example: \"@api and not @perf\""
        ))
    })
}

/// Every tag of a scenario: its feature's, its rule's, its own.
pub(crate) fn all_tags(feature: &Feature, rule: Option<&Rule>, scenario: &Scenario) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(rule.iter().flat_map(|r| &r.tags))
        .chain(&scenario.tags)
        .cloned()
        .collect()
}

/// Why a run that would decide no check is refused.
pub fn nothing_selected(features: Option<&Path>, tags: Option<&str>) -> UsageError {
    let features = features.map_or("the built-in feature files".to_string(), |d| {
        d.display().to_string()
    });
    UsageError::new(match tags {
        Some(t) => format!(
            "--tags {t:?} selects no check of {features}. `ollama-verify --list` shows every check; tags are @check.<id>, the areas (@api, @models, @service, @gpu, @perf, @modelfile, @security, @diagnose), @warn, @host and @systemd"
        ),
        None => format!("no scenario in {features} has a @check.<id> tag, so there is nothing to verify; tag each scenario with the check it decides, e.g. @check.api.root"),
    })
}
