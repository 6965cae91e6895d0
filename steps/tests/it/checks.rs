//! The `ollama-verify` binary, one case per check: each case breaks one thing (an
//! emulator fault, a missing model, a slow GPU, a stopped service) and asserts, from
//! `--summary-json`, that exactly the checks depending on it fail or warn.
//!
//! Emulator-target cases run the emulator in-process (`--emulator-config`); native
//! cases run `ollama-emulator serve` as a process, with the emulator's CLI installed as
//! `ollama` and a stand-in `systemctl` (printing real-shaped `systemctl show` output) on
//! a PATH that holds nothing else.

use crate::support;

use assert_cmd::Command;
use ollama_verify::catalog::{Area, CheckId, Need, CATALOGUE};
use ollama_verify::emulator::FaultKind;
use rstest::rstest;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use support::emulator::{fast, status, EmulatorConfigBuilder};
use support::{emulated, free_port, native_args, path_dir, Run, Server};

/// Every built-in check's id.
fn all_ids() -> impl Iterator<Item = CheckId> {
    CATALOGUE.iter().map(|c| c.id)
}

/// The ids of the built-in checks in `area`.
fn area_ids(area: Area) -> Vec<CheckId> {
    all_ids().filter(|id| id.area() == area).collect()
}

fn verify(args: &[&str], env: &[(&str, &Path)], path: Option<&Path>) -> Run {
    let mut cmd = support::verify_cmd();
    cmd.args(args).timeout(Duration::from_secs(60));
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    Run::of(cmd)
}

/// What a healthy emulator reports: host checks skipped (no host), perf.parallel warned
/// (one parallel slot, Ollama's default, queues the streams), the rest passed.
fn baseline() -> BTreeMap<String, String> {
    all_ids()
        .map(|id| {
            // No host on the emulator target (the catalogue's `host` need); no consent
            // to unload by default.
            let status = if id.entry().needs.contains(&Need::Host) || id == CheckId::PerfLoadCold {
                "skip"
            } else if id == CheckId::PerfParallel {
                "warn"
            } else {
                "pass"
            };
            (id.to_string(), status.to_string())
        })
        .collect()
}

fn with(changes: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut expected = baseline();
    for (id, status) in changes {
        expected.insert(id.to_string(), status.to_string());
    }
    expected
}

#[test]
fn a_healthy_emulator_passes_every_check_it_can() {
    let run = emulated(fast(), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.statuses(), baseline());
    assert_eq!(run.summary["passed"], 22);
    assert_eq!(run.summary["skipped"], 14);
    assert!(run.check("perf.generation")["value"]
        .as_str()
        .unwrap()
        .ends_with("tok/s"));
    assert!(run.check("gpu.visible")["value"]
        .as_str()
        .unwrap()
        .contains("(emulated)"));
    // The end-of-run table shows values and counts.
    assert!(run
        .stdout
        .contains("22 passed, 0 failed, 1 warned, 14 skipped"));
}

#[rstest]
#[case::custom_model_missing(
    fast().custom(&[]),
    &[("models.custom", "fail"), ("api.chat", "fail"), ("api.openai", "fail"), ("gpu.offload", "skip"), ("perf.generation", "skip"),
      ("modelfile.parameters", "skip"), ("modelfile.system", "skip"), ("modelfile.weights", "skip"),
      ("perf.prompt", "skip"), ("perf.streaming", "skip"), ("perf.load_warm", "skip"), ("perf.roofline", "skip"), ("perf.vram_headroom", "skip"), ("perf.parallel", "skip"),
      ("diagnose.offload", "skip"), ("diagnose.context", "skip")],
    1
)]
#[case::parameters_differ(
    fast().custom(&[("my-coder", Some("FROM qwen2.5-coder:7b\nPARAMETER num_ctx 16384\nPARAMETER temperature 0.7\nPARAMETER top_p 0.9\nPARAMETER repeat_penalty 1.1\nPARAMETER stop <|im_end|>\nPARAMETER stop <|endoftext|>\nSYSTEM You are terse.\n"))]),
    &[("modelfile.parameters", "fail"), ("modelfile.system", "fail")],
    1
)]
#[case::built_on_other_weights(
    fast().installed(&["qwen2.5-coder:7b", "llama3.2:3b"]).custom(&[("my-coder", Some("FROM llama3.2:3b\nPARAMETER num_ctx 16384\nPARAMETER temperature 0.3\nPARAMETER top_p 0.9\nPARAMETER repeat_penalty 1.1\nPARAMETER stop <|im_end|>\nPARAMETER stop <|endoftext|>\n"))]),
    &[("modelfile.weights", "warn"), ("modelfile.system", "fail")],
    1
)]
#[case::partial_offload(fast().gpu_offload(0.6), &[("gpu.offload", "warn"), ("diagnose.offload", "warn")], 0)]
#[case::cpu_only(fast().gpu_offload(0.0), &[("gpu.offload", "fail"), ("perf.roofline", "skip"), ("perf.vram_headroom", "skip"), ("diagnose.offload", "fail")], 1)]
#[case::slow_generation(
    fast().token_rate(20.0).answer_tokens(6),
    &[("perf.generation", "fail")],
    1
)]
#[case::root_not_ollama(
    fast().fault("/", FaultKind::WrongContentType),
    &[("api.root", "fail"), ("api.openai", "skip")],
    1
)]
#[case::tags_wrong_shape(
    fast().fault("/api/tags", FaultKind::WrongShape),
    &[("api.tags", "fail"), ("models.base", "skip"), ("models.custom", "skip"), ("perf.roofline", "skip")],
    1
)]
#[case::chat_runner_fails(
    fast().fault("/api/chat", status(500, "llama runner process has terminated")),
    &[("api.chat", "fail"), ("gpu.offload", "skip"), ("perf.generation", "skip"),
      ("perf.prompt", "skip"), ("perf.streaming", "skip"), ("perf.load_warm", "skip"), ("perf.roofline", "skip"), ("perf.vram_headroom", "skip"), ("perf.parallel", "skip"),
      ("diagnose.offload", "skip"), ("diagnose.context", "skip")],
    1
)]
fn one_fault_one_verdict(
    #[case] config: EmulatorConfigBuilder,
    #[case] changes: &[(&str, &str)],
    #[case] code: i32,
) {
    let run = emulated(config, &[]);
    assert_eq!(run.statuses(), with(changes), "{}", run.stdout);
    assert_eq!(run.code, code, "{}", run.stdout);
    for (id, _) in changes {
        assert!(!run.detail(id).is_empty(), "{id} explains itself");
    }
}

