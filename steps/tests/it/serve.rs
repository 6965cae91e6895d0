//! `ollama-verify serve` against the emulator: /healthz and /metrics say the last run's
//! verdict, runs repeat, a signal stops it; and `--prometheus FILE` on a single run.

use crate::support::emulator::{fast, EmulatorConfigBuilder};
use crate::support::{free_port, verify_cmd, verify_process};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `serve` process, stopped (SIGKILL) when dropped, also when a test fails.
struct Serving {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(config: EmulatorConfigBuilder, extra: &[&str]) -> Serving {
    let dir = tempfile::tempdir().unwrap();
    let file = config.write_to(dir.path());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = verify_process()
        .args(["serve", "--target", "emulator", "--emulator-config"])
        .arg(&file)
        .args(["--listen", &listen])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Serving {
        child,
        port,
        _dir: dir,
    }
}

/// `GET path`: the status code and the body, or none while nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((code, body))
}

/// Polls `/healthz` until the first run has ended; what it then answers.
fn first_verdict(s: &Serving) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        match get(s.port, "/healthz") {
            Some((503, body)) if body.starts_with("NO RUN YET") => {}
            Some(answer) => return answer,
            None => {}
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("serve gave no verdict within 90 s");
}

fn scrape(port: u16) -> prometheus_parse::Scrape {
    let (code, body) = get(port, "/metrics").expect("/metrics answers");
    assert_eq!(code, 200, "{body}");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("/metrics parses as Prometheus reads it")
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))?;
    match sample.value {
        prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => Some(v),
        _ => None,
    }
}

#[test]
fn a_healthy_install_is_200_and_its_runs_repeat() {
    let s = serve(fast(), &["--interval", "1s"]);
    let (code, body) = first_verdict(&s);
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("OK: "), "{body}");
    let metrics = scrape(s.port);
    let status = |check, status| {
        value(
            &metrics,
            "ollama_verify_check_status",
            &[("check", check), ("status", status)],
        )
    };
    assert_eq!(status("api.root", "pass"), Some(1.0));
    assert_eq!(status("models.custom", "pass"), Some(1.0));
    // The default selection reads only: no chat, no benchmark.
    assert_eq!(status("api.chat", "pass"), None);
    assert_eq!(status("perf.generation", "pass"), None);
    // A second run follows the first, one at a time.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = value(&scrape(s.port), "ollama_verify_runs", &[]).unwrap_or(0.0);
        if runs >= 2.0 {
            break;
        }
        assert!(Instant::now() < deadline, "no second run within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_failed_check_is_503_named_and_signal_stops_it() {
    let mut s = serve(fast().custom(&[]), &["--interval", "1h"]);
    let (code, body) = first_verdict(&s);
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("FAIL: "), "{body}");
    assert!(body.contains("models.custom: "), "{body}");
    let metrics = scrape(s.port);
    assert_eq!(
        value(
            &metrics,
            "ollama_verify_check_failed",
            &[
                ("check", "models.custom"),
                ("severity", "fail"),
                ("area", "models")
            ]
        ),
        Some(1.0)
    );
    // SIGTERM between runs ends it at once, with exit 0.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve still runs 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
    let mut out = String::new();
    s.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains("run 1: "), "{out}");
    assert!(out.contains("(models.custom)"), "{out}");
}

#[test]
fn a_run_its_deadline_stops_is_a_verdict_and_serve_goes_on() {
    let s = serve(fast(), &["--interval", "1s", "--deadline", "0.001"]);
    let (code, body) = first_verdict(&s);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("--deadline"), "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while value(&scrape(s.port), "ollama_verify_runs", &[]).unwrap_or(0.0) < 2.0 {
        assert!(Instant::now() < deadline, "no second run within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_refuses_what_would_change_the_server() {
    let generating = verify_cmd()
        .args([
            "serve",
            "--target",
            "emulator",
            "--tags",
            "@check.perf.generation",
        ])
        .args(["--interval", "1m", "--listen", "127.0.0.1:0"])
        .assert()
        .code(2);
    let said = String::from_utf8_lossy(&generating.get_output().stderr).to_string();
    assert!(said.contains("perf.generation"), "{said}");
    assert!(said.contains("--interval 15m"), "{said}");
    verify_cmd()
        .args([
            "serve",
            "--target",
            "emulator",
            "--allow-unload",
            "--listen",
            "127.0.0.1:0",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--allow-unload"));
    verify_cmd()
        .args(["serve", "--interval", "soon"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("30s, 5m or 1h"));
}

/// A port another process holds is a usage error at once, naming the flag to change;
/// no run starts.
#[test]
fn a_port_in_use_is_refused_before_any_run() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = held.local_addr().unwrap().to_string();
    let refused = verify_cmd()
        .args(["serve", "--target", "emulator", "--listen", &listen])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let said = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        said.contains(&format!("cannot listen on {listen}")),
        "{said}"
    );
    assert!(said.contains("choose another with --listen"), "{said}");
}

#[test]
fn a_run_writes_its_verdict_as_a_textfile() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast().custom(&[]).write_to(dir.path());
    let file = dir.path().join("ollama_verify.prom");
    verify_cmd()
        .args(["--target", "emulator", "--emulator-config"])
        .arg(&config)
        .args(["--tags", "@check.api.root or @check.models.custom"])
        .arg("--prometheus")
        .arg(&file)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&file).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the textfile parses");
    assert_eq!(
        value(
            &scrape,
            "ollama_verify_check_failed",
            &[("check", "models.custom")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &scrape,
            "ollama_verify_check_status",
            &[("check", "api.root"), ("status", "pass")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&scrape, "ollama_verify_checks", &[("status", "fail")]),
        Some(1.0)
    );
}
