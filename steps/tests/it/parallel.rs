//! `perf.parallel` through the binary on the emulator: a server with one parallel slot
//! (Ollama's default) queues the built-in scenario's 4 streams, and the check warns;
//! with 4 slots they share the GPU, and it passes. Judged from the summary JSON's status
//! and figures.

use crate::support::emulator::{fast, EmulatorConfigBuilder};
use crate::support::{verify_cmd, Run};
use ollama_verify::catalog::CheckId;
use serde_json::Value;

const CHECK: CheckId = CheckId::PerfParallel;

/// The emulator target on `config`, the built-in features or those in `features`.
fn run(config: EmulatorConfigBuilder, features: Option<&std::path::Path>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = config.write_to(dir.path());
    let mut cmd = verify_cmd();
    cmd.args(["--target", "emulator", "--emulator-config"])
        .arg(&file)
        .args(["--tags", &format!("@check.{CHECK}")]);
    if let Some(features) = features {
        cmd.arg("--features").arg(features);
    }
    Run::of(cmd)
}

/// The check's figure of `quantity`: its value, target and samples.
fn figure(check: &Value, quantity: &str) -> (f64, Option<f64>, usize) {
    let f = check["figures"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["quantity"] == quantity))
        .unwrap_or_else(|| panic!("no {quantity} figure: {check}"));
    assert_eq!(f["model"], "my-coder", "{f}");
    (
        f["value"].as_f64().unwrap(),
        f["target"].as_f64(),
        f["samples"].as_array().map_or(0, Vec::len),
    )
}

/// fast(): 24 tokens at 70 tok/s, so an answer takes about a third of a second.
fn slots(n: usize) -> EmulatorConfigBuilder {
    fast().with(|c| c.num_parallel = n)
}

#[test]
fn one_slot_queues_the_streams_and_warns() {
    let run = run(slots(1), None);
    let check = run.check(CHECK.as_str());
    assert_eq!(check["status"], "warn", "{}", run.context());
    assert_eq!(run.code, 0, "a warning fails nothing: {}", run.context());
    // Together no faster than one: each waited its turn.
    let (together, least, _) = figure(check, "aggregate_rate");
    assert!(together < least.unwrap(), "{check}");
    // Each at the configured pace (one at a time, nothing shared).
    let (each, _, n) = figure(check, "stream_rate");
    assert_eq!(n, 4, "{check}");
    assert!((each - 70.0).abs() < 7.0, "{check}");
    // The last waited for three answers before its first token.
    let (slowest, longest, n) = figure(check, "first_token_under_load");
    assert_eq!(n, 4, "{check}");
    assert!(slowest > longest.unwrap(), "{check}");
    assert!(slowest > 3.0 * 24.0 / 70.0 * 0.9, "{check}");
}

#[test]
fn four_slots_share_the_gpu_and_pass() {
    let run = run(slots(4), None);
    let check = run.check(CHECK.as_str());
    assert_eq!(check["status"], "pass", "{}", run.context());
    let (together, least, _) = figure(check, "aggregate_rate");
    assert!(together >= least.unwrap(), "{check}");
    // Four at once, each at 70 / (1 + 0.1 × 3) tok/s: slower than alone, more together.
    let (each, _, n) = figure(check, "stream_rate");
    assert_eq!(n, 4, "{check}");
    assert!((each - 70.0 / 1.3).abs() < 5.0, "{check}");
    assert!(together > 2.0 * 70.0, "{check}");
    let (slowest, longest, _) = figure(check, "first_token_under_load");
    assert!(slowest <= longest.unwrap(), "{check}");
}

/// `as many streams at once as the server has parallel slots` reads them from the
/// server's log: 3 here, by OLLAMA_NUM_PARALLEL, so 3 streams, which share the GPU.
#[test]
fn as_many_streams_as_the_server_has_slots() {
    let features = tempfile::tempdir().unwrap();
    let scenario = "Feature: Shared\n  Background:\n    Given the Ollama install under verification\n    And the model \"my-coder\" has answered a chat\n    And the benchmark prompt:\n      \"\"\"\n      Write a counter in Go.\n      \"\"\"\n\n  @check.perf.parallel @warn\n  Scenario: One stream per slot\n    When the model \"my-coder\" answers the benchmark prompt in as many streams at once as the server has parallel slots (at least 2), at most 64 tokens each\n    Then the streams together generate at least 1.5 times as many tokens per second as one stream alone, and none waits more than 3 times as long for its first token\n";
    std::fs::write(features.path().join("shared.feature"), scenario).unwrap();
    let config = fast().with(|c| {
        c.env.insert("OLLAMA_NUM_PARALLEL".into(), "3".into());
    });
    let run = run(config, Some(features.path()));
    let check = run.check(CHECK.as_str());
    assert_eq!(check["status"], "pass", "{}", run.context());
    assert_eq!(figure(check, "stream_rate").2, 3, "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("3 parallel slots"),
        "{check}"
    );
}