#[test]
fn failures_say_what_was_expected_and_seen() {
    let run = emulated(fast().token_rate(20.0).answer_tokens(6), &[]);
    let detail = run.detail("perf.generation");
    assert!(detail.contains("expected at least 40 tok/s"), "{detail}");
    assert!(run.check("perf.generation")["value"]
        .as_str()
        .unwrap()
        .ends_with("tok/s"));

    let run = emulated(
        fast().fault(
            "/api/chat",
            status(500, "llama runner process has terminated"),
        ),
        &[],
    );
    assert!(run
        .detail("api.chat")
        .contains("llama runner process has terminated"));
    assert!(run.detail("gpu.offload").contains("see api.chat"));
    // The emulator target has no journal nor systemd: the next step is its config.
    for id in ["api.chat", "gpu.offload"] {
        let detail = run.detail(id);
        assert!(
            detail.contains("`[[faults]]` of --emulator-config")
                && !detail.contains("journalctl")
                && !detail.contains("systemctl"),
            "{id}: {detail}"
        );
    }

    // A model list that cannot be read is not a missing model.
    let run = emulated(
        fast().fault("/api/tags", FaultKind::WrongShape),
        &["--tags", "@perf"],
    );
    let detail = run.detail("perf.roofline");
    assert!(
        detail.contains("the model list could not be read (see api.tags)")
            && !detail.contains("not installed"),
        "{detail}"
    );
    // --tags left api.tags out: the pointer says how to see it, and the skip that
    // rests on its failure fails in its place.
    assert!(
        detail.contains("this check fails in its place: add `or @check.api.tags` to see it"),
        "{detail}"
    );
    assert_eq!(run.status("perf.roofline"), "fail");
    assert_eq!(run.code, 1);
}

