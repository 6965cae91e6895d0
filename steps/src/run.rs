//! One verification run: start the session, run the feature files through cucumber,
//! collect the checks' results, write the reports, and choose the exit code.

use crate::exit::exit_code;
use crate::features::features_dir;
use crate::options::RunOptions;
use crate::progress::Progress;
use crate::reports::{
    all_writable, commit_json, distinct_reports, stage_json, step_summary, write_reports,
};
use crate::stop::Stopped;
use crate::tags::{all_tags, nothing_selected, selection_of};
use crate::usage::UsageError;
use crate::world::{install_session, CheckMeta, VerifyWorld};
use cucumber::event::ScenarioFinished;
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Stats as _};
use cucumber::{World as _, WriterExt as _};
use ollama_verify::check::{CheckResult, Outcome};
use ollama_verify::report::Summary;
use ollama_verify::session::Session;
use ollama_verify::text::printable;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    /// What the process exits with: see [`crate::exit`].
    pub exit_code: u8,
    /// Why the run stopped early (deadline, signal), if it did.
    pub stopped: Option<Stopped>,
    /// Why each report that could not be written was not, a line each (exit code
    /// [`crate::exit::UNWRITTEN`]); the other reports were written all the same.
    pub unwritten: Vec<String>,
}

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
        )
        .map_err(UsageError::new)?;
    }
    // A path that cannot be written stops the run before it starts.
    all_writable(&opts)?;
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
            return Ok(stopped(&opts, &selected, Vec::new(), why, &starts, started, unwritten, None));
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
    let progress = Progress::new(session.clone(), !opts.steps && !opts.quiet, opts.verbose)
        .discard_arbitrary_writes()
        .discard_stats_writes()
        .assert_normalized();
    // `--color` has set the console crate's choice, which cucumber's styles follow.
    let coloring = match console::colors_enabled() {
        true => writer::Coloring::Always,
        false => writer::Coloring::Never,
    };
    let writer = writer::Basic::raw(steps, coloring, 0)
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
    let budget = match finished {
        Ok(_) => crate::facts::BUDGET,
        Err(_) => crate::facts::STOPPED_BUDGET,
    };
    let facts = Some(crate::facts::gather(&session, budget).await);
    let concluded = || {
        let finished = match finished {
            Ok(finished) => finished,
            Err(why) => {
                if let Some(json) = json {
                    commit_json(json, &mut unwritten);
                }
                return Ok(stopped(
                    &opts, &selected, results, why, &starts, started, unwritten, facts,
                ));
            }
        };
        if finished.parsing_errors() > 0 {
            return Err(UsageError::new(format!(
                "{} feature file(s) in {} could not be parsed; see the errors above",
                finished.parsing_errors(),
                features.display()
            )));
        }
        if finished.skipped_steps() > 0 {
            return Err(UsageError::new(format!(
                "{} step(s) match no step definition: a sentence in the feature files is not one this suite knows (see above)",
                finished.skipped_steps()
            )));
        }
        if let Some(json) = json {
            commit_json(json, &mut unwritten);
        }
        let summary = Summary::new(results)
            .with_wall_time(started.elapsed())
            .with_facts(facts);
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
#[allow(clippy::too_many_arguments)]
fn stopped(
    opts: &RunOptions,
    selected: &[CheckMeta],
    mut results: Vec<CheckResult>,
    why: Stopped,
    starts: &Starts,
    started: tokio::time::Instant,
    mut unwritten: Vec<String>,
    facts: Option<ollama_verify::facts::RunFacts>,
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
    let summary = Summary::new(results)
        .with_wall_time(started.elapsed())
        .with_facts(facts);
    unwritten.extend(write_reports(opts, &summary, step_summary().as_deref()));
    RunReport {
        summary,
        exit_code: exit_code(true, Some(why), !unwritten.is_empty()),
        stopped: Some(why),
        unwritten,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary::new(vec![CheckResult::new(
            "api.root",
            "root",
            Outcome::pass("ok"),
        )])
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
}
