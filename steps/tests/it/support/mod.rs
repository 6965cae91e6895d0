//! What the binary-level tests share: an `ollama-emulator serve` process, a PATH with
//! stand-ins for `ollama` and `systemctl`, and a finished run of `ollama-verify` with
//! its summary JSON; and (images) the removal of older test image tags.
#![allow(dead_code)] // each test file uses its own part of this module

pub mod emulator;
pub mod images;

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// How long a test lets one run of a binary take: a hang fails the test, not the run.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// The names of the developer's `OLLAMA_*` variables (`OLLAMA_HOST`, every
/// `OLLAMA_VERIFY_*`, the emulator's), which a test must not inherit.
fn inherited_ollama_vars() -> impl Iterator<Item = std::ffi::OsString> {
    std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_string_lossy().starts_with("OLLAMA_"))
}

/// `ollama-verify`, seeing only the `OLLAMA_*` settings the test gives it, and timed out
/// after [`RUN_TIMEOUT`] unless the test sets its own.
pub fn verify_cmd() -> assert_cmd::Command {
    binary_cmd(env!("CARGO_BIN_EXE_ollama-verify"))
}

/// The emulator's binary (`serve`, or its `ollama`-like CLI), cleared the same way.
pub fn emulator_cmd() -> assert_cmd::Command {
    binary_cmd(env!("CARGO_BIN_EXE_ollama-emulator"))
}

fn binary_cmd(path: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(path);
    for key in inherited_ollama_vars() {
        cmd.env_remove(key);
    }
    cmd.timeout(RUN_TIMEOUT);
    cmd
}

/// A `std::process::Command` of `ollama-verify`, for tests that spawn it (to signal it),
/// cleared like [`verify_cmd`]; the test waits for it with its own deadline.
pub fn verify_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ollama-verify"));
    for key in inherited_ollama_vars() {
        cmd.env_remove(key);
    }
    cmd
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An `ollama-emulator serve` process on a free loopback port, killed when dropped
/// (also when a test fails).
pub struct Server {
    child: Child,
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the emulator with this TOML configuration and waits until it listens.
    pub fn start(config: &str) -> Server {
        Self::start_with(config, &[], None)
    }

    /// Starts it with extra environment, its log (stderr) written to `log` if given.
    pub fn start_with(config: &str, env: &[(&str, &str)], log: Option<&Path>) -> Server {
        let host = format!("127.0.0.1:{}", free_port());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("emulator.toml");
        std::fs::write(&file, config).unwrap();
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        };
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ollama-emulator"));
        for key in inherited_ollama_vars() {
            cmd.env_remove(key);
        }
        let child = cmd
            .arg("serve")
            .env("OLLAMA_HOST", &host)
            .env("OLLAMA_EMULATOR_CONFIG", &file)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let server = Server {
            child,
            host,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&server.host).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PATH folder under `root` holding `ollama` (the emulator's CLI) if asked, and a
/// `systemctl` that prints `(stdout, stderr)` and exits with the code, if given.
pub fn path_dir(root: &Path, systemctl: Option<(&str, &str, i32)>, with_ollama: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if with_ollama {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ollama-emulator"), bin.join("ollama"))
            .unwrap();
    }
    if let Some((stdout, stderr, code)) = systemctl {
        std::fs::write(root.join("show.out"), stdout).unwrap();
        std::fs::write(root.join("show.err"), stderr).unwrap();
        let script = format!(
            "#!/bin/sh\n/bin/cat '{0}/show.out'\n/bin/cat '{0}/show.err' >&2\nexit {code}\n",
            root.display()
        );
        let path = bin.join("systemctl");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// `ollama-verify` flags for the native target against `server`, with the emulated GPU.
pub fn native_args(server: &Server) -> [&str; 6] {
    [
        "--target",
        "native",
        "--host",
        &server.host,
        "--gpu",
        "emulated",
    ]
}

/// `ollama-verify` on the emulator target with this configuration and `extra` flags,
/// within [`RUN_TIMEOUT`].
pub fn emulated(config: emulator::EmulatorConfigBuilder, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = config.write_to(dir.path());
    let mut cmd = verify_cmd();
    cmd.args(["--target", "emulator", "--emulator-config"])
        .arg(&file)
        .args(extra);
    Run::of(cmd)
}

/// A finished run of `ollama-verify`.
pub struct Run {
    pub code: i32,
    pub summary: Value,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Runs `cmd` (an `ollama-verify` command) with `--summary-json`, and reads it.
    pub fn of(mut cmd: assert_cmd::Command) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let summary = dir.path().join("summary.json");
        cmd.arg("--summary-json").arg(&summary);
        let started = Instant::now();
        let out = cmd.output().unwrap();
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let text = std::fs::read_to_string(&summary).unwrap_or_else(|_| {
            panic!(
                "no summary written; exit {:?} after {elapsed:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                out.status.code()
            )
        });
        Run {
            code: out.status.code().unwrap_or(-1),
            summary: serde_json::from_str(&text).unwrap(),
            stdout,
            stderr,
            elapsed,
        }
    }

    pub fn check(&self, id: &str) -> &Value {
        self.summary["checks"]
            .as_array()
            .expect("checks is a list")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not in the summary: {}", self.summary))
    }

    pub fn status(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap().to_string()
    }

    pub fn detail(&self, id: &str) -> String {
        self.check(id)["detail"].as_str().unwrap().to_string()
    }

    pub fn ids(&self) -> Vec<String> {
        self.statuses().into_keys().collect()
    }

    /// Every check's status, by id.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        self.summary["checks"]
            .as_array()
            .expect("checks is a list")
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    pub fn context(&self) -> String {
        format!(
            "exit {}, {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}
