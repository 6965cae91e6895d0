//! The report files a run is asked for (`--junit`, `--json`, `--summary-json`,
//! `--summary-md`, `--html`): checked before the run (each writable, no two at one path), and
//! written after it, each attempted whatever happened to the others.

use crate::options::RunOptions;
use crate::staged::{append, replace, Staged};
use crate::usage::UsageError;
use ollama_verify::report::Summary;
use std::path::{Path, PathBuf};

/// `$GITHUB_STEP_SUMMARY`, where GitHub Actions set it: the file of this job step's
/// summary, which each writer appends to.
pub(crate) fn step_summary() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// What writes one report's text from the summary.
type Writer<'a> = dyn Fn(&Summary) -> String + 'a;

/// The reports made from the checks' results: whole, also for a run stopped early.
/// Each is attempted whatever happened to the others; the reasons of those that could
/// not be written are returned. The Markdown summary is appended to the file when it is
/// `step_summary`'s (GitHub's step summary, which other steps' writers share); every
/// other report replaces its file whole ([`replace`]).
pub(crate) fn write_reports(
    opts: &RunOptions,
    summary: &Summary,
    step_summary: Option<&Path>,
) -> Vec<String> {
    let html = |s: &Summary| crate::html::page(s, opts.features.as_deref());
    let reports: [(&str, _, &Writer); 5] = [
        ("--junit", &opts.junit, &Summary::to_junit),
        ("--summary-json", &opts.summary_json, &Summary::to_json),
        ("--summary-md", &opts.summary_md, &Summary::to_markdown),
        ("--prometheus", &opts.prometheus, &crate::metrics::textfile),
        ("--html", &opts.html, &html),
    ];
    let mut unwritten = Vec::new();
    for (flag, path, text) in reports {
        let Some(path) = path else { continue };
        let appended = flag == "--summary-md" && step_summary.is_some_and(|s| same_file(path, s));
        let written = match appended {
            true => append(path, &text(summary)),
            false => replace(path, &text(summary)),
        };
        if let Err(e) = written {
            unwritten.push(format!(
                "cannot write the {flag} report to {}: {e}. The other reports and the console summary are complete; make room or grant access there, or give {flag} another path",
                path.display()
            ));
        }
    }
    unwritten
}

/// Cucumber's JSON report, begun; a path that cannot be begun is named in `unwritten`.
pub(crate) fn stage_json(
    path: Option<&Path>,
    unwritten: &mut Vec<String>,
) -> Option<(Staged, PathBuf)> {
    let path = path?;
    match Staged::new(path) {
        Ok(staged) => Some((staged, path.to_path_buf())),
        Err(e) => {
            unwritten.push(unwritten_json(path, &e));
            None
        }
    }
}

/// Puts cucumber's JSON report in place, or names it in `unwritten`.
pub(crate) fn commit_json((staged, path): (Staged, PathBuf), unwritten: &mut Vec<String>) {
    if let Err(e) = staged.commit() {
        unwritten.push(unwritten_json(&path, &e));
    }
}

fn unwritten_json(path: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot write the --json report to {}: {e}. The other reports and the console summary are complete; make room or grant access there, or give --json another path",
        path.display()
    )
}