/// A selection cannot turn a broken install green: with the custom model missing,
/// `--tags @perf` leaves out models.custom and api.chat, which would fail; the perf
/// checks that rest on the chat fail in their place, and the run exits 1.
#[test]
fn a_selection_does_not_hide_the_failure_its_checks_rest_on() {
    let run = emulated(fast().custom(&[]), &["--tags", "@perf"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    for id in ["perf.generation", "perf.prompt", "perf.vram_headroom"] {
        assert_eq!(run.status(id), "fail", "{id}: {}", run.detail(id));
        let detail = run.detail(id);
        assert!(
            detail.contains("(see api.chat)")
                && detail
                    .contains("api.chat not selected by --tags; this check fails in its place")
                && detail.contains("`or @check.api.chat`"),
            "{id}: {detail}"
        );
    }
    // The same selection on a healthy install passes.
    let run = emulated(fast(), &["--tags", "@perf"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn gpu_none_skips_and_strict_fails_skips() {
    let run = emulated(fast(), &["--gpu", "none"]);
    assert_eq!(
        run.statuses(),
        with(&[
            ("gpu.visible", "skip"),
            ("perf.roofline", "skip"),
            ("perf.vram_headroom", "skip"),
            ("diagnose.gpu_discovered", "skip"),
            ("diagnose.driver_floor", "skip"),
            ("diagnose.offload", "skip"),
            ("diagnose.platform", "skip")
        ])
    );
    assert_eq!(run.code, 0);
    assert!(run.detail("gpu.visible").contains("--gpu none"));

    let run = emulated(fast(), &["--gpu", "none", "--strict"]);
    assert_eq!(run.check("gpu.visible")["status"], "fail");
    assert_eq!(run.check("service.active")["status"], "fail");
    assert!(run.detail("service.active").contains("--strict"));
    assert_eq!(run.code, 1);
}

#[test]
fn nvml_without_a_driver_names_the_library() {
    let run = emulated(fast(), &["--gpu", "nvml"]);
    let check = run.check("gpu.visible");
    match check["status"].as_str().unwrap() {
        // A machine with the NVIDIA driver: real hardware, not the emulated GPU.
        "pass" => assert!(!check["value"].as_str().unwrap().contains("emulated")),
        _ => assert!(
            run.detail("gpu.visible").contains("libnvidia-ml.so.1"),
            "{check}"
        ),
    }
}

#[test]
fn tags_select_scenarios_and_reports_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let json = dir.path().join("cucumber.json");
    let md = dir.path().join("summary.md");
    let run = verify(
        &[
            "--target",
            "emulator",
            "--tags",
            "@check.api.root or @check.api.tags or @check.service.active",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--summary-md",
            md.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 0);
    let ids: Vec<String> = run.statuses().into_keys().collect();
    assert_eq!(ids, ["api.root", "api.tags", "service.active"]);
    // JUnit: a case per check, named by its id; the skipped one is skipped, with why.
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(
        junit.contains(r#"<testsuites name="ollama-verify" tests="3" skipped="1" failures="0""#)
            && junit.contains(r#"<testcase name="api.root" classname="ollama-verify.api""#)
            && junit.contains("The server answers at its root")
            && junit.contains(r#"<skipped message="the emulator target has no host"#),
        "{junit}"
    );
    let cucumber: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert!(cucumber.as_array().is_some_and(|f| !f.is_empty()));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("| `api.root` | ✅ PASS |"), "{md}");
}

/// A report that cannot be written at the end (here: a full disk) keeps no other
/// from being written nor the table from being printed, and the exit code says so (3,
/// not the usage error's 2). The Markdown summary is appended to GitHub's step summary
/// file, as GitHub asks, when that is the file named.
#[test]
fn a_report_that_cannot_be_written_is_exit_3_and_the_others_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let step_summary = dir.path().join("step_summary.md");
    std::fs::write(&step_summary, "an earlier step's summary\n").unwrap();
    let run = verify(
        &[
            "--target",
            "emulator",
            "--tags",
            "@check.api.root",
            "--junit",
            "/dev/full",
            "--summary-md",
            step_summary.to_str().unwrap(),
        ],
        &[("GITHUB_STEP_SUMMARY", &step_summary)],
        None,
    );
    assert_eq!(run.code, 3, "{}", run.context());
    assert_eq!(run.status("api.root"), "pass");
    assert!(
        run.stdout
            .contains("1 passed, 0 failed, 0 warned, 0 skipped"),
        "the table is printed: {}",
        run.context()
    );
    assert!(
        run.stderr.trim_end().lines().last().is_some_and(
            |l| l.starts_with("ollama-verify: cannot write the --junit report to /dev/full: ")
        ),
        "{}",
        run.context()
    );
    let md = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        md.starts_with("an earlier step's summary\n## ollama-verify")
            && md.contains("| `api.root` | ✅ PASS |"),
        "{md}"
    );
}

/// A usage error, or a target that cannot start, leaves every report as it was,
/// cucumber's `--json` one included.
#[rstest]
#[case::unwritable_report(&["--target", "emulator", "--junit", "/nonexistent/junit.xml"], "cannot write the --junit report to /nonexistent/junit.xml")]
#[case::a_compose_file_that_cannot_be_read(&["--target", "docker", "--compose-file", "/nonexistent/compose.yml"], "cannot read the compose file /nonexistent/compose.yml (--compose-file)")]
#[case::target_cannot_start(&["--target", "native", "--host", "ftp://x"], "is not a usable address")]
fn usage_errors_leave_the_reports_as_they_were(#[case] args: &[&str], #[case] message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("cucumber.json");
    let summary = dir.path().join("summary.json");
    std::fs::write(&json, "the last run's").unwrap();
    std::fs::write(&summary, "the last run's").unwrap();
    support::verify_cmd()
        .args(["--tags", "@check.api.root"])
        .args(args)
        .arg("--json")
        .arg(&json)
        .arg("--summary-json")
        .arg(&summary)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(message));
    for report in [json, summary] {
        assert_eq!(
            std::fs::read_to_string(&report).unwrap(),
            "the last run's",
            "{}",
            report.display()
        );
    }
}

/// A run of the emulator target on one feature file, `x.feature`, holding `text`.
fn on_emulator_with_feature(text: &str) -> Run {
    let features = tempfile::tempdir().unwrap();
    std::fs::write(features.path().join("x.feature"), text).unwrap();
    verify(
        &[
            "--target",
            "emulator",
            "--features",
            features.path().to_str().unwrap(),
        ],
        &[],
        None,
    )
}

/// A scenario without `@check.<id>` decides no check, but when it fails the run fails,
/// and the reports say so: a failed result named by the scenario's place.
#[test]
fn an_untagged_scenario_that_fails_is_reported_by_its_place() {
    let root = "    Given the Ollama install under verification\n    When the root URL is requested\n    Then the answer is \"Ollama is running\"\n";
    let run = on_emulator_with_feature(&format!(
        "Feature: X\n  @check.api.root\n  Scenario: Root\n{root}\n  Scenario: Untagged\n{root}"
    ));
    assert_eq!(run.code, 1, "{}", run.context());
    assert_eq!(run.summary["failed"], 1, "{}", run.summary);
    assert_eq!(run.status("api.root"), "pass");
    assert_eq!(run.status("x.feature:8"), "fail", "{}", run.summary);
    assert!(
        run.detail("x.feature:8").contains("no @check.<id> tag"),
        "{}",
        run.detail("x.feature:8")
    );
}

/// A step that fails after its scenario's verdict fails the run, and the check's
/// result says so: the reports never show a pass for a failing run.
#[test]
fn a_step_failing_after_the_verdict_fails_the_check() {
    let run = on_emulator_with_feature(
        "Feature: X\n  @check.api.root\n  Scenario: Root\n    Given the Ollama install under verification\n    When the root URL is requested\n    Then the answer is \"Ollama is running\"\n    And every PARAMETER of the Modelfile has the same value on the server\n",
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert_eq!(run.status("api.root"), "fail", "{}", run.summary);
    let detail = run.detail("api.root");
    assert!(
        detail.contains("a step after the verdict failed") && detail.contains("PASS"),
        "{detail}"
    );
}

#[rstest]
#[case::bad_tag_expression(&["--target", "emulator", "--tags", "@a and and"], "tag expression")]
#[case::unknown_target(&["--target", "cloud"], "unknown target")]
#[case::missing_features(&["--target", "emulator", "--features", "/nonexistent"], "no such folder")]
#[case::bad_gpu_source(&["--gpu", "cuda"], "unknown GPU source")]
#[case::no_check_selected(&["--target", "emulator", "--tags", "@apis"], "--tags \"@apis\" selects no check")]
#[case::list_with_a_bad_tag_expression(&["--list", "--tags", "@a and and"], "tag expression")]
#[case::unwritable_report(&["--target", "emulator", "--junit", "/nonexistent/junit.xml"], "cannot write the --junit report to /nonexistent/junit.xml: No such file or directory (os error 2); its folder /nonexistent does not exist: create it (`mkdir -p /nonexistent`), or give --junit another path")]
#[case::unwritable_textfile(&["--target", "emulator", "--prometheus", "/nonexistent/ollama_verify.prom"], "cannot write the --prometheus report to /nonexistent/ollama_verify.prom: No such file or directory (os error 2); its folder /nonexistent does not exist")]
#[case::empty_image(&["--target", "docker", "--image", ""], "expected an image such as ollama/ollama:0.17.1, got ``; leave --image out")]
#[case::a_folder_for_a_volume(&["--target", "docker", "--volume", "/data/models"], "expected a Docker volume name")]
#[case::negative_gpus(&["--list", "--gpus", "-1"], "--gpus takes auto, none, all or a number, not `-1`")]
#[case::not_a_compose_file(&["--target", "docker", "--compose-file", "../setup/coding-assistant.Modelfile"], "the compose file ../setup/coding-assistant.Modelfile (--compose-file)")]
#[case::negative_deadline(&["--deadline", "-1"], "invalid value '-1' for '--deadline <DEADLINE>': expected a number of seconds from 0.001")]
#[case::deadline_that_rounds_to_nothing(&["--list", "--deadline", "1e-12"], "expected a number of seconds from 0.001")]
#[case::empty_host(&["--host", ""], "got an empty address; leave --host out to use OLLAMA_HOST")]
#[case::bad_gpus(&["--list", "--gpus", "bogus"], "--gpus takes auto, none, all or a number, not `bogus`")]
#[case::tag_without_at(&["--list", "--tags", "api and not @perf"], "`api` is no tag: write `@api`")]
#[case::listen_on_a_name(&["emulator", "--listen", "localhost:11434"], "a name such as localhost is not looked up")]
fn usage_errors_exit_2(#[case] args: &[&str], #[case] message: &str) {
    support::verify_cmd()
        .args(args)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(message));
}

#[test]
fn an_unknown_sentence_in_a_feature_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.feature"),
        "Feature: X\n  @check.x.y\n  Scenario: Y\n    Then the moon is made of cheese\n",
    )
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let junit = reports.path().join("junit.xml");
    let summary = reports.path().join("summary.json");
    support::verify_cmd()
        .args(["--target", "emulator", "--features"])
        .arg(dir.path())
        .arg("--junit")
        .arg(&junit)
        .arg("--summary-json")
        .arg(&summary)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        // Which sentence, and where.
        .stderr(predicates::str::contains(
            "x.feature:4: `Then the moon is made of cheese` matches no step definition",
        ));
    // No empty report is left for a CI step to read.
    assert!(!junit.exists() && !summary.exists());
    // Found before the run: nothing started, and --list says the same.
    support::verify_cmd()
        .args(["--list", "--features"])
        .arg(dir.path())
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("x.feature:4:"));
}

/// `--list` names the checks a selection runs, in report order, without a server.
#[test]
fn list_names_the_selected_checks() {
    let out = support::verify_cmd()
        .args([
            "--list",
            "--tags",
            "@check.perf.generation or @warn and @gpu",
        ])
        // No server anywhere: nothing is asked.
        .env("OLLAMA_HOST", "127.0.0.1:9")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('.'))
        .collect();
    let perf = [
        "generation",
        "load_cold",
        "load_warm",
        "parallel",
        "roofline",
        "vram_headroom",
    ];
    let expected: Vec<String> = perf.iter().map(|p| format!("perf.{p}")).collect();
    assert_eq!(ids, expected, "{stdout}");
    assert!(stdout.contains("perf.load_warm      warn"), "{stdout}");
    assert!(stdout.trim_end().ends_with("6 check(s)"), "{stdout}");
}

