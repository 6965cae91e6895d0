//! The docker target for real: an image built here from the emulator's `ollama`-like
//! binary (FROM scratch, the binary and the C libraries it links), started by the suite
//! through testcontainers, provisioned (pull + create through `docker exec`), verified,
//! and removed. Without a Docker engine these tests say so loudly and pass as skipped.
#![cfg(feature = "docker")]

use crate::support;
use crate::support::emulator::{fast, EmulatorConfigBuilder};

use ollama_verify::provision::docker::{LABEL, RUN_LABEL};
use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::Run;
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListVolumesOptions, RemoveContainerOptions, RemoveImageOptions,
};
use testcontainers::runners::AsyncBuilder;
use testcontainers::GenericBuildableImage;

const IMAGE: &str = "ollama-verify-emulator";
/// An image whose entrypoint exits after a few seconds; built and removed by its test.
const EXITS: &str = "ollama-verify-exits";

/// The emulator inside the image: nothing installed, so the run must provision.
fn in_image() -> EmulatorConfigBuilder {
    fast()
        .installed(&[])
        .custom(&[])
        .with(|c| c.pull_time_ms = 200)
}

/// The emulator's configurations in the image, by file name (`healthy.toml`, the
/// image's default): healthy; generating far below the spec's 40 tok/s; each answer
/// taking many seconds (a run is busy with its checks when stopped); its pull taking
/// two minutes (a run is still provisioning when stopped).
fn configs() -> &'static [(&'static str, String); 4] {
    static CONFIGS: std::sync::OnceLock<[(&'static str, String); 4]> = std::sync::OnceLock::new();
    CONFIGS.get_or_init(|| {
        let quick_pull = |c: &mut ollama_verify::emulator::EmulatorConfig| c.pull_time_ms = 50;
        [
            ("healthy", in_image().toml()),
            (
                "slow",
                in_image()
                    .token_rate(8.0)
                    .answer_tokens(6)
                    .with(quick_pull)
                    .toml(),
            ),
            (
                "slow-answer",
                in_image()
                    .token_rate(4.0)
                    .answer_tokens(400)
                    .with(quick_pull)
                    .toml(),
            ),
            (
                "slow-pull",
                in_image().with(|c| c.pull_time_ms = 120_000).toml(),
            ),
        ]
    })
}

/// Written straight to the process's stderr: libtest captures `eprintln!` of a test
/// that passes, and a skip must be seen.
fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "\n!!! {line}\n");
}

/// A line straight to the process's stderr, past libtest's capture.
fn loud_line(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
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

/// The test image's inputs and its reference, `name:tag`; the tag is a hash of the
/// inputs, so a process never retags an image another process (another checkout,
/// another build) is running.
struct TestImage {
    reference: String,
    tag: String,
    dockerfile: String,
    files: Vec<(PathBuf, String)>,
}

fn test_image() -> &'static TestImage {
    static INPUTS: std::sync::OnceLock<TestImage> = std::sync::OnceLock::new();
    INPUTS.get_or_init(|| {
        let binary = Path::new(env!("CARGO_BIN_EXE_ollama-emulator"));
        let mut dockerfile = String::from("FROM scratch\nCOPY ollama /bin/ollama\n");
        let mut files = vec![(binary.to_path_buf(), "ollama".to_string())];
        for (i, lib) in libraries(binary).into_iter().enumerate() {
            let name = format!("lib{i}");
            dockerfile.push_str(&format!("COPY {name} {lib}\n"));
            files.push((Path::new(&lib).canonicalize().unwrap(), name));
        }
        for (name, _) in configs() {
            dockerfile.push_str(&format!(
                "COPY {name}.toml /etc/ollama-emulator/{name}.toml\n"
            ));
        }
        dockerfile.push_str(
            "ENV PATH=/bin OLLAMA_HOST=0.0.0.0:11434 OLLAMA_EMULATOR_CONFIG=/etc/ollama-emulator/healthy.toml\n\
             EXPOSE 11434\n\
             ENTRYPOINT [\"/bin/ollama\"]\nCMD [\"serve\"]\n",
        );
        let mut key = DefaultHasher::new();
        (&dockerfile, configs()).hash(&mut key);
        for (path, name) in &files {
            name.hash(&mut key);
            std::fs::read(path).unwrap().hash(&mut key);
        }
        let tag = format!("{:016x}", key.finish());
        TestImage {
            reference: format!("{IMAGE}:{tag}"),
            tag,
            dockerfile,
            files,
        }
    })
}

