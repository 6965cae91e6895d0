//! The fault matrix: `ollama-verify --target native` against an `ollama-emulator serve`
//! process that misbehaves in one way per case (nothing listening, a closed
//! connection, an error status, bad JSON, stalls, an error mid-stream, a huge body, a
//! web page instead of JSON), and `--deadline`.
//!
//! Each case asserts what a user relies on: exit code 1, within a bound derived from
//! the timeouts passed; the failing check named in `--summary-json` with status fail
//! and a detail that says what was expected or seen; no panic; and the checks that do
//! not depend on the fault still reported (passed). The book's "Failure modes"
//! table (docs/src/failure-modes.md) is this file.
//!
//! PATH holds only the emulator's CLI as `ollama`: no `systemctl` (service checks
//! skip) and no `ip` (security.remote_reachable skips, so no test sends traffic to
//! anything but loopback).

use crate::support;

use ollama_verify::emulator::FaultKind;
use rstest::rstest;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::emulator::{fast, status, EmulatorConfigBuilder};
use support::{free_port, Run, Server};

/// The deadlines every case passes (seconds).
const CONNECT: f64 = 1.0;
const REQUEST: f64 = 2.0;
const GENERATION: f64 = 3.0;
/// What one run costs on top of the fault's own wait on a loaded two-core machine:
/// starting the process and the emulator, and every check the fault does not hold up.
const SLACK: Duration = Duration::from_secs(15);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// `ollama-verify` natively against `host`, with `path` as the whole PATH, and the
/// timeouts above unless `extra` sets them.
fn verify(host: &str, path: &Path, extra: &[&str]) -> Run {
    let mut cmd = support::verify_cmd();
    cmd.args(["--target", "native", "--host", host, "--gpu", "emulated"]);
    for (flag, value) in [
        ("--connect-timeout", CONNECT),
        ("--request-timeout", REQUEST),
        ("--generation-timeout", GENERATION),
    ] {
        if !extra.contains(&flag) {
            cmd.args([flag, &value.to_string()]);
        }
    }
    cmd.args(extra)
        // The CLI check's `ollama --version` asks the same server.
        .env("OLLAMA_HOST", host)
        .env("PATH", path)
        // A hang is a failure of this test, not a stuck test run.
        .timeout(Duration::from_secs(90));
    Run::of(cmd)
}

/// An `ollama-emulator serve` process with this configuration.
fn serve(_dir: &Path, config: EmulatorConfigBuilder) -> Server {
    Server::start(&config.toml())
}

/// Fast answers: a run costs well under a second of generation.
fn quick() -> EmulatorConfigBuilder {
    fast().token_rate(2000.0).answer_tokens(16).with(|c| {
        c.prompt_rate = 20000.0;
        c.load_time_ms = 10;
    })
}

/// A PATH folder holding only `ollama` (the emulator CLI).
fn path_dir(root: &Path) -> PathBuf {
    support::path_dir(root, None, true)
}

/// What every run must show, whatever the fault: no panic and a detail for every
/// check. Cucumber silences the panic hook while scenarios run and reports a step's
/// panic like a failed verdict, so a panic inside a step shows as a check that never
/// reached its verdict ("a step failed before the verdict"); one outside shows on
/// stderr.
fn assert_sound(run: &Run) {
    assert!(
        !run.stderr.contains("panicked"),
        "a panic: {}",
        run.context()
    );
    for c in run.summary["checks"].as_array().unwrap() {
        let detail = c["detail"].as_str().unwrap_or_default();
        assert!(
            !detail.trim().is_empty(),
            "{} gives no detail: {}",
            c["id"],
            run.context()
        );
        assert!(
            !detail.starts_with("a step failed before the verdict")
                && !detail.starts_with("the scenario could not start"),
            "{} never reached its verdict (a panic?): {detail}",
            c["id"]
        );
    }
}

