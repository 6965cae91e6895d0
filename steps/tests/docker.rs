//! The docker target for real: an image built here from the emulator's `ollama`-like
//! binary (FROM scratch, the binary and the C libraries it links), started by the suite
//! through testcontainers, provisioned (pull + create through `docker exec`), verified,
//! and removed. Without a Docker engine these tests say so loudly and pass as skipped.
#![cfg(feature = "docker")]

mod support;

use assert_cmd::Command;
use ollama_verify::provision::docker::{LABEL, RUN_LABEL};
use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::Run;
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListVolumesOptions, RemoveContainerOptions,
};
use testcontainers::runners::AsyncBuilder;
use testcontainers::GenericBuildableImage;

const IMAGE: &str = "ollama-verify-emulator";

/// The emulator inside the image: nothing installed, so the run must provision.
const HEALTHY: &str = "installed = []\ncustom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\npull_time_ms = 200\n";
/// The same, generating far below the spec's 40 tok/s.
const SLOW: &str = "installed = []\ncustom = []\ntoken_rate = 8.0\nanswer_tokens = 6\nload_time_ms = 20\npull_time_ms = 50\n";
/// The same, each answer taking many seconds: a run is busy with its checks when stopped.
const SLOW_ANSWER: &str = "installed = []\ncustom = []\ntoken_rate = 4.0\nanswer_tokens = 400\nload_time_ms = 20\npull_time_ms = 50\n";
/// The same, its pull taking two minutes: a run is still provisioning when stopped.
const SLOW_PULL: &str = "installed = []\ncustom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\npull_time_ms = 120000\n";

/// Written straight to the process's stderr: libtest captures `eprintln!` of a test
/// that passes, and a skip must be seen.
fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "\n!!! {line}\n");
}

/// Whether Docker can run these tests; says loudly why not.
fn docker_or_skip(test: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(ollama_verify::provision::docker::available()) {
        Ok(()) => true,
        Err(e) => {
            loud(&format!("SKIPPED {test}: Docker is not usable here: {e}"));
            false
        }
    }
}

fn engine() -> testcontainers::bollard::Docker {
    testcontainers::bollard::Docker::connect_with_local_defaults().unwrap()
}

/// The shared libraries `binary` links, as (path on this machine, path in the image).
fn libraries(binary: &Path) -> Vec<String> {
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = l.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

/// The test image, `name:tag`: built once per process unless one with the same inputs
/// exists; its tag is a hash of them, so a process that builds it never retags an image
/// another process (another checkout, another build) is running.
fn image() -> &'static str {
    static BUILT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let binary = Path::new(env!("CARGO_BIN_EXE_ollama-emulator"));
        let mut dockerfile = String::from("FROM scratch\nCOPY ollama /bin/ollama\n");
        let mut files = vec![(binary.to_path_buf(), "ollama".to_string())];
        for (i, lib) in libraries(binary).into_iter().enumerate() {
            let name = format!("lib{i}");
            dockerfile.push_str(&format!("COPY {name} {lib}\n"));
            files.push((Path::new(&lib).canonicalize().unwrap(), name));
        }
        dockerfile.push_str(
            "COPY healthy.toml /etc/ollama-emulator/healthy.toml\n\
             COPY slow.toml /etc/ollama-emulator/slow.toml\n\
             COPY slow-pull.toml /etc/ollama-emulator/slow-pull.toml\n\
             COPY slow-answer.toml /etc/ollama-emulator/slow-answer.toml\n\
             ENV PATH=/bin OLLAMA_HOST=0.0.0.0:11434 OLLAMA_EMULATOR_CONFIG=/etc/ollama-emulator/healthy.toml\n\
             EXPOSE 11434\n\
             ENTRYPOINT [\"/bin/ollama\"]\nCMD [\"serve\"]\n",
        );
        let mut key = DefaultHasher::new();
        (&dockerfile, HEALTHY, SLOW, SLOW_PULL, SLOW_ANSWER).hash(&mut key);
        for (path, name) in &files {
            name.hash(&mut key);
            std::fs::read(path).unwrap().hash(&mut key);
        }
        let tag = format!("{:016x}", key.finish());
        let reference = format!("{IMAGE}:{tag}");
        let rt = tokio::runtime::Runtime::new().unwrap();
        if rt.block_on(engine().inspect_image(&reference)).is_ok() {
            return reference;
        }
        let mut image = GenericBuildableImage::new(IMAGE, &tag);
        for (path, name) in files {
            image = image.with_file(path, name);
        }
        let image = image
            .with_data(HEALTHY, "healthy.toml")
            .with_data(SLOW, "slow.toml")
            .with_data(SLOW_PULL, "slow-pull.toml")
            .with_data(SLOW_ANSWER, "slow-answer.toml")
            .with_dockerfile_string(dockerfile);
        let _built = rt.block_on(image.build_image()).expect("the test image builds");
        reference
    })
}

