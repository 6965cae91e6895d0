//! `ollama-verify fleet`: the summary JSONs of real runs (three hosts, one of them
//! without its custom model), a missing report and a file that is no report, merged
//! into one verdict that names each failing host.

use crate::support::{self, emulator};
use ollama_verify::catalog::CheckId;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A run of the emulator target as host `name` (its facts' host name set to it, as a
/// run on that machine would write), its summary JSON written to `dir/<file>.json`.
fn host_report(dir: &Path, file: &str, name: &str, sick: bool) -> PathBuf {
    let mut config = emulator::fast();
    if sick {
        config = config.with(|c| c.custom.clear());
    }
    let config = config.write_to(&dir.join(file));
    let summary = dir.join(format!("{file}.json"));
    let tags = format!(
        "@check.{} or @check.{}",
        CheckId::ModelsCustom.as_str(),
        CheckId::ApiRoot.as_str()
    );
    support::verify_cmd()
        .args(["--target", "emulator", "--tags", &tags])
        .arg("--emulator-config")
        .arg(&config)
        .arg("--summary-json")
        .arg(&summary)
        .current_dir(dir)
        .output()
        .unwrap();
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    json["facts"]["host"]["name"] = name.into();
    std::fs::write(&summary, json.to_string()).unwrap();
    summary
}

struct Merged {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fleet(dir: &Path, args: &[&Path], extra: &[&str]) -> Merged {
    let out = support::verify_cmd()
        .arg("fleet")
        .args(extra)
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .unwrap();
    Merged {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_sick_a_missing_and_a_garbage_report_fail_the_fleet_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reports");
    std::fs::create_dir_all(dir.join("host-a")).unwrap();
    for h in ["host-b", "host-c"] {
        std::fs::create_dir_all(dir.join(h)).unwrap();
    }
    let a = host_report(&dir, "host-a", "host-a", false);
    let b = host_report(&dir, "host-b", "host-b", false);
    let c = host_report(&dir, "host-c", "host-c", true);
    let d = dir.join("host-d.json");
    let e = dir.join("host-e.json");
    std::fs::write(&e, "<html>502 Bad Gateway</html>").unwrap();

    // The healthy ones alone pass.
    let healthy = fleet(&dir, &[&a, &b], &[]);
    assert_eq!(healthy.code, 0, "{}{}", healthy.stdout, healthy.stderr);
    assert!(
        healthy.stdout.ends_with("2 host(s): 2 passed, 0 failed\n"),
        "{}",
        healthy.stdout
    );

    let (json, md, xml) = (
        dir.join("fleet.json"),
        dir.join("fleet.md"),
        dir.join("fleet.xml"),
    );
    let outputs = [
        "--summary-json",
        json.to_str().unwrap(),
        "--summary-md",
        md.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ];
    // Named as given, from the reports' folder: the console shows them so.
    let relative: Vec<&Path> = [&a, &b, &c, &d, &e]
        .iter()
        .map(|p| p.strip_prefix(&dir).unwrap())
        .collect();
    let all = fleet(&dir, &relative, &outputs);
    assert_eq!(all.code, 1, "{}{}", all.stdout, all.stderr);
    insta::assert_snapshot!(all.stdout);

    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let hosts: Vec<(&str, &str)> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("host-a", "pass"),
            ("host-b", "pass"),
            ("host-c", "fail"),
            ("host-d", "fail"),
            ("host-e", "fail")
        ]
    );
    assert_eq!(v["hosts"][2]["problems"][0]["id"], "models.custom");
    assert!(v["hosts"][3]["error"]
        .as_str()
        .unwrap()
        .starts_with("no report at "));
    assert!(v["hosts"][4]["error"]
        .as_str()
        .unwrap()
        .contains("is not a summary JSON"));
    assert_eq!(v["hosts"][0]["facts"]["ollama"]["target"], "emulator");

    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("- **host-c** `models.custom`: "), "{md}");
    assert!(md.contains("| host-d | ❌ NO REPORT |"), "{md}");

    let report =
        quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, ["host-a", "host-b", "host-c", "host-d", "host-e"]);
    assert_eq!(
        report.failures, 3,
        "host-c's check, host-d's and host-e's missing report"
    );
}

#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let none = fleet(tmp.path(), &[], &[]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("<REPORT>"), "{}", none.stderr);

    let report = tmp.path().join("a.json");
    std::fs::write(&report, "{}").unwrap();
    let over = fleet(
        tmp.path(),
        &[&report],
        &["--summary-json", report.to_str().unwrap()],
    );
    assert_eq!(over.code, 2, "{}", over.stderr);
    assert!(
        over.stderr.contains("--summary-json names"),
        "{}",
        over.stderr
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "{}");

    let nowhere = tmp.path().join("gone/fleet.md");
    let gone = fleet(
        tmp.path(),
        &[&report],
        &["--summary-md", nowhere.to_str().unwrap()],
    );
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(gone.stderr.contains("mkdir -p"), "{}", gone.stderr);
}
