//! Part 5, fleet: `ollama-verify fleet` over the summary JSONs of 1 000 hosts, each the
//! whole suite's report from one run of the emulator target (its facts' host name
//! changed per host; every 100th host with a failed check), writing the console table,
//! the fleet JSON, Markdown and JUnit. Wall time from spawn to exit, peak RSS from
//! `wait4`, and its CPU time (user + system), which a loaded machine does not inflate.

use super::{run_suite, Group, RUN_TIMEOUT, VERIFY};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

pub const HOSTS: usize = 1000;
pub const RUNS: usize = 3;

/// A healthy install, quick: every check of the emulator target passes or skips.
const HEALTHY: &str = "token_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n";

pub struct FleetBench {
    pub walls: Vec<Duration>,
    /// User + system CPU time of each run.
    pub cpu: Vec<Duration>,
    pub max_rss_bytes: u64,
    /// The size of one host's report, and how many checks it holds.
    pub report_bytes: usize,
    pub checks: usize,
    pub code: i32,
}

pub fn fleet() -> FleetBench {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("healthy.toml");
    std::fs::write(&config, HEALTHY).expect("write the emulator config");
    let run = run_suite(
        &[
            "--target",
            "emulator",
            "--emulator-config",
            config.to_str().expect("a UTF-8 path"),
        ],
        None,
        None,
    );
    let template = run.summary;
    assert_eq!(run.code, 0, "the template run failed a check: {template}");
    let checks = template["checks"].as_array().map_or(0, Vec::len);
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).expect("a reports folder");
    let mut files = Vec::with_capacity(HOSTS);
    let mut report_bytes = 0;
    for i in 0..HOSTS {
        let mut host: Value = template.clone();
        let name = format!("gpu-node-{i:04}");
        host["facts"]["host"]["name"] = name.clone().into();
        if i % 100 == 7 {
            if let Some(c) = host["checks"].as_array_mut().and_then(|c| c.first_mut()) {
                c["status"] = "fail".into();
            }
        }
        let text = host.to_string();
        report_bytes = text.len();
        let file = reports.join(format!("{name}.json"));
        std::fs::write(&file, text).expect("write a host's report");
        files.push(file);
    }
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("an output folder");
    let mut walls = Vec::new();
    let mut cpu = Vec::new();
    let mut max_rss_bytes = 0;
    let mut code = -1;
    for _ in 0..RUNS {
        let mut cmd = Command::new(VERIFY);
        cmd.arg("fleet")
            .args(["--color", "never", "--summary-json"])
            .arg(out.join("fleet.json"))
            .arg("--summary-md")
            .arg(out.join("fleet.md"))
            .arg("--junit")
            .arg(out.join("fleet.xml"))
            .args(&files)
            .stdout(std::fs::File::create(out.join("stdout")).expect("a stdout file"))
            .stderr(std::fs::File::create(out.join("stderr")).expect("a stderr file"));
        let (mut group, start) = Group::spawn(&mut cmd);
        let reaped = group
            .wait(RUN_TIMEOUT)
            .unwrap_or_else(|| panic!("ollama-verify fleet ran past {RUN_TIMEOUT:?}"));
        drop(group);
        walls.push(reaped.at - start);
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        cpu.push(time(reaped.rusage.ru_utime) + time(reaped.rusage.ru_stime));
        max_rss_bytes = max_rss_bytes.max(reaped.rusage.ru_maxrss.max(0) as u64 * 1024);
        code = match libc::WIFEXITED(reaped.status) {
            true => libc::WEXITSTATUS(reaped.status),
            false => -libc::WTERMSIG(reaped.status),
        };
    }
    let stdout = std::fs::read_to_string(out.join("stdout")).unwrap_or_default();
    assert!(
        stdout.contains(&format!(
            "{HOSTS} host(s): {} passed, {} failed",
            HOSTS - HOSTS / 100,
            HOSTS / 100
        )),
        "the fleet's verdict: {}",
        stdout.lines().last().unwrap_or("")
    );
    FleetBench {
        walls,
        cpu,
        max_rss_bytes,
        report_bytes,
        checks,
        code,
    }
}
