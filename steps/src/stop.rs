//! Stopping a run early: `--deadline` expired, or SIGINT/SIGTERM arrived. Cucumber is
//! abandoned and every check of the selected scenarios that has no result yet is
//! reported as failed, so the summary still names all of them. The selection is read from the feature files
//! themselves (the same tag expression cucumber filters with), so checks whose
//! scenarios never started are reported too, not only those that started and hung.

use crate::world::CheckMeta;
use ollama_verify::catalog::CheckId;
use ollama_verify::check::CheckResult;
use std::collections::HashSet;
use std::time::Duration;

/// `N s` as a person writes it: `5 s`, `2.5 s`.
pub fn seconds(limit: Duration) -> String {
    format!("{} s", limit.as_secs_f64())
}

/// The results to add for checks of `selected` that have no result in `results`: failed
/// as unfinished, but for a check the run's options skip whatever the server does (the
/// cold load without `allow_unload`), which is reported skipped as a full run would.
/// `begun`: whether any check had begun; if none had, the run stopped while its target
/// started, and the checks' own timeouts are not what to shorten.
pub fn unfinished(
    selected: &[CheckMeta],
    results: &[CheckResult],
    why: &Stopped,
    allow_unload: bool,
    begun: bool,
) -> Vec<CheckResult> {
    let decided: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    selected
        .iter()
        .filter(|m| !decided.contains(m.id.as_str()))
        .map(|m| {
            if m.id == CheckId::PerfLoadCold.as_str() && !allow_unload {
                let skip = ollama_verify::verdict::perf::load_cold(false, None, Duration::ZERO, None);
                return CheckResult::new(&m.id, &m.name, skip);
            }
            let detail = match why {
                Stopped::Deadline(limit) if !begun => format!(
                    "not finished within the --deadline of {}: it expired before any check began, while the run started its target (on --target docker: the container, and the models' pull and create). Raise --deadline: a first docker run pulls the models into its --volume, which later runs find them in (not with --fresh-volume)",
                    seconds(*limit)
                ),
                Stopped::Signal(name) if !begun => format!(
                    "not finished: the run was interrupted ({name}) before any check began, while it started its target"
                ),
                Stopped::Deadline(limit) => format!(
                    "not finished within the --deadline of {}: the run was stopped before this check decided. Run it alone (--tags \"@check.{}\") to see where it waits, shorten the deadlines it waits out (--request-timeout; for a chat, --load-timeout until the answer begins and --generation-timeout in all), or raise --deadline",
                    seconds(*limit),
                    m.id
                ),
                Stopped::Signal(name) => format!(
                    "not finished: the run was interrupted ({name}) before this check decided"
                ),
            };
            CheckResult::unfinished(&m.id, &m.name, detail)
        })
        .collect()
}

/// Why a run stopped before cucumber finished (the exit code it leads to is the exit
/// module's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    Deadline(Duration),
    Signal(&'static str),
}

impl Stopped {
    pub fn describe(self) -> String {
        match self {
            Stopped::Deadline(limit) => format!("the --deadline of {} expired", seconds(limit)),
            Stopped::Signal(name) => format!("{name} arrived"),
        }
    }
}

/// The next delivery of a signal; never, without a handler.
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Resolves when the run must stop: at `deadline`, or on SIGINT / SIGTERM. The signal
/// handlers are installed when this is called, so a signal that arrives before it is
/// awaited is not lost (and does not kill the process with the default action).
pub fn watch(
    deadline: Option<(tokio::time::Instant, Duration)>,
) -> impl std::future::Future<Output = Stopped> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        let at_deadline = async {
            match deadline {
                Some((at, limit)) => {
                    tokio::time::sleep_until(at).await;
                    limit
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            limit = at_deadline => Stopped::Deadline(limit),
            _ = recv(interrupt.as_mut()) => Stopped::Signal("SIGINT"),
            _ = recv(terminate.as_mut()) => Stopped::Signal("SIGTERM"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::Outcome;

    #[test]
    fn only_checks_without_a_result_fail() {
        let selected = vec![
            CheckMeta::from_tags("One", &["check.a.one".to_string()]).unwrap(),
            CheckMeta::from_tags("Two", &["check.a.two".to_string()]).unwrap(),
        ];
        let done = [CheckResult::new("a.one", "One", Outcome::pass("ok"))];
        let added = unfinished(
            &selected,
            &done,
            &Stopped::Deadline(Duration::from_millis(2500)),
            false,
            true,
        );
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].id, "a.two");
        assert!(added[0]
            .detail
            .starts_with("not finished within the --deadline of 2.5 s"));
        // Each deadline a check can wait out is named: a chat that never begins waits
        // out --load-timeout, not --generation-timeout.
        for flag in [
            "--request-timeout",
            "--load-timeout",
            "--generation-timeout",
        ] {
            assert!(
                added[0].detail.contains(flag),
                "{flag}: {}",
                added[0].detail
            );
        }
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        let interrupted = unfinished(&selected, &done, &Stopped::Signal("SIGTERM"), false, true);
        assert!(interrupted[0].detail.contains("interrupted (SIGTERM)"));
        // Stopped before any check began: the time went to starting the target, and
        // the checks' timeouts are not what to shorten.
        let starting = unfinished(
            &selected,
            &[],
            &Stopped::Deadline(Duration::from_secs(2)),
            false,
            false,
        );
        assert!(
            starting[0].detail.starts_with("not finished within the --deadline of 2 s: it expired before any check began, while the run started its target"),
            "{}",
            starting[0].detail
        );
        assert!(
            !starting[0].detail.contains("--request-timeout"),
            "{}",
            starting[0].detail
        );
        let starting = unfinished(&selected, &[], &Stopped::Signal("SIGINT"), false, false);
        assert!(starting[0]
            .detail
            .contains("interrupted (SIGINT) before any check began"));
    }

    /// Without --allow-unload the cold load skips whatever the server does, so a run
    /// stopped before it reports it skipped, as a full run would; with it, unfinished.
    #[test]
    fn a_cold_load_that_would_skip_is_skipped_not_unfinished() {
        let selected =
            vec![CheckMeta::from_tags("Cold", &["check.perf.load_cold".to_string()]).unwrap()];
        let why = Stopped::Deadline(Duration::from_secs(5));
        let skipped = &unfinished(&selected, &[], &why, false, true)[0];
        assert_eq!(skipped.status, ollama_verify::check::Status::Skip);
        assert!(!skipped.unfinished);
        assert!(
            skipped.detail.contains("--allow-unload"),
            "{}",
            skipped.detail
        );
        let allowed = &unfinished(&selected, &[], &why, true, true)[0];
        assert_eq!(allowed.status, ollama_verify::check::Status::Fail);
        assert!(allowed.unfinished);
    }
}
