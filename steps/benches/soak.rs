//! Soak: `ollama-verify serve` against the emulator for many runs, its memory (RSS) and
//! open files read from /proc between runs. Both should stay flat: a run leaves nothing
//! behind. `SOAK_RUNS` sets the number of runs (default 300, a second apart).
//!
//! cargo bench -p ollama-verify-steps --bench soak

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let runs: u64 = std::env::var("SOAK_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("emulator.toml");
    std::fs::write(
        &config,
        "token_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n",
    )
    .expect("the emulator's configuration is written");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ollama-verify"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OLLAMA_") {
            command.env_remove(key);
        }
    }
    let mut child = command
        .args(["serve", "--target", "emulator", "--emulator-config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--interval", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let pid = child.id();
    let started = Instant::now();
    let mut seen: Vec<(u64, u64, usize)> = Vec::new();
    let mut last = 0;
    // Each run takes well under the interval; a run late by a minute is a hang.
    let deadline = started + Duration::from_secs(runs * 2 + 60);
    while last < runs && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("soak: serve ended after {last} runs: {status}");
            break;
        }
        let Some(done) = runs_done(port) else {
            continue;
        };
        if done > last {
            last = done;
            seen.push((done, rss_kib(pid), open_files(pid)));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let (Some(first), Some(end)) = (seen.first(), seen.last()) else {
        eprintln!("soak: serve finished no run");
        std::process::exit(1);
    };
    println!(
        "soak: {} runs of serve's default checks against the emulator in {:.0} s",
        end.0,
        started.elapsed().as_secs_f64()
    );
    println!("| | after run {} | after run {} |", first.0, end.0);
    println!("|---|---:|---:|");
    println!(
        "| RSS | {:.1} MiB | {:.1} MiB |",
        first.1 as f64 / 1024.0,
        end.1 as f64 / 1024.0
    );
    println!("| open files | {} | {} |", first.2, end.2);
    let peak = seen.iter().map(|s| s.1).max().unwrap_or(0);
    println!("peak RSS {:.1} MiB", peak as f64 / 1024.0);
    if end.0 < runs {
        eprintln!("soak: only {} of {runs} runs ended in time", end.0);
        std::process::exit(1);
    }
}

/// `ollama_verify_runs` from /metrics.
fn runs_done(port: u16) -> Option<u64> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("ollama_verify_runs "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
