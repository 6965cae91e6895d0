//! The diagnosis against real logs: every `*.log` under tests/fixtures/logs/ (with its
//! `.toml` sidecar) must yield the findings its thread established, and a healthy
//! control no CPU fallback, out-of-memory or crash. New fixtures are picked up as they
//! are added.

use ollama_verify::signature::{self, FindingKind, CATALOGUE};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Sidecar {
    ollama_version: String,
    healthy: bool,
    #[serde(default)]
    findings: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    kind: String,
    evidence: String,
    code: Option<String>,
}

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs")
}

fn fixtures() -> Vec<(String, String, Sidecar)> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("tests/fixtures/logs")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    logs.into_iter()
        .map(|log| {
            let stem = log.file_stem().unwrap().to_string_lossy().into_owned();
            let text =
                std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
            let sidecar = log.with_extension("toml");
            let toml = std::fs::read_to_string(&sidecar)
                .unwrap_or_else(|e| panic!("{}: {e}", sidecar.display()));
            let sidecar: Sidecar =
                toml::from_str(&toml).unwrap_or_else(|e| panic!("{}: {e}", sidecar.display()));
            (stem, text, sidecar)
        })
        .collect()
}

/// What went wrong with one fixture's diagnosis, or None.
fn judge(text: &str, sidecar: &Sidecar) -> Vec<String> {
    let d = signature::scan(text);
    let mut wrong = Vec::new();
    for e in &sidecar.findings {
        let Some(kind) = FindingKind::parse(&e.kind) else {
            wrong.push(format!("unknown kind {}", e.kind));
            continue;
        };
        let found = d
            .of(kind)
            .any(|f| f.evidence.contains(&e.evidence) && (e.code.is_none() || f.code == e.code));
        if !found {
            let code = e
                .code
                .as_deref()
                .map_or(String::new(), |c| format!(" code {c}"));
            wrong.push(format!("missing {kind}{code} on {:?}", e.evidence));
        }
    }
    if sidecar.healthy {
        for f in &d.findings {
            if f.kind.is_cpu_fallback()
                || matches!(f.kind, FindingKind::OomAtLoad | FindingKind::RunnerCrashed)
            {
                wrong.push(format!("healthy, yet {} at line {}", f.kind, f.line));
            }
        }
    }
    wrong
}

#[test]
fn every_fixture_is_diagnosed_as_its_thread_established() {
    let all = fixtures();
    assert!(!all.is_empty(), "no fixture in {}", folder().display());
    let mut table = Vec::new();
    let mut failed = 0;
    for (stem, text, sidecar) in &all {
        let wrong = judge(text, sidecar);
        let kinds: Vec<&str> = sidecar.findings.iter().map(|f| f.kind.as_str()).collect();
        if !wrong.is_empty() {
            failed += 1;
        }
        table.push(format!(
            "{:<4} {stem:<48} {:<10} {:<55} {}",
            if wrong.is_empty() { "ok" } else { "FAIL" },
            sidecar.ollama_version,
            kinds.join(","),
            wrong.join("; ")
        ));
    }
    let summary = format!(
        "{} of {} fixtures diagnosed right",
        all.len() - failed,
        all.len()
    );
    println!("{}\n{summary}", table.join("\n"));
    assert_eq!(failed, 0, "\n{}\n{summary}", table.join("\n"));
}

/// Every sidecar's evidence is a line of its log (as the fixtures' README asks), so a
/// finding quoting that line quotes the log.
#[test]
fn every_sidecar_evidence_is_in_its_log() {
    for (stem, text, sidecar) in fixtures() {
        for e in sidecar.findings {
            assert!(
                text.lines().any(|l| l.contains(&e.evidence)),
                "{stem}: {:?} is in no line",
                e.evidence
            );
        }
    }
}

/// Each spelling matches a line of the fixture it names as proof, and each error code's
/// meaning is found in its fixture: the catalogue cites only what the logs show. (A
/// proof fixture another branch adds may not be here yet: it is named, not failed.)
#[test]
fn every_spelling_matches_its_proof() {
    let all = fixtures();
    let log = |stem: &str| {
        let text = all
            .iter()
            .find(|(s, _, _)| s == stem)
            .map(|(_, t, _)| t.as_str());
        if text.is_none() {
            eprintln!("proof fixture {stem} is not in this tree: not checked");
        }
        text
    };
    for s in CATALOGUE {
        for sp in s.spellings {
            if sp.proof == "ollama-facts.md" {
                continue;
            }
            let Some(text) = log(sp.proof) else { continue };
            let re = regex::Regex::new(sp.regex).unwrap();
            assert!(
                text.lines()
                    .any(|l| re.is_match(signature::strip_prefix(l))),
                "{}: `{}` matches no line of {}",
                s.id,
                sp.regex,
                sp.proof
            );
        }
        for c in s.codes {
            let Some(text) = log(c.proof) else { continue };
            let d = signature::scan(text);
            assert!(
                d.of(s.kind).any(|f| f.code.as_deref() == Some(c.code)),
                "{}: code {} not found in {}",
                s.id,
                c.code,
                c.proof
            );
        }
    }
}

/// The words of a few findings (cause, quoted line, next step), as `explain` prints them.
#[test]
fn the_report_reads_as_recorded() {
    for stem in [
        "004-deepseek2-oom-runner-abort",
        "008-after-sleep-cudart-999",
        "009-rtx4070tis-full-offload",
        "020-driver-535-too-old-0.30",
    ] {
        let text = std::fs::read_to_string(folder().join(format!("{stem}.log"))).unwrap();
        let report = signature::render::text(&signature::scan(&text), stem);
        insta::assert_snapshot!(stem, report);
    }
}
