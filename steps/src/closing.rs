//! The console's closing summary, after the check lines: every failure and warning with
//! its whole detail (what was expected, what was seen, what to try) and its diagnosis,
//! the skips collapsed by their cause, and the counts. The full table is `--verbose`'s.

use crate::progress::styled;
use ollama_verify::check::{CheckResult, Status};
use ollama_verify::report::Summary;
use ollama_verify::text::printable;

/// Where the lines under a heading begin: under the check id, past `FAIL  `.
const INDENT: &str = "      ";

/// The most lines of one check's text: the rest is in the table and the reports.
const MAX_LINES: usize = 8;

/// The closing summary of `summary`, wrapped to `width` columns; its last line is the
/// counts line.
pub fn closing(summary: &Summary, width: usize) -> String {
    let mut lines = Vec::new();
    for status in [Status::Fail, Status::Warn] {
        for c in summary.checks.iter().filter(|c| c.status == status) {
            lines.extend(problem(c, width));
        }
    }
    for group in skip_groups(&summary.checks) {
        lines.extend(skipped(&group, width));
    }
    lines.push(summary.counts_line());
    lines.join("\n")
}

/// `FAIL  perf.generation  12.0 tok/s: expected ...`, wrapped, then its diagnosis.
fn problem(c: &CheckResult, width: usize) -> Vec<String> {
    let head = match &c.value {
        Some(v) => format!("{}  {}  {}: ", c.status.label(), c.id, v),
        None => format!("{}  {}: ", c.status.label(), c.id),
    };
    let mut text = format!("{head}{}", c.detail.trim());
    for d in &c.diagnosis {
        text.push_str("\nwhy: ");
        text.push_str(d);
    }
    labelled(c.status, &cut(wrap(&printable(&text), width), width))
}

/// The skips that share a reason, in the order of their first check, the largest first.
fn skip_groups(checks: &[CheckResult]) -> Vec<Vec<&CheckResult>> {
    let mut groups: Vec<Vec<&CheckResult>> = Vec::new();
    for c in checks.iter().filter(|c| c.status == Status::Skip) {
        match groups.iter_mut().find(|g| g[0].detail == c.detail) {
            Some(group) => group.push(c),
            None => groups.push(vec![c]),
        }
    }
    // Stable: groups of one size keep the catalogue's order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups
}

/// `SKIP  20 checks skipped: <reason>`, then their ids; one check on one line.
fn skipped(group: &[&CheckResult], width: usize) -> Vec<String> {
    let reason = group[0].detail.trim();
    let text = match group {
        [one] => format!("SKIP  {}: {reason}", one.id),
        _ => {
            let ids: Vec<&str> = group.iter().map(|c| c.id.as_str()).collect();
            format!(
                "SKIP  {} checks skipped: {reason}\n{}",
                group.len(),
                ids.join(", ")
            )
        }
    };
    labelled(Status::Skip, &cut(wrap(&printable(&text), width), width))
}

/// `text`'s lines wrapped to `width`, every line after the first under [`INDENT`].
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, paragraph) in text.lines().enumerate() {
        let first = if i == 0 { "" } else { INDENT };
        let options = textwrap::Options::new(width)
            .initial_indent(first)
            .subsequent_indent(INDENT)
            // Only at spaces: not inside `tok/s`, a path or `/dev/nvidia-uvm`.
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(true);
        lines.extend(
            textwrap::wrap(paragraph, options)
                .into_iter()
                .map(|l| l.trim_end().to_string()),
        );
    }
    lines
}

/// At most [`MAX_LINES`] lines, the last saying how many more there were.
fn cut(mut lines: Vec<String>, width: usize) -> Vec<String> {
    if lines.len() <= MAX_LINES {
        return lines;
    }
    let note = |more: usize| {
        let text =
            format!("… {more} more line(s): --verbose, or the --summary-json report, has them all");
        wrap(&format!("\n{text}"), width).split_off(1)
    };
    let kept = MAX_LINES - note(lines.len()).len();
    let more = note(lines.len() - kept);
    lines.truncate(kept);
    lines.extend(more);
    lines
}

