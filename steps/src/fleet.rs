//! `ollama-verify fleet REPORT...`: many hosts' summary JSONs as one verdict. The merge
//! and the formats are the core crate's (`ollama_verify::fleet`); here are the flags,
//! the reading of the files and the writing of the reports, whole, as a run writes its.

use crate::exit;
use crate::options::RunOptions;
use crate::reports::{all_writable, distinct_reports, same_file, step_summary};
use crate::staged::{append, replace};
use crate::terminal::{self, ColorChoice};
use crate::usage::UsageError;
use ollama_verify::fleet::{Fleet, ReportFile};
use ollama_verify::text::printable;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One of the fleet's report formats.
type Format = fn(&Fleet) -> String;

/// The largest report read: a summary JSON is some kilobytes; a bigger file is not one.
const MAX_REPORT_BYTES: u64 = 16 << 20;

/// Merge the summary JSONs of many hosts (each host's `--summary-json`) into one
/// verdict: a table of hosts and checks, and the fleet's reports. Exit 0: every host
/// passed; 1: a host failed a check, or its report is missing or unreadable; 2: usage
/// error; 3: a fleet report could not be written.
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// The hosts' summary JSONs. A host is named by its report's facts (the host name),
    /// else by the file's name without `.json`.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Write a JUnit XML report here: one testsuite per host, a test case per check.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the fleet's verdict as JSON here: each host's verdict, failures and facts.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Write the fleet's verdict as Markdown (for a CI job summary) here.
    #[arg(long)]
    summary_md: Option<PathBuf>,
    /// When to colour the console: auto (on a terminal, unless NO_COLOR is set), always
    /// or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Runs `ollama-verify fleet`: its exit code, or the usage error found before anything
/// was written.
pub fn fleet(args: FleetArgs) -> Result<u8, UsageError> {
    let color = terminal::apply(args.color);
    let outputs = RunOptions {
        junit: args.junit.clone(),
        summary_json: args.summary_json.clone(),
        summary_md: args.summary_md.clone(),
        ..Default::default()
    };
    distinct_reports(&outputs)?;
    for (flag, path) in outputs.reports() {
        let Some(path) = path else { continue };
        if let Some(input) = args.reports.iter().find(|r| same_file(r, path)) {
            return Err(UsageError::new(format!(
                "{flag} names {}, which is also a host's report to merge: give {flag} another path",
                input.display()
            )));
        }
    }
    all_writable(&outputs)?;
    let fleet = Fleet::merge(args.reports.iter().map(|p| read(p)).collect());
    crate::say!("{}", fleet.to_table(color, terminal::width()));
    let reports = [
        ("--junit", &args.junit, Fleet::to_junit as Format),
        ("--summary-json", &args.summary_json, Fleet::to_json),
        ("--summary-md", &args.summary_md, Fleet::to_markdown),
    ];
    let github = step_summary();
    let mut unwritten = false;
    for (flag, path, text) in reports {
        let Some(path) = path else { continue };
        // GitHub's step summary is shared by the job's steps: appended to, as a run does.
        let appended =
            flag == "--summary-md" && github.as_deref().is_some_and(|g| same_file(path, g));
        let written = match appended {
            true => append(path, &text(&fleet)),
            false => replace(path, &text(&fleet)),
        };
        if let Err(e) = written {
            unwritten = true;
            eprintln!(
                "ollama-verify: cannot write the {flag} report to {}: {e}. The other reports and the console table are complete; make room or grant access there, or give {flag} another path",
                printable(&path.display().to_string())
            );
        }
    }
    Ok(match (unwritten, fleet.failed().is_empty()) {
        (true, _) => exit::UNWRITTEN,
        (false, true) => exit::PASSED,
        (false, false) => exit::FAILED,
    })
}

/// A host's report as read from `path`: at most [`MAX_REPORT_BYTES`], UTF-8.
fn read(path: &Path) -> ReportFile {
    let text = (|| {
        let file = std::fs::File::open(path)?;
        let mut text = String::new();
        file.take(MAX_REPORT_BYTES + 1).read_to_string(&mut text)?;
        if text.len() as u64 > MAX_REPORT_BYTES {
            return Err(std::io::Error::other(format!(
                "larger than {} MiB, so not a summary JSON",
                MAX_REPORT_BYTES >> 20
            )));
        }
        Ok(text)
    })();
    ReportFile {
        path: path.to_path_buf(),
        text,
    }
}