/// Whether a label set belongs to the `ollama-verify` process `pid` (its run label is
/// `<pid>-<millis>`).
fn of_run(labels: Option<&std::collections::HashMap<String, String>>, pid: u32) -> bool {
    labels
        .and_then(|l| l.get(RUN_LABEL))
        .is_some_and(|run| run.starts_with(&format!("{pid}-")))
}

/// The containers and volumes the `ollama-verify` process `pid` made that still exist:
/// only that run's, whatever else runs on the engine.
fn leftovers(pid: u32) -> (Vec<String>, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let docker = engine();
        let filters =
            std::collections::HashMap::from([("label".to_string(), vec![RUN_LABEL.to_string()])]);
        let containers = docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_iter()
            .filter(|c| of_run(c.labels.as_ref(), pid))
            .filter_map(|c| c.id)
            .collect();
        let volumes = docker
            .list_volumes(None::<ListVolumesOptions>)
            .await
            .unwrap()
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter(|v| {
                of_run(Some(&v.labels), pid) || v.name.starts_with(&format!("ollama-verify-{pid}-"))
            })
            .map(|v| v.name)
            .collect();
        (containers, volumes)
    })
}

/// What the `ollama-verify` process `pid` made, removed when this drops: also when an
/// assert failed first, so a failing test leaves nothing on the engine.
struct Mess(u32);

impl Drop for Mess {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        let pid = self.0;
        let Ok((containers, volumes)) = std::panic::catch_unwind(|| leftovers(pid)) else {
            return;
        };
        rt.block_on(async {
            let docker = engine();
            for id in containers {
                let options = RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                };
                let _ = docker.remove_container(&id, Some(options)).await;
            }
            for v in volumes {
                let _ = docker
                    .remove_volume(
                        &v,
                        None::<testcontainers::bollard::query_parameters::RemoveVolumeOptions>,
                    )
                    .await;
            }
        });
    }
}

/// The docker target on the test image: the emulated GPU facts, a fresh volume.
fn docker_args(gpus: &str) -> Vec<String> {
    [
        "--target",
        "docker",
        "--image",
        image(),
        "--gpus",
        gpus,
        "--gpu",
        "emulated",
        "--fresh-volume",
    ]
    .map(str::to_string)
    .to_vec()
}

/// setup/'s compose file with the emulator pointed at its configuration `config`
/// (`slow`, `slow-pull`), in `dir`.
fn compose_with(dir: &Path, config: &str) -> PathBuf {
    let compose = ollama_verify::provision::compose::SETUP_COMPOSE.replace(
        "OLLAMA_KEEP_ALIVE: \"30m\"",
        &format!("OLLAMA_KEEP_ALIVE: \"30m\"\n      OLLAMA_EMULATOR_CONFIG: /etc/ollama-emulator/{config}.toml"),
    );
    let file = dir.join("compose.yml");
    std::fs::write(&file, compose).unwrap();
    file
}

/// An `ollama-verify` run, its stdout and stderr in files of `dir`: the child's pid
/// names what it makes on the engine.
fn spawn_verify(args: &[String], dir: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_ollama-verify"))
        .args(args)
        .arg("--summary-json")
        .arg(dir.join("summary.json"))
        .env_remove("OLLAMA_HOST")
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits for `child` (killed after `limit`); the run, its summary `null` if it wrote none.
fn wait_run(mut child: std::process::Child, dir: &Path, limit: Duration) -> Run {
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run did not finish within {limit:?}; its stderr:\n{}",
                read(dir.join("stderr"))
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Run {
        code: status.code().unwrap_or(-1),
        summary: serde_json::from_str(&read(dir.join("summary.json"))).unwrap_or(Value::Null),
        stdout: read(dir.join("stdout")),
        stderr: read(dir.join("stderr")),
        elapsed: started.elapsed(),
    }
}

/// A docker-target run to its end; what it left is removed when the [`Mess`] drops.
fn verify_docker(gpus: &str, extra: &[&str]) -> (Run, Mess) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = docker_args(gpus);
    args.extend(extra.iter().map(|a| a.to_string()));
    let child = spawn_verify(&args, dir.path());
    let mess = Mess(child.id());
    (wait_run(child, dir.path(), Duration::from_secs(240)), mess)
}

fn status(run: &Run, id: &str) -> String {
    assert!(!run.summary.is_null(), "no summary written: {}", run.stderr);
    run.status(id)
}

