//! What a person reads on the console: a line per check, then the closing summary
//! (failures and warnings in full, skips grouped by their reason, the counts); the full
//! table with `--verbose`; colour only where asked for or on a terminal.

use crate::support::{self, Run};
use ollama_verify::catalog::CheckId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The most lines a run against a server that is down may print, stdout and stderr
/// together: one screen.
const DOWN_SERVER_LINES: usize = 50;

/// The width the console wraps to in a pipe.
const PIPE_WIDTH: usize = 100;

/// `ollama-verify` against a port where nothing listens, without a GPU, on a PATH with
/// neither `ollama` nor `systemctl` (nor anything else) in it, in an empty folder.
fn down_server(dir: &Path, extra: &[&str]) -> (Run, String) {
    let bin = support::path_dir(dir, None, false);
    let host = format!("127.0.0.1:{}", support::free_port());
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "native", "--host", &host, "--gpu", "none"])
        .args(extra)
        .env("PATH", &bin)
        .current_dir(dir);
    (Run::of(cmd), host)
}

/// The emulator target with a few checks (two skipped for one reason), in `dir`.
fn emulated(dir: &Path, extra: &[&str]) -> Run {
    let tags = [
        CheckId::ApiRoot,
        CheckId::ServiceActive,
        CheckId::ServiceEnabled,
    ]
    .map(|id| format!("@check.{}", id.as_str()))
    .join(" or ");
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "emulator", "--tags", &tags])
        .args(extra)
        .env_remove("NO_COLOR")
        .current_dir(dir);
    Run::of(cmd)
}

/// The skipped checks' ids by their reason, from the summary JSON.
fn skips_by_reason(run: &Run) -> BTreeMap<String, BTreeSet<String>> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in run.summary["checks"].as_array().unwrap() {
        if c["status"] == "skip" {
            let reason = c["detail"].as_str().unwrap().to_string();
            groups
                .entry(reason)
                .or_default()
                .insert(c["id"].as_str().unwrap().to_string());
        }
    }
    groups
}

/// The closing summary: the lines after the first empty one.
fn closing(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .collect()
}

/// The closing summary's skip groups, as the count in the heading and the ids its
/// lines list: a group is a `SKIP  <n> ...` line and the indented lines under it, its
/// ids the last of those lines that hold nothing but check ids.
fn skip_groups(closing: &[&str]) -> Vec<(usize, BTreeSet<String>)> {
    let is_ids = |l: &str| {
        l.trim()
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .all(|id| CheckId::parse(id).is_some())
    };
    let mut groups = Vec::new();
    for (i, line) in closing.iter().enumerate() {
        let Some(count) = line
            .strip_prefix("SKIP  ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let block: Vec<&str> = closing[i + 1..]
            .iter()
            .take_while(|l| l.starts_with(' '))
            .copied()
            .collect();
        let ids = block
            .iter()
            .rev()
            .take_while(|l| is_ids(l))
            .flat_map(|l| l.split(','))
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .collect();
        groups.push((count, ids));
    }
    groups
}

/// A server that is down: a screen of output, not a table of forty rows; the skips
/// that share a reason are one group in the closing summary, listing their ids, and
/// that reason is printed once while the run goes on.
#[test]
fn a_down_server_prints_one_screen() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = down_server(dir.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.context());
    assert_eq!(run.status(CheckId::ApiRoot.as_str()), "fail");
    let lines = run.stdout.lines().count() + run.stderr.lines().count();
    assert!(
        lines <= DOWN_SERVER_LINES,
        "{lines} lines: {}",
        run.context()
    );

    let closing = closing(&run.stdout);
    assert!(
        closing.iter().all(|l| l.chars().count() <= PIPE_WIDTH),
        "{}",
        run.stdout
    );
    let shown = skip_groups(&closing);
    let expected: Vec<BTreeSet<String>> = skips_by_reason(&run)
        .into_values()
        .filter(|ids| ids.len() > 1)
        .collect();
    assert!(!expected.is_empty(), "{}", run.context());
    for ids in &expected {
        assert!(
            shown.contains(&(ids.len(), ids.clone())),
            "no group of {ids:?} in {shown:?}:\n{}",
            run.stdout
        );
    }
    assert_eq!(shown.len(), expected.len(), "{shown:?}");
    let unreachable =
        [CheckId::ApiTags, CheckId::ApiChat, CheckId::ModelsBase].map(|id| id.as_str().to_string());
    assert!(
        shown
            .iter()
            .any(|(_, ids)| unreachable.iter().all(|id| ids.contains(id))),
        "{shown:?}"
    );
    // Before the closing summary, each skip's reason comes once.
    let live: Vec<&str> = run
        .stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("SKIP"))
        .collect();
    assert_eq!(live.len(), skips_by_reason(&run).len(), "{}", run.stdout);
}

