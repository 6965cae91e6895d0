//! Turns check results into what people and pipelines read: the summary table, the
//! summary JSON, and Markdown for a CI job summary. Formatting only; no verdicts here.

use crate::check::{order, CheckResult, Status};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub checks: Vec<CheckResult>,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn new(mut checks: Vec<CheckResult>) -> Self {
        checks.sort_by_key(|c| order(&c.id));
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        Summary {
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            warned: count(Status::Warn),
            skipped: count(Status::Skip),
            checks,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary serialises")
    }

    pub fn counts_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} warned, {} skipped",
            self.passed, self.failed, self.warned, self.skipped
        )
    }

    /// The end-of-run table for a terminal.
    pub fn to_table(&self, color: bool) -> String {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["check", "status", "value", "detail"]);
        // On a terminal the table fits its width; in a log, a readable fixed one.
        if !color {
            table.set_width(120);
        }
        for c in &self.checks {
            let mut status = Cell::new(c.status.label());
            if color {
                status = status.fg(match c.status {
                    Status::Pass => Color::Green,
                    Status::Fail => Color::Red,
                    Status::Warn => Color::Yellow,
                    Status::Skip => Color::DarkGrey,
                });
            }
            table.add_row(vec![
                Cell::new(&c.id),
                status,
                Cell::new(c.value.as_deref().unwrap_or("")),
                Cell::new(&c.detail),
            ]);
        }
        format!("{table}\n{}", self.counts_line())
    }

    /// A Markdown table fit for `$GITHUB_STEP_SUMMARY`.
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = String::from(
            "## ollama-verify\n\n| check | status | value | detail |\n|---|---|---|---|\n",
        );
        for c in &self.checks {
            let icon = match c.status {
                Status::Pass => "✅",
                Status::Fail => "❌",
                Status::Warn => "⚠️",
                Status::Skip => "⏭️",
            };
            out.push_str(&format!(
                "| `{}` | {icon} {} | {} | {} |\n",
                c.id,
                c.status.label(),
                esc(c.value.as_deref().unwrap_or("")),
                esc(&c.detail)
            ));
        }
        out.push_str(&format!("\n**{}**\n", self.counts_line()));
        out
    }
}

/// A borderless table, columns padded, as CLIs like `ollama list` print.
pub fn plain_table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header(headers.to_vec())
        .add_rows(rows);
    table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;

    fn sample() -> Summary {
        Summary::new(vec![
            CheckResult::new(
                "perf.generation",
                "speed",
                Outcome::pass("median of 1").with_value("63.3 tok/s"),
            ),
            CheckResult::new(
                "service.active",
                "active",
                Outcome::skip("no systemd | here"),
            ),
            CheckResult::new("api.root", "root", Outcome::fail("refused")),
        ])
    }

    #[test]
    fn counts_and_orders() {
        let s = sample();
        assert_eq!((s.passed, s.failed, s.warned, s.skipped), (1, 1, 0, 1));
        let ids: Vec<_> = s.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["service.active", "api.root", "perf.generation"]);
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["failed"], 1);
        assert_eq!(v["checks"][2]["status"], "pass");
        assert_eq!(v["checks"][2]["value"], "63.3 tok/s");
        for key in ["id", "name", "status", "detail", "value"] {
            assert!(v["checks"][0].get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = sample().to_markdown();
        assert!(md.contains("no systemd \\| here"));
        assert!(md.contains("| `perf.generation` | ✅ PASS | 63.3 tok/s |"));
    }

    #[test]
    fn table_shows_values() {
        let t = sample().to_table(false);
        assert!(t.contains("63.3 tok/s") && t.contains("FAIL"));
        assert!(t.ends_with("1 passed, 1 failed, 0 warned, 1 skipped"));
    }
}