/// The console has a line per check with the status the summary gives it (cucumber's
/// steps would show a skipped check as passed); `--steps` shows cucumber's steps.
#[test]
fn the_console_shows_each_check_as_decided() {
    let tags = ["--tags", "@check.api.root or @check.service.active"];
    let run = emulated(fast(), &tags);
    assert_eq!(run.code, 0, "{}", run.context());
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("SKIP"))
        .collect();
    assert!(
        lines.contains(&r#"PASS  api.root                   "Ollama is running""#)
            && lines.iter().any(|l| l.starts_with(
                "SKIP  service.active             the emulator target has no host to inspect"
            )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Scenario:"), "{}", run.stdout);

    let mut with_steps = tags.to_vec();
    with_steps.push("--steps");
    let run = emulated(fast(), &with_steps);
    assert_eq!(run.code, 0, "{}", run.context());
    assert!(
        run.stdout
            .contains("Scenario: The server answers at its root")
            && !run.stdout.contains("PASS  api.root"),
        "{}",
        run.stdout
    );
}

// ---- native target: an emulator process, the emulator CLI as `ollama`, a systemctl ----

/// An `ollama-emulator serve` process with this configuration.
fn serve(_dir: &Path, config: EmulatorConfigBuilder) -> Server {
    Server::start(&config.toml())
}

const CONFIGURED: &str = "ActiveState=active\nSubState=running\nUnitFileState=enabled\nLoadState=loaded\nFragmentPath=/etc/systemd/system/ollama.service\nDropInPaths=/etc/systemd/system/ollama.service.d/override.conf\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" \"OLLAMA_ORIGINS=*\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m\n";

fn native(server: &Server, path: &Path) -> Run {
    verify(
        &native_args(server),
        &[("OLLAMA_HOST", Path::new(&server.host))],
        Some(path),
    )
}

/// Everything passes on the CONFIGURED unit but what `changes` says; its
/// `OLLAMA_HOST=0.0.0.0` with `OLLAMA_ORIGINS=*` warns in security.exposure, one parallel
/// slot (Ollama's default) warns in perf.parallel, and with no `ip` on PATH
/// security.remote_reachable cannot list this host's addresses.
fn all_pass_but(changes: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut expected: BTreeMap<String, String> = all_ids()
        .map(|id| {
            let status = match id.as_str() {
                "perf.load_cold" | "security.remote_reachable" => "skip",
                // No journalctl, cat or find on the stand-in PATH; the emulated GPU
                // cannot say which process of another target holds VRAM.
                "diagnose.gpu_discovered"
                | "diagnose.offload"
                | "diagnose.settings"
                | "diagnose.port_owner"
                | "diagnose.platform" => "skip",
                "security.exposure" | "perf.parallel" => "warn",
                _ => "pass",
            };
            (id.to_string(), status.to_string())
        })
        .collect();
    for (id, status) in changes {
        expected.insert(id.to_string(), status.to_string());
    }
    expected
}

#[rstest]
#[case::configured(CONFIGURED, &[], 0)]
#[case::stopped(
    &CONFIGURED.replace("ActiveState=active\nSubState=running", "ActiveState=inactive\nSubState=dead"),
    &[("service.active", "fail")],
    1
)]
#[case::disabled(&CONFIGURED.replace("UnitFileState=enabled", "UnitFileState=disabled"), &[("service.enabled", "warn")], 0)]
#[case::no_drop_in(
    "ActiveState=active\nSubState=running\nUnitFileState=enabled\nLoadState=loaded\nDropInPaths=\nEnvironment=\n",
    &[("service.override", "warn"), ("service.host", "warn"), ("service.flash_attention", "warn"), ("security.exposure", "pass")],
    0
)]
#[case::loopback_only(
    &CONFIGURED.replace("0.0.0.0:11434", "127.0.0.1:11434"),
    &[("service.host", "warn"), ("security.exposure", "pass")],
    0
)]
#[case::not_installed(
    "LoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nDropInPaths=\nEnvironment=\n",
    &[("service.active", "fail"), ("service.enabled", "skip"), ("service.override", "skip"), ("service.host", "skip"), ("service.flash_attention", "skip"),
      ("security.exposure", "skip"), ("security.masking", "skip"), ("diagnose.service_health", "skip")],
    1
)]
fn native_service_checks(#[case] show: &str, #[case] changes: &[(&str, &str)], #[case] code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    let path = path_dir(dir.path(), Some((show, "", 0)), true);
    let run = native(&server, &path);
    assert_eq!(run.statuses(), all_pass_but(changes), "{}", run.stdout);
    assert_eq!(run.code, code, "{}", run.stdout);
}

#[test]
fn no_systemd_skips_service_checks_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    // WSL2 without systemd answers like this.
    let wsl = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n";
    let path = path_dir(dir.path(), Some(("", wsl, 1)), true);
    let run = native(&server, &path);
    for id in area_ids(Area::Service).iter().map(|id| id.as_str()) {
        assert_eq!(run.check(id)["status"], "skip", "{id}");
        assert!(run.detail(id).contains("wsl.conf"), "{}", run.detail(id));
    }
    assert_eq!(run.code, 0);

    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path(), None, true);
    let run = native(&server, &path);
    assert_eq!(run.check("service.active")["status"], "skip");
    assert!(run
        .detail("service.active")
        .contains("systemctl is not installed"));
}