/// The test image's reference; [`ensure_image`] makes it exist.
fn image() -> &'static str {
    &test_image().reference
}

/// Builds the test image unless it exists: once per process, and again should another
/// process have removed it since (one that built other inputs removes this tag when no
/// container uses it). The first time, older tags of the test image that no container
/// uses are removed, so that one image stays between runs, not one per build.
fn ensure_image() {
    static PRUNED: std::sync::Once = std::sync::Once::new();
    let wanted = test_image();
    let rt = tokio::runtime::Runtime::new().unwrap();
    if rt
        .block_on(engine().inspect_image(&wanted.reference))
        .is_err()
    {
        let mut image = GenericBuildableImage::new(IMAGE, &wanted.tag);
        for (path, name) in &wanted.files {
            image = image.with_file(path, name);
        }
        for (name, toml) in configs() {
            image = image.with_data(toml.clone(), format!("{name}.toml"));
        }
        let image = image.with_dockerfile_string(wanted.dockerfile.clone());
        let _built = rt
            .block_on(image.build_image())
            .expect("the test image builds");
    }
    PRUNED.call_once(|| {
        for line in rt.block_on(remove_older_tags(&wanted.reference)) {
            loud_line(&line);
        }
    });
}

/// Removes the tags of the test image other than `current` that no container uses
/// (never forced): what it did and what it could not do, a line each.
async fn remove_older_tags(current: &str) -> Vec<String> {
    support::images::remove_older_tags(&engine(), "docker test", IMAGE, current).await
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
    spawn_verify_with(args, dir, &[])
}

/// [`spawn_verify`] with more environment.
fn spawn_verify_with(args: &[String], dir: &Path, env: &[(&str, String)]) -> std::process::Child {
    support::verify_process()
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--summary-json")
        .arg(dir.join("summary.json"))
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
    ensure_image();
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

/// The engine's API socket: `DOCKER_HOST`'s when it names one, Docker's default
/// otherwise; `None` for an engine reached over TCP.
fn engine_socket() -> Option<PathBuf> {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => host.strip_prefix("unix://").map(PathBuf::from),
        _ => Some(PathBuf::from("/var/run/docker.sock")),
    }
}

/// What [`HeldCreate`]'s threads tell each other and the test.
#[derive(Default)]
struct Hold {
    /// A container create arrived and is held.
    held: std::sync::atomic::AtomicBool,
    /// The test lets it through.
    released: std::sync::atomic::AtomicBool,
    /// The engine answered it.
    answered: std::sync::atomic::AtomicBool,
    /// The proxy stops accepting.
    closed: std::sync::atomic::AtomicBool,
}

/// A Docker API socket in front of the engine's that holds the first container create
/// sent to it until the test releases it, then forwards it whatever became of the
/// client that sent it: an engine slow to create a container, that finishes the create
/// after the client stopped waiting for it. Everything else passes straight through.
struct HeldCreate {
    socket: PathBuf,
    hold: std::sync::Arc<Hold>,
}