/// The closing summary's wording, with the port (a free one, different each run) as
/// `PORT`; it holds no timing (a down server answers nothing to time).
#[test]
fn the_closing_summary_of_a_down_server_reads_so() {
    let dir = tempfile::tempdir().unwrap();
    let (run, host) = down_server(dir.path(), &[]);
    let closing = closing(&run.stdout)
        .join("\n")
        .replace(&host, "127.0.0.1:PORT");
    insta::assert_snapshot!(closing);
}

/// `--verbose` (or `verbose = true` in the config file) prints the table and every
/// check's line; without it, neither.
#[test]
fn verbose_prints_the_table_and_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let table = |run: &Run| run.stdout.lines().any(|l| l.starts_with('┌'));
    let live_skips = |run: &Run| {
        run.stdout
            .lines()
            .take_while(|l| !l.is_empty())
            .filter(|l| l.starts_with("SKIP"))
            .count()
    };
    let short = emulated(dir.path(), &[]);
    assert_eq!(short.code, 0, "{}", short.context());
    assert!(
        !table(&short) && !short.stdout.contains('┆'),
        "{}",
        short.stdout
    );
    assert_eq!(live_skips(&short), 1, "{}", short.stdout);

    let verbose = emulated(dir.path(), &["--verbose"]);
    assert!(table(&verbose), "{}", verbose.stdout);
    let root = CheckId::ApiRoot.as_str();
    assert!(
        verbose
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("│ {root} ")) && l.contains('┆')),
        "{}",
        verbose.stdout
    );
    assert_eq!(live_skips(&verbose), 2, "{}", verbose.stdout);
    assert!(verbose
        .stdout
        .trim_end()
        .ends_with("1 passed, 0 failed, 0 warned, 2 skipped"));

    std::fs::write(dir.path().join("ollama-verify.toml"), "verbose = true\n").unwrap();
    assert!(
        table(&emulated(dir.path(), &[])),
        "verbose = true in the file"
    );
}

/// ANSI colour where asked for (`--color always`, also over `NO_COLOR`), none with
/// `--color never`, `NO_COLOR`, or in a pipe by default.
#[rstest::rstest]
#[case::always(&["--color", "always"], None, true)]
#[case::always_over_no_color(&["--color=always"], Some("1"), true)]
#[case::never(&["--color", "never"], None, false)]
#[case::no_color(&[], Some("1"), false)]
#[case::a_pipe(&[], None, false)]
fn colour_is_asked_for(#[case] flags: &[&str], #[case] no_color: Option<&str>, #[case] ansi: bool) {
    let dir = tempfile::tempdir().unwrap();
    let tags = format!("@check.{}", CheckId::ApiRoot.as_str());
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "emulator", "--tags", &tags, "--verbose"])
        .args(flags)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .current_dir(dir.path());
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let run = Run::of(cmd);
    assert_eq!(run.code, 0, "{}", run.context());
    assert_eq!(run.stdout.contains("\u{1b}["), ansi, "{:?}", run.stdout);
    assert!(!run.stderr.contains("\u{1b}["), "{:?}", run.stderr);
}
