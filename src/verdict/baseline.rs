//! A perf check's verdict against the baseline run (`--baseline`): each of its figures
//! compared with the earlier run's ([`crate::baseline`]), then one renderer that adds
//! what changed to the check's own verdict. A figure worse than the spec's tolerance
//! fails or warns, as the spec says, and names the facts that changed between the runs.

use crate::baseline::{compare, compared, Change, Finding, Summary};
use crate::check::{Outcome, Status};
use crate::figure::Figure;

/// What the spec does with a figure worse than its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consequence {
    Fails,
    Warns,
}

/// The spec's rule: a figure more than `tolerance_percent` worse than the baseline's
/// `consequence`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub tolerance_percent: f64,
    pub consequence: Consequence,
}

/// One figure of the check against the baseline's.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub figure: Figure,
    pub finding: Finding,
}

/// The check's figures that a baseline can speak of (speeds and waits, not the GPU's
/// limits or VRAM), each against the baseline's figure of the same check and model.
pub fn compare_all(
    baseline: &Summary,
    check: &str,
    figures: &[Figure],
    rule: Rule,
) -> Vec<Compared> {
    figures
        .iter()
        .filter(|f| compared(f.quantity))
        .map(|f| Compared {
            figure: f.clone(),
            finding: compare(baseline, check, f, rule.tolerance_percent),
        })
        .collect()
}

/// Whether any figure got worse beyond the tolerance: only then are the facts of the
/// two runs worth comparing.
pub fn any_slower(compared: &[Compared]) -> bool {
    compared
        .iter()
        .any(|c| matches!(c.finding, Finding::Slower { .. }))
}

