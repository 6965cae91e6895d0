//! What a run is asked for: the session's options, the feature files and tags, the
//! reports' paths, the output and the deadline.

use ollama_verify::session::SessionOptions;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub session: SessionOptions,
    /// A folder of `.feature` files; `None` uses the built-in ones.
    pub features: Option<PathBuf>,
    /// A tag expression (`@api and not @perf`).
    pub tags: Option<String>,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub summary_json: Option<PathBuf>,
    pub summary_md: Option<PathBuf>,
    /// The verdict as Prometheus metrics, for node_exporter's textfile collector.
    pub prometheus: Option<PathBuf>,
    /// The HTML report for reviewers (`--html`).
    pub html: Option<PathBuf>,
    /// Cucumber's step-by-step output (`--steps`) instead of a line per check.
    pub steps: bool,
    /// Every check's line, a skip's whose reason an earlier line gave too (`--verbose`).
    pub verbose: bool,
    /// The whole run's time limit (`--deadline`), counted from the start of the run:
    /// past it, cucumber is abandoned and every selected check without a result fails.
    /// Starting the target is not interrupted (a container is never left half-made),
    /// but its time counts. Cucumber's JSON report is then incomplete; the JUnit,
    /// summary JSON and Markdown reports are whole.
    pub deadline: Option<Duration>,
    /// No line per check on the console (`serve` says one line a run instead).
    pub quiet: bool,
}

impl RunOptions {
    /// Each report's flag and the path it was given, in the order they are named.
    pub(crate) fn reports(&self) -> [(&'static str, Option<&std::path::Path>); 6] {
        [
            ("--junit", self.junit.as_deref()),
            ("--json", self.json.as_deref()),
            ("--summary-json", self.summary_json.as_deref()),
            ("--summary-md", self.summary_md.as_deref()),
            ("--prometheus", self.prometheus.as_deref()),
            ("--html", self.html.as_deref()),
        ]
    }
}
