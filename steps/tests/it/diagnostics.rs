//! `ollama-verify --tags @diagnose` through the binary: each case breaks one thing the
//! way it breaks on a real install (no GPU found, the `/api/ps` misreport, an
//! out-of-memory in the log, settings not applied, a restart loop, an old server) and
//! asserts the diagnosis, its quoted evidence and its next step.
//!
//! Emulator-target cases run the emulator in-process; native cases run
//! `ollama-emulator serve` with its log (stderr) in a file that a stand-in
//! `journalctl` prints, beside a stand-in `systemctl`.

use crate::support;

use rstest::rstest;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::emulator::{fast, EmulatorConfigBuilder};
use support::{emulated, native_args, Run, Server};

fn verify(args: &[&str], path: Option<&Path>) -> Run {
    let mut cmd = support::verify_cmd();
    cmd.args(args).timeout(Duration::from_secs(60));
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    Run::of(cmd)
}

fn diagnose_only(config: EmulatorConfigBuilder) -> Run {
    emulated(config, &["--tags", "@diagnose"])
}

#[test]
fn a_healthy_emulator_diagnoses_nothing_and_skips_host_facts_with_reasons() {
    let run = diagnose_only(fast());
    let expected: BTreeMap<String, String> = [
        ("diagnose.gpu_discovered", "pass"),
        ("diagnose.driver_floor", "pass"),
        ("diagnose.offload", "pass"),
        ("diagnose.settings", "skip"),
        ("diagnose.service_health", "skip"),
        ("diagnose.port_owner", "skip"),
        ("diagnose.context", "pass"),
        ("diagnose.platform", "skip"),
        ("diagnose.vulnerable", "pass"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(run.statuses(), expected, "{}", run.stdout);
    assert_eq!(run.code, 0);
    assert!(run
        .detail("diagnose.offload")
        .contains("offloaded 29/29 layers"));
    assert!(run.detail("diagnose.driver_floor").contains("8.6"));
    assert!(run
        .detail("diagnose.port_owner")
        .contains("--target native"));
    assert!(run.detail("diagnose.platform").contains("emulated"));
}

#[rstest]
#[case::no_gpu_discovered(
    fast().with(|c| c.gpu_discovered = false),
    &[("diagnose.gpu_discovered", "fail"), ("diagnose.offload", "fail")],
    &[("diagnose.gpu_discovered", "id=cpu library=cpu"), ("diagnose.gpu_discovered", "Next:"), ("diagnose.offload", "offloaded 0/29 layers")]
)]
#[case::api_ps_misreport(
    fast().with(|c| c.vram_held = false),
    &[("diagnose.offload", "fail")],
    &[("diagnose.offload", "no VRAM held by an Ollama process"), ("diagnose.offload", "100% GPU")]
)]
#[case::partial_offload(
    fast().gpu_offload(0.6),
    &[("diagnose.offload", "warn")],
    &[("diagnose.offload", "offloaded 17/29 layers to GPU")]
)]
#[case::out_of_memory(
    fast().with(|c| c.log_lines = vec![r#"time=2026-03-02T10:00:09.000Z level=WARN source=server.go:600 msg="runtime OOM detected, retrying""#.into()]),
    &[("diagnose.context", "fail")],
    &[("diagnose.context", "runtime OOM detected"), ("diagnose.context", "OLLAMA_NUM_PARALLEL")]
)]
#[case::truncated_prompt(
    fast().with(|c| c.log_lines = vec![r#"time=2026-03-02T10:00:05.000Z level=WARN source=runner.go:153 msg="truncating input prompt" limit=4096 prompt=9123 keep=4 new=4096"#.into()]),
    &[("diagnose.context", "fail")],
    &[("diagnose.context", "limit=4096 prompt=9123"), ("diagnose.context", "num_ctx")]
)]
#[case::old_server_on_loopback(
    fast().version("0.15.4"),
    &[("diagnose.vulnerable", "warn")],
    &[("diagnose.vulnerable", "CVE-2026-7482"), ("diagnose.vulnerable", "upgrade")]
)]
fn each_cause_is_diagnosed_with_its_evidence(
    #[case] config: EmulatorConfigBuilder,
    #[case] changed: &[(&str, &str)],
    #[case] says: &[(&str, &str)],
) {
    let run = diagnose_only(config);
    let healthy = diagnose_only(fast()).statuses();
    let mut expected = healthy.clone();
    for (id, status) in changed {
        expected.insert(id.to_string(), status.to_string());
    }
    assert_eq!(run.statuses(), expected, "{}", run.stdout);
    for (id, text) in says {
        assert!(run.detail(id).contains(text), "{id}: {}", run.detail(id));
    }
    let fails = changed.iter().any(|(_, s)| *s == "fail");
    assert_eq!(run.code, i32::from(fails));
}

