//! `ollama-verify explain`: real fixture logs from a file and from standard input,
//! and the inputs that cannot be explained (empty, binary, not Ollama's, missing), each
//! with its exit code; a large log is streamed in bounded memory.

use crate::support;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

fn fixture(stem: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/logs")
        .join(format!("{stem}.log"))
}

fn explain() -> Command {
    let mut c = support::verify_cmd();
    c.arg("explain")
        .timeout(std::time::Duration::from_secs(120));
    c
}

fn kinds(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_fixture_file_with_a_problem_exits_1_with_its_findings() {
    let out = explain()
        .arg(fixture("004-deepseek2-oom-runner-abort"))
        .arg("--json")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    let k = kinds(&json);
    assert!(k.contains(&"oom.at_load".into()), "{k:?}");
    assert!(k.contains(&"runner.crashed".into()), "{k:?}");
    let oom = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "oom.at_load")
        .unwrap();
    assert_eq!(oom["line"], 1);
    assert!(oom["evidence"]
        .as_str()
        .unwrap()
        .contains("cudaMalloc failed: out of memory"));
    assert!(!oom["next"].as_str().unwrap().is_empty());
}

#[test]
fn the_text_report_quotes_lines_with_their_numbers() {
    explain()
        .arg(fixture("008-after-sleep-cudart-999"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("cpu_fallback.cuda_init_error")
                .and(predicate::str::contains(
                    "line 3 (and 1 more like it, the last at line 5): ",
                ))
                .and(predicate::str::contains("cudart init failure: 999"))
                .and(predicate::str::contains("next: ")),
        );
}

#[test]
fn a_healthy_log_on_standard_input_exits_0() {
    let log = std::fs::read(fixture("009-rtx4070tis-full-offload")).unwrap();
    for args in [&["-", "--json"][..], &["--json"][..]] {
        let out = explain()
            .args(args)
            .write_stdin(log.clone())
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let json: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["problems"], 0);
        assert_eq!(kinds(&json), ["gpu.full_offload"]);
        assert_eq!(json["source"], "standard input");
    }
}

#[test]
fn empty_input_is_refused_with_exit_2() {
    for input in ["", "\n\n  \n"] {
        explain()
            .write_stdin(input)
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains("is empty").and(predicate::str::contains("journalctl")),
            );
    }
}

#[test]
fn binary_input_is_refused_with_exit_2() {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    bytes.extend((0..4096u32).map(|i| (i * 7) as u8));
    explain()
        .write_stdin(bytes)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("is binary"));
}

#[test]
fn text_that_is_no_ollama_log_is_refused_with_exit_2() {
    let cargo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    explain()
        .arg(cargo)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "does not look like an Ollama server log",
        ));
}

#[test]
fn a_missing_file_is_refused_with_exit_2() {
    explain()
        .arg("no-such-file.log")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read no-such-file.log"));
}

#[test]
fn the_catalogue_is_listed() {
    explain()
        .arg("--signatures")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("## `oom.at_load`"));
}

/// A log far larger than what is kept: a real fixture's lines over and over. The
/// findings are counted, not kept, and the process stays small.
#[test]
fn a_large_log_is_streamed_in_bounded_memory() {
    const SIZE: usize = 48 << 20;
    let lines =
        std::fs::read_to_string(fixture("026-compose-partial-offload-invalid-overhead")).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut written = 0;
    let mut copies = 0;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        while written < SIZE {
            w.write_all(lines.as_bytes()).unwrap();
            written += lines.len();
            copies += 1;
        }
        w.flush().unwrap();
    }
    // The peak memory of explain's own program, read from /proc while it runs
    // (VmHWM is the running image's: a rusage figure would also count the test binary
    // the child was forked from, which other tests of this binary make large).
    let mut child = support::verify_process()
        .arg("explain")
        .arg(file.path())
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).unwrap();
        out
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut max_rss = 0usize;
    while !reader.is_finished() {
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<usize>().ok()
            })
            .unwrap_or(0);
        max_rss = max_rss.max(hwm * 1024);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = reader.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(max_rss > 0, "the child's memory was never read");
    let json: Value = serde_json::from_slice(&out).unwrap();
    let partial = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "offload.partial")
        .unwrap();
    assert_eq!(partial["repeats"], copies - 1);
    assert_eq!(json["lines"], copies * lines.lines().count());
    // Its peak memory: less than the log itself, so the log was not held.
    assert!(
        max_rss < 40 << 20,
        "explain held {max_rss} bytes at most for a {written}-byte log"
    );
}

/// `explain` on every real log of the corpus: each is read (exit 0 or 1, never 2), names
/// every finding its sidecar expects, and a healthy control exits 0.
#[test]
fn every_log_fixture_is_explained_as_its_sidecar_expects() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    assert!(logs.len() >= 40, "{} fixtures", logs.len());
    let mut wrong = Vec::new();
    for log in &logs {
        let sidecar: toml::Value =
            toml::from_str(&std::fs::read_to_string(log.with_extension("toml")).unwrap()).unwrap();
        let out = explain().arg(log).arg("--json").output().unwrap();
        let code = out.status.code();
        let json: Value = match serde_json::from_slice(&out.stdout) {
            Ok(json) => json,
            Err(e) => {
                wrong.push(format!("{}: exit {code:?}, no JSON ({e})", log.display()));
                continue;
            }
        };
        let found = kinds(&json);
        let expected: Vec<&str> = sidecar
            .get("findings")
            .and_then(|f| f.as_array())
            .map(|f| f.iter().filter_map(|f| f["kind"].as_str()).collect())
            .unwrap_or_default();
        let missing: Vec<&&str> = expected
            .iter()
            .filter(|k| !found.iter().any(|f| f == *k))
            .collect();
        let healthy = sidecar["healthy"].as_bool().unwrap();
        let code_ok = match healthy {
            true => code == Some(0),
            false => matches!(code, Some(0) | Some(1)),
        };
        if !missing.is_empty() || !code_ok {
            wrong.push(format!(
                "{}: exit {code:?} (healthy {healthy}), missing {missing:?}, found {found:?}",
                log.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        logs.len(),
        wrong.join("\n")
    );
}
