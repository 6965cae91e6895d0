//! The emulator's `ollama`-like CLI, driven as a user would: `serve` in one process,
//! the other commands talking to it over HTTP through OLLAMA_HOST.

use crate::support;

use assert_cmd::Command;
use predicates::prelude::*;
use std::time::Duration;
use support::emulator::{healthy, EmulatorConfigBuilder};
use support::{free_port, Server};

fn serve(config: EmulatorConfigBuilder) -> Server {
    Server::start(&config.toml())
}

fn ollama(server: &Server) -> Command {
    let mut cmd = support::emulator_cmd();
    cmd.env("OLLAMA_HOST", &server.host)
        .timeout(Duration::from_secs(20));
    cmd
}

/// Quick answers, loads and pulls.
fn quick() -> EmulatorConfigBuilder {
    healthy().token_rate(2000.0).with(|c| {
        c.load_time_ms = 10;
        c.pull_time_ms = 10;
    })
}

#[test]
fn version_list_ps_show() {
    let server = serve(quick());
    ollama(&server)
        .arg("--version")
        .assert()
        .success()
        .stdout("ollama version is 0.17.1\n");
    ollama(&server).arg("list").assert().success().stdout(
        predicate::str::contains("NAME")
            .and(predicate::str::contains("qwen2.5-coder:7b"))
            .and(predicate::str::contains("my-coder:latest"))
            .and(predicate::str::contains("4.7 GB")),
    );
    // Nothing is loaded until a model answers.
    ollama(&server)
        .arg("ps")
        .assert()
        .success()
        .stdout(predicate::str::contains("my-coder").not());
    ollama(&server)
        .args(["show", "my-coder", "--parameters"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"num_ctx\s+16384").unwrap().and(
            predicate::str::contains("stop                           \"<|im_end|>\""),
        ));
    ollama(&server)
        .args(["show", "my-coder", "--modelfile"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "FROM /root/.ollama/models/blobs/sha256-",
        ));
}

#[test]
fn pull_then_create_from_a_modelfile() {
    let server = serve(quick());
    ollama(&server)
        .args(["pull", "llama3.2:3b"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("pulling manifest")
                .and(predicate::str::ends_with("success\n")),
        );
    let dir = tempfile::tempdir().unwrap();
    let modelfile = dir.path().join("Modelfile");
    std::fs::write(
        &modelfile,
        "FROM llama3.2:3b\nPARAMETER temperature 0.1\nSYSTEM \"\"\"Be brief.\"\"\"\n",
    )
    .unwrap();
    ollama(&server)
        .args(["create", "brief", "-f"])
        .arg(&modelfile)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("using existing layer sha256:")
                .and(predicate::str::ends_with("success\n")),
        );
    ollama(&server)
        .args(["show", "brief", "--system"])
        .assert()
        .success()
        .stdout("Be brief.\n");
    ollama(&server).arg("ls").assert().success().stdout(
        predicate::str::contains("brief:latest").and(predicate::str::contains("llama3.2:3b")),
    );
    ollama(&server)
        .args(["rm", "brief"])
        .assert()
        .success()
        .stdout("deleted 'brief'\n");
    ollama(&server)
        .arg("ls")
        .assert()
        .success()
        .stdout(predicate::str::contains("brief").not());
    ollama(&server)
        .args(["rm", "brief"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not found"));
}

#[test]
fn errors_are_reported_not_panicked() {
    let server = serve(quick().installed(&[]).custom(&[]));
    ollama(&server)
        .args(["pull", "no-such-model"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("Error:")
                .and(predicate::str::contains("file does not exist"))
                // A wrong name, not a crash: no pointer at the runner's log.
                .and(predicate::str::contains("check the spelling"))
                .and(predicate::str::contains("journalctl").not()),
        );
    ollama(&server)
        .args(["show", "my-coder"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("HTTP 404").and(predicate::str::contains("ollama pull")));
    ollama(&server)
        .args(["create", "x", "-f", "/nonexistent/Modelfile"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/Modelfile",
        ));
}

#[test]
fn version_without_a_server_warns() {
    support::emulator_cmd()
        .env("OLLAMA_HOST", format!("127.0.0.1:{}", free_port()))
        .timeout(Duration::from_secs(20))
        .arg("--version")
        .assert()
        .success()
        .stdout("Warning: could not connect to a running Ollama instance\nWarning: client version is 0.17.1\n");
}

/// With no server, a command fails as the real Linux CLI does, naming `ollama serve`.
#[test]
fn list_without_a_server_says_to_start_it() {
    support::emulator_cmd()
        .env("OLLAMA_HOST", format!("127.0.0.1:{}", free_port()))
        .timeout(Duration::from_secs(20))
        .arg("list")
        .assert()
        .failure()
        .stderr("Error: could not connect to ollama server, run 'ollama serve' to start it\n");
}

#[test]
fn a_bad_config_stops_serve_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "token_rate = -1.0\n").unwrap();
    support::emulator_cmd()
        .arg("serve")
        .env("OLLAMA_HOST", format!("127.0.0.1:{}", free_port()))
        .env("OLLAMA_EMULATOR_CONFIG", &path)
        .timeout(Duration::from_secs(20))
        .assert()
        .failure()
        .stderr(predicate::str::contains("token_rate must be from 0.001"));
}