/// One fault, one failing check. `config` is the emulator's (`None`: nothing listens);
/// `wait` is the longest the fault may hold the run up, from the timeouts passed.
#[rstest]
#[case::nothing_listening(
    None,
    "api.root",
    &["connection refused at 127.0.0.1:", "nothing listens there"],
    &["gpu.visible"],
    Duration::ZERO,
    Duration::ZERO
)]
#[case::closed_mid_body(
    Some(quick().fault("/api/tags", FaultKind::CloseMidBody { after_bytes: 20 })),
    "api.tags",
    &["/api/tags", "the connection closed after 20 bytes", "before the body was complete"],
    &["api.root", "api.chat"],
    secs(REQUEST),
    Duration::ZERO
)]
#[case::chat_500(
    Some(quick().fault("/api/chat", status(500, "llama runner process has terminated: exit status 2"))),
    "api.chat",
    &["expected a 2xx answer, got HTTP 500", "llama runner process has terminated: exit status 2", "journalctl"],
    &["api.root", "api.tags", "models.base", "models.custom"],
    Duration::ZERO,
    Duration::ZERO
)]
#[case::unknown_model(
    Some(quick().custom(&[])),
    "api.chat",
    &["HTTP 404", "not found", "ollama pull"],
    &["api.root", "api.tags", "models.base"],
    Duration::ZERO,
    Duration::ZERO
)]
#[case::malformed_json(
    Some(quick().fault("/api/tags", FaultKind::Malformed)),
    "api.tags",
    &["expected a JSON body", "{\"models\": [{\"name\""],
    &["api.root", "api.chat"],
    secs(REQUEST),
    Duration::ZERO
)]
#[case::wrong_shape(
    Some(quick().fault("/api/tags", FaultKind::WrongShape)),
    "api.tags",
    &["does not have the shape of an Ollama answer at `models`"],
    &["api.root", "api.chat"],
    secs(REQUEST),
    Duration::ZERO
)]
#[case::chat_stalls_forever(
    Some(quick().fault("/api/chat", FaultKind::StallBefore { seconds: 3600.0 })),
    "api.chat",
    &["/api/chat", "no answer began within 3.0 s"],
    &["api.root", "api.tags", "models.custom"],
    secs(GENERATION),
    secs(GENERATION)
)]
// The suite's shared chat is not streamed: its 370-byte answer passes under the
// 1000-byte mark, and only perf.streaming's stream (about 2.5 kB) stalls.
#[case::stream_stalls_halfway(
    Some(quick().fault("/api/chat", FaultKind::StallDuring { after_bytes: 1000, seconds: 3600.0 })),
    "perf.streaming",
    &["/api/chat", "within 3.0 s"],
    // The samples are streamed, so every perf check shares the stream's fate.
    &["api.root", "api.chat", "models.custom"],
    secs(GENERATION),
    secs(GENERATION)
)]
#[case::error_line_mid_stream(
    Some(quick().fault("/api/chat", FaultKind::ErrorLine { after_chunks: 3, message: "CUDA error: out of memory".into() })),
    "perf.streaming",
    &["error in the middle of the stream", "CUDA error: out of memory"],
    // The samples are streamed, so every perf check shares the stream's fate.
    &["api.root", "api.chat", "models.custom"],
    Duration::ZERO,
    Duration::ZERO
)]
#[case::huge_body(
    Some(quick().fault("/api/tags", FaultKind::HugeBody { bytes: 100_000_000 })),
    "api.tags",
    &["passed 16777216 bytes", "something other than Ollama"],
    &["api.root", "api.chat"],
    secs(REQUEST),
    Duration::ZERO
)]
#[case::wrong_content_type(
    Some(quick().fault("/api/ps", FaultKind::WrongContentType)),
    "gpu.offload",
    &["expected a JSON body, got text/html", "nginx"],
    &["api.root", "api.tags", "api.chat"],
    secs(REQUEST),
    Duration::ZERO
)]
fn one_fault_fails_one_check_in_bounded_time(
    #[case] config: Option<EmulatorConfigBuilder>,
    #[case] failing: &str,
    #[case] said: &[&str],
    #[case] unaffected: &[&str],
    #[case] wait: Duration,
    #[case] at_least: Duration,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path());
    let server = config.map(|c| serve(dir.path(), c));
    let host = server
        .as_ref()
        .map_or_else(|| format!("127.0.0.1:{}", free_port()), |s| s.host.clone());
    let run = verify(&host, &path, &[]);

    assert_eq!(run.code, 1, "{}", run.context());
    assert_sound(&run);
    assert!(
        run.elapsed < wait + SLACK,
        "took {:?}, bound {:?}: {}",
        run.elapsed,
        wait + SLACK,
        run.context()
    );
    assert!(
        run.elapsed >= at_least,
        "the {at_least:?} timeout was not waited for: {:?}",
        run.elapsed
    );
    assert_eq!(run.status(failing), "fail", "{}", run.context());
    let detail = run.detail(failing);
    println!("{failing} failed after {:?}: {detail}", run.elapsed);
    for part in said {
        assert!(
            detail.contains(part),
            "{failing}: `{part}` not in: {detail}"
        );
    }
    for id in unaffected {
        assert_eq!(
            run.status(id),
            "pass",
            "{id} does not depend on the fault: {}",
            run.detail(id)
        );
    }
    // Service checks cannot apply without systemctl, and say so.
    assert_eq!(run.status("service.active"), "skip");
    assert!(run.detail("service.active").contains("systemctl"));
}