impl HeldCreate {
    fn start(dir: &Path, engine: PathBuf) -> HeldCreate {
        use std::os::unix::net::{UnixListener, UnixStream};
        use std::sync::atomic::Ordering::SeqCst;
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let hold = std::sync::Arc::new(Hold::default());
        let shared = hold.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if shared.closed.load(SeqCst) {
                    return;
                }
                let (Ok(client), Ok(upstream)) = (client, UnixStream::connect(&engine)) else {
                    continue;
                };
                let (mut from_client, mut to_client) = (client.try_clone().unwrap(), client);
                let (mut to_engine, mut from_engine) = (upstream.try_clone().unwrap(), upstream);
                // Whether this connection carried the held create (HTTP/1.1: its next
                // answer is the create's).
                let carried = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let (hold, carried_here) = (shared.clone(), carried.clone());
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut tail: Vec<u8> = Vec::new();
                    while let Ok(n) = std::io::Read::read(&mut from_client, &mut buf) {
                        if n == 0 {
                            // The client is gone. The engine's side of the held create
                            // stays open until the engine has answered it (the other
                            // thread holds it); any other ends here.
                            if !carried_here.load(SeqCst) || hold.answered.load(SeqCst) {
                                let _ = to_engine.shutdown(std::net::Shutdown::Write);
                            }
                            return;
                        }
                        tail.extend_from_slice(&buf[..n]);
                        let create = tail
                            .windows(b"/containers/create".len())
                            .any(|w| w == b"/containers/create");
                        tail = tail[tail.len().saturating_sub(32)..].to_vec();
                        if create && !hold.held.swap(true, SeqCst) {
                            let began = Instant::now();
                            while !hold.released.load(SeqCst)
                                && began.elapsed() < Duration::from_secs(120)
                            {
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            carried_here.store(true, SeqCst);
                        }
                        if std::io::Write::write_all(&mut to_engine, &buf[..n]).is_err() {
                            return;
                        }
                    }
                });
                let hold = shared.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = std::io::Read::read(&mut from_engine, &mut buf) {
                        if n == 0 {
                            return;
                        }
                        if carried.load(SeqCst) {
                            hold.answered.store(true, SeqCst);
                        }
                        if std::io::Write::write_all(&mut to_client, &buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HeldCreate { socket, hold }
    }

    fn held(&self) -> bool {
        self.hold.held.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn release(&self) {
        self.hold
            .released
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn answered(&self) -> bool {
        self.hold.answered.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for HeldCreate {
    fn drop(&mut self) {
        // Let a held create through, and the accepting thread end.
        self.release();
        self.hold
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::os::unix::net::UnixStream::connect(&self.socket);
    }
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
    // The kept volume is named, and one command (one code span) removes both.
    let id = &containers[0][..12];
    for said in [
        format!("kept container {id} and the volume {} (--keep)", volumes[0]),
        format!(
            "remove them with `docker rm -f {id} && docker volume rm {}`",
            volumes[0]
        ),
    ] {
        assert!(run.stderr.contains(&said), "{said:?} in:\n{}", run.stderr);
    }
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

/// With --no-provision on an empty volume the models are missing, and the advice is the
/// flag that left them out, not an `ollama pull` on this machine.
#[test]
fn no_provision_names_itself_for_missing_models() {
    let Some(_one) = prepare("no_provision_names_itself_for_missing_models") else {
        return;
    };
    let (run, mess) = verify_docker(
        "none",
        &[
            "--no-provision",
            "--tags",
            "@check.models.base or @check.models.custom",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.context());
    assert!(!run.stderr.contains(": pulled"), "{}", run.stderr);
    for id in ["models.base", "models.custom"] {
        assert_eq!(status(&run, id), "fail", "{}", run.summary);
        let detail = run.detail(id);
        assert!(
            detail.contains("run without --no-provision") && !detail.contains("Try `ollama"),
            "{id}: {detail}"
        );
    }
    assert_eq!(leftovers(mess.0), (vec![], vec![]));
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

/// SIGTERM while the engine is still creating the container (the create request sent,
/// not yet answered, the container made only after the stop): the run waits for the
/// engine's answer, then removes the container and the fresh volume, and says so.
#[test]
fn a_run_stopped_while_its_container_is_created_removes_it() {
    let Some(_one) = prepare("a_run_stopped_while_its_container_is_created_removes_it") else {
        return;
    };
    let Some(engine) = engine_socket() else {
        loud("SKIPPED a_run_stopped_while_its_container_is_created_removes_it: DOCKER_HOST is not a unix socket, which the test puts a proxy in front of");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let proxy = HeldCreate::start(dir.path(), engine);
    let docker_host = format!("unix://{}", proxy.socket.display());
    let mut child = spawn_verify_with(
        &docker_args("none"),
        dir.path(),
        &[("DOCKER_HOST", docker_host)],
    );
    let mess = Mess(child.id());
    wait_until(
        Duration::from_secs(60),
        "the run sent its container create",
        || proxy.held(),
    );
    sigterm(&child);
    // The run's cleanup looks for its containers now, while the engine has made none.
    let stopped = Instant::now();
    while stopped.elapsed() < Duration::from_secs(2) && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        leftovers(mess.0).0,
        Vec::<String>::new(),
        "no container yet while the create is held"
    );
    // The engine creates the container after the stop.
    proxy.release();
    let run = wait_run(child, dir.path(), Duration::from_secs(90));
    wait_until(
        Duration::from_secs(30),
        "the engine answered the held create",
        || proxy.answered(),
    );
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "the container the engine created after the stop is removed, and the fresh volume: {}",
        run.stderr
    );
    assert_eq!(run.code, 143, "{}", run.stderr);
    assert!(run.stderr.contains("SIGTERM arrived"), "{}", run.stderr);
    assert!(run.stderr.contains("removed container"), "{}", run.stderr);
    assert!(!run.stderr.contains("not removed"), "{}", run.stderr);
}

/// SIGTERM while provisioning with --keep: the container and the fresh volume stay,
/// and the run says which they are and how to remove them.
#[test]
fn keep_keeps_what_a_run_stopped_while_provisioning_made() {
    let Some(_one) = prepare("keep_keeps_what_a_run_stopped_while_provisioning_made") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = compose_with(dir.path(), "slow-pull");
    let mut args = docker_args("none");
    args.extend([
        "--keep".into(),
        "--compose-file".into(),
        file.display().to_string(),
    ]);
    let child = spawn_verify(&args, dir.path());
    let mess = Mess(child.id());
    wait_until(Duration::from_secs(90), "the container answered", || {
        read(dir.path().join("stderr")).contains("answers at")
    });
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let run = wait_run(child, dir.path(), Duration::from_secs(60));
    assert_eq!(run.code, 143, "{}", run.stderr);
    assert!(run.stderr.contains("SIGTERM arrived"), "{}", run.stderr);
    let (containers, volumes) = leftovers(mess.0);
    assert_eq!(containers.len(), 1, "the kept container: {}", run.stderr);
    assert_eq!(volumes.len(), 1, "the kept fresh volume: {}", run.stderr);
    let id = &containers[0][..12];
    for said in [
        format!("kept container {id} and the volume {}", volumes[0]),
        format!("docker logs {id}"),
        format!("docker rm -f {id} && docker volume rm {}", volumes[0]),
        format!("label={RUN_LABEL}="),
    ] {
        assert!(run.stderr.contains(&said), "{said:?} in:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("removed container"), "{}", run.stderr);
    let info = inspect(mess.0);
    assert_eq!(
        info.state.and_then(|s| s.running),
        Some(true),
        "still running, to be looked at"
    );
    let pid = mess.0;
    drop(mess);
    assert_eq!(leftovers(pid), (vec![], vec![]));
}

/// A start that fails with --keep keeps the container Docker created (its `docker
/// inspect` says why it did not start) and the fresh volume, and says how to remove them.
#[test]
fn keep_keeps_a_container_that_cannot_start() {
    let Some(_one) = prepare("keep_keeps_a_container_that_cannot_start") else {
        return;
    };
    let (run, mess) = verify_docker("99", &["--keep", "--tags", "@check.api.root"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("GPU"), "{}", run.stderr);
    let (containers, volumes) = leftovers(mess.0);
    assert_eq!(containers.len(), 1, "the kept container: {}", run.stderr);
    assert_eq!(volumes.len(), 1, "the kept fresh volume: {}", run.stderr);
    let id = &containers[0][..12];
    for said in [
        format!("kept container {id} and the volume {}", volumes[0]),
        format!("docker inspect {id}"),
        format!("docker rm -f {id} && docker volume rm {}", volumes[0]),
    ] {
        assert!(run.stderr.contains(&said), "{said:?} in:\n{}", run.stderr);
    }
    let pid = mess.0;
    drop(mess);
    assert_eq!(leftovers(pid), (vec![], vec![]));
}

/// Removes the images named when dropped (also when an assert failed first).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        for reference in &self.0 {
            let _ = rt.block_on(engine().remove_image(reference, None::<RemoveImageOptions>, None));
        }
    }
}

/// A run on a compose file pointing the emulator at a configuration the image lacks:
/// it exits with code 1 at once, having logged why. The run fails at once (not after
/// the 60 s the API may take to answer), with the exit code and the log.
fn exits_at_once(
    name: &str,
    extra: &[&str],
) -> Option<(std::sync::MutexGuard<'static, ()>, Run, Mess)> {
    let one = prepare(name)?;
    let dir = tempfile::tempdir().unwrap();
    let file = compose_with(dir.path(), "missing");
    let mut args = vec![
        "--compose-file",
        file.to_str().unwrap(),
        "--tags",
        "@check.api.root",
    ];
    args.extend_from_slice(extra);
    let (run, mess) = verify_docker("none", &args);
    assert_eq!(run.code, 2, "{}", run.context());
    for said in [
        "code 1",
        "cannot read emulator config /etc/ollama-emulator/missing.toml",
    ] {
        assert!(run.stderr.contains(said), "{said:?} in:\n{}", run.context());
    }
    assert!(
        run.elapsed < Duration::from_secs(30),
        "failed fast, not after the ready timeout: {}",
        run.context()
    );
    Some((one, run, mess))
}

/// A server that exits at once: the start fails fast with its log, and leaves nothing.
#[test]
fn a_server_that_exits_at_once_fails_the_start_fast_with_its_log() {
    let Some((_one, run, mess)) = exits_at_once(
        "a_server_that_exits_at_once_fails_the_start_fast_with_its_log",
        &[],
    ) else {
        return;
    };
    for said in ["exited with code 1", "--keep"] {
        assert!(run.stderr.contains(said), "{said:?} in:\n{}", run.context());
    }
    assert!(!run.stderr.contains("answers at"), "{}", run.context());
    assert!(!run.stderr.contains("not removed"), "{}", run.context());
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "its container and fresh volume are removed"
    );
}

/// The same with --keep: the kept container restarts as the compose file says, and
/// keeps exiting; the run says so at once, with the log, and keeps it to be looked at.
#[test]
fn keep_with_a_server_that_exits_at_once_fails_fast_and_keeps_it() {
    let Some((_one, run, mess)) = exits_at_once(
        "keep_with_a_server_that_exits_at_once_fails_fast_and_keeps_it",
        &["--keep"],
    ) else {
        return;
    };
    for said in ["kept container", "docker logs", "docker rm -f"] {
        assert!(run.stderr.contains(said), "{said:?} in:\n{}", run.context());
    }
    // No API answered: none is offered to reach, nor a shell in a container that exited.
    for unsaid in ["API at", "docker exec"] {
        assert!(
            !run.stderr.contains(unsaid),
            "{unsaid:?} in:\n{}",
            run.context()
        );
    }
    let (containers, volumes) = leftovers(mess.0);
    assert_eq!(containers.len(), 1, "the kept container: {}", run.stderr);
    assert_eq!(volumes.len(), 1, "the kept fresh volume: {}", run.stderr);
    let pid = mess.0;
    drop(mess);
    assert_eq!(leftovers(pid), (vec![], vec![]));
}

/// A container whose entrypoint (a shell, FROM scratch) runs a few seconds, logs why it
/// gives up and exits with code 3: while the run waits for its API. The run stops
/// waiting once it exited, with the exit code and the log, and leaves nothing.
#[test]
fn a_server_that_exits_while_awaited_fails_fast_with_its_log() {
    let Some(_one) = prepare("a_server_that_exits_while_awaited_fails_fast_with_its_log") else {
        return;
    };
    let tag = std::process::id().to_string();
    let reference = format!("{EXITS}:{tag}");
    let image = Images(vec![reference.clone()]);
    let mut built = GenericBuildableImage::new(EXITS, &tag);
    let mut dockerfile = String::from("FROM scratch\n");
    for (i, program) in ["/bin/sh", "/bin/sleep"].into_iter().enumerate() {
        let name = format!("bin{i}");
        dockerfile.push_str(&format!("COPY {name} {program}\n"));
        built = built.with_file(Path::new(program).canonicalize().unwrap(), name);
    }
    let mut libs = libraries(Path::new("/bin/sh"));
    libs.extend(libraries(Path::new("/bin/sleep")));
    libs.sort();
    libs.dedup();
    for (i, lib) in libs.into_iter().enumerate() {
        let name = format!("lib{i}");
        dockerfile.push_str(&format!("COPY {name} {lib}\n"));
        built = built.with_file(Path::new(&lib).canonicalize().unwrap(), name);
    }
    dockerfile.push_str(
        "ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo about to listen; sleep 4; echo 'fatal: gave up waiting for the GPU' >&2; exit 3\"]\n",
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _built = rt
        .block_on(built.with_dockerfile_string(dockerfile).build_image())
        .expect("the exiting image builds");
    let dir = tempfile::tempdir().unwrap();
    let mut args = docker_args("none");
    let at = args.iter().position(|a| a == "--image").unwrap();
    args[at + 1] = reference.clone();
    args.extend(["--tags".into(), "@check.api.root".into()]);
    let child = spawn_verify(&args, dir.path());
    let mess = Mess(child.id());
    let run = wait_run(child, dir.path(), Duration::from_secs(120));
    assert_eq!(run.code, 2, "{}", run.context());
    for said in [
        "exited with code 3",
        "about to listen",
        "fatal: gave up waiting for the GPU",
    ] {
        assert!(run.stderr.contains(said), "{said:?} in:\n{}", run.context());
    }
    assert!(!run.stderr.contains("not removed"), "{}", run.context());
    assert!(
        run.elapsed < Duration::from_secs(40),
        "failed once it exited, not after the ready timeout: {}",
        run.context()
    );
    assert_eq!(
        leftovers(mess.0),
        (vec![], vec![]),
        "its container and fresh volume are removed"
    );
    drop(mess);
    drop(image);
}

/// Older tags of the test image (earlier emulator builds) are removed, but not one a
/// container uses, nor the current one.
#[test]
fn older_test_images_no_container_uses_are_removed() {
    let Some(_one) = prepare("older_test_images_no_container_uses_are_removed") else {
        return;
    };
    let pid = std::process::id();
    let (unused, used) = (format!("stale-unused-{pid}"), format!("stale-used-{pid}"));
    let stale = Images(vec![format!("{IMAGE}:{unused}"), format!("{IMAGE}:{used}")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for tag in [&unused, &used] {
        let built = GenericBuildableImage::new(IMAGE, tag)
            .with_data(format!("{tag} {:?}", Instant::now()), "stale")
            .with_dockerfile_string("FROM scratch\nCOPY stale /stale\nCMD [\"/stale\"]\n")
            .build_image();
        let _built = rt.block_on(built).expect("a stale test image builds");
    }
    // A container (created, never started) of this process uses one.
    let mess = Mess(pid);
    let created = rt.block_on(engine().create_container(
        None,
        testcontainers::bollard::models::ContainerCreateBody {
            image: Some(stale.0[1].clone()),
            labels: Some(std::collections::HashMap::from([(
                RUN_LABEL.to_string(),
                format!("{pid}-stale"),
            )])),
            ..Default::default()
        },
    ));
    created.expect("a container of the stale image");
    let said = rt.block_on(remove_older_tags(image()));
    let present = |reference: &str| rt.block_on(engine().inspect_image(reference)).is_ok();
    assert!(!present(&stale.0[0]), "the unused one goes: {said:?}");
    assert!(present(&stale.0[1]), "the used one stays: {said:?}");
    assert!(present(image()), "the current one stays: {said:?}");
    assert!(
        said.contains(&format!(
            "docker test: removed the older test image {}",
            stale.0[0]
        )),
        "{said:?}"
    );
    assert!(
        said.iter().any(|l| l.starts_with(&format!(
            "docker test: kept the older test image {}: ",
            stale.0[1]
        ))),
        "{said:?}"
    );
    drop(mess);
    drop(stale);
    assert!(!present(&format!("{IMAGE}:{used}")));
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
    support::verify_cmd()
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
