//! A run's verdict as Prometheus metrics, in the text format Prometheus scrapes and
//! node_exporter's textfile collector reads: what `serve` answers on `/metrics` and
//! `--prometheus FILE` writes. The reports' masking has already been applied to every
//! text the summary holds; labels carry only check ids, areas, severities and model names.

use ollama_verify::catalog::{CheckId, Severity};
use ollama_verify::check::Status;
use ollama_verify::figure::{Quantity, Unit};
use ollama_verify::report::Summary;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

/// Every metric's name starts with it.
pub const PREFIX: &str = "ollama_verify";

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: String,
    area: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    check: String,
    area: String,
    severity: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FigureLabels {
    check: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CountLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// One finished run, as the metrics describe it.
pub struct RunMetrics<'a> {
    pub summary: &'a Summary,
    /// When the run ended.
    pub finished: SystemTime,
    /// How long it took.
    pub took: Duration,
    /// Runs since the process started, this one included.
    pub runs: u64,
}

const STATUSES: [Status; 4] = [Status::Pass, Status::Fail, Status::Warn, Status::Skip];

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::Skip => "skip",
    }
}

fn labels_of(id: &str) -> CheckLabels {
    let check = CheckId::parse(id);
    CheckLabels {
        check: id.to_string(),
        area: id.split('.').next().unwrap_or_default().to_string(),
        severity: match check.map(|c| c.entry().severity) {
            Some(Severity::Warn) => "warn",
            Some(Severity::Fail) | None => "fail",
        }
        .to_string(),
    }
}

/// The metric name of a figure's quantity, with its unit as Prometheus names units.
pub fn figure_metric(q: Quantity) -> String {
    let unit = match q.unit() {
        Unit::TokensPerSecond => "tokens_per_second",
        Unit::Seconds => "seconds",
        Unit::Bytes => "bytes",
    };
    format!("perf_{}_{unit}", q.name())
}

/// `--prometheus FILE` of a single run: its metrics, the run counted as the first.
pub fn textfile(summary: &Summary) -> String {
    render(&RunMetrics {
        summary,
        finished: SystemTime::now(),
        took: summary.wall_time.unwrap_or_default(),
        runs: 1,
    })
}

