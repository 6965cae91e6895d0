//! `ollama-verify serve`: the selected checks again and again, one run at a time, and
//! the last run's verdict on `/metrics` (Prometheus) and `/healthz` (200 or 503), for a
//! fleet's monitoring. It only reads: the checks that generate text or unload a model
//! run only when the tags ask for them, and then not more often than
//! [`MIN_GENERATING_INTERVAL`]; `--allow-unload` and the docker target are refused.

use crate::metrics::{render, RunMetrics};
use crate::options::RunOptions;
use crate::run::run;
use crate::spec::selected_checks;
use crate::stop::Stopped;
use crate::tags::selection_of;
use crate::usage::UsageError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use ollama_verify::catalog::{Changes, CheckId, Need};
use ollama_verify::check::Status;
use ollama_verify::report::Summary;
use ollama_verify::session::Target;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// The shortest interval at which checks that generate text (a chat, the benchmark
/// prompt) run: each loads the model and takes the GPU from the server's users.
pub const MIN_GENERATING_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The least time a run may take before its deadline stops it, when --deadline is not
/// given: a short interval must not cut off a run that a loaded machine slows.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// `serve`'s own flags; the run's (target, host, tags, timeouts...) are the run's flags.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Where to answer /metrics and /healthz.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,
    /// From the start of one run to the start of the next ("30s", "5m", "1h"). A run
    /// that takes longer is followed at once by the next, never overlapped.
    #[arg(long, default_value = "5m", value_parser = interval)]
    pub interval: Duration,
    /// Stop after this many runs (for tests and soak benchmarks); 0 runs forever.
    #[arg(long, default_value_t = 0, hide = true)]
    pub runs: u64,
}

fn interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("expected a duration such as 30s, 5m or 1h, got `{s}`: {e}"))?;
    if d < Duration::from_secs(1) {
        return Err(format!(
            "expected an interval of a second or more, got `{s}`"
        ));
    }
    Ok(d)
}

/// The checks `serve` runs when `--tags` is not given: those that change nothing and
/// need no generation, as the catalogue says.
pub fn default_tags() -> String {
    let ids: Vec<String> = ollama_verify::catalog::CATALOGUE
        .iter()
        .filter(|c| reads_only(c.id))
        .map(|c| format!("@check.{}", c.id.as_str()))
        .collect();
    ids.join(" or ")
}

fn reads_only(id: CheckId) -> bool {
    let e = id.entry();
    e.changes == Changes::Nothing && !e.needs.contains(&Need::Chat)
}

/// The last run, as the endpoints serve it.
#[derive(Default)]
struct Last {
    /// The metrics text; none before the first run ends.
    metrics: Option<String>,
    /// The checks that failed, each with its detail.
    failed: Vec<(String, String)>,
    checks: usize,
}

type Shared = Arc<RwLock<Last>>;

/// Runs the checks every `args.interval` until a signal (or `args.runs` runs); the exit
/// code is that of a usage error, or 0.
pub async fn serve(mut opts: RunOptions, args: ServeArgs) -> Result<u8, UsageError> {
    opts.tags.get_or_insert_with(default_tags);
    refuse_changes(&opts, &args)?;
    // A hung server is bounded: no run outlives the interval (or 5 minutes, for short
    // intervals) unless --deadline says otherwise.
    opts.deadline
        .get_or_insert(args.interval.max(DEFAULT_DEADLINE));
    opts.quiet = true;
    opts.steps = false;
    // The textfile is written by this loop, with the runs counted.
    let textfile = opts.prometheus.take();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            UsageError::new(format!(
                "cannot listen on {}: {e}; another process may hold the port: choose another with --listen",
                args.listen
            ))
        })?;
    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/", get(index))
        .with_state(shared.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    crate::say!(
        "ollama-verify serve: /metrics and /healthz on http://{}, a run every {}",
        args.listen,
        humantime::format_duration(args.interval)
    );
    // Listening for SIGINT/SIGTERM from here to the end: a watcher made anew between
    // runs would miss a signal that came while none listened, and serve would go on.
    let stop = crate::stop::watch(None);
    tokio::pin!(stop);
    let mut runs = 0u64;
    let code = loop {
        let started = Instant::now();
        let report = run(opts.clone()).await?;
        runs += 1;
        let took = started.elapsed();
        let text = render(&RunMetrics {
            summary: &report.summary,
            finished: SystemTime::now(),
            took,
            runs,
        });
        if let Some(path) = &textfile {
            if let Err(e) = crate::staged::replace(path, &text) {
                eprintln!(
                    "ollama-verify: cannot write the --prometheus textfile {}: {e}",
                    path.display()
                );
            }
        }
        say_run(runs, &report.summary, took);
        *shared.write().unwrap_or_else(|p| p.into_inner()) = Last {
            metrics: Some(text),
            failed: failures(&report.summary),
            checks: report.summary.checks.len(),
        };
        // A run stopped by its deadline is a verdict like any other; a signal ends serve.
        let signalled = matches!(report.stopped, Some(Stopped::Signal(_)));
        if signalled || (args.runs > 0 && runs >= args.runs) {
            break 0;
        }
        let next = tokio::time::Instant::from_std(started + args.interval);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = &mut stop => break 0,
        }
    };
    server.abort();
    Ok(code)
}