#[test]
fn cli_missing_fails_and_version_mismatch_warns() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), false);
    let run = native(&server, &path);
    assert_eq!(run.statuses(), all_pass_but(&[("cli.available", "fail")]));
    assert!(run.detail("cli.available").contains("not on PATH"));

    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast().version("0.15.4"));
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    let run = native(&server, &path);
    // 0.15.4 predates the fix of CVE-2026-7482, and the unit binds 0.0.0.0.
    assert_eq!(
        run.statuses(),
        all_pass_but(&[("cli.available", "warn"), ("diagnose.vulnerable", "fail")])
    );
    assert!(run.detail("cli.available").contains("0.15.4"));
}

#[test]
fn a_removed_base_model_fails_models_base_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    support::emulator_cmd()
        .args(["rm", "qwen2.5-coder:7b"])
        .env("OLLAMA_HOST", &server.host)
        .timeout(Duration::from_secs(10))
        .assert()
        .success();
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    let run = native(&server, &path);
    assert_eq!(
        run.statuses(),
        all_pass_but(&[("models.base", "fail"), ("modelfile.weights", "skip")])
    );
    assert!(run
        .detail("models.base")
        .contains("ollama pull qwen2.5-coder:7b"));
    assert_eq!(run.code, 1);
}

#[test]
fn an_unreachable_server_fails_api_root_fast_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    let host = format!("127.0.0.1:{}", free_port());
    let run = verify(
        &["--target", "native", "--host", &host, "--gpu", "emulated"],
        &[],
        Some(&path),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.check("api.root")["status"], "fail");
    assert!(
        run.detail("api.root").contains("connection refused"),
        "{}",
        run.detail("api.root")
    );
    for id in [
        "api.tags",
        "api.chat",
        "models.base",
        "models.custom",
        "gpu.offload",
        "perf.generation",
    ] {
        assert_eq!(run.check(id)["status"], "skip", "{id}: {}", run.detail(id));
    }
    assert_eq!(run.summary["failed"], 1, "one failure shows once");
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
}

/// The speeds are the install's: generation and prompt processing read what the
/// emulator is set to, although it keeps each prompt in its cache as Ollama does (a
/// sample that began with the tokens of the chat before it would be processed faster).
#[test]
fn perf_figures_are_the_configured_speeds() {
    let run = emulated(
        fast().token_rate(200.0).with(|c| c.prompt_rate = 500.0),
        &[],
    );
    // The summary JSON carries each speed as a typed figure, with the model measured.
    let figure = |id: &str| -> f64 {
        let check = run.check(id);
        let figure = &check["figures"][0];
        assert_eq!(figure["model"], "my-coder", "{id}: {check}");
        // 3 on a steady server; more where a busy machine's timers blur the median.
        let n = figure["samples"].as_array().map_or(0, Vec::len);
        assert!((3..=10).contains(&n), "{check}");
        figure["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{id}: {check}"))
    };
    assert_eq!(
        run.check("perf.generation")["figures"][0]["quantity"],
        "generation_rate"
    );
    let generation = figure("perf.generation");
    assert!((generation - 200.0).abs() < 4.0, "{generation}");
    // Within 10%: timers on a busy machine run late; the cache would show 2-3×.
    let prompt = figure("perf.prompt");
    assert!(
        (prompt - 500.0).abs() < 50.0,
        "prompt processing read {prompt} tok/s at 500: {}",
        run.detail("perf.prompt")
    );
}

#[test]
fn perf_figures_come_with_units() {
    let run = emulated(fast(), &[]);
    let value = |id: &str| {
        run.check(id)["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        value("perf.generation").ends_with(" tok/s"),
        "{}",
        value("perf.generation")
    );
    assert!(value("perf.prompt").ends_with(" tok/s"));
    assert!(
        value("perf.streaming").starts_with("first token "),
        "{}",
        value("perf.streaming")
    );
    assert!(value("perf.load_warm").ends_with(" ms"));
    assert!(
        value("perf.roofline").contains("% of "),
        "{}",
        value("perf.roofline")
    );
    assert!(
        value("perf.vram_headroom").contains("GiB free of 12.0"),
        "{}",
        value("perf.vram_headroom")
    );
    // 3 samples or more, until the median is known as closely as the spec asks.
    assert!(
        run.detail("perf.generation").contains("median of ")
            && run.detail("perf.generation").contains("% interval"),
        "{}",
        run.detail("perf.generation")
    );
    assert!(run.detail("perf.load_cold").contains("--allow-unload"));
}

#[test]
fn a_cold_load_is_timed_only_with_consent() {
    let run = emulated(fast().with(|c| c.load_time_ms = 300), &["--allow-unload"]);
    let check = run.check("perf.load_cold");
    assert_eq!(check["status"], "pass", "{check}");
    let secs: f64 = check["value"]
        .as_str()
        .unwrap()
        .trim_end_matches(" s")
        .parse()
        .unwrap();
    assert!(secs >= 0.3, "the emulator's 300 ms load shows: {secs}");
}

#[rstest]
#[case::too_slow_for_the_gpu(fast().token_rate(15.0).answer_tokens(6), "perf.roofline", "warn")]
#[case::faster_than_the_bandwidth_allows(fast().token_rate(400.0), "perf.roofline", "warn")]
#[case::slow_prompt_processing(fast().with(|c| c.prompt_rate = 50.0), "perf.prompt", "fail")]
#[case::reloads_every_time(
    fast().fault("/api/ps", FaultKind::WrongShape),
    "gpu.offload",
    "fail"
)]
fn perf_context_checks(
    #[case] config: EmulatorConfigBuilder,
    #[case] id: &str,
    #[case] status: &str,
) {
    let run = emulated(config, &[]);
    assert_eq!(run.check(id)["status"], status, "{}", run.detail(id));
}

/// A thinking model's capped answers are all thoughts: the stream is still timed (its
/// thoughts are tokens), and the chat says what it got.
#[test]
fn a_thinking_model_is_measured_by_its_thoughts() {
    let run = emulated(fast().with(|c| c.thinking_tokens = 1000), &[]);
    assert_eq!(
        run.status("perf.streaming"),
        "pass",
        "{}",
        run.detail("perf.streaming")
    );
    assert_eq!(run.status("api.chat"), "pass", "{}", run.detail("api.chat"));
    assert!(
        run.detail("api.chat").contains("its thoughts only"),
        "{}",
        run.detail("api.chat")
    );
}

