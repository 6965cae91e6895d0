//! Tables for a terminal: the end-of-run summary table (`--verbose`), and the
//! borderless table CLIs print.

use super::{with_diagnosis, Summary};
use crate::check::Status;
use crate::text::printable;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};

impl Summary {
    /// The end-of-run table, `width` columns wide at most (the terminal's, or a log's).
    pub fn to_table(&self, color: bool, width: u16) -> String {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["check", "status", "value", "detail"])
            .set_width(width);
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
            // What a server said is shown, not obeyed: no escape sequence reaches the
            // terminal ([`printable`]).
            table.add_row(vec![
                Cell::new(printable(&c.id)),
                status,
                Cell::new(printable(c.value.as_deref().unwrap_or(""))),
                Cell::new(printable(&with_diagnosis(c, "\n"))),
            ]);
        }
        format!("{table}\n{}", self.counts_line())
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
    use crate::check::{CheckResult, Outcome};
    use crate::report::tests::sample;
    use crate::report::Summary;

    /// Escape sequences in what a server said never reach the terminal; line breaks
    /// between a detail and its diagnosis stay.
    #[test]
    fn the_table_prints_no_control_characters() {
        let s = Summary::new(vec![
            CheckResult::new(
                "gpu.offload",
                "offload",
                Outcome::fail("\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\rred")
                    .with_value("\u{1b}[5m5"),
            ),
            CheckResult::new(
                "diagnose.offload",
                "d",
                Outcome::warn("20/29 \u{1b}[1mlayers"),
            ),
        ]);
        let table = s.to_table(false, 120);
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(table.contains("�]0;owned"), "{table}");
        assert!(table.contains("why: diagnose.offload"), "{table}");
    }

    #[test]
    fn table_shows_values() {
        let t = sample().to_table(false, 120);
        assert!(t.contains("63.3 tok/s") && t.contains("FAIL"));
        assert!(t.ends_with("1 passed, 1 failed, 0 warned, 1 skipped"));
    }
}
