//! One verification run: start the session, run the feature files through cucumber,
//! collect the checks' results, write the reports, and choose the exit code.

use crate::progress::Progress;
use crate::world::{install_session, CheckMeta, VerifyWorld};
use cucumber::event::ScenarioFinished;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Stats as _};
use cucumber::{World as _, WriterExt as _};
use ollama_verify::check::{CheckResult, Outcome};
use ollama_verify::report::Summary;
use ollama_verify::session::{Session, SessionOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// Cucumber's step-by-step output (`--steps`) instead of a line per check.
    pub steps: bool,
    /// The whole run's time limit (`--deadline`), counted from the start of [`run`]:
    /// past it, cucumber is abandoned and every selected check without a result fails.
    /// Starting the target is not interrupted (a container is never left half-made),
    /// but its time counts. Cucumber's JSON report is then incomplete; the JUnit,
    /// summary JSON and Markdown reports are whole.
    pub deadline: Option<Duration>,
}

#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    /// 0: no check failed; 1: a check failed.
    pub exit_code: u8,
    /// Why the run stopped early (deadline, signal), if it did; work it abandoned (a blocked NVML call)
    /// may still hold threads, so the caller should exit without waiting for them.
    pub stopped: Option<crate::stop::Stopped>,
}

/// A problem with how the run was asked for (exit code 2).
pub type UsageError = String;

pub async fn run(opts: RunOptions) -> Result<RunReport, UsageError> {
    // `--deadline` counts from here: starting the target (a container) counts too.
    let started = tokio::time::Instant::now();
    // Installed now, so Ctrl-C while the target starts is heard (not the default kill).
    let stop = crate::stop::watch(opts.deadline.map(|d| (started + d, d)));
    tokio::pin!(stop);
    let filter = selection_of(opts.tags.as_deref())?;
    let (_builtin, features) = features_dir(opts.features.as_deref())?;
    // What the run decides: a selection of no check would pass having checked nothing.
    let selected = crate::spec::selected_checks(&features, filter.as_ref())?;
    if selected.is_empty() {
        return Err(nothing_selected(
            opts.features.as_deref(),
            opts.tags.as_deref(),
        ));
    }
    let mut session_options = opts.session.clone();
    session_options.spec_root = features
        .canonicalize()
        .ok()
        .and_then(|f| f.parent().map(Path::to_path_buf));
    distinct_reports(&opts)?;
    let json = output(opts.json.as_deref())?;
    // A path that cannot be written stops the run before it starts; the reports are
    // written at the end.
    for report in [&opts.junit, &opts.summary_json, &opts.summary_md] {
        writable(report.as_deref())?;
    }

    // A signal while the target starts abandons the start; a container already made is
    // removed as its handle drops.
    let session = tokio::select! {
        started = Session::start(session_options) => Arc::new(started?),
        why = &mut stop => return stopped(&opts, &selected, Vec::new(), why),
    };
    install_session(session.clone());

    let steps: Box<dyn Write> = match opts.steps {
        true => Box::new(Closable(std::io::stdout())),
        false => Box::new(std::io::sink()),
    };
    // Cucumber's own writers see the events in feature order; the check lines come as
    // the checks are decided, so that one is not held back by the normalising.
    let progress = Progress::new(session.clone(), !opts.steps)
        .discard_arbitrary_writes()
        .discard_stats_writes()
        .assert_normalized();
    let writer = writer::Basic::raw(steps, writer::Coloring::Auto, 0)
        .summarized()
        .tee::<VerifyWorld, _>(writer::Json::for_tee(json))
        .normalized::<VerifyWorld>()
        .tee::<VerifyWorld, _>(progress);
    let cucumber = VerifyWorld::cucumber()
        .before(|feature, rule, scenario, world| {
            let tags = all_tags(feature, rule, scenario);
            world.check = CheckMeta::from_tags(&scenario.name, &tags);
            Box::pin(async {})
        })
        .after(|_, _, _, finished, world| {
            if let Some(world) = world {
                record_undecided(world, finished);
            }
            Box::pin(async {})
        })
        .with_writer(writer)
        // Our own flags are the CLI; cucumber must not read the process arguments.
        .with_default_cli()
        .filter_run(&features, move |feature, rule, scenario| {
            filter
                .as_ref()
                .is_none_or(|f| f.eval(all_tags(feature, rule, scenario).iter()))
        });
    let finished = tokio::select! {
        finished = cucumber => Ok(finished),
        why = &mut stop => Err(why),
    };

    crate::world::clear_session();
    // The docker target's container goes now, whatever the checks found.
    if let Some(note) = session.finish().await {
        eprintln!("{note}");
    }
    let finished = match finished {
        Ok(finished) => finished,
        Err(why) => return stopped(&opts, &selected, session.results(), why),
    };
    if finished.parsing_errors() > 0 {
        return Err(format!(
            "{} feature file(s) in {} could not be parsed; see the errors above",
            finished.parsing_errors(),
            features.display()
        ));
    }
    if finished.skipped_steps() > 0 {
        return Err(format!(
            "{} step(s) match no step definition: a sentence in the feature files is not one this suite knows (see above)",
            finished.skipped_steps()
        ));
    }
    let summary = Summary::new(session.results());
    write_reports(&opts, &summary)?;
    let failed = summary.failed > 0 || finished.execution_has_failed();
    Ok(RunReport {
        summary,
        exit_code: u8::from(failed),
        stopped: None,
    })
}