/// Read-only by default: the emulator's request log shows no pull, create, delete or
/// unload; `--allow-unload` adds exactly the one unload it asks consent for.
#[test]
fn the_native_target_changes_nothing_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let log = || {
        let url = url::Url::parse(&format!("http://{}", server.host)).unwrap();
        rt.block_on(ollama_verify::emulator::remote_requests(&url))
            .unwrap()
    };
    let run = native(&server, &path);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let requests = log();
    assert!(
        requests.len() > 10,
        "the run made its requests: {requests:?}"
    );
    let mutating: Vec<_> = requests.iter().filter(|r| r.mutates()).collect();
    assert!(mutating.is_empty(), "mutating requests: {mutating:?}");
    // Nor does it set a keep-alive: a request's keep_alive would replace the loaded
    // model's from then on.
    let keeping: Vec<_> = requests.iter().filter(|r| r.keep_alive.is_some()).collect();
    assert!(
        keeping.is_empty(),
        "requests setting keep_alive: {keeping:?}"
    );

    let before = requests.len();
    let run = verify(
        &[
            "--target",
            "native",
            "--host",
            &server.host,
            "--gpu",
            "emulated",
            "--allow-unload",
        ],
        &[],
        Some(&path),
    );
    assert_eq!(run.check("perf.load_cold")["status"], "pass");
    let mutating: Vec<_> = log()[before..]
        .iter()
        .filter(|r| r.mutates())
        .cloned()
        .collect();
    assert_eq!(mutating.len(), 1, "{mutating:?}");
    assert_eq!(mutating[0].path, "/api/generate");
}

/// The speed samples and the cold load have the server alone. In the emulator's
/// request log (arrival and end of every request), no other request is in flight from
/// the first sample's arrival to the last one's end, nor from the unload to the end of
/// the reload; the chat-dependent checks that wake with the samples wait their turn.
#[test]
fn measurements_have_the_server_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A slow `/api/tags` is in flight when the warm-up chat starts.
    let server = serve(
        dir.path(),
        fast().fault("/api/tags", FaultKind::StallBefore { seconds: 0.5 }),
    );
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    let mut args = native_args(&server).to_vec();
    args.push("--allow-unload");
    let run = verify(
        &args,
        &[("OLLAMA_HOST", Path::new(&server.host))],
        Some(&path),
    );
    assert_eq!(run.status("perf.generation"), "pass", "{}", run.context());
    assert_eq!(run.status("perf.load_cold"), "pass", "{}", run.context());
    let url = url::Url::parse(&format!("http://{}", server.host)).unwrap();
    let log = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ollama_verify::emulator::remote_requests(&url))
        .unwrap();
    let chats = |n: i64| -> Vec<usize> {
        (0..log.len())
            .filter(|&i| log[i].path == "/api/chat" && log[i].num_predict == Some(n))
            .collect()
    };
    let alone = |what: &str, own: &[usize]| {
        let from = own
            .iter()
            .map(|&i| log[i].arrived_ms)
            .fold(f64::MAX, f64::min);
        let to = own
            .iter()
            .map(|&i| log[i].done_ms.expect("answered"))
            .fold(0.0, f64::max);
        let during: Vec<_> = (0..log.len())
            .filter(|i| !own.contains(i) && log[*i].overlaps(from, to))
            .map(|i| &log[i])
            .collect();
        assert!(
            during.is_empty(),
            "{what} ({from:.1}–{to:.1} ms) shared the server with {during:#?}"
        );
    };
    let samples = chats(128);
    assert_eq!(samples.len(), 3, "{log:#?}");
    alone("the speed samples", &samples);
    let unload = (0..log.len())
        .filter(|&i| log[i].mutates())
        .collect::<Vec<_>>();
    let reload = chats(1);
    assert_eq!((unload.len(), reload.len()), (1, 1), "{log:#?}");
    // Between the two, the cold load asks /api/ps whether the model has gone: once, as
    // the emulator unloads at once (a second request there would be another's).
    let (unloaded, reloading) = (log[unload[0]].done_ms.unwrap(), log[reload[0]].arrived_ms);
    let polls: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].path == "/api/ps" && log[i].overlaps(unloaded, reloading))
        .collect();
    assert_eq!(polls.len(), 1, "{log:#?}");
    alone("the cold load", &[unload[0], polls[0], reload[0]]);
    // The rest shares the server: the slow `/api/tags` ran beside the warm-up chat.
    let warm_up = &log[chats(32)[0]];
    let tags = log.iter().find(|r| r.path == "/api/tags").unwrap();
    assert!(
        tags.overlaps(warm_up.arrived_ms, warm_up.done_ms.unwrap()),
        "{tags:?} {warm_up:?}"
    );
}

/// A cloud model answers from its remote host, so its speed, its loads and its VRAM are
/// not this install's: the spec's performance and model diagnostics run on one (known
/// here by its `-cloud` tag; the emulator serves it locally, so its name alone tells),
/// and each of their checks skips, naming it and why. Nothing measures it: in the
/// emulator's request log, its one generating request is the warm-up chat, even with
/// consent to unload it; no sample, watched generation, unload or reload.
#[test]
fn a_cloud_model_is_neither_measured_nor_inspected_here() {
    const CLOUD: &str = "gpt-oss:20b-cloud";
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast().custom(&[(CLOUD, None)]));
    let path = path_dir(dir.path(), Some((CONFIGURED, "", 0)), true);
    // The repository's own scenarios, pointed at the cloud model.
    let features = dir.path().join("features");
    std::fs::create_dir(&features).unwrap();
    for file in ["performance.feature", "diagnostics.feature"] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../features")
                .join(file),
        )
        .unwrap();
        assert!(text.contains("\"my-coder\""), "{file} names the model");
        std::fs::write(
            features.join(file),
            text.replace("\"my-coder\"", &format!("\"{CLOUD}\"")),
        )
        .unwrap();
    }
    let mut args = native_args(&server).to_vec();
    args.extend(["--allow-unload", "--features", features.to_str().unwrap()]);
    let run = verify(
        &args,
        &[("OLLAMA_HOST", Path::new(&server.host))],
        Some(&path),
    );
    let cloud_checks = area_ids(Area::Perf)
        .into_iter()
        .chain([CheckId::DiagnoseOffload, CheckId::DiagnoseContext]);
    for id in cloud_checks.map(CheckId::as_str) {
        let detail = run.detail(id);
        assert_eq!(run.status(id), "skip", "{id}: {detail}\n{}", run.context());
        assert!(
            detail.starts_with(&format!("{CLOUD} is a cloud model (by its tag `20b-cloud`"))
                && detail.contains("point the feature at a local model"),
            "{id}: {detail}"
        );
    }
    assert!(
        run.detail("perf.generation")
            .contains("its speed is the remote host's and the network's, not this GPU's"),
        "{}",
        run.detail("perf.generation")
    );
    assert!(run
        .detail("perf.load_cold")
        .contains("unloading or reloading it means nothing"));
    assert!(run
        .detail("diagnose.offload")
        .contains("never loaded in this server's VRAM"));
    // The checks that do not depend on the model still ran.
    assert_eq!(
        run.status("diagnose.driver_floor"),
        "pass",
        "{}",
        run.summary
    );

    let url = url::Url::parse(&format!("http://{}", server.host)).unwrap();
    let log = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ollama_verify::emulator::remote_requests(&url))
        .unwrap();
    let generating: Vec<_> = log
        .iter()
        .filter(|r| ["/api/chat", "/api/generate"].contains(&r.path.as_str()))
        .collect();
    assert_eq!(generating.len(), 1, "{generating:#?}");
    assert_eq!(
        generating[0].num_predict,
        Some(ollama_verify::session::CHAT_NUM_PREDICT as i64),
        "the warm-up chat: {generating:#?}"
    );
    let mutating: Vec<_> = log.iter().filter(|r| r.mutates()).collect();
    assert!(mutating.is_empty(), "{mutating:#?}");
}