/// The lines with their first word, the status label, in its colour.
fn labelled(status: Status, lines: &[String]) -> Vec<String> {
    let label = status.label();
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| match l.strip_prefix(label) {
            Some(rest) if i == 0 => format!("{}{rest}", styled(status)),
            _ => l.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::Outcome;

    fn summary() -> Summary {
        let unreachable = "the API at http://127.0.0.1:9/ is unreachable (see api.root)";
        let mut checks = vec![
            CheckResult::new(
                "api.root",
                "root",
                Outcome::fail("connection refused at 127.0.0.1:9: nothing listens there. Is the server running? Try `systemctl status ollama` (or `ollama serve`), and set OLLAMA_HOST or --host if it listens elsewhere"),
            ),
            CheckResult::new(
                "perf.generation",
                "speed",
                Outcome::fail("expected at least 40 tok/s, measured 12.0 tok/s").with_value("12.0 tok/s"),
            ),
            CheckResult::new(
                "diagnose.offload",
                "offload",
                Outcome::warn("\"offloaded 20/29 layers to GPU\": 9 layers run on the CPU"),
            ),
            CheckResult::new("gpu.visible", "gpu", Outcome::skip("GPU checks are off (--gpu none)")),
            CheckResult::new("service.active", "s", Outcome::skip("no systemd on this machine")),
        ];
        for id in [
            "api.tags",
            "api.chat",
            "models.base",
            "models.custom",
            "perf.prompt",
        ] {
            checks.push(CheckResult::new(id, id, Outcome::skip(unreachable)));
        }
        checks.push(CheckResult::new(
            "service.enabled",
            "s",
            Outcome::skip("no systemd on this machine"),
        ));
        Summary::new(checks)
    }

    /// The wording of the closing summary, at a pipe's width and a narrow one.
    #[test]
    fn the_closing_summary_reads_so() {
        console::set_colors_enabled(false);
        insta::assert_snapshot!("pipe", closing(&summary(), 100));
        insta::assert_snapshot!("narrow", closing(&summary(), 60));
    }

    /// No line is wider than asked, and a long text is cut with a note.
    #[test]
    fn lines_fit_the_width_and_long_texts_are_cut() {
        console::set_colors_enabled(false);
        let long = "word ".repeat(400);
        let s = Summary::new(vec![CheckResult::new("api.chat", "c", Outcome::fail(long))]);
        let text = closing(&s, 50);
        assert!(text.lines().all(|l| l.chars().count() <= 50), "{text}");
        assert_eq!(text.lines().count(), MAX_LINES + 1, "{text}");
        assert!(text.contains("more line(s)"), "{text}");
        let ids = |n| (0..n).map(|i| format!("api.check{i}")).collect::<Vec<_>>();
        let skips = ids(90)
            .iter()
            .map(|id| CheckResult::new(id, id, Outcome::skip("off")))
            .collect();
        let text = closing(&Summary::new(skips), 50);
        assert!(text.lines().all(|l| l.chars().count() <= 50), "{text}");
        assert_eq!(text.lines().count(), MAX_LINES + 1, "{text}");
        assert!(text.contains("more line(s)"), "{text}");
    }

    /// Skips group by their reason, largest first; a group of one is one line.
    #[test]
    fn skips_group_by_their_reason() {
        let s = summary();
        let groups: Vec<Vec<&str>> = skip_groups(&s.checks)
            .iter()
            .map(|g| g.iter().map(|c| c.id.as_str()).collect())
            .collect();
        assert_eq!(groups.len(), 3, "{groups:?}");
        assert_eq!(groups[0].len(), 5);
        assert_eq!(groups[1], ["service.active", "service.enabled"]);
        assert_eq!(groups[2], ["gpu.visible"]);
    }

    /// A server's escape sequence is shown, not obeyed.
    #[test]
    fn no_control_character_reaches_the_terminal() {
        console::set_colors_enabled(false);
        let s = Summary::new(vec![CheckResult::new(
            "api.chat",
            "c",
            Outcome::fail("HTTP 500 \"\u{1b}]0;owned\u{7}\u{1b}[2J\""),
        )]);
        let text = closing(&s, 100);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
}