/// What `serve` will not do: unload a model, start containers, or generate more often
/// than [`MIN_GENERATING_INTERVAL`].
fn refuse_changes(opts: &RunOptions, args: &ServeArgs) -> Result<(), UsageError> {
    if opts.session.allow_unload {
        return Err(UsageError::new(
            "serve never unloads a model: --allow-unload does not apply to it; time a cold load with a single run",
        ));
    }
    if opts.session.target == Target::Docker {
        return Err(UsageError::new(
            "serve watches a server that runs already: use --target native with --host (a docker run starts and removes its own container)",
        ));
    }
    let filter = selection_of(opts.tags.as_deref())?;
    let (_builtin, features) = crate::features::features_dir(opts.features.as_deref())?;
    let generating: Vec<String> = selected_checks(&features, filter.as_ref())?
        .into_iter()
        .filter(|m| CheckId::parse(&m.id).is_some_and(|id| !reads_only(id)))
        .map(|m| m.id)
        .collect();
    if !generating.is_empty() && args.interval < MIN_GENERATING_INTERVAL {
        return Err(UsageError::new(format!(
            "--tags selects checks that generate text on the server ({}), which take its GPU from its users: run them at most every {} (--interval {} or more), or leave them out of --tags",
            generating.join(", "),
            humantime::format_duration(MIN_GENERATING_INTERVAL),
            humantime::format_duration(MIN_GENERATING_INTERVAL)
        )));
    }
    Ok(())
}

fn failures(summary: &Summary) -> Vec<(String, String)> {
    summary
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| (c.id.clone(), c.detail.clone()))
        .collect()
}

/// One line a run, for the log of a service.
fn say_run(n: u64, s: &Summary, took: Duration) {
    let failed: Vec<&str> = s
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    let which = match failed.is_empty() {
        true => String::new(),
        false => format!(" ({})", failed.join(", ")),
    };
    crate::say!(
        "run {n}: {} passed, {} failed{which}, {} warned, {} skipped in {:.1} s",
        s.passed,
        s.failed,
        s.warned,
        s.skipped,
        took.as_secs_f64()
    );
}

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(last): State<Shared>) -> impl IntoResponse {
    let text = last
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .metrics
        .clone();
    match text {
        Some(text) => (StatusCode::OK, [(header::CONTENT_TYPE, TEXT_FORMAT)], text),
        // Nothing to report yet: an empty scrape, not made-up values.
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, TEXT_FORMAT)],
            String::new(),
        ),
    }
}

async fn healthz(State(last): State<Shared>) -> impl IntoResponse {
    let last = last.read().unwrap_or_else(|p| p.into_inner());
    let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if last.metrics.is_none() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            plain,
            "NO RUN YET: the first run has not ended\n".to_string(),
        );
    }
    if last.failed.is_empty() {
        return (
            StatusCode::OK,
            plain,
            format!("OK: {} checks, none failed\n", last.checks),
        );
    }
    let mut body = format!(
        "FAIL: {} of {} checks failed\n",
        last.failed.len(),
        last.checks
    );
    for (id, detail) in &last.failed {
        body.push_str(&format!(
            "{id}: {}\n",
            ollama_verify::text::printable(detail)
        ));
    }
    (StatusCode::SERVICE_UNAVAILABLE, plain, body)
}

async fn index() -> impl IntoResponse {
    "ollama-verify serve: /metrics (Prometheus), /healthz (200 when no check fails, else 503)\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_selection_reads_only() {
        let tags = default_tags();
        assert!(tags.contains("@check.api.root"), "{tags}");
        assert!(tags.contains("@check.models.custom"), "{tags}");
        for generating in [
            "api.chat",
            "perf.generation",
            "perf.load_cold",
            "gpu.offload",
        ] {
            assert!(
                !tags
                    .split(" or ")
                    .any(|t| t == format!("@check.{generating}")),
                "{generating} generates or changes the server: {tags}"
            );
        }
    }

    /// The built-in `@loads_model` tag (what the Helm chart's `not @loads_model`
    /// selects by) marks exactly the checks serve's own default leaves out.
    #[test]
    fn the_loads_model_tag_matches_the_catalogue() {
        let ids = |tags: &str| -> std::collections::BTreeSet<String> {
            crate::list::listed(None, Some(tags))
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(ids("not @loads_model"), ids(&default_tags()));
        assert!(ids("@loads_model")
            .iter()
            .all(|id| { CheckId::parse(id).is_some_and(|id| !reads_only(id)) }));
    }

    #[test]
    fn intervals_read_as_people_write_them() {
        assert_eq!(interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(interval("90s"), Ok(Duration::from_secs(90)));
        assert!(interval("0s").is_err());
        assert!(interval("soon").unwrap_err().contains("30s, 5m or 1h"));
    }
}