/// The summary shows, under the failed verification check, what explains it.
#[test]
fn a_failed_check_carries_its_diagnosis() {
    let run = emulated(
        fast().token_rate(20.0).answer_tokens(6).gpu_offload(0.7),
        &[],
    );
    assert_eq!(run.status("perf.generation"), "fail");
    let why = run.check("perf.generation")["diagnosis"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnosis: {}", run.check("perf.generation")))
        .clone();
    assert!(
        why[0]
            .as_str()
            .unwrap()
            .starts_with("diagnose.offload: \"time="),
        "{why:?}"
    );
    assert!(why[0]
        .as_str()
        .unwrap()
        .contains("offloaded 20/29 layers to GPU"));
    assert!(
        run.stdout.contains("why: diagnose.offload"),
        "{}",
        run.stdout
    );
    // Passing checks carry none; the field is left out.
    assert!(run.check("api.root").get("diagnosis").is_none());
}

// ---- native target: an emulator process whose log a stand-in journalctl prints ----

/// `ollama-emulator serve` with `env`, its stderr (the server's log) into `dir/journal`.
fn serve(dir: &Path, env: &[(&str, &str)]) -> Server {
    Server::start_with(&fast().toml(), env, Some(&dir.join("journal")))
}

fn script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A PATH folder: the emulator CLI as `ollama`, a `systemctl` printing `show`, a
/// `journalctl` printing the server's log, and the named real tools.
fn path_dir(root: &Path, show: &str, tools: &[&str]) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ollama-emulator"), bin.join("ollama")).unwrap();
    std::fs::write(root.join("show.out"), show).unwrap();
    script(
        &bin.join("systemctl"),
        &format!("#!/bin/sh\n/bin/cat '{}/show.out'\n", root.display()),
    );
    script(
        &bin.join("journalctl"),
        &format!("#!/bin/sh\n/bin/cat '{}/journal'\n", root.display()),
    );
    for tool in tools {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {tool} on this machine"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    bin
}

fn show(host: &str, extra_env: &str, props: &str) -> String {
    format!("ActiveState=active\nSubState=running\nUnitFileState=enabled\nLoadState=loaded\nFragmentPath=/etc/systemd/system/ollama.service\nDropInPaths=/etc/systemd/system/ollama.service.d/override.conf\nEnvironment=\"OLLAMA_HOST={host}\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m{extra_env}\n{props}")
}

fn native(server: &Server, path: &Path) -> Run {
    verify(
        &[&native_args(server)[..], &["--tags", "@diagnose"]].concat(),
        Some(path),
    )
}

#[test]
fn settings_applied_are_read_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            ("OLLAMA_FLASH_ATTENTION", "1"),
            ("OLLAMA_KEEP_ALIVE", "30m"),
        ],
    );
    let path = path_dir(
        dir.path(),
        &show(&server.host, "", "NRestarts=0\nExecMainStatus=0\n"),
        &[],
    );
    let run = native(&server, &path);
    assert_eq!(
        run.status("diagnose.settings"),
        "pass",
        "{}",
        run.detail("diagnose.settings")
    );
    assert_eq!(
        run.status("diagnose.gpu_discovered"),
        "pass",
        "{}",
        run.detail("diagnose.gpu_discovered")
    );
    assert_eq!(run.status("diagnose.service_health"), "pass");
    assert_eq!(run.code, 0, "{}", run.stdout);

    // The unit now says more than the running server was started with.
    std::fs::write(
        dir.path().join("show.out"),
        show(&server.host, " OLLAMA_NUM_PARALLEL=4", "NRestarts=0\n"),
    )
    .unwrap();
    let run = native(&server, &path);
    assert_eq!(run.status("diagnose.settings"), "warn");
    let detail = run.detail("diagnose.settings");
    assert!(
        detail.contains("OLLAMA_NUM_PARALLEL=4") && detail.contains("OLLAMA_NUM_PARALLEL:1"),
        "{detail}"
    );
    assert!(detail.contains("daemon-reload"), "{detail}");
}

#[rstest]
#[case::crashed_once("NRestarts=1\nExecMainStatus=0\n", "warn")]
#[case::restart_loop("NRestarts=7\nExecMainStatus=1\n", "fail")]
fn restarts_are_diagnosed(#[case] props: &str, #[case] status: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let path = path_dir(dir.path(), &show(&server.host, "", props), &[]);
    let run = native(&server, &path);
    assert_eq!(
        run.status("diagnose.service_health"),
        status,
        "{}",
        run.detail("diagnose.service_health")
    );
    assert!(run
        .detail("diagnose.service_health")
        .contains("journalctl -u ollama"));
}

#[test]
fn without_journal_or_proc_tools_log_checks_skip_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let path = path_dir(dir.path(), &show(&server.host, "", ""), &[]);
    std::fs::remove_file(path.join("journalctl")).unwrap();
    let run = native(&server, &path);
    for id in ["diagnose.gpu_discovered", "diagnose.settings"] {
        assert_eq!(run.status(id), "skip", "{id}");
        assert!(
            run.detail(id).contains("no journalctl"),
            "{}",
            run.detail(id)
        );
    }
    assert_eq!(run.status("diagnose.port_owner"), "skip");
    assert!(run
        .detail("diagnose.port_owner")
        .contains("`cat` is not installed"));
}

/// Who listens on the port, read from this machine's /proc with the real `cat` and
/// `find`: the emulator process, by its pid.
#[test]
fn the_port_owner_is_found_in_proc() {
    if std::fs::read_to_string("/proc/net/tcp").is_err() {
        // Not eprintln!: the test harness would swallow it for a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: /proc/net/tcp cannot be read here"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let path = path_dir(dir.path(), &show(&server.host, "", ""), &["cat", "find"]);
    let run = native(&server, &path);
    let detail = run.detail("diagnose.port_owner");
    let pid = server.pid();
    match run.status("diagnose.port_owner").as_str() {
        "pass" => assert!(
            detail.contains(&format!("pid {pid} `")) && detail.contains("ollama-emulator serve"),
            "{detail}"
        ),
        // Other tests' emulators run beside this one: two servers warn, naming the owner.
        "warn" => assert!(
            detail.contains("Ollama servers listen")
                && detail.contains(&format!("only pid {pid} answers")),
            "{detail}"
        ),
        other => panic!("{other}: {detail}"),
    }
}