/// A secret in the unit's environment: security.masking warns naming it, and no report
/// (summary JSON, the table) shows its value.
#[test]
fn secrets_in_the_unit_warn_and_never_show() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), fast());
    let show = CONFIGURED.replace(
        "OLLAMA_KEEP_ALIVE=30m",
        "OLLAMA_KEEP_ALIVE=30m HF_TOKEN=hf_live_s3cret \"DB_PASSWORD=two words\"",
    );
    let path = path_dir(dir.path(), Some((&show, "", 0)), true);
    // An `ip` that lists loopback only: no address to ask beyond it (and no traffic
    // leaves loopback).
    let ip = path.join("ip");
    std::fs::write(
        &ip,
        "#!/bin/sh\necho '1: lo    inet 127.0.0.1/8 scope host lo'\n",
    )
    .unwrap();
    std::fs::set_permissions(&ip, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = native(&server, &path);
    assert_eq!(
        run.statuses(),
        all_pass_but(&[
            ("security.masking", "warn"),
            ("security.remote_reachable", "pass")
        ]),
        "{}",
        run.stdout
    );
    assert!(run
        .detail("security.remote_reachable")
        .contains("no non-loopback IPv4 or IPv6 address"));
    assert_eq!(run.code, 0);
    let detail = run.detail("security.masking");
    assert!(
        detail.contains("HF_TOKEN=****") && detail.contains("DB_PASSWORD=****"),
        "{detail}"
    );
    for secret in ["hf_live_s3cret", "two words"] {
        assert!(
            !run.summary.to_string().contains(secret),
            "{secret} in the summary"
        );
        assert!(!run.stdout.contains(secret), "{secret} in the output");
    }
    let exposure = run.detail("security.exposure");
    assert!(exposure.contains("any web page"), "{exposure}");
}

/// `ollama-verify` run in `dir`, where it looks for `ollama-verify.toml`, with no target
/// or config file named by the environment.
fn in_folder(dir: &std::path::Path) -> Command {
    let mut cmd = support::verify_cmd();
    cmd.current_dir(dir).timeout(Duration::from_secs(60));
    cmd
}
/// A mistake in `ollama-verify.toml` stops the run before it starts (exit 2), pinned on
/// the file and its line; a tag expression or a features folder the run would refuse
/// is the file's mistake too.
#[rstest]
#[case::unknown_setting("targett = \"emulator\"\n", &[], "`targett` is not a setting")]
#[case::missing_file("", &["--config", "missing.toml"], "cannot read the config file missing.toml")]
#[case::not_a_boolean("tags = \"@check.api.root\"\nstrict = \"yes\"\n", &["--list"], "ollama-verify.toml:2: `strict = \"yes\"`: expected true or false")]
#[case::bad_tag_expression("target = \"emulator\"\ntags = \"@api and\"\n", &[], "ollama-verify.toml:2: `tags = \"@api and\"`: \"@api and\" is not a tag expression")]
#[case::missing_features("features = \"specs\"\n", &["--list"], "ollama-verify.toml:1: `features = \"specs\"`: no such folder of .feature files")]
fn config_file_mistakes_exit_2(#[case] file: &str, #[case] args: &[&str], #[case] message: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ollama-verify.toml"), file).unwrap();
    in_folder(dir.path())
        .args(args)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(message));
}

/// `ollama-verify.toml` in the working folder gives the flags' defaults; a flag wins.
#[test]
fn a_config_file_sets_defaults_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ollama-verify.toml"),
        "target = \"emulator\"\ntags = \"@check.api.root\"\nsummary-json = \"from-file.json\"\n",
    )
    .unwrap();
    let bin = || in_folder(dir.path());
    bin().assert().success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("from-file.json")).unwrap())
            .unwrap();
    assert_eq!(summary["checks"][0]["id"], "api.root");
    assert_eq!(summary["checks"].as_array().unwrap().len(), 1);

    // The flag wins over the file.
    bin().args(["--tags", "@check.api.tags"]).assert().success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("from-file.json")).unwrap())
            .unwrap();
    assert_eq!(summary["checks"][0]["id"], "api.tags");

    // The README's example holds only known settings (the flags win: no container here).
    let readme = include_str!("../../../README.md");
    let at = readme.find("live in `ollama-verify.toml`").unwrap();
    let start = at + readme[at..].find("```toml\n").unwrap() + 8;
    let end = start + readme[start..].find("```").unwrap();
    std::fs::write(dir.path().join("ollama-verify.toml"), &readme[start..end]).unwrap();
    bin()
        .args(["--target", "emulator", "--tags", "@check.api.root"])
        .assert()
        .success();

    // A bad value from the environment is not pinned on the file.
    std::fs::write(dir.path().join("ollama-verify.toml"), "strict = true\n").unwrap();
    bin()
        .arg("--list")
        .env("OLLAMA_VERIFY_TARGET", "dockr")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid value 'dockr'"))
        .stderr(predicates::prelude::PredicateBooleanExt::not(
            predicates::str::contains("ollama-verify.toml"),
        ));
}

