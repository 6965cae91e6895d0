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
use ollama_verify::text::printable;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
    /// What the process exits with: see [`exit`].
    pub exit_code: u8,
    /// Why the run stopped early (deadline, signal), if it did.
    pub stopped: Option<crate::stop::Stopped>,
    /// Why each report that could not be written was not, a line each (exit code
    /// [`exit::UNWRITTEN`]); the other reports were written all the same.
    pub unwritten: Vec<String>,
}

/// The exit codes of `ollama-verify`, all of them; the README's "Exit codes" and the
/// CI templates under ci/ list the same.
pub mod exit {
    /// No check failed (warnings and skips allowed), every report written.
    pub const PASSED: u8 = 0;
    /// A check failed (or did not finish within `--deadline`), every report written.
    pub const FAILED: u8 = 1;
    /// A usage or configuration error, found before the run: nothing was asked of the
    /// server, no report written or overwritten.
    pub const USAGE: u8 = 2;
    /// The run ended, but a report could not be written at the end (a full disk, a
    /// folder removed meanwhile): the others were, and the table was printed, whatever
    /// the checks found.
    pub const UNWRITTEN: u8 = 3;
    /// Interrupted by SIGINT (Ctrl-C), 128 + 2 as shells report it; reports written.
    pub const SIGINT: u8 = 130;
    /// Interrupted by SIGTERM, 128 + 15; reports written.
    pub const SIGTERM: u8 = 143;
}

/// A run's exit code: an interruption's first (it is why the run ended), then a report
/// that could not be written (a pipeline must not read the last run's file as this
/// one's), then whether a check failed.
pub fn exit_code(failed: bool, stopped: Option<crate::stop::Stopped>, unwritten: bool) -> u8 {
    match stopped {
        Some(why @ crate::stop::Stopped::Signal(_)) => why.exit_code(),
        _ if unwritten => exit::UNWRITTEN,
        Some(why) => why.exit_code(),
        None if failed => exit::FAILED,
        None => exit::PASSED,
    }
}

/// A problem with how the run was asked for (exit code 2).
pub type UsageError = String;