/// The text Prometheus reads: the classic text format, which node_exporter's textfile
/// collector reads too.
pub fn render(run: &RunMetrics) -> String {
    let mut registry = Registry::with_prefix(PREFIX);

    let status = Family::<StatusLabels, Gauge>::default();
    registry.register(
        "check_status",
        "1 for the status each check ended with, 0 for the others (pass, fail, warn, skip)",
        status.clone(),
    );
    let failed = Family::<CheckLabels, Gauge>::default();
    registry.register(
        "check_failed",
        "1 when the check failed (a warning is not a failure), else 0",
        failed.clone(),
    );
    let elapsed = Family::<CheckLabels, FloatGauge>::default();
    registry.register(
        "check_duration_seconds",
        "How long the check's scenario took in the last run",
        elapsed.clone(),
    );
    for c in &run.summary.checks {
        let labels = labels_of(&c.id);
        for s in STATUSES {
            status
                .get_or_create(&StatusLabels {
                    check: labels.check.clone(),
                    area: labels.area.clone(),
                    severity: labels.severity.clone(),
                    status: status_name(s).to_string(),
                })
                .set(i64::from(c.status == s));
        }
        failed
            .get_or_create(&labels)
            .set(i64::from(c.status == Status::Fail));
        if let Some(took) = c.elapsed {
            elapsed.get_or_create(&labels).set(took.as_secs_f64());
        }
    }

    for q in Quantity::ALL {
        let family = Family::<FigureLabels, FloatGauge>::default();
        let mut any = false;
        for c in &run.summary.checks {
            for f in c.figures.iter().filter(|f| f.quantity == q) {
                any = true;
                family
                    .get_or_create(&FigureLabels {
                        check: c.id.clone(),
                        model: f.model.clone().unwrap_or_default(),
                    })
                    .set(f.value);
            }
        }
        if any {
            let help = format!("The last run's {} (the median of its samples)", q.name());
            registry.register(figure_metric(q), help, family);
        }
    }

    let counts = Family::<CountLabels, Gauge>::default();
    registry.register(
        "checks",
        "How many checks ended with each status in the last run",
        counts.clone(),
    );
    for (s, n) in [
        (Status::Pass, run.summary.passed),
        (Status::Fail, run.summary.failed),
        (Status::Warn, run.summary.warned),
        (Status::Skip, run.summary.skipped),
    ] {
        counts
            .get_or_create(&CountLabels {
                status: status_name(s).to_string(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let finished = FloatGauge::default();
    finished.set(
        run.finished
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    );
    registry.register(
        "last_run_timestamp_seconds",
        "When the last run ended, in seconds since the epoch",
        finished,
    );
    let took = FloatGauge::default();
    took.set(run.took.as_secs_f64());
    registry.register("run_duration_seconds", "How long the last run took", took);
    let runs = Gauge::<i64>::default();
    runs.set(i64::try_from(run.runs).unwrap_or(i64::MAX));
    registry.register(
        "runs",
        "Runs since ollama-verify started, the last included",
        runs,
    );
    let build = Family::<BuildLabels, Gauge>::default();
    build
        .get_or_create(&BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
        .set(1);
    registry.register("build_info", "The ollama-verify build, as a label", build);

    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::{CheckResult, Outcome};
    use ollama_verify::figure::Figure;

    fn summary() -> Summary {
        Summary::new(vec![
            CheckResult::new("api.root", "root", Outcome::pass("Ollama is running")),
            CheckResult::new(
                "models.custom",
                "custom",
                Outcome::fail("expected my-coder, saw none OLLAMA_API_KEY=hunter2"),
            ),
            CheckResult::new("service.enabled", "enabled", Outcome::warn("disabled")),
            CheckResult::new(
                "perf.generation",
                "generation",
                Outcome::pass("fast")
                    .with_figure(Figure::new(Quantity::GenerationRate, 63.5).target(40.0))
                    .for_model("my-coder"),
            )
            .took(Duration::from_millis(1500)),
        ])
    }

    fn parsed(text: &str) -> prometheus_parse::Scrape {
        let lines = text.lines().map(|l| Ok(l.to_string()));
        prometheus_parse::Scrape::parse(lines).expect("the text parses as Prometheus reads it")
    }

    fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in the scrape"));
        match sample.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn each_check_has_its_status_and_failure() {
        let summary = summary();
        let text = render(&RunMetrics {
            summary: &summary,
            finished: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            took: Duration::from_secs(12),
            runs: 3,
        });
        let scrape = parsed(&text);
        let status = |check, status| {
            value(
                &scrape,
                "ollama_verify_check_status",
                &[("check", check), ("status", status)],
            )
        };
        assert_eq!(status("models.custom", "fail"), 1.0);
        assert_eq!(status("models.custom", "pass"), 0.0);
        assert_eq!(status("api.root", "pass"), 1.0);
        let failed = |check| value(&scrape, "ollama_verify_check_failed", &[("check", check)]);
        assert_eq!(failed("models.custom"), 1.0);
        // A warning is reported, not a failure.
        assert_eq!(failed("service.enabled"), 0.0);
        assert_eq!(
            value(
                &scrape,
                "ollama_verify_check_status",
                &[
                    ("check", "service.enabled"),
                    ("severity", "warn"),
                    ("area", "service"),
                    ("status", "warn")
                ]
            ),
            1.0
        );
        assert_eq!(
            value(
                &scrape,
                "ollama_verify_perf_generation_rate_tokens_per_second",
                &[("check", "perf.generation"), ("model", "my-coder")]
            ),
            63.5
        );
        assert_eq!(
            value(
                &scrape,
                "ollama_verify_check_duration_seconds",
                &[("check", "perf.generation")]
            ),
            1.5
        );
        assert_eq!(
            value(&scrape, "ollama_verify_checks", &[("status", "fail")]),
            1.0
        );
        assert_eq!(value(&scrape, "ollama_verify_runs", &[]), 3.0);
        assert_eq!(
            value(&scrape, "ollama_verify_last_run_timestamp_seconds", &[]),
            1.7e9
        );
        assert_eq!(
            value(
                &scrape,
                "ollama_verify_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            ),
            1.0
        );
        // No text of the server's reaches the metrics, masked or not.
        assert!(
            !text.contains("hunter2") && !text.contains("OLLAMA_API_KEY"),
            "{text}"
        );
        // A quantity nothing measured is not exported at all.
        assert!(!text.contains("cold_load"), "{text}");
    }
}