/// A server that accepts connections and never answers: `api.root` fails at the
/// request timeout, and the chat is not sent to wait out the load timeout too (60 s
/// here); the API checks say "see api.root", so one failure shows once.
#[test]
fn a_hung_server_fails_once_without_waiting_for_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path());
    let server = serve(
        dir.path(),
        quick().fault("*", FaultKind::StallBefore { seconds: 3600.0 }),
    );
    let run = verify(
        &server.host,
        &path,
        &["--load-timeout", "60", "--generation-timeout", "60"],
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert_sound(&run);
    assert!(
        run.elapsed < Duration::from_secs(30),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.status("api.root"), "fail");
    assert!(run
        .detail("api.root")
        .contains("no answer began within 2.0 s"));
    // The deadline GET / ran out of, not the chat's, is the one to raise.
    assert!(
        run.detail("api.root").contains("(--request-timeout)")
            && !run.detail("api.root").contains("--load-timeout"),
        "{}",
        run.detail("api.root")
    );
    // The checks behind the chat too: the chat's error only echoes GET /'s; and the
    // CLI, whose `ollama --version` waits on the silent server for its version.
    skip_saying(
        &run,
        &[
            "cli.available",
            "api.chat",
            "api.tags",
            "models.custom",
            "gpu.offload",
            "perf.generation",
            "diagnose.offload",
        ],
        "does not answer (see api.root)",
    );
}

/// Each of `ids` skipped, its detail saying `says`.
fn skip_saying(run: &Run, ids: &[&str], says: &str) {
    for id in ids {
        assert_eq!(run.status(id), "skip", "{id}: {}", run.detail(id));
        assert!(run.detail(id).contains(says), "{id}: {}", run.detail(id));
    }
}

/// Another program on the port (every path answers a web page): `api.root` fails
/// naming what answered, and the API checks whose errors only echo it skip pointing
/// there, instead of each failing on its own.
#[test]
fn a_server_that_is_not_ollama_fails_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path());
    let server = serve(dir.path(), quick().fault("*", FaultKind::WrongContentType));
    let run = verify(&server.host, &path, &[]);
    assert_eq!(run.code, 1, "{}", run.context());
    assert_sound(&run);
    assert_eq!(run.status("api.root"), "fail");
    assert!(run
        .detail("api.root")
        .contains("Something other than Ollama"));
    skip_saying(
        &run,
        &[
            "api.tags",
            "api.chat",
            "models.custom",
            "modelfile.parameters",
            "diagnose.vulnerable",
            "gpu.offload",
            "perf.generation",
            "diagnose.context",
        ],
        "does not greet as Ollama (see api.root)",
    );
}

