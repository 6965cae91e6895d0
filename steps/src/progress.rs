//! The console while a run goes on: a line per check as it is decided, with the status
//! the summary gives it. Cucumber's own step-by-step output (`--steps`) knows only
//! passed and failed steps, so a skipped or warned check shows there as passed.

use crate::tags::all_tags;
use crate::world::{CheckMeta, VerifyWorld};
use cucumber::{event, gherkin, parser, Event, Writer};
use ollama_verify::check::{CheckResult, Status};
use ollama_verify::secrets::mask_secrets;
use ollama_verify::session::Session;
use ollama_verify::text::{printable, shorten};
use std::collections::HashSet;
use std::sync::Arc;

/// Writes the check lines, and what keeps a scenario from deciding its check (a
/// sentence no step matches, a step error in a scenario without `@check.<id>`), when
/// `on`; silent otherwise (`--steps` shows cucumber's output instead).
pub struct Progress {
    session: Arc<Session>,
    on: bool,
    skips: SkipLines,
}

impl Progress {
    pub fn new(session: Arc<Session>, on: bool, every_skip: bool) -> Self {
        Progress {
            session,
            on,
            skips: SkipLines {
                every: every_skip,
                shown: HashSet::new(),
            },
        }
    }

    fn scenario(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        ev: &event::Scenario<VerifyWorld>,
    ) {
        let meta = CheckMeta::from_tags(&scenario.name, &all_tags(feature, rule, scenario));
        match ev {
            event::Scenario::Step(step, event::Step::Skipped)
            | event::Scenario::Background(step, event::Step::Skipped) => eprintln!(
                "{}:{}: `{} {}` matches no step definition",
                printable(&file_name(feature)),
                step.position.line,
                step.keyword.trim(),
                printable(&step.value)
            ),
            event::Scenario::Step(_, event::Step::Failed(_, _, _, e))
            | event::Scenario::Background(_, event::Step::Failed(_, _, _, e))
                if meta.is_none() =>
            {
                crate::say!(
                    "{}  {} ({}:{}): {}",
                    styled(Status::Fail),
                    printable(&scenario.name),
                    printable(&file_name(feature)),
                    scenario.position.line,
                    printable(&mask_secrets(&e.to_string()))
                )
            }
            event::Scenario::Finished => {
                let Some(meta) = meta else { return };
                // The after hook has run: every scenario with a check has its result.
                let results = self.session.results();
                if let Some(r) = results.iter().find(|r| r.id == meta.id) {
                    if self.skips.shows(r) {
                        crate::say!("{}", line(r));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Which skips get a line: every one (`--verbose`), or only the first of each reason;
/// the closing summary lists the others with it. A server that is down would otherwise
/// repeat "unreachable" some twenty times.
struct SkipLines {
    every: bool,
    /// The reasons of the skips printed so far.
    shown: HashSet<String>,
}

impl SkipLines {
    /// Whether `r`'s line is printed: not a skip's whose reason was printed already.
    fn shows(&mut self, r: &CheckResult) -> bool {
        self.every || r.status != Status::Skip || self.shown.insert(r.detail.clone())
    }
}

/// `PASS  api.root                    "Ollama is running"`: the value of a pass, the
/// reason of anything else, on one line, and shown, not obeyed: a control character a
/// server sent (an escape sequence) prints as `�` ([`printable`]).
fn line(r: &CheckResult) -> String {
    let text = match (&r.value, r.status) {
        (Some(v), Status::Pass) => v.clone(),
        _ => excerpt(&r.detail, 110),
    };
    let text = printable(&mask_secrets(&text)).replace('\n', " ");
    format!("{}  {:<26} {}", styled(r.status), printable(&r.id), text)
}

/// A status label in its colour, where the console takes colour.
pub(crate) fn styled(status: Status) -> console::StyledObject<&'static str> {
    let label = console::style(status.label());
    match status {
        Status::Pass => label.green(),
        Status::Fail => label.red().bold(),
        Status::Warn => label.yellow(),
        Status::Skip => label.dim(),
    }
}

/// The first line of `text`, cut at `max` characters; `…` says there was more.
fn excerpt(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    let short = shorten(first, max);
    if first.len() < text.trim_end().len() && !short.ends_with('…') {
        format!("{short}…")
    } else {
        short
    }
}

fn file_name(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .map_or_else(
            || feature.name.clone(),
            |f| f.to_string_lossy().into_owned(),
        )
}

impl Writer<VerifyWorld> for Progress {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<VerifyWorld>>>,
        _: &Self::Cli,
    ) {
        if !self.on {
            return;
        }
        let ev = match event {
            Ok(ev) => ev.value,
            Err(e) => {
                return eprintln!(
                    "a feature file could not be read: {}",
                    printable(&e.to_string())
                )
            }
        };
        let event::Cucumber::Feature(feature, ev) = ev else {
            return;
        };
        match ev {
            event::Feature::Scenario(scenario, ev) => {
                self.scenario(&feature, None, &scenario, &ev.event)
            }
            event::Feature::Rule(rule, event::Rule::Scenario(scenario, ev)) => {
                self.scenario(&feature, Some(&rule), &scenario, &ev.event)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::Outcome;

    #[test]
    fn excerpts_keep_one_line() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("a long line here", 6), "a long…");
        assert_eq!(excerpt("first\nsecond", 80), "first…");
    }

    /// A skip's reason is printed once; `--verbose` prints every check's line.
    #[test]
    fn a_skips_reason_is_printed_once() {
        let skip = |id| CheckResult::new(id, id, Outcome::skip("the API is unreachable"));
        let fail = CheckResult::new("api.root", "r", Outcome::fail("refused"));
        let mut once = SkipLines {
            every: false,
            shown: HashSet::new(),
        };
        let shown: Vec<bool> = [skip("api.tags"), fail.clone(), skip("api.chat"), fail]
            .iter()
            .map(|r| once.shows(r))
            .collect();
        assert_eq!(shown, [true, true, false, true]);
        let mut every = SkipLines {
            every: true,
            shown: HashSet::new(),
        };
        assert!(every.shows(&skip("api.tags")) && every.shows(&skip("api.chat")));
    }

    #[test]
    fn lines_show_the_status_the_summary_gives() {
        console::set_colors_enabled(false);
        let skip = CheckResult::new("service.active", "s", Outcome::skip("no systemd here"));
        assert_eq!(
            line(&skip),
            "SKIP  service.active             no systemd here"
        );
        let pass = CheckResult::new("api.root", "r", Outcome::pass("ok").with_value("\"hi\""));
        assert_eq!(line(&pass), "PASS  api.root                   \"hi\"");
        let secret = CheckResult::new("x.y", "x", Outcome::warn("HF_TOKEN=abc set"));
        assert!(line(&secret).ends_with("HF_TOKEN=**** set"));
    }

    /// What a server sent is printed, not obeyed: no control character reaches the
    /// terminal from a check's line, a pass's value included.
    #[rstest::rstest]
    #[case::detail(Outcome::fail("HTTP 500 \"\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1m\""))]
    #[case::value(Outcome::pass("ok").with_value("\u{1b}[31mred\r\nline\u{8}"))]
    fn lines_carry_no_control_characters(#[case] outcome: Outcome) {
        console::set_colors_enabled(false);
        let shown = line(&CheckResult::new("api.chat", "c", outcome));
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains('�'), "{shown:?}");
    }
}