/// The file's mistakes are named with its line, also when a flag gives the setting
/// anew; `--help` and `--version` are shown whatever the file holds; a boolean the file
/// turns on, the command line turns off (`--strict=false`).
#[test]
fn config_file_mistakes_name_the_line_and_booleans_can_be_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ollama-verify.toml");
    let bin = || in_folder(dir.path());
    std::fs::write(&config, "target = \"emulator\"\n\nconnect_timeout = 5\n").unwrap();
    bin()
        .arg("--list")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
        "ollama-verify.toml:3: `connect_timeout` is not a setting; did you mean `connect-timeout`?",
    ));
    std::fs::write(&config, "connect-timeout = 0\n").unwrap();
    bin()
        .args(["--list", "--connect-timeout", "5"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "ollama-verify.toml:1: `connect-timeout = 0`: expected a number of seconds from 0.001",
        ));
    std::fs::write(&config, "target = \"emulator\"\nstrict = \n").unwrap();
    bin()
        .arg("--list")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "ollama-verify.toml:2: not valid TOML: ",
        ));
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicates::str::contains("Usage: ollama-verify"))
        .stderr(predicates::str::contains(
            "ollama-verify.toml:2: not valid TOML",
        ));
    bin()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::contains("ollama-verify "));

    // The emulator target has no host: service.active is skipped, which --strict fails.
    std::fs::write(
        &config,
        "target = \"emulator\"\ntags = \"@check.service.active\"\nstrict = true\n",
    )
    .unwrap();
    bin().assert().code(1);
    bin().arg("--strict=false").assert().success();
}

/// A flag the target never reads is named as ignored, and the run goes on.
#[test]
fn flags_the_target_ignores_are_named() {
    support::verify_cmd()
        .args([
            "--target",
            "emulator",
            "--tags",
            "@check.api.root",
            "--keep",
        ])
        .arg("--image")
        .arg("ollama/ollama:0.17.1")
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "--image does not apply to --target emulator; it is ignored",
        ))
        .stderr(predicates::str::contains("--keep does not apply"));
}

/// `--emulator-config` on another target is named as ignored, and is not read: a file
/// that is not there does not stop a run that never uses it.
#[test]
fn an_ignored_emulator_config_is_not_read() {
    let port = free_port();
    support::verify_cmd()
        .args(["--target", "native", "--tags", "@check.api.root"])
        .args(["--host", &format!("127.0.0.1:{port}")])
        .args(["--emulator-config", "/nonexistent/emulator.toml"])
        .timeout(Duration::from_secs(60))
        .assert()
        // api.root fails (nothing listens there): the run ran.
        .code(1)
        .stderr(predicates::str::contains(
            "--emulator-config does not apply to --target native; it is ignored",
        ))
        .stderr(predicates::prelude::PredicateBooleanExt::not(
            predicates::str::contains("cannot read emulator config"),
        ));
    // On the emulator target it is read, and its mistake says what to do.
    support::verify_cmd()
        .args([
            "--target",
            "emulator",
            "--emulator-config",
            "/nonexistent/emulator.toml",
        ])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "Give --emulator-config an emulator configuration",
        ));
}

/// A bad address is named by where it came from: `--host`, or `OLLAMA_HOST`.
#[test]
fn a_bad_address_names_its_source() {
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = support::verify_cmd();
        cmd.args(["--tags", "@check.api.root"])
            .args(args)
            .timeout(Duration::from_secs(30));
        if let Some(v) = env {
            cmd.env("OLLAMA_HOST", v);
        }
        cmd.assert().code(2)
    };
    run(&["--host", "ftp://x"], None).stderr(predicates::str::contains(
        "--host (OLLAMA_VERIFY_HOST) \"ftp://x\" is not a usable address",
    ));
    run(&[], Some("ftp://x")).stderr(predicates::str::contains(
        "OLLAMA_HOST=\"ftp://x\" is not a usable address",
    ));
}

/// An `OLLAMA_VERIFY_*` variable set to nothing is as if unset: an empty
/// `OLLAMA_VERIFY_HOST` leaves `OLLAMA_HOST` in charge (not 127.0.0.1:11434), and an
/// empty `OLLAMA_VERIFY_FEATURES` or `OLLAMA_VERIFY_CONFIG` is no "a value is required".
#[test]
fn empty_variables_read_as_unset() {
    let bin = || {
        let mut cmd = support::verify_cmd();
        cmd.args(["--tags", "@check.api.root"])
            .timeout(Duration::from_secs(30));
        cmd
    };
    bin()
        .env("OLLAMA_VERIFY_HOST", "")
        .env("OLLAMA_HOST", "ftp://x")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "OLLAMA_HOST=\"ftp://x\" is not a usable address",
        ));
    bin()
        .arg("--list")
        .env("OLLAMA_VERIFY_FEATURES", "")
        .env("OLLAMA_VERIFY_CONFIG", "")
        .env("OLLAMA_VERIFY_EMULATOR_CONFIG", "")
        .env("OLLAMA_VERIFY_GPU", "")
        .env("OLLAMA_VERIFY_TARGET", "")
        .assert()
        .success()
        .stdout(predicates::str::contains("1 check(s)"));
}

/// `--list` runs nothing: the flags of the command line it does not read are named,
/// and a tag no scenario carries (a typo beside a good one) is named too.
#[test]
fn list_names_what_it_does_not_read() {
    support::verify_cmd()
        .args(["--list", "--tags", "@check.api.root or @check.api.rot"])
        .args(["--junit", "junit.xml", "--strict"])
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout(predicates::str::contains("1 check(s)"))
        .stderr(predicates::str::contains(
            "--junit does not apply to --list, which runs nothing; it is ignored",
        ))
        .stderr(predicates::str::contains(
            "--strict does not apply to --list",
        ))
        .stderr(predicates::str::contains(
            "--tags names @check.api.rot, which no scenario carries",
        ));
}

/// A `--features` folder without a .feature file says what it holds.
#[test]
fn a_features_folder_without_feature_files_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.feature.txt"), "Feature: A\n").unwrap();
    support::verify_cmd()
        .args(["--list", "--features"])
        .arg(dir.path())
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no .feature file in it or its subfolders (it holds api.feature.txt)",
        ));
}

/// `emulator --listen` on a port in use fails at once, saying what to try.
#[test]
fn the_emulator_on_a_busy_port_says_what_to_try() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    support::verify_cmd()
        .args(["emulator", "--listen", &addr.to_string()])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "cannot listen on {addr}"
        )))
        .stderr(predicates::str::contains(
            "Give --listen a free port on an address of this machine",
        ));
}