/// `--deadline` stops a run that would wait on a stalled chat for ten minutes: the
/// checks that finished keep their results, every other selected check fails with the
/// deadline named, the summary is written, and the exit code is 1.
#[test]
fn the_deadline_stops_a_hung_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path());
    let server = serve(
        dir.path(),
        quick().fault("/api/chat", FaultKind::StallBefore { seconds: 3600.0 }),
    );
    let deadline = 4.0;
    // Without the performance scenarios, whose samples wait on the chat too, the
    // checks not waiting on it finish.
    let run = verify(
        &server.host,
        &path,
        &[
            "--generation-timeout",
            "600",
            "--deadline",
            &deadline.to_string(),
            "--tags",
            "not @perf",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert_sound(&run);
    assert!(
        run.elapsed >= secs(deadline) && run.elapsed < secs(deadline) + SLACK,
        "took {:?}: {}",
        run.elapsed,
        run.context()
    );
    for id in ["api.chat", "gpu.offload"] {
        assert_eq!(run.status(id), "fail", "{id}");
        assert!(
            run.detail(id)
                .starts_with("not finished within the --deadline of 4 s"),
            "{id}: {}",
            run.detail(id)
        );
    }
    for id in ["api.root", "api.tags", "models.base", "models.custom"] {
        assert_eq!(run.status(id), "pass", "{id}: {}", run.detail(id));
    }
    let ids = run.ids();
    assert!(
        ids.iter().all(|id| !id.starts_with("perf.")),
        "only the selected scenarios: {ids:?}"
    );
    assert!(run.stderr.contains("--deadline of 4 s expired"));

    // Without the tag filter the stalled chat holds up the performance scenarios: the
    // checks not finished are reported too, in the JUnit report as well.
    let junit = dir.path().join("junit.xml");
    let run = verify(
        &server.host,
        &path,
        &[
            "--generation-timeout",
            "600",
            "--deadline",
            "2",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert_sound(&run);
    assert!(run.elapsed < secs(2.0) + SLACK, "took {:?}", run.elapsed);
    for id in [
        "gpu.visible",
        "api.root",
        "api.chat",
        "perf.generation",
        "perf.streaming",
        "modelfile.system",
    ] {
        assert!(
            run.ids().iter().any(|i| i == id),
            "{id} is reported: {:?}",
            run.ids()
        );
    }
    assert!(run
        .detail("perf.generation")
        .starts_with("not finished within the --deadline of 2 s"));
    // The cold load skips without --allow-unload, stopped early or not.
    assert_eq!(run.status("perf.load_cold"), "skip", "{}", run.context());
    assert!(run.detail("perf.load_cold").contains("--allow-unload"));
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains(&format!(r#"tests="{}""#, run.ids().len()))
            && junit.contains(
                r#"<testcase name="perf.generation" classname="ollama-verify.perf" time=""#
            )
            && junit.contains(r#"<failure message="not finished within the --deadline of 2 s"#)
            && !junit.contains("why: diagnose.offload: not finished"),
        "{junit}"
    );
    // Every case, suite and the report has a time (a report tool computes none as NaN):
    // a suite's is the sum of its cases', the report's the run's, some 2 s.
    let time = |tag: &str| -> f64 {
        let tag = &tag[..tag.find('>').unwrap()];
        let at = tag
            .find(" time=\"")
            .unwrap_or_else(|| panic!("no time in <{tag}>"))
            + 7;
        tag[at..at + tag[at..].find('"').unwrap()].parse().unwrap()
    };
    let (head, suites) = junit.split_once("<testsuite ").unwrap();
    let run_time = time(head.split_once("<testsuites ").unwrap().1);
    assert!(
        run_time >= 2.0 && run_time < 2.0 + SLACK.as_secs_f64(),
        "{run_time}"
    );
    for suite in suites.split("<testsuite ") {
        let cases: Vec<f64> = suite.split("<testcase ").skip(1).map(time).collect();
        let sum: f64 = cases.iter().sum();
        assert!(
            (time(suite) - sum).abs() <= 0.001 * cases.len() as f64,
            "{suite}"
        );
    }
}

/// What a server says is shown, never obeyed nor taken for markup: an error message
/// with terminal escape sequences, characters XML cannot hold and Markdown, verbatim
/// in `api.chat`'s detail, reaches the console without a control character, the JUnit
/// report as well-formed XML and the Markdown summary as text.
#[test]
fn what_a_server_says_is_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_dir(dir.path());
    let server = serve(
        dir.path(),
        quick().fault(
            "/api/chat",
            status(
                500,
                "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1m <b>*HF_TOKEN*</b> \u{FFFF}\tend",
            ),
        ),
    );
    let junit = dir.path().join("junit.xml");
    let md = dir.path().join("summary.md");
    let run = verify(
        &server.host,
        &path,
        &[
            "--tags",
            "@check.api.chat",
            "--junit",
            junit.to_str().unwrap(),
            "--summary-md",
            md.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(
        run.detail("api.chat").contains("\u{1b}]0;owned"),
        "the summary JSON keeps what was said: {}",
        run.detail("api.chat")
    );
    for (out, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{out}: {text:?}"
        );
    }
    assert!(run.stdout.contains("�]0;owned�"), "{}", run.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let xml_char = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    assert!(xml.chars().all(xml_char), "{xml:?}");
    assert!(xml.contains("�]0;owned��[2J�1m"), "{xml}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(
        md.contains("&lt;b&gt;\\*HF\\_TOKEN\\*&lt;/b&gt;") && !md.contains("<b>"),
        "{md}"
    );
}
