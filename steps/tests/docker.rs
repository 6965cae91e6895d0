//! The docker target for real: an image built here from the emulator's `ollama`-like
//! binary (FROM scratch, the binary and the C libraries it links), started by the suite
//! through testcontainers, provisioned (pull + create through `docker exec`), verified,
//! and removed. Without a Docker engine these tests say so loudly and pass as skipped.
#![cfg(feature = "docker")]

mod support;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::Run;
use testcontainers::bollard::query_parameters::{ListContainersOptions, ListVolumesOptions};
use testcontainers::runners::AsyncBuilder;
use testcontainers::GenericBuildableImage;

const IMAGE: &str = "ollama-verify-emulator";
const TAG: &str = "test";
const LABEL: &str = "org.ollama-verify.target";

/// The emulator inside the image: nothing installed, so the run must provision.
const HEALTHY: &str = "installed = []\ncustom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\npull_time_ms = 200\n";
/// The same, generating far below the spec's 40 tok/s.
const SLOW: &str = "installed = []\ncustom = []\ntoken_rate = 8.0\nanswer_tokens = 6\nload_time_ms = 20\npull_time_ms = 50\n";

/// Whether Docker can run these tests; says loudly why not.
fn docker_or_skip(test: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(ollama_verify::provision::docker::available()) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("\n!!! SKIPPED {test}: Docker is not usable here: {e}\n");
            false
        }
    }
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

/// Builds the test image once per process (Docker caches the layers between runs).
fn build_image() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let binary = Path::new(env!("CARGO_BIN_EXE_ollama-emulator"));
        let mut dockerfile = String::from("FROM scratch\nCOPY ollama /bin/ollama\n");
        let mut image = GenericBuildableImage::new(IMAGE, TAG).with_file(binary, "ollama");
        for (i, lib) in libraries(binary).into_iter().enumerate() {
            let name = format!("lib{i}");
            dockerfile.push_str(&format!("COPY {name} {lib}\n"));
            image = image.with_file(Path::new(&lib).canonicalize().unwrap(), name);
        }
        dockerfile.push_str(
            "COPY healthy.toml /etc/ollama-emulator/healthy.toml\n\
             COPY slow.toml /etc/ollama-emulator/slow.toml\n\
             ENV PATH=/bin OLLAMA_HOST=0.0.0.0:11434 OLLAMA_EMULATOR_CONFIG=/etc/ollama-emulator/healthy.toml\n\
             EXPOSE 11434\n\
             ENTRYPOINT [\"/bin/ollama\"]\nCMD [\"serve\"]\n",
        );
        let image = image
            .with_data(HEALTHY, "healthy.toml")
            .with_data(SLOW, "slow.toml")
            .with_dockerfile_string(dockerfile);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _built = rt.block_on(image.build_image()).expect("the test image builds");
    });
}

/// Containers and volumes this tool created that still exist.
fn leftovers() -> (Vec<String>, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let docker = testcontainers::bollard::Docker::connect_with_local_defaults().unwrap();
        let filter = |key: &str| {
            let mut f = std::collections::HashMap::new();
            f.insert(key.to_string(), vec![LABEL.to_string()]);
            f
        };
        let containers = docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filter("label")),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        let volumes = docker
            .list_volumes(None::<ListVolumesOptions>)
            .await
            .unwrap()
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .filter(|n| n.starts_with("ollama-verify-") && n != "ollama-verify-models")
            .collect();
        (containers, volumes)
    })
}

/// The docker target on the test image: no GPU, the emulated GPU facts, a fresh volume.
fn docker_args() -> Vec<String> {
    let image = format!("{IMAGE}:{TAG}");
    [
        "--target",
        "docker",
        "--image",
        &image,
        "--gpus",
        "none",
        "--gpu",
        "emulated",
        "--fresh-volume",
    ]
    .map(str::to_string)
    .to_vec()
}

/// setup/'s compose file with the emulator pointed at its slow configuration, in `dir`.
fn slow_compose(dir: &Path) -> std::path::PathBuf {
    let compose = ollama_verify::provision::compose::SETUP_COMPOSE.replace(
        "OLLAMA_KEEP_ALIVE: \"30m\"",
        "OLLAMA_KEEP_ALIVE: \"30m\"\n      OLLAMA_EMULATOR_CONFIG: /etc/ollama-emulator/slow.toml",
    );
    let file = dir.join("compose.yml");
    std::fs::write(&file, compose).unwrap();
    file
}