/// The report of a run stopped early: what finished, and every other selected check
/// failed with the reason.
fn stopped(
    opts: &RunOptions,
    selected: &[CheckMeta],
    mut results: Vec<CheckResult>,
    why: crate::stop::Stopped,
) -> Result<RunReport, UsageError> {
    let missing = crate::stop::unfinished(selected, &results, &why, opts.session.allow_unload);
    eprintln!(
        "\nollama-verify: {}; the run was stopped with {} check(s) unfinished (reported as failed). Cucumber's JSON report (--json), if asked for, is incomplete",
        why.describe(),
        missing.iter().filter(|r| r.unfinished).count()
    );
    results.extend(missing);
    let summary = Summary::new(results);
    write_reports(opts, &summary)?;
    Ok(RunReport {
        summary,
        exit_code: why.exit_code(),
        stopped: Some(why),
    })
}

/// The folder of feature files: `--features DIR`, or the built-in ones laid out in a
/// temporary folder that lives as long as the handle returned with it.
fn features_dir(dir: Option<&Path>) -> Result<(Option<tempfile::TempDir>, PathBuf), UsageError> {
    match dir {
        Some(dir) if dir.is_dir() => Ok((None, dir.to_path_buf())),
        Some(file) if file.is_file() => Err(format!(
            "--features {}: that is a file; give the folder of .feature files that holds it (`--features {}`), and choose scenarios with --tags",
            file.display(),
            file.parent().map_or(".".into(), |p| if p.as_os_str().is_empty() { ".".into() } else { p.display().to_string() })
        )),
        Some(dir) => Err(format!(
            "--features {}: no such folder of .feature files",
            dir.display()
        )),
        None => {
            let builtin = crate::features::materialize()?;
            let path = builtin.path().join("features");
            Ok((Some(builtin), path))
        }
    }
}

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

/// Why a run that would decide no check is refused.
fn nothing_selected(features: Option<&Path>, tags: Option<&str>) -> UsageError {
    let features = features.map_or("the built-in feature files".to_string(), |d| {
        d.display().to_string()
    });
    match tags {
        Some(t) => format!(
            "--tags {t:?} selects no check of {features}. `ollama-verify --list` shows every check; tags are @check.<id>, the areas (@api, @models, @service, @gpu, @perf, @modelfile, @security, @diagnose), @warn, @host and @systemd"
        ),
        None => format!("{features} hold no scenario with a @check.<id> tag, so there is nothing to verify"),
    }
}

/// The `--tags` expression, parsed.
fn selection_of(tags: Option<&str>) -> Result<Option<TagOperation>, UsageError> {
    tags.map(|t| {
        t.parse().map_err(|e| {
            format!("--tags {t:?} is not a tag expression ({e}); example: \"@api and not @perf\"")
        })
    })
    .transpose()
}