/// Two reports asked for at one path would leave only the last written.
pub(crate) fn distinct_reports(opts: &RunOptions) -> Result<(), UsageError> {
    let reports = opts.reports();
    for (i, (flag, path)) in reports.iter().enumerate() {
        let Some(path) = path else { continue };
        if let Some((other, _)) = reports[i + 1..]
            .iter()
            .find(|(_, p)| p.is_some_and(|p| same_file(p, path)))
        {
            return Err(UsageError::new(format!(
                "{flag} and {other} both name {}: each report needs a file of its own",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Whether every report's path can be written ([`writable`]), checked before the run:
/// none is opened for writing yet, so a usage error, or a target that cannot start,
/// leaves each as it was.
pub(crate) fn all_writable(opts: &RunOptions) -> Result<(), UsageError> {
    for (flag, report) in opts.reports() {
        writable(flag, report)?;
    }
    Ok(())
}

/// Whether two paths name one file, which need not exist yet (its folder must).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    let full = |p: &Path| -> Option<PathBuf> {
        let folder = match p.parent() {
            Some(f) if !f.as_os_str().is_empty() => f,
            _ => Path::new("."),
        };
        Some(folder.canonicalize().ok()?.join(p.file_name()?))
    };
    a == b || matches!((full(a), full(b)), (Some(x), Some(y)) if x == y)
}

/// Whether `path` can be written, leaving no file behind where there was none (a run
/// that stops with a usage error leaves no empty report for a CI step to choke on) and
/// an existing one as it was. Through a link, the file opened is the link's target:
/// one that the check created is removed, the link stays. Why not names `flag`, and
/// what to do.
fn writable(flag: &str, path: Option<&Path>) -> Result<(), UsageError> {
    let Some(p) = path else { return Ok(()) };
    // Whether the file the path leads to exists (a link to nothing: no).
    let existed = std::fs::metadata(p).is_ok();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(p)
        .map_err(|e| unwritable(flag, p, &e))?;
    if !existed {
        // What the open created: the path itself, or the file at the end of its links.
        if let Ok(created) = std::fs::canonicalize(p) {
            let _ = std::fs::remove_file(created);
        }
    }
    Ok(())
}

/// Why the report `flag` asks for cannot be written at `path`, found before the run,
/// with what to do about it.
fn unwritable(flag: &str, path: &Path, e: &std::io::Error) -> UsageError {
    use std::io::ErrorKind;
    let folder = match path.parent() {
        Some(f) if !f.as_os_str().is_empty() => f,
        _ => Path::new("."),
    };
    let next = match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory if !folder.is_dir() => format!(
            "its folder {} does not exist: create it (`mkdir -p {}`), or give {flag} another path",
            folder.display(),
            folder.display()
        ),
        ErrorKind::IsADirectory => format!(
            "that is a folder: give {flag} a file's path, such as {}",
            path.join(default_name(flag)).display()
        ),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            format!("this user may not write there: grant access, or give {flag} another path")
        }
        _ => format!("give {flag} another path"),
    };
    UsageError::new(format!(
        "cannot write the {flag} report to {}: {e}; {next}. Nothing was run",
        path.display()
    ))
}

/// The file name a report is usually given, for a hint.
fn default_name(flag: &str) -> &'static str {
    match flag {
        "--junit" => "junit.xml",
        "--json" => "cucumber.json",
        "--summary-md" => "summary.md",
        "--html" => "report.html",
        _ => "summary.json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ollama_verify::check::{CheckResult, Outcome};
    use rstest::rstest;

    fn summary() -> Summary {
        Summary::new(vec![CheckResult::new(
            "api.root",
            "root",
            Outcome::pass("ok"),
        )])
    }

    /// What the usage check leaves where each kind of path led: nothing new, and a
    /// link as it was (`None`: the path does not exist, `Some(text)`: a file with it).
    #[rstest]
    #[case::a_new_file(false, None)]
    #[case::an_existing_file(false, Some("previous"))]
    #[case::a_link_to_nothing(true, None)]
    #[case::a_link_to_a_file(true, Some("previous"))]
    fn the_usage_check_leaves_every_path_as_it_was(
        #[case] link: bool,
        #[case] content: Option<&str>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("junit.xml");
        if let Some(text) = content {
            std::fs::write(&target, text).unwrap();
        }
        let path = match link {
            true => {
                let link = dir.path().join("link.xml");
                std::os::unix::fs::symlink(&target, &link).unwrap();
                link
            }
            false => target.clone(),
        };
        writable("--junit", Some(&path)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), content);
        if link {
            let meta = std::fs::symlink_metadata(&path).expect("the link stays");
            assert!(meta.file_type().is_symlink());
        }
    }

    /// A path that cannot be written is named with its flag and what to do, as fits.
    #[test]
    fn an_unwritable_path_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone/junit.xml");
        let e = writable("--junit", Some(&missing)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "cannot write the --junit report to {}: ",
                missing.display()
            )) && e.contains(&format!("`mkdir -p {}`", dir.path().join("gone").display()))
                && e.contains("or give --junit another path"),
            "{e}"
        );
        let e = writable("--summary-md", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "that is a folder: give --summary-md a file's path, such as {}",
                dir.path().join("summary.md").display()
            )),
            "{e}"
        );
    }

    /// One report that cannot be written does not keep the others from being written.
    #[test]
    fn every_report_is_attempted() {
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            junit: Some(dir.path().join("gone/junit.xml")),
            summary_json: Some(dir.path().join("summary.json")),
            summary_md: Some("/dev/full".into()),
            ..Default::default()
        };
        let unwritten = write_reports(&opts, &summary(), None);
        assert_eq!(unwritten.len(), 2, "{unwritten:?}");
        assert!(
            unwritten[0].starts_with("cannot write the --junit report to ")
                && unwritten[0].contains("give --junit another path"),
            "{}",
            unwritten[0]
        );
        assert!(unwritten[1].contains("/dev/full"), "{}", unwritten[1]);
        let json = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
        assert!(json.contains("\"api.root\""), "{json}");
    }

    /// GitHub's step summary file is appended to, as GitHub asks of each writer; any
    /// other Markdown file is replaced.
    #[test]
    fn the_step_summary_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let github = dir.path().join("step_summary");
        std::fs::write(&github, "an earlier step's summary\n").unwrap();
        let opts = |md: &Path| RunOptions {
            summary_md: Some(md.to_path_buf()),
            ..Default::default()
        };
        assert!(write_reports(&opts(&github), &summary(), Some(&github)).is_empty());
        let text = std::fs::read_to_string(&github).unwrap();
        assert!(
            text.starts_with("an earlier step's summary\n## ollama-verify"),
            "{text}"
        );
        let other = dir.path().join("summary.md");
        std::fs::write(&other, "the last run's\n").unwrap();
        assert!(write_reports(&opts(&other), &summary(), Some(&github)).is_empty());
        let text = std::fs::read_to_string(&other).unwrap();
        assert!(text.starts_with("## ollama-verify"), "{text}");
    }

    #[test]
    fn one_file_by_two_names_is_one_report_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out.json");
        let b = dir.path().join(".").join("out.json");
        assert!(
            same_file(&a, &b),
            "files that do not exist yet compare by folder"
        );
        assert!(!same_file(&a, &dir.path().join("junit.xml")));
        let opts = RunOptions {
            junit: Some(a),
            json: Some(b),
            ..Default::default()
        };
        let e = distinct_reports(&opts).unwrap_err().to_string();
        assert!(e.contains("--junit and --json both name"), "{e}");
    }
}
