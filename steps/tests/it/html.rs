//! The HTML report (`--html`) of an emulator run: every selected check is on the page,
//! the measured figures are drawn, and nothing on it is fetched from elsewhere.

use crate::support::{self, emulator, Run};

#[test]
fn the_page_shows_every_selected_check() {
    let dir = tempfile::tempdir().unwrap();
    let config = emulator::fast().write_to(dir.path());
    let page = dir.path().join("report.html");
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "emulator", "--tags", "@api or @perf"])
        .arg("--emulator-config")
        .arg(&config)
        .arg("--html")
        .arg(&page)
        .current_dir(dir.path());
    let run = Run::of(cmd);
    let html = std::fs::read_to_string(&page)
        .unwrap_or_else(|e| panic!("no page: {e}\n{}", run.context()));
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    let ids = run.ids();
    assert!(ids.len() > 5, "{}", run.context());
    for id in &ids {
        assert!(
            html.contains(&format!("id=\"check-{id}\"")),
            "{id} is not on the page"
        );
    }
    assert_eq!(run.status("perf.generation"), "pass", "{}", run.context());
    assert!(html.contains("against the target of"), "the speed chart");
    assert!(html.contains("the memory bandwidth allows"), "the roofline");
    assert!(html.contains("GiB VRAM in use"), "the VRAM headroom");
    for fetched in ["<script", "<link", " src=", "@import", "url("] {
        assert!(!html.contains(fetched), "{fetched} on the page");
    }
}

/// An HTML report that cannot be written is named, and the run's other reports are.
#[test]
fn an_unwritable_page_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::verify_cmd()
        .args([
            "--target",
            "emulator",
            "--tags",
            "@check.api.root",
            "--html",
        ])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the --html report to") && stderr.contains("report.html"),
        "{stderr}"
    );
}
