//! `--baseline`: a run's speed figures against an earlier run's summary JSON, through
//! the binary on the emulator. A slowed server fails perf.generation as the built-in
//! spec says ("a figure more than 10% worse than the baseline's fails") and the verdict
//! names the fact that changed; the same speed holds; a file that is no summary is a
//! usage error before anything runs.

use crate::support::emulator::{fast, EmulatorConfigBuilder};
use crate::support::{emulated, verify_cmd, Run};
use std::path::Path;

fn run(config: EmulatorConfigBuilder, baseline: Option<&Path>) -> Run {
    let mut args = vec!["--tags", "@check.perf.generation or @check.perf.load_warm"];
    if let Some(baseline) = baseline {
        args.extend(["--baseline", baseline.to_str().unwrap()]);
    }
    emulated(config, &args)
}

#[test]
fn a_slowed_server_fails_against_its_baseline_and_names_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let before = run(fast().token_rate(60.0).version("0.17.1"), None);
    assert_eq!(
        before.status("perf.generation"),
        "pass",
        "{}",
        before.context()
    );
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, before.summary.to_string()).unwrap();

    let slowed = run(fast().token_rate(45.0).version("0.18.0"), Some(&baseline));
    let check = slowed.check("perf.generation");
    assert_eq!(check["status"], "fail", "{}", slowed.context());
    let figure = &check["figures"][0];
    assert_eq!(figure["quantity"], "generation_rate", "{figure}");
    let was = figure["baseline"].as_f64().expect("the baseline's figure");
    assert!((was - 60.0).abs() < 1.0, "{figure}");
    assert!(figure["value"].as_f64().unwrap() < 50.0, "{figure}");
    let detail = slowed.detail("perf.generation");
    assert!(
        detail.contains("Ollama version 0.17.1 → 0.18.0"),
        "{detail}"
    );
    // The warm load took a fraction of a millisecond both times: noise, not a slowdown.
    assert_eq!(
        slowed.status("perf.load_warm"),
        "pass",
        "{}",
        slowed.context()
    );

    let same = run(fast().token_rate(60.0).version("0.17.1"), Some(&baseline));
    assert_eq!(same.status("perf.generation"), "pass", "{}", same.context());
    assert!(same.check("perf.generation")["figures"][0]["baseline"].is_f64());
}

#[test]
fn a_baseline_that_is_no_summary_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_summary = dir.path().join("list.json");
    std::fs::write(&not_summary, "[1, 2]").unwrap();
    for file in [not_summary, dir.path().join("missing.json")] {
        let out = verify_cmd()
            .args(["--target", "emulator", "--baseline"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--summary-json"), "{stderr}");
    }
}