/// The tests share the Docker engine, and this machine's few cores: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What every test here starts with: Docker usable (or a loud skip), the engine to
/// itself among these tests, the image built.
fn prepare(test: &str) -> Option<std::sync::MutexGuard<'static, ()>> {
    if !docker_or_skip(test) {
        return None;
    }
    let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    image();
    Some(one)
}

/// `docker inspect` of the one container the `ollama-verify` process `pid` runs.
fn inspect(pid: u32) -> testcontainers::bollard::models::ContainerInspectResponse {
    let containers = leftovers(pid).0;
    assert_eq!(
        containers.len(),
        1,
        "one container of the run: {containers:?}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(engine().inspect_container(&containers[0], None))
        .unwrap()
}

/// Where the container's API port is published: (host address, port) pairs.
fn published(
    info: &testcontainers::bollard::models::ContainerInspectResponse,
) -> Vec<(String, String)> {
    info.network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .and_then(|p| p.get("11434/tcp").cloned().flatten())
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            (
                b.host_ip.unwrap_or_default(),
                b.host_port.unwrap_or_default(),
            )
        })
        .collect()
}

fn restart_policy(info: &testcontainers::bollard::models::ContainerInspectResponse) -> String {
    info.host_config
        .as_ref()
        .and_then(|h| h.restart_policy.as_ref())
        .and_then(|r| r.name)
        .map_or("no".into(), |n| n.to_string())
}