/// The check's `outcome` with the comparison added: a worse figure turns a pass (or,
/// where the spec says it fails, a warning) into the spec's consequence and says
/// before, after and `changes`; a figure that held is noted beside the verdict. A
/// skipped check, or one with nothing to compare, is left as it is.
pub fn judge(
    mut outcome: Outcome,
    compared: &[Compared],
    changes: &[Change],
    rule: Rule,
) -> Outcome {
    if outcome.status == Status::Skip || compared.is_empty() {
        return outcome;
    }
    for figure in &mut outcome.figures {
        figure.baseline = compared
            .iter()
            .find(|c| c.figure.quantity == figure.quantity && c.figure.model == figure.model)
            .and_then(|c| match c.finding {
                Finding::Held { before, .. } | Finding::Slower { before, .. } => Some(before),
                Finding::Missing => None,
            });
    }
    let slower: Vec<&Compared> = compared
        .iter()
        .filter(|c| matches!(c.finding, Finding::Slower { .. }))
        .collect();
    if slower.is_empty() {
        let notes: Vec<String> = compared.iter().filter_map(held).collect();
        if notes.is_empty() {
            return outcome;
        }
        let detail = format!(
            "{}; against the baseline: {}",
            outcome.detail,
            notes.join(", ")
        );
        return Outcome { detail, ..outcome };
    }
    let worse: Vec<String> = slower.iter().filter_map(|c| worse(c)).collect();
    let since = match changes {
        [] => "none of the facts compared (Ollama version, driver, GPU, the model's digest and settings) changed: look at what else uses the GPU, its clocks and its cooling".to_string(),
        _ => format!(
            "changed since: {}",
            changes
                .iter()
                .map(|c| format!("{} {} → {}", c.what, c.before, c.after))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let detail = format!(
        "{}; but worse than the baseline run by more than the spec's {}% tolerance: {}; {since}. Undo the change and run again, or, if it is meant, keep this run's --summary-json as the next --baseline",
        outcome.detail,
        rule.tolerance_percent,
        worse.join(", ")
    );
    let status = match (outcome.status, rule.consequence) {
        (Status::Fail, _) | (_, Consequence::Fails) => Status::Fail,
        _ => Status::Warn,
    };
    Outcome {
        status,
        detail,
        ..outcome
    }
}

/// `generation rate 65.0 → 52.0 tok/s (-20%)`: the change as the numbers went, so a
/// longer wait reads `+150%`.
fn worse(c: &Compared) -> Option<String> {
    match c.finding {
        Finding::Slower { before, after, .. } => Some(format!(
            "{} {} → {} {} ({:+.0}%)",
            c.figure.quantity.name().replace('_', " "),
            shown(before),
            shown(after),
            c.figure.quantity.unit().symbol(),
            (after - before) / before * 100.0
        )),
        _ => None,
    }
}

/// `generation rate 65.0 tok/s before (-2%)`.
fn held(c: &Compared) -> Option<String> {
    match c.finding {
        Finding::Held { before, after, .. } => Some(format!(
            "{} {} {} before ({:+.0}%)",
            c.figure.quantity.name().replace('_', " "),
            shown(before),
            c.figure.quantity.unit().symbol(),
            (after - before) / before * 100.0
        )),
        _ => None,
    }
}

/// Three significant figures at most: speeds in tok/s, waits in seconds.
fn shown(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figure::Quantity;

    fn baseline() -> Summary {
        Summary::parse(
            r#"{"checks":[{"id":"perf.generation","figures":[
                {"quantity":"generation_rate","model":"my-coder","value":65.0},
                {"quantity":"first_token","model":"my-coder","value":0.2}]}]}"#,
        )
        .unwrap()
    }

    const FAILS: Rule = Rule {
        tolerance_percent: 10.0,
        consequence: Consequence::Fails,
    };
    const WARNS: Rule = Rule {
        tolerance_percent: 10.0,
        consequence: Consequence::Warns,
    };

    fn rate(v: f64) -> Figure {
        Figure::new(Quantity::GenerationRate, v).model("my-coder")
    }

    fn changes() -> Vec<Change> {
        vec![Change {
            what: "Ollama version".into(),
            before: "0.17.1".into(),
            after: "0.18.0".into(),
        }]
    }

    #[test]
    fn a_slower_figure_turns_a_pass_into_the_specs_consequence() {
        let c = compare_all(&baseline(), "perf.generation", &[rate(52.0)], FAILS);
        assert!(any_slower(&c));
        let pass = Outcome::pass("median 52.0 tok/s").with_figure(rate(52.0));
        let judged = judge(pass.clone(), &c, &changes(), FAILS);
        assert_eq!(judged.status, Status::Fail);
        assert_eq!(judged.figures[0].baseline, Some(65.0));
        assert_eq!(judge(pass, &c, &changes(), WARNS).status, Status::Warn);
        // A failure stays one; a warning becomes a failure only where the spec says so.
        assert_eq!(
            judge(Outcome::fail("x"), &c, &[], WARNS).status,
            Status::Fail
        );
        assert_eq!(
            judge(Outcome::warn("x"), &c, &[], FAILS).status,
            Status::Fail
        );
        assert_eq!(
            judge(Outcome::warn("x"), &c, &[], WARNS).status,
            Status::Warn
        );
    }

    #[test]
    fn a_held_figure_or_a_skip_keeps_the_verdict() {
        let c = compare_all(&baseline(), "perf.generation", &[rate(63.0)], FAILS);
        assert!(!any_slower(&c));
        let judged = judge(Outcome::pass("ok"), &c, &[], FAILS);
        assert_eq!(judged.status, Status::Pass);
        let skip = Outcome::skip("down");
        assert_eq!(judge(skip.clone(), &c, &[], FAILS), skip);
        // VRAM is not compared; a check the baseline lacks has nothing to say.
        let vram = Figure::new(Quantity::VramFree, 1e9);
        assert!(compare_all(&baseline(), "perf.generation", &[vram], FAILS).is_empty());
        let other = compare_all(&baseline(), "perf.prompt", &[rate(1.0)], FAILS);
        assert_eq!(other[0].finding, Finding::Missing);
        assert_eq!(
            judge(Outcome::pass("ok"), &other, &[], FAILS),
            Outcome::pass("ok")
        );
    }

    #[test]
    fn the_words() {
        let slow = compare_all(
            &baseline(),
            "perf.generation",
            &[
                rate(52.0),
                Figure::new(Quantity::FirstToken, 0.5).model("my-coder"),
            ],
            FAILS,
        );
        let held = compare_all(&baseline(), "perf.generation", &[rate(64.0)], FAILS);
        let pass = || Outcome::pass("median 52.0 tok/s, at least 40 wanted");
        let text = [
            judge(pass(), &slow, &changes(), FAILS),
            judge(pass(), &slow, &[], WARNS),
            judge(pass(), &held, &[], FAILS),
        ]
        .iter()
        .map(|o| format!("{}  {}", o.status.label(), o.detail))
        .collect::<Vec<_>>()
        .join("\n");
        insta::assert_snapshot!(text);
    }
}