pub(crate) fn all_tags(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(rule.iter().flat_map(|r| &r.tags))
        .chain(&scenario.tags)
        .cloned()
        .collect()
}

/// A scenario that stopped before its verdict still reports its check, as failed.
fn record_undecided(world: &mut VerifyWorld, finished: &ScenarioFinished) {
    if world.decided {
        return;
    }
    let Some(meta) = &world.check else { return };
    let why = match finished {
        ScenarioFinished::StepFailed(_, _, e) => format!("a step failed before the verdict: {e}"),
        ScenarioFinished::BeforeHookFailed(_) => "the scenario could not start".into(),
        ScenarioFinished::StepSkipped => "a step matches no step definition".into(),
        ScenarioFinished::StepPassed => "no step of the scenario decided the check".into(),
    };
    world.session.record(meta.result(Outcome::fail(why)));
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>, UsageError> {
    match path {
        None => Ok(Box::new(std::io::sink())),
        Some(p) => std::fs::File::create(p)
            .map(|f| Box::new(f) as Box<dyn Write>)
            .map_err(|e| format!("cannot write {}: {e}", p.display())),
    }
}

/// The reports made from the checks' results: whole, also for a run stopped early.
fn write_reports(opts: &RunOptions, summary: &Summary) -> Result<(), UsageError> {
    write_file(opts.junit.as_deref(), &summary.to_junit())?;
    write_file(opts.summary_json.as_deref(), &summary.to_json())?;
    write_file(opts.summary_md.as_deref(), &summary.to_markdown())
}

/// Stdout that may close early (`| head`): what can no longer be written is dropped,
/// so cucumber's writer does not fail the run and the reports are still written.
struct Closable<W>(W);

impl<W: Write> Write for Closable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Two reports asked for at one path would leave only the last written.
fn distinct_reports(opts: &RunOptions) -> Result<(), UsageError> {
    let reports = [
        ("--junit", &opts.junit),
        ("--json", &opts.json),
        ("--summary-json", &opts.summary_json),
        ("--summary-md", &opts.summary_md),
    ];
    for (i, (flag, path)) in reports.iter().enumerate() {
        let Some(path) = path else { continue };
        if let Some((other, _)) = reports[i + 1..]
            .iter()
            .find(|(_, p)| p.as_deref().is_some_and(|p| same_file(p, path)))
        {
            return Err(format!(
                "{flag} and {other} both name {}: each report needs a file of its own",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether two paths name one file, which need not exist yet (its folder must).
fn same_file(a: &Path, b: &Path) -> bool {
    let full = |p: &Path| -> Option<PathBuf> {
        let folder = match p.parent() {
            Some(f) if !f.as_os_str().is_empty() => f,
            _ => Path::new("."),
        };
        Some(folder.canonicalize().ok()?.join(p.file_name()?))
    };
    a == b || matches!((full(a), full(b)), (Some(x), Some(y)) if x == y)
}

/// Whether `path` can be written, leaving no file behind where there was none (a run
/// that stops with a usage error leaves no empty report for a CI step to choke on).
fn writable(path: Option<&Path>) -> Result<(), UsageError> {
    let Some(p) = path else { return Ok(()) };
    let existed = p.exists();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(p)
        .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    if !existed {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

fn write_file(path: Option<&Path>, text: &str) -> Result<(), UsageError> {
    match path {
        None => Ok(()),
        Some(p) => {
            std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_by_two_names_is_one_report_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out.json");
        let b = dir.path().join(".").join("out.json");
        assert!(
            same_file(&a, &b),
            "files that do not exist yet compare by folder"
        );
        assert!(!same_file(&a, &dir.path().join("junit.xml")));
        let opts = RunOptions {
            junit: Some(a),
            json: Some(b),
            ..Default::default()
        };
        let e = distinct_reports(&opts).unwrap_err();
        assert!(e.contains("--junit and --json both name"), "{e}");
    }
}