/// Polls `what` every 200 ms until it holds, for at most `limit`.
fn wait_until(limit: Duration, why: &str, mut what: impl FnMut() -> bool) {
    let started = Instant::now();
    while !what() {
        assert!(started.elapsed() < limit, "{why} within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sigterm(child: &std::process::Child) {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

#[test]
fn the_docker_target_provisions_verifies_and_cleans_up() {
    let Some(_one) = prepare("the_docker_target_provisions_verifies_and_cleans_up") else {
        return;
    };
    let (run, mess) = verify_docker("none", &[]);
    assert!(
        run.stderr.contains("qwen2.5-coder:7b: pulled"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("my-coder: created from /modelfiles/coding-assistant.Modelfile"),
        "{}",
        run.stderr
    );
    for id in [
        "service.active",
        // The compose file's `restart: unless-stopped`, though the container runs with `no`.
        "service.enabled",
        "service.override",
        "service.host",
        "service.flash_attention",
        "cli.available",
        "models.base",
        "models.custom",
        "api.chat",
        "gpu.offload",
        "perf.generation",
        "modelfile.parameters",
        "modelfile.weights",
    ] {
        assert_eq!(status(&run, id), "pass", "{id}: {}", run.summary);
    }
    assert_eq!(run.summary["failed"], 0, "{}", run.summary);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "the run removes its container and fresh volume"
    );
}

#[test]
fn a_failing_check_still_removes_the_container() {
    let Some(_one) = prepare("a_failing_check_still_removes_the_container") else {
        return;
    };
    // The same compose settings, pointing the emulator at its slow configuration.
    let dir = tempfile::tempdir().unwrap();
    let file = compose_with(dir.path(), "slow");
    let (run, mess) = verify_docker(
        "none",
        &[
            "--compose-file",
            file.to_str().unwrap(),
            "--tags",
            "@check.perf.generation or @check.models.base",
        ],
    );
    assert_eq!(status(&run, "perf.generation"), "fail", "{}", run.summary);
    assert_eq!(status(&run, "models.base"), "pass");
    assert_eq!(run.code, 1);
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "removed after a failure too"
    );
}

/// A container Docker creates but cannot start (a GPU request it cannot meet: no NVIDIA
/// runtime here, or not 99 GPUs) is removed, and so is the run's fresh volume.
#[test]
fn a_container_that_cannot_start_leaves_nothing() {
    let Some(_one) = prepare("a_container_that_cannot_start_leaves_nothing") else {
        return;
    };
    let (run, mess) = verify_docker("99", &["--tags", "@check.api.root"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("GPU"), "{}", run.stderr);
    assert!(!run.stderr.contains("not removed"), "{}", run.stderr);
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "a failed start removes the created container and the fresh volume"
    );
}

#[test]
fn keep_leaves_the_container_and_says_how_to_reach_it() {
    let Some(_one) = prepare("keep_leaves_the_container_and_says_how_to_reach_it") else {
        return;
    };
    let (run, mess) = verify_docker("none", &["--keep", "--tags", "@check.api.root"]);
    assert_eq!(status(&run, "api.root"), "pass");
    assert!(run.stderr.contains("kept container"), "{}", run.stderr);
    assert!(run.stderr.contains("docker rm -f"), "{}", run.stderr);
    let (containers, volumes) = leftovers(mess.0);
    assert_eq!(
        containers.len(),
        1,
        "exactly the kept container: {containers:?}"
    );
    assert_eq!(volumes.len(), 1, "and its fresh volume: {volumes:?}");
    let info = inspect(mess.0);
    // Kept: it comes back with the daemon, as the compose file says.
    assert_eq!(restart_policy(&info), "unless-stopped");
    assert!(
        published(&info).iter().all(|(ip, _)| ip == "127.0.0.1"),
        "{:?}",
        published(&info)
    );
    // What --keep kept goes with the guard.
    let pid = mess.0;
    drop(mess);
    assert_eq!(leftovers(pid), (vec![], vec![]));
}

/// SIGTERM while the container is provisioned (a two-minute pull): the start is
/// abandoned, and the container and the fresh volume go with it. While it runs, the
/// throwaway container does not restart with the daemon, publishes its API on loopback
/// only, and is handed no GPU.
#[test]
fn a_run_stopped_while_provisioning_removes_its_container_and_volume() {
    let Some(_one) = prepare("a_run_stopped_while_provisioning_removes_its_container_and_volume")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = compose_with(dir.path(), "slow-pull");
    let mut args = docker_args("none");
    args.extend(["--compose-file".into(), file.display().to_string()]);
    let child = spawn_verify(&args, dir.path());
    let mess = Mess(child.id());
    wait_until(Duration::from_secs(90), "the container answered", || {
        read(dir.path().join("stderr")).contains("answers at")
    });
    let info = inspect(mess.0);
    assert_eq!(restart_policy(&info), "no", "a throwaway container");
    let ports = published(&info);
    assert!(
        !ports.is_empty() && ports.iter().all(|(ip, _)| ip == "127.0.0.1"),
        "published on loopback only: {ports:?}"
    );
    let env = info.config.and_then(|c| c.env).unwrap_or_default();
    assert!(
        env.iter().any(|e| e == "NVIDIA_VISIBLE_DEVICES=void"),
        "--gpus none hands no GPU over: {env:?}"
    );
    let volumes = leftovers(mess.0).1;
    assert_eq!(volumes.len(), 1, "the fresh volume: {volumes:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let volume = rt.block_on(engine().inspect_volume(&volumes[0])).unwrap();
    assert_eq!(
        volume.labels.get(LABEL).map(String::as_str),
        Some("docker"),
        "the run made and labelled its fresh volume: {:?}",
        volume.labels
    );
    // The pull has begun; stop the run in the middle of it.
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let run = wait_run(child, dir.path(), Duration::from_secs(60));
    assert_eq!(run.code, 143, "{}", run.stderr);
    assert!(run.stderr.contains("SIGTERM arrived"), "{}", run.stderr);
    assert!(!run.stderr.contains("not removed"), "{}", run.stderr);
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "an abandoned start removes its container and fresh volume: {}",
        run.stderr
    );
}

/// SIGTERM in the middle of a run: the container and fresh volume go, the summary is
/// still written with the unfinished checks failed, and the exit code says which signal.
#[test]
fn a_terminated_run_cleans_up_and_reports() {
    let Some(_one) = prepare("a_terminated_run_cleans_up_and_reports") else {
        return;
    };
    // The emulator answering slowly keeps the checks busy for a while.
    let dir = tempfile::tempdir().unwrap();
    let file = compose_with(dir.path(), "slow-answer");
    let mut args = docker_args("none");
    args.extend(["--compose-file".into(), file.display().to_string()]);
    let child = spawn_verify(&args, dir.path());
    let mess = Mess(child.id());
    // Wait until the run's container has been provisioned and the checks run.
    wait_until(
        Duration::from_secs(90),
        "the container was provisioned",
        || read(dir.path().join("stderr")).contains("my-coder: created"),
    );
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let run = wait_run(child, dir.path(), Duration::from_secs(60));
    assert_eq!(run.code, 143, "{}", run.stderr);
    assert!(run.stderr.contains("SIGTERM arrived"), "{}", run.stderr);
    let interrupted = run.summary["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no summary: {}", run.stderr))
        .iter()
        .filter(|c| {
            c["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("interrupted (SIGTERM)")
        })
        .count();
    assert!(interrupted > 0, "{}", run.summary);
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "nothing of the run is left"
    );
}

/// No Docker daemon: a usage error (exit 2) that says what to check, not a hang.
#[test]
fn without_a_docker_daemon_the_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("no-docker.sock");
    Command::cargo_bin("ollama-verify")
        .unwrap()
        .args(["--target", "docker", "--gpus", "none"])
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains("Docker daemon")
                .and(predicates::str::contains("docker info")),
        );
}