/// When each selected scenario started, by its check's id: an unfinished check's time
/// in the JUnit report runs from there to the stop.
type Starts = Arc<Mutex<HashMap<String, std::time::Instant>>>;

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
    // What --tags leaves out, for the checks that point at one of those.
    session_options.unselected = match filter {
        None => Vec::new(),
        Some(_) => crate::spec::selected_checks(&features, None)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| !selected.iter().any(|s| s.id == m.id))
            .map(|m| (m.id, m.severity))
            .collect(),
    };
    session_options.spec_root = features
        .canonicalize()
        .ok()
        .and_then(|f| f.parent().map(Path::to_path_buf));
    distinct_reports(&opts)?;
    // The compose file's mistakes are the user's to fix: named with the file, before
    // Docker is asked anything.
    #[cfg(feature = "docker")]
    if opts.session.target == ollama_verify::session::Target::Docker {
        ollama_verify::provision::compose::load(
            opts.session.docker.compose_file.as_deref(),
            "ollama",
        )?;
    }
    // A path that cannot be written stops the run before it starts. None is opened for
    // writing yet: a usage error, or a target that cannot start, leaves each as it was.
    for (flag, report) in [
        ("--junit", &opts.junit),
        ("--json", &opts.json),
        ("--summary-json", &opts.summary_json),
        ("--summary-md", &opts.summary_md),
    ] {
        writable(flag, report.as_deref())?;
    }
    let starts = Starts::default();
    let mut unwritten = Vec::new();

    // A signal while the target starts abandons the start; a container already made is
    // removed as its handle drops.
    let session = tokio::select! {
        started = Session::start(session_options) => Arc::new(started?),
        why = &mut stop => {
            // Cucumber's report (empty: nothing ran) goes with the others.
            if let Some(json) = stage_json(opts.json.as_deref(), &mut unwritten) {
                commit_json(json, &mut unwritten);
            }
            return Ok(stopped(&opts, &selected, Vec::new(), why, &starts, started, unwritten));
        }
    };
    install_session(session.clone());
    // The run has started: cucumber's report is begun now, in a temporary file beside
    // its path that takes the path's place when the run ends.
    let json = stage_json(opts.json.as_deref(), &mut unwritten);
    let json_out: Box<dyn Write> = match &json {
        Some((staged, _)) => Box::new(staged.writer()),
        None => Box::new(std::io::sink()),
    };

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
        .tee::<VerifyWorld, _>(writer::Json::for_tee(json_out))
        .normalized::<VerifyWorld>()
        .tee::<VerifyWorld, _>(progress);
    // Cucumber names a feature by its canonical path.
    let spec = features.canonicalize().unwrap_or_else(|_| features.clone());
    let starting = starts.clone();
    let cucumber = VerifyWorld::cucumber()
        .before(move |feature, rule, scenario, world| {
            let tags = all_tags(feature, rule, scenario);
            world.check = CheckMeta::from_tags(&scenario.name, &tags);
            if let Some(meta) = &world.check {
                let mut starts = starting.lock().unwrap_or_else(|e| e.into_inner());
                starts.insert(meta.id.clone(), meta.started);
            }
            Box::pin(async {})
        })
        .after(move |feature, _, scenario, finished, world| {
            if let Some(world) = world {
                let place = place(&spec, feature, scenario);
                record_undecided(world, finished, &place, &scenario.name);
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
    let results = session.results();
    let concluded = || {
        let finished = match finished {
            Ok(finished) => finished,
            Err(why) => {
                if let Some(json) = json {
                    commit_json(json, &mut unwritten);
                }
                return Ok(stopped(
                    &opts, &selected, results, why, &starts, started, unwritten,
                ));
            }
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
        if let Some(json) = json {
            commit_json(json, &mut unwritten);
        }
        let summary = Summary::new(results).with_wall_time(started.elapsed());
        unwritten.extend(write_reports(&opts, &summary, step_summary().as_deref()));
        let failed = summary.failed > 0 || finished.execution_has_failed();
        Ok(RunReport {
            summary,
            exit_code: exit_code(failed, None, !unwritten.is_empty()),
            stopped: None,
            unwritten,
        })
    };
    // The docker target's container and volume go now, whatever the checks found, but
    // after the reports: removing them may take a minute, and a CI runner kills a job
    // some 10 s after it sent Ctrl-C.
    reports_then_cleanup(concluded, session.finish()).await
}

/// Runs `reports` (which writes the reports), then `cleanup`, whose note (how to reach
/// a kept container, what could not be removed) is printed; `reports`' result.
async fn reports_then_cleanup<R>(
    reports: impl FnOnce() -> R,
    cleanup: impl std::future::Future<Output = Option<String>>,
) -> R {
    let outcome = reports();
    if let Some(note) = cleanup.await {
        eprintln!("{}", printable(&note));
    }
    outcome
}

/// The report of a run stopped early: what finished, and every other selected check
/// failed with the reason, timed from its scenario's start (if it started) to now.
fn stopped(
    opts: &RunOptions,
    selected: &[CheckMeta],
    mut results: Vec<CheckResult>,
    why: crate::stop::Stopped,
    starts: &Starts,
    started: tokio::time::Instant,
    mut unwritten: Vec<String>,
) -> RunReport {
    let starts = starts.lock().unwrap_or_else(|e| e.into_inner());
    // No scenario began: the time went to starting the target (a container, its models).
    let begun = !results.is_empty() || !starts.is_empty();
    let mut missing =
        crate::stop::unfinished(selected, &results, &why, opts.session.allow_unload, begun);
    for r in missing.iter_mut().filter(|r| r.unfinished) {
        r.elapsed = Some(starts.get(&r.id).map_or(Duration::ZERO, |t| t.elapsed()));
    }
    eprintln!(
        "\nollama-verify: {}; the run was stopped with {} check(s) unfinished (reported as failed). Cucumber's JSON report (--json), if asked for, is incomplete",
        why.describe(),
        missing.iter().filter(|r| r.unfinished).count()
    );
    results.extend(missing);
    let summary = Summary::new(results).with_wall_time(started.elapsed());
    unwritten.extend(write_reports(opts, &summary, step_summary().as_deref()));
    RunReport {
        summary,
        exit_code: exit_code(true, Some(why), !unwritten.is_empty()),
        stopped: Some(why),
        unwritten,
    }
}

/// The folder of feature files: `--features DIR`, or the built-in ones laid out in a
/// temporary folder that lives as long as the handle returned with it.
fn features_dir(dir: Option<&Path>) -> Result<(Option<tempfile::TempDir>, PathBuf), UsageError> {
    match dir {
        Some(dir) => match features_folder(dir) {
            Ok(()) => Ok((None, dir.to_path_buf())),
            Err(why) => Err(format!("--features {}: {why}", dir.display())),
        },
        None => {
            let builtin = crate::features::materialize()?;
            let path = builtin.path().join("features");
            Ok((Some(builtin), path))
        }
    }
}

/// Why `dir` is no folder of feature files to give `--features`, if it is not one.
pub fn features_folder(dir: &Path) -> Result<(), UsageError> {
    match dir {
        dir if dir.is_dir() => Ok(()),
        file if file.is_file() => Err(format!(
            "that is a file; give the folder of .feature files that holds it (`--features {}`), and choose scenarios with --tags",
            file.parent().map_or(".".into(), |p| if p.as_os_str().is_empty() { ".".into() } else { p.display().to_string() })
        )),
        _ => Err("no such folder of .feature files; give --features the folder that holds yours, or leave it out to run the built-in ones".into()),
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
        None => format!("no scenario in {features} has a @check.<id> tag, so there is nothing to verify; tag each scenario with the check it decides, e.g. @check.api.root"),
    }
}

/// The `--tags` expression, parsed.
fn selection_of(tags: Option<&str>) -> Result<Option<TagOperation>, UsageError> {
    tags.map(|t| tag_expression(t).map_err(|why| format!("--tags {why}")))
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
        format!("{t:?} is not a tag expression ({e}){hint}; example: \"@api and not @perf\"")
    })
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

/// A scenario that stopped before its verdict still reports its check, as failed. One
/// without a `@check.<id>` tag decides no check, but its failure fails the run: it is
/// reported too, as failed, by its place (`file.feature:LINE`), so that every report
/// shows what the exit code counts.
fn record_undecided(world: &mut VerifyWorld, finished: &ScenarioFinished, place: &str, name: &str) {
    if world.decided {
        // A step after the verdict failed (a failing verdict step fails itself, and
        // its result already says so).
        if let (ScenarioFinished::StepFailed(_, _, e), Some(meta)) = (finished, &world.check) {
            let why = format!("a step after the verdict failed: {e}");
            world.session.fail_after_verdict(&meta.id, &why);
        }
        return;
    }
    let Some(meta) = &world.check else {
        let why = match finished {
            ScenarioFinished::StepFailed(_, _, e) => format!("a step failed: {e}"),
            ScenarioFinished::BeforeHookFailed(_) => "the scenario could not start".into(),
            ScenarioFinished::StepSkipped | ScenarioFinished::StepPassed => return,
        };
        let why = format!(
            "{why}. This scenario has no @check.<id> tag, so it is reported by its place; fix the step, or tag the scenario @check.<id> to name the check it decides"
        );
        world
            .session
            .record(CheckResult::new(place, name, Outcome::fail(why)));
        return;
    };
    let why = match finished {
        ScenarioFinished::StepFailed(_, _, e) => format!("a step failed before the verdict: {e}"),
        ScenarioFinished::BeforeHookFailed(_) => "the scenario could not start".into(),
        ScenarioFinished::StepSkipped => "a step matches no step definition".into(),
        ScenarioFinished::StepPassed => "no step of the scenario decided the check".into(),
    };
    world.session.record(meta.result(Outcome::fail(why)));
}

/// Where a scenario is written: its file under the features folder, and its line
/// (an outline's example row has a line of its own).
fn place(
    features: &Path,
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
) -> String {
    let file = feature.path.as_deref().map_or_else(
        || feature.name.clone(),
        |p| p.strip_prefix(features).unwrap_or(p).display().to_string(),
    );
    format!("{file}:{}", scenario.position.line)
}

/// `$GITHUB_STEP_SUMMARY`, where GitHub Actions set it: the file of this job step's
/// summary, which each writer appends to.
fn step_summary() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The reports made from the checks' results: whole, also for a run stopped early.
/// Each is attempted whatever happened to the others; the reasons of those that could
/// not be written are returned. The Markdown summary is appended to the file when it is
/// `step_summary`'s (GitHub's step summary, which other steps' writers share); every
/// other report replaces its file whole ([`replace`]).
fn write_reports(opts: &RunOptions, summary: &Summary, step_summary: Option<&Path>) -> Vec<String> {
    let reports = [
        (
            "--junit",
            &opts.junit,
            Summary::to_junit as fn(&Summary) -> String,
        ),
        ("--summary-json", &opts.summary_json, Summary::to_json),
        ("--summary-md", &opts.summary_md, Summary::to_markdown),
    ];
    let mut unwritten = Vec::new();
    for (flag, path, text) in reports {
        let Some(path) = path else { continue };
        let appended = flag == "--summary-md" && step_summary.is_some_and(|s| same_file(path, s));
        let written = match appended {
            true => append(path, &text(summary)),
            false => replace(path, &text(summary)),
        };
        if let Err(e) = written {
            unwritten.push(format!(
                "cannot write the {flag} report to {}: {e}. The other reports and the summary table are complete; make room or grant access there, or give {flag} another path",
                path.display()
            ));
        }
    }
    unwritten
}

/// Adds `text` to the end of the file at `path`.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// Writes `text` to `path`, whole or not at all as a reader sees it ([`Staged`]).
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let staged = Staged::new(path)?;
    staged.writer().write_all(text.as_bytes())?;
    staged.commit()
}

/// A report being written: into a temporary file in its folder, which takes the
/// report's place when [`Staged::commit`] renames it there, so that a reader sees the
/// previous file or the whole new one, never half of one; dropped uncommitted, it
/// leaves the report as it was. The new file keeps the permissions of the one it
/// replaces (a new one gets what `File::create` gives). A path that is not a regular
/// file (`/dev/stdout`, a pipe) or a link to nothing yet is written in place, through
/// it, as it was named; a link to a file replaces that file.
struct Staged {
    file: std::fs::File,
    /// The temporary file and where it goes; none when written in place.
    rename: Option<(tempfile::TempPath, PathBuf)>,
}

impl Staged {
    fn new(path: &Path) -> std::io::Result<Staged> {
        let target = match std::fs::canonicalize(path) {
            Ok(real) if real.is_file() => real,
            Ok(_) => return Self::in_place(path),
            // A link whose target does not exist yet.
            Err(_) if std::fs::symlink_metadata(path).is_ok() => return Self::in_place(path),
            Err(_) => path.to_path_buf(),
        };
        let folder = match target.parent() {
            Some(f) if !f.as_os_str().is_empty() => f,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".ollama-verify-")
            .suffix(".part")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(folder)?;
        if let Ok(previous) = std::fs::metadata(&target) {
            temp.as_file().set_permissions(previous.permissions())?;
        }
        let (file, temp) = temp.into_parts();
        Ok(Staged {
            file,
            rename: Some((temp, target)),
        })
    }

    fn in_place(path: &Path) -> std::io::Result<Staged> {
        Ok(Staged {
            file: std::fs::File::create(path)?,
            rename: None,
        })
    }

    /// A handle that writes into the report.
    fn writer(&self) -> std::fs::File {
        self.file
            .try_clone()
            .expect("a file's handle can be duplicated")
    }

    /// Puts the report in place: synced, then renamed over the path.
    fn commit(self) -> std::io::Result<()> {
        let Some((temp, target)) = self.rename else {
            return Ok(());
        };
        self.file.sync_all()?;
        temp.persist(&target).map_err(|e| e.error)
    }
}

/// Cucumber's JSON report, begun; a path that cannot be begun is named in `unwritten`.
fn stage_json(path: Option<&Path>, unwritten: &mut Vec<String>) -> Option<(Staged, PathBuf)> {
    let path = path?;
    match Staged::new(path) {
        Ok(staged) => Some((staged, path.to_path_buf())),
        Err(e) => {
            unwritten.push(unwritten_json(path, &e));
            None
        }
    }
}

/// Puts cucumber's JSON report in place, or names it in `unwritten`.
fn commit_json((staged, path): (Staged, PathBuf), unwritten: &mut Vec<String>) {
    if let Err(e) = staged.commit() {
        unwritten.push(unwritten_json(&path, &e));
    }
}

fn unwritten_json(path: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot write the --json report to {}: {e}. The other reports and the summary table are complete; make room or grant access there, or give --json another path",
        path.display()
    )
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
/// that stops with a usage error leaves no empty report for a CI step to choke on) and
/// an existing one as it was. Through a link, the file opened is the link's target:
/// one that the check created is removed, the link stays. Why not names `flag`, and
/// what to do.
fn writable(flag: &str, path: Option<&Path>) -> Result<(), UsageError> {
    let Some(p) = path else { return Ok(()) };
    // Whether the file the path leads to exists (a link to nothing: no).
    let existed = std::fs::metadata(p).is_ok();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(p)
        .map_err(|e| unwritable(flag, p, &e))?;
    if !existed {
        // What the open created: the path itself, or the file at the end of its links.
        if let Ok(created) = std::fs::canonicalize(p) {
            let _ = std::fs::remove_file(created);
        }
    }
    Ok(())
}

/// Why the report `flag` asks for cannot be written at `path`, found before the run,
/// with what to do about it.
fn unwritable(flag: &str, path: &Path, e: &std::io::Error) -> UsageError {
    use std::io::ErrorKind;
    let folder = match path.parent() {
        Some(f) if !f.as_os_str().is_empty() => f,
        _ => Path::new("."),
    };
    let next = match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory if !folder.is_dir() => format!(
            "its folder {} does not exist: create it (`mkdir -p {}`), or give {flag} another path",
            folder.display(),
            folder.display()
        ),
        ErrorKind::IsADirectory => format!(
            "that is a folder: give {flag} a file's path, such as {}",
            path.join(default_name(flag)).display()
        ),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            format!("this user may not write there: grant access, or give {flag} another path")
        }
        _ => format!("give {flag} another path"),
    };
    format!(
        "cannot write the {flag} report to {}: {e}; {next}. Nothing was run",
        path.display()
    )
}

