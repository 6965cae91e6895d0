//! `ollama-verify init DIR` against the emulator: the spec it writes lists and passes
//! on the install it was written from, names what it measured, and is not overwritten
//! without `--force`.

use crate::support::{self, emulator, Run};
use std::path::Path;

fn init(dir: &Path, config: &Path, extra: &[&str]) -> std::process::Output {
    support::verify_cmd()
        .args(["init", "spec", "--target", "emulator", "--emulator-config"])
        .arg(config)
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn the_written_spec_lists_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let config = emulator::fast().token_rate(50.0).write_to(dir.path());
    let out = init(dir.path(), &config, &["--margin", "10%"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("custom my-coder"), "{stdout}");
    let spec = dir.path().join("spec");
    let perf = std::fs::read_to_string(spec.join("performance.feature")).unwrap();
    // 50 tok/s, 10% under: 45 (the emulator's pacing may give a little less).
    assert!(
        ["44", "45"]
            .iter()
            .any(|t| perf.contains(&format!("generation speed is at least {t} tokens"))),
        "{perf}"
    );
    let modelfile = std::fs::read_to_string(spec.join("custom-model.Modelfile")).unwrap();
    assert!(modelfile.contains("FROM qwen2.5-coder:7b\n"), "{modelfile}");

    let list = support::verify_cmd()
        .args(["--features", "spec", "--list"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        list.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );

    let mut cmd = support::verify_cmd();
    cmd.args([
        "--features",
        "spec",
        "--target",
        "emulator",
        "--emulator-config",
    ])
    .arg(&config)
    .current_dir(dir.path());
    let run = Run::of(cmd);
    assert_eq!(run.code, 0, "{}", run.context());
    for id in [
        "models.custom",
        "modelfile.parameters",
        "modelfile.system",
        "perf.generation",
    ] {
        assert_eq!(run.status(id), "pass", "{id}: {}", run.detail(id));
    }
}

#[test]
fn nothing_is_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = emulator::fast().write_to(dir.path());
    let spec = dir.path().join("spec");
    std::fs::create_dir(&spec).unwrap();
    std::fs::write(spec.join("api.feature"), "mine").unwrap();
    let out = init(dir.path(), &config, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("spec/api.feature exists; give --force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(spec.join("api.feature")).unwrap(),
        "mine"
    );
    assert!(
        !spec.join("performance.feature").exists(),
        "nothing written"
    );

    let out = init(dir.path(), &config, &["--force"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = std::fs::read_to_string(spec.join("api.feature")).unwrap();
    assert!(api.contains("Feature:"), "{api}");
}
