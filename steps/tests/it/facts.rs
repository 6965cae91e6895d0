//! The facts that make a run comparable, in every report: the host, the GPU, the
//! Ollama version and the models the chat and speed checks used, with the server's
//! settings; a server that is down leaves out what it would have told.

use crate::support::{self, emulator, Run};
use ollama_verify::catalog::CheckId;
use serde_json::Value;

/// This machine's host name, as the facts give it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn tag(id: CheckId) -> String {
    format!("@check.{}", id.as_str())
}

/// The emulator target, its server set to 4 parallel slots, flash attention and a
/// q8_0 KV cache, at version 0.5.7: every report carries those facts.
#[test]
fn every_report_carries_the_runs_facts() {
    let dir = tempfile::tempdir().unwrap();
    let config = emulator::fast()
        .version("0.5.7")
        .with(|c| {
            for (k, v) in [
                ("OLLAMA_NUM_PARALLEL", "4"),
                ("OLLAMA_FLASH_ATTENTION", "1"),
                ("OLLAMA_KV_CACHE_TYPE", "q8_0"),
            ] {
                c.env.insert(k.into(), v.into());
            }
        })
        .write_to(dir.path());
    let (junit, md) = (dir.path().join("junit.xml"), dir.path().join("summary.md"));
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "emulator", "--tags", &tag(CheckId::ApiChat)])
        .arg("--emulator-config")
        .arg(&config)
        .arg("--junit")
        .arg(&junit)
        .arg("--summary-md")
        .arg(&md)
        .current_dir(dir.path());
    let run = Run::of(cmd);
    assert_eq!(run.code, 0, "{}", run.context());
    let facts = &run.summary["facts"];
    let host = hostname();
    assert_eq!(facts["host"]["name"], host.as_str(), "{facts}");
    assert!(facts["host"]["kernel"].is_string(), "{facts}");
    assert!(facts["host"]["wsl2"].is_boolean(), "{facts}");
    assert_eq!(facts["ollama"]["version"], "0.5.7");
    assert_eq!(facts["ollama"]["target"], "emulator");
    let gpu = &facts["gpus"][0];
    assert_eq!(gpu["name"], "NVIDIA GeForce RTX 3060");
    assert_eq!(gpu["driver"], "560.94");
    assert_eq!(gpu["cuda"], "12.6");
    assert_eq!(gpu["vram_total_bytes"], 12_884_901_888u64);
    let models = facts["models"].as_array().expect("models");
    assert_eq!(
        models.len(),
        1,
        "the custom model, which the chat used: {facts}"
    );
    let m = &models[0];
    assert_eq!(m["name"], "my-coder:latest");
    assert_eq!(m["quantization"], "Q4_K_M");
    assert_eq!(m["parameter_size"], "7.6B");
    assert_eq!(
        m["context_length"], 16384,
        "setup's Modelfile sets num_ctx 16384"
    );
    assert_eq!(m["parallel"], 4);
    assert_eq!(m["flash_attention"], true);
    assert_eq!(m["kv_cache_type"], "q8_0");
    assert!(m["digest"].as_str().is_some_and(|d| d.len() >= 12), "{m}");

    // JUnit: the facts as every suite's properties.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit_report(&xml);
    for suite in &report {
        for (k, v) in [
            ("facts.host.name", host.as_str()),
            ("facts.ollama.version", "0.5.7"),
            ("facts.gpu.0.name", "NVIDIA GeForce RTX 3060"),
            ("facts.model.0.quantization", "Q4_K_M"),
        ] {
            assert!(
                suite.iter().any(|(pk, pv)| pk == k && pv == v),
                "{k}={v} in {suite:?}"
            );
        }
    }
    // Markdown: a short table of them.
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("### Facts\n\n| fact | value |"), "{md}");
    assert!(md.contains("| Ollama | 0.5.7 (emulator target) |"), "{md}");
    assert!(
        md.contains("| model my-coder:latest | Q4\\_K\\_M, 7.6B, context 16384, parallel 4, flash attention on, KV cache q8\\_0, "),
        "{md}"
    );
    // The console: one line before the closing summary.
    let line = format!("on {host}: NVIDIA GeForce RTX 3060, driver 560.94, Ollama 0.5.7");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == line)
        .unwrap_or_else(|| panic!("{line:?} in\n{}", run.stdout));
    assert_eq!(lines.get(at + 1), Some(&""), "{}", run.stdout);
}

/// A server that is down tells nothing: the host and the target stay, the rest is
/// left out, and the run ends as soon as without facts.
#[test]
fn a_down_server_leaves_out_what_it_would_tell() {
    let dir = tempfile::tempdir().unwrap();
    let bin = support::path_dir(dir.path(), None, false);
    let host = format!("127.0.0.1:{}", support::free_port());
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "native", "--host", &host, "--gpu", "none"])
        .args(["--tags", "@api"])
        .env("PATH", &bin)
        .current_dir(dir.path());
    let run = Run::of(cmd);
    assert_eq!(run.code, 1, "{}", run.context());
    let facts = &run.summary["facts"];
    assert_eq!(facts["host"]["name"], hostname().as_str(), "{facts}");
    assert_eq!(facts["ollama"], serde_json::json!({"target": "native"}));
    for absent in ["gpus", "models"] {
        assert!(facts.get(absent).is_none(), "{absent}: {facts}");
    }
    assert!(
        run.stdout
            .lines()
            .any(|l| l == format!("on {}: no GPU or Ollama version known", hostname())),
        "{}",
        run.stdout
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(10),
        "{:?}",
        run.elapsed
    );
}

/// The natively checked server's settings come from its service's environment where
/// its log cannot be read (no journal here): a stand-in `systemctl`.
#[test]
fn settings_from_the_service_where_the_log_is_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::Server::start(&emulator::fast().toml());
    let show = "ActiveState=active\nSubState=running\nUnitFileState=enabled\nLoadState=loaded\nFragmentPath=/etc/systemd/system/ollama.service\nEnvironment=OLLAMA_FLASH_ATTENTION=0 OLLAMA_NUM_PARALLEL=2\n";
    let bin = support::path_dir(dir.path(), Some((show, "", 0)), true);
    let mut cmd = support::verify_cmd();
    cmd.args(support::native_args(&server))
        .args(["--tags", &tag(CheckId::ApiChat)])
        .env("PATH", &bin)
        .current_dir(dir.path());
    let run = Run::of(cmd);
    assert_eq!(run.code, 0, "{}", run.context());
    let m: &Value = &run.summary["facts"]["models"][0];
    assert_eq!(m["name"], "my-coder:latest", "{m}");
    assert_eq!(m["parallel"], 2, "{m}");
    assert_eq!(m["flash_attention"], false, "{m}");
    assert!(m.get("kv_cache_type").is_none(), "{m}");
    assert_eq!(run.summary["facts"]["ollama"]["target"], "native");
}

/// Each suite's properties of a JUnit report, as (name, value) pairs.
fn quick_junit_report(xml: &str) -> Vec<Vec<(String, String)>> {
    let report = quick_junit::Report::deserialize_from_str(xml).unwrap();
    report
        .test_suites
        .iter()
        .map(|s| {
            s.properties
                .iter()
                .map(|p| (p.name.to_string(), p.value.to_string()))
                .collect()
        })
        .collect()
}