/// The file name a report is usually given, for a hint.
fn default_name(flag: &str) -> &'static str {
    match flag {
        "--junit" => "junit.xml",
        "--json" => "cucumber.json",
        "--summary-md" => "summary.md",
        _ => "summary.json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stop::Stopped;
    use ollama_verify::check::Outcome;
    use rstest::rstest;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    fn summary() -> Summary {
        Summary::new(vec![CheckResult::new(
            "api.root",
            "root",
            Outcome::pass("ok"),
        )])
    }

    /// What the usage check leaves where each kind of path led: nothing new, and a
    /// link as it was (`None`: the path does not exist, `Some(text)`: a file with it).
    #[rstest]
    #[case::a_new_file(false, None)]
    #[case::an_existing_file(false, Some("previous"))]
    #[case::a_link_to_nothing(true, None)]
    #[case::a_link_to_a_file(true, Some("previous"))]
    fn the_usage_check_leaves_every_path_as_it_was(
        #[case] link: bool,
        #[case] content: Option<&str>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("junit.xml");
        if let Some(text) = content {
            std::fs::write(&target, text).unwrap();
        }
        let path = match link {
            true => {
                let link = dir.path().join("link.xml");
                std::os::unix::fs::symlink(&target, &link).unwrap();
                link
            }
            false => target.clone(),
        };
        writable("--junit", Some(&path)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), content);
        if link {
            let meta = std::fs::symlink_metadata(&path).expect("the link stays");
            assert!(meta.file_type().is_symlink());
        }
    }

    /// A path that cannot be written is named with its flag and what to do, as fits.
    #[test]
    fn an_unwritable_path_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone/junit.xml");
        let e = writable("--junit", Some(&missing)).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "cannot write the --junit report to {}: ",
                missing.display()
            )) && e.contains(&format!("`mkdir -p {}`", dir.path().join("gone").display()))
                && e.contains("or give --junit another path"),
            "{e}"
        );
        let e = writable("--summary-md", Some(dir.path())).unwrap_err();
        assert!(
            e.contains(&format!(
                "that is a folder: give --summary-md a file's path, such as {}",
                dir.path().join("summary.md").display()
            )),
            "{e}"
        );
    }

    /// A report replaces its file by a rename (a reader sees the old file or the new
    /// one whole), keeps its permissions, and leaves no temporary file behind.
    #[test]
    fn reports_replace_their_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        std::fs::write(&path, "previous").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::metadata(&path).unwrap();
        replace(&path, "new").unwrap();
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_ne!(before.ino(), after.ino(), "a new file, renamed into place");
        assert_eq!(after.permissions().mode() & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.json"]);
        // A staged report dropped before its commit leaves the file as it was.
        let staged = Staged::new(&path).unwrap();
        staged.writer().write_all(b"half").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// One report that cannot be written does not keep the others from being written.
    #[test]
    fn every_report_is_attempted() {
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            junit: Some(dir.path().join("gone/junit.xml")),
            summary_json: Some(dir.path().join("summary.json")),
            summary_md: Some("/dev/full".into()),
            ..Default::default()
        };
        let unwritten = write_reports(&opts, &summary(), None);
        assert_eq!(unwritten.len(), 2, "{unwritten:?}");
        assert!(
            unwritten[0].starts_with("cannot write the --junit report to ")
                && unwritten[0].contains("give --junit another path"),
            "{}",
            unwritten[0]
        );
        assert!(unwritten[1].contains("/dev/full"), "{}", unwritten[1]);
        let json = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
        assert!(json.contains("\"api.root\""), "{json}");
    }

    /// GitHub's step summary file is appended to, as GitHub asks of each writer; any
    /// other Markdown file is replaced.
    #[test]
    fn the_step_summary_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let github = dir.path().join("step_summary");
        std::fs::write(&github, "an earlier step's summary\n").unwrap();
        let opts = |md: &Path| RunOptions {
            summary_md: Some(md.to_path_buf()),
            ..Default::default()
        };
        assert!(write_reports(&opts(&github), &summary(), Some(&github)).is_empty());
        let text = std::fs::read_to_string(&github).unwrap();
        assert!(
            text.starts_with("an earlier step's summary\n## ollama-verify"),
            "{text}"
        );
        let other = dir.path().join("summary.md");
        std::fs::write(&other, "the last run's\n").unwrap();
        assert!(write_reports(&opts(&other), &summary(), Some(&github)).is_empty());
        let text = std::fs::read_to_string(&other).unwrap();
        assert!(text.starts_with("## ollama-verify"), "{text}");
    }

    #[rstest]
    #[case::passed(false, None, false, 0)]
    #[case::failed(true, None, false, 1)]
    #[case::deadline(true, Some(Stopped::Deadline(Duration::from_secs(1))), false, 1)]
    #[case::a_report_unwritten(false, None, true, 3)]
    #[case::failed_and_unwritten(true, None, true, 3)]
    #[case::deadline_and_unwritten(true, Some(Stopped::Deadline(Duration::from_secs(1))), true, 3)]
    #[case::sigint(true, Some(Stopped::Signal("SIGINT")), false, 130)]
    #[case::sigterm_and_unwritten(true, Some(Stopped::Signal("SIGTERM")), true, 143)]
    fn exit_codes(
        #[case] failed: bool,
        #[case] stopped: Option<Stopped>,
        #[case] unwritten: bool,
        #[case] code: u8,
    ) {
        assert_eq!(exit_code(failed, stopped, unwritten), code);
        assert_ne!(code, exit::USAGE, "a run that ran is never a usage error");
    }

    /// The reports are on disk before the cleanup (a container's removal) begins, so a
    /// CI runner that kills the job during it still has them.
    #[tokio::test]
    async fn reports_come_before_the_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            summary_json: Some(dir.path().join("summary.json")),
            ..Default::default()
        };
        let seen = std::cell::Cell::new(false);
        let cleanup = async {
            seen.set(opts.summary_json.as_ref().unwrap().exists());
            None
        };
        let unwritten =
            reports_then_cleanup(|| write_reports(&opts, &summary(), None), cleanup).await;
        assert!(unwritten.is_empty(), "{unwritten:?}");
        assert!(
            seen.get(),
            "the cleanup ran before the reports were written"
        );
    }

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