fn verify_docker(extra: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("ollama-verify").unwrap();
    cmd.args(docker_args())
        .args(extra)
        .env_remove("OLLAMA_HOST")
        .timeout(Duration::from_secs(240));
    Run::of(cmd)
}

fn status(run: &Run, id: &str) -> String {
    run.status(id)
}

/// The tests share the Docker engine; one at a time keeps the leftover counts exact.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What every test here starts with: Docker usable (or a loud skip), the engine to
/// itself, the image built, and what already exists, to compare with at the end.
type Leftovers = (Vec<String>, Vec<String>);
fn prepare(test: &str) -> Option<(std::sync::MutexGuard<'static, ()>, Leftovers)> {
    if !docker_or_skip(test) {
        return None;
    }
    let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    build_image();
    Some((one, leftovers()))
}

#[test]
fn the_docker_target_provisions_verifies_and_cleans_up() {
    let Some((_one, before)) = prepare("the_docker_target_provisions_verifies_and_cleans_up")
    else {
        return;
    };
    let run = verify_docker(&[]);
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
        leftovers(),
        before,
        "the run removes its container and fresh volume"
    );
}

#[test]
fn a_failing_check_still_removes_the_container() {
    let Some((_one, before)) = prepare("a_failing_check_still_removes_the_container") else {
        return;
    };
    // The same compose settings, pointing the emulator at its slow configuration.
    let dir = tempfile::tempdir().unwrap();
    let file = slow_compose(dir.path());
    let run = verify_docker(&[
        "--compose-file",
        file.to_str().unwrap(),
        "--tags",
        "@check.perf.generation or @check.models.base",
    ]);
    assert_eq!(status(&run, "perf.generation"), "fail", "{}", run.summary);
    assert_eq!(status(&run, "models.base"), "pass");
    assert_eq!(run.code, 1);
    assert_eq!(leftovers(), before, "removed after a failure too");
}

#[test]
fn keep_leaves_the_container_and_says_how_to_reach_it() {
    let Some((_one, before)) = prepare("keep_leaves_the_container_and_says_how_to_reach_it") else {
        return;
    };
    let run = verify_docker(&["--keep", "--tags", "@check.api.root"]);
    assert_eq!(status(&run, "api.root"), "pass");
    assert!(run.stderr.contains("kept container"), "{}", run.stderr);
    assert!(run.stderr.contains("docker rm -f"), "{}", run.stderr);
    let after = leftovers();
    let kept: Vec<&String> = after.0.iter().filter(|c| !before.0.contains(c)).collect();
    assert_eq!(kept.len(), 1, "exactly the kept container: {after:?}");
    // Clean up what --keep kept.
    std::process::Command::new("docker")
        .args(["rm", "-f", kept[0]])
        .output()
        .unwrap();
    for v in after.1.iter().filter(|v| !before.1.contains(v)) {
        std::process::Command::new("docker")
            .args(["volume", "rm", v])
            .output()
            .unwrap();
    }
    assert_eq!(leftovers(), before);
}

/// SIGTERM in the middle of a run: the container and fresh volume go, the summary is
/// still written with the unfinished checks failed, and the exit code says which signal.
#[test]
fn a_terminated_run_cleans_up_and_reports() {
    let Some((_one, before)) = prepare("a_terminated_run_cleans_up_and_reports") else {
        return;
    };
    // The slow emulator keeps the perf scenarios busy for a while.
    let dir = tempfile::tempdir().unwrap();
    let file = slow_compose(dir.path());
    let summary = dir.path().join("summary.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ollama-verify"))
        .args(docker_args())
        .arg("--compose-file")
        .arg(&file)
        .arg("--summary-json")
        .arg(&summary)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run's container exists and has answered (provisioning done).
    let started = std::time::Instant::now();
    while leftovers().0.len() <= before.0.len() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no container appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let waited = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the run did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("SIGTERM arrived"), "{stderr}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let interrupted = summary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("interrupted (SIGTERM)")
        })
        .count();
    assert!(interrupted > 0, "{summary}");
    assert_eq!(leftovers(), before, "nothing of the run is left");
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
