//! `--list`: the checks a run would decide, without running anything.

use crate::features::features_dir;
use crate::tags::{nothing_selected, selection_of};
use crate::usage::UsageError;
use std::path::Path;

/// `--list`: the checks that `features` and `tags` select, in report order, as a table
/// (check, severity, scenario); nothing is started or asked.
pub fn list(features: Option<&Path>, tags: Option<&str>) -> Result<String, UsageError> {
    let filter = selection_of(tags)?;
    let (_builtin, dir) = features_dir(features)?;
    let mut checks = crate::spec::selected_checks(&dir, filter.as_ref())?;
    if checks.is_empty() {
        return Err(nothing_selected(features, tags));
    }
    checks.sort_by_key(|c| ollama_verify::check::order(&c.id));
    let rows = checks
        .iter()
        .map(|c| {
            let severity = match c.severity {
                ollama_verify::check::Severity::Fail => "fail",
                ollama_verify::check::Severity::Warn => "warn",
            };
            vec![c.id.clone(), severity.to_string(), c.name.clone()]
        })
        .collect();
    Ok(format!(
        "{}\n{} check(s)",
        ollama_verify::report::plain_table(&["CHECK", "SEVERITY", "SCENARIO"], rows),
        checks.len()
    ))
}
