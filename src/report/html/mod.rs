//! The HTML report (`--html`): one self-contained page (inline CSS and SVG, no script,
//! nothing fetched) that shows the feature files as living documentation, each
//! scenario's steps beside its check's verdict, the host's facts and small charts of
//! the measured figures. Every text goes through maud, which escapes it: a server's
//! message stays text.

mod charts;
mod facts;
mod spec;

pub use spec::{SpecFeature, SpecScenario};

use super::Summary;
use crate::check::Status;
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = include_str!("style.css");

/// Nothing loads from anywhere, no script runs; only the inline style applies.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

impl Summary {
    /// The page of this run's results, laid out along `spec`, the feature files the run
    /// read. A result no scenario of `spec` decides is listed after them.
    pub fn to_html(&self, spec: &[SpecFeature]) -> String {
        // The facts are read as JSON: whatever shape they have, they are shown.
        let json = serde_json::to_value(self).ok();
        let facts = json.as_ref().and_then(|v| v.get("facts"));
        let in_spec = |id: &str| {
            spec.iter()
                .flat_map(|f| &f.scenarios)
                .any(|s| s.checks.iter().any(|c| c == id))
        };
        let others: Vec<_> = self.checks.iter().filter(|c| !in_spec(&c.id)).collect();
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    // The browser itself holds the page to fetching nothing.
                    meta http-equiv="Content-Security-Policy" content=(POLICY);
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "ollama-verify: " (self.counts_line()) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    header {
                        h1 { "ollama-verify report" }
                        (counts(self))
                    }
                    (facts::facts(facts))
                    @for f in spec.iter().filter(|f| !f.scenarios.is_empty()) {
                        (spec::feature(f, &self.checks))
                    }
                    @if !others.is_empty() {
                        section.feature {
                            h2 { "Other results" }
                            p.narrative { "Checks no scenario of the feature files above decides (a scenario without a @check tag, reported by its place)." }
                            @for r in others {
                                article.scenario.(spec::status_class(r.status)) {
                                    h3 { (r.name) }
                                    (spec::verdict(r))
                                }
                            }
                        }
                    }
                }
            }
        };
        page.into_string()
    }
}

/// The counts in words, and a bar of them in the statuses' colours.
fn counts(s: &Summary) -> Markup {
    let total = s.checks.len().max(1) as f64;
    let mut x = 0.0;
    let parts: Vec<(Status, usize, f64)> = [
        (Status::Pass, s.passed),
        (Status::Fail, s.failed),
        (Status::Warn, s.warned),
        (Status::Skip, s.skipped),
    ]
    .into_iter()
    .map(|(status, n)| {
        let start = x;
        x += n as f64 / total * 100.0;
        (status, n, start)
    })
    .collect();
    html! {
        p.counts {
            @for (status, n, _) in &parts {
                span.(spec::status_class(*status)) { (n) " " (word(*status)) }
            }
            @if let Some(t) = s.wall_time {
                span { (format!("in {:.1} s", t.as_secs_f64())) }
            }
        }
        svg.tally viewBox="0 0 100 4" preserveAspectRatio="none" role="img" aria-label=(s.counts_line()) {
            @for (status, n, start) in parts.iter().filter(|(_, n, _)| *n > 0) {
                rect.(spec::status_class(*status)) x=(format!("{start:.2}")) y="0"
                    width=(format!("{:.2}", *n as f64 / total * 100.0)) height="4" {}
            }
        }
    }
}

fn word(s: Status) -> &'static str {
    match s {
        Status::Pass => "passed",
        Status::Fail => "failed",
        Status::Warn => "warned",
        Status::Skip => "skipped",
    }
}

#[cfg(test)]
mod tests;
