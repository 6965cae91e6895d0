//! The native service checks and setup/setup-native.sh against a real systemd: a Debian
//! container with systemd as PID 1, the emulator's `ollama`-like binary installed as
//! /usr/local/bin/ollama with an `ollama.service` like the official installer's, and
//! setup/ copied to /opt/setup.
//!
//! The base image is debootstrapped here from the Debian mirror this machine's apt uses
//! (steps/tests/systemd/build-rootfs.sh) and imported into Docker: nothing is pulled from
//! a registry. It is built once and kept; the test image on top of it is tagged with a
//! hash of its inputs and rebuilt only when one changes, and its older tags that no
//! container uses are removed then. Without Docker, or where the
//! base image cannot be built (not root, no mirror), the test says so loudly and passes
//! as skipped.
//!
//! The emulator's configuration (no models, fast) is named by the unit file itself
//! (`Environment=OLLAMA_EMULATOR_CONFIG=...`), not by a drop-in: so once setup's
//! drop-in (50-ollama-verify.conf) is removed the unit has no drop-in at all, and `service.override`,
//! `service.host` and `service.flash_attention` really have nothing to find.
#![cfg(feature = "docker")]

use crate::support;
use crate::support::emulator::fast;

use ollama_verify::check::Status;
use ollama_verify::probe::gpu::GpuSource;
use ollama_verify::probe::{CmdOutput, Host};
use ollama_verify::provision::docker::container_host;
use ollama_verify::session::{SessionOptions, Target};
use ollama_verify_steps::{run, RunOptions};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testcontainers::bollard::models::SystemInfoCgroupVersionEnum;
use testcontainers::bollard::Docker;
use testcontainers::core::{AccessMode, CgroupnsMode, ContainerPort, Mount};
use testcontainers::runners::{AsyncBuilder, AsyncRunner};
use testcontainers::{ContainerAsync, GenericBuildableImage, GenericImage, ImageExt};

/// Debian with systemd, from build-rootfs.sh; kept between runs.
const BASE: &str = "ollama-verify-systemd-base:bookworm";
/// The test image; its tag is a hash of everything that goes into it.
const IMAGE: &str = "ollama-verify-systemd";
/// Carried by the test's containers (`docker ps -a --filter label=...` finds them).
const LABEL: &str = "org.ollama-verify.test";
const LABEL_VALUE: &str = "systemd";
const API_PORT: u16 = 11434;

/// What the official installer writes (User=root here: the test has no ollama user),
/// plus the emulator's configuration, named in the unit itself and not in a drop-in.
const UNIT: &str = "[Unit]
Description=Ollama Service
After=network-online.target

[Service]
ExecStart=/usr/local/bin/ollama serve
User=root
Group=root
Restart=always
RestartSec=3
Environment=\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"
Environment=\"OLLAMA_EMULATOR_CONFIG=/etc/ollama-emulator.toml\"

[Install]
WantedBy=default.target
";

/// The emulator starts with no model, so setup-native.sh really pulls and creates; fast.
fn emulator() -> String {
    fast()
        .installed(&[])
        .custom(&[])
        .token_rate(2000.0)
        .with(|c| {
            c.pull_time_ms = 50;
            c.load_time_ms = 10;
        })
        .toml()
}

const DROP_IN: &str = "/etc/systemd/system/ollama.service.d/50-ollama-verify.conf";
/// A second drop-in, naming environment files (`EnvironmentFile=`).
const ENV_DROP_IN: &str = "/etc/systemd/system/ollama.service.d/env.conf";
/// The lines of /etc/ollama/env, as `printf` arguments: settings over the drop-in's, and
/// secrets in a file every local user can read.
const ENV_FILE: &str =
    "'# read by systemd over Environment=' 'OLLAMA_FLASH_ATTENTION=0' 'HF_TOKEN=hf_test' \"OLLAMA_TEST_PROXY='http://user:s3cret@proxy.invalid:3128'\"";
const HOST_CHECKS: [&str; 6] = [
    "service.active",
    "service.enabled",
    "service.override",
    "service.host",
    "service.flash_attention",
    "cli.available",
];

fn docker() -> Docker {
    Docker::connect_with_local_defaults().expect("a Docker client")
}

fn secs(since: Instant) -> String {
    format!("{:.1} s", since.elapsed().as_secs_f64())
}

/// Builds the base image unless it exists. `Ok(Some(reason))`: it cannot be built here.
async fn ensure_base() -> Result<Option<String>, String> {
    let started = Instant::now();
    if docker().inspect_image(BASE).await.is_ok() {
        eprintln!(
            "systemd test: base image {BASE}: cached ({})",
            secs(started)
        );
        return Ok(None);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/systemd/build-rootfs.sh");
    eprintln!(
        "systemd test: base image {BASE} is missing: building it with {} (debootstrap, a minute or two)",
        script.display()
    );
    let child = tokio::process::Command::new("bash")
        .arg(&script)
        .arg(BASE)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(900), child)
        .await
        .map_err(|_| format!("{} did not finish within 900 s", script.display()))?
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stdout}");
    match out.status.code() {
        Some(0) => {
            eprintln!("systemd test: base image built in {}", secs(started));
            Ok(None)
        }
        Some(77) => Ok(Some(stderr.trim().to_string())),
        code => Err(format!(
            "{} failed (exit {code:?}):\n{stderr}",
            script.display()
        )),
    }
}

/// Every file under `dir`, as (path here, path relative to `dir`), sorted.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((path, rel));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Builds the test image unless one with the same inputs exists; returns its tag.
async fn ensure_image() -> Result<String, String> {
    let started = Instant::now();
    let base_id = docker()
        .inspect_image(BASE)
        .await
        .map_err(|e| format!("docker image inspect {BASE}: {e}"))?
        .id
        .unwrap_or_default();
    let binary = Path::new(env!("CARGO_BIN_EXE_ollama-emulator"));
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("../setup");
    let setup_files = files_under(&setup);
    let dockerfile = format!(
        "FROM {BASE}\n\
         COPY ollama /usr/local/bin/ollama\n\
         COPY ollama.service /etc/systemd/system/ollama.service\n\
         COPY ollama-emulator.toml /etc/ollama-emulator.toml\n\
         COPY setup/ /opt/setup/\n\
         RUN chmod 0755 /usr/local/bin/ollama && systemctl enable ollama\n\
         STOPSIGNAL SIGRTMIN+3\n\
         EXPOSE {API_PORT}\n\
         CMD [\"/sbin/init\"]\n"
    );
    // The cache key: the base image and every byte that goes into the image.
    let mut key = DefaultHasher::new();
    (&base_id, &dockerfile, UNIT, emulator()).hash(&mut key);
    std::fs::read(binary)
        .map_err(|e| format!("{}: {e}", binary.display()))?
        .hash(&mut key);
    for (path, rel) in &setup_files {
        rel.hash(&mut key);
        std::fs::read(path).unwrap().hash(&mut key);
    }
    let tag = format!("{:016x}", key.finish());
    let reference = format!("{IMAGE}:{tag}");
    if docker().inspect_image(&reference).await.is_ok() {
        eprintln!(
            "systemd test: test image {reference}: cached, inputs unchanged ({})",
            secs(started)
        );
        return Ok(tag);
    }
    let mut image = GenericBuildableImage::new(IMAGE, &tag)
        .with_dockerfile_string(dockerfile)
        .with_file(binary, "ollama")
        .with_data(UNIT, "ollama.service")
        .with_data(emulator(), "ollama-emulator.toml");
    for (path, rel) in setup_files {
        image = image.with_file(path, format!("setup/{rel}"));
    }
    let _built = image
        .build_image()
        .await
        .map_err(|e| format!("building {reference} FROM {BASE}: {e}"))?;
    eprintln!(
        "systemd test: test image {reference} built in {}",
        secs(started)
    );
    Ok(tag)
}

/// Removes the test image's other tags (earlier inputs) that no container uses, never
/// forced, with a line on stderr for each (past libtest's capture): one test image
/// stays between runs, not one per build. The base image is a cache and stays.
async fn remove_older_tags(current_tag: &str) -> Vec<String> {
    let current = format!("{IMAGE}:{current_tag}");
    let said = support::images::remove_older_tags(&docker(), "systemd test", IMAGE, &current).await;
    for line in &said {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    said
}

/// Removes an image when the test ends, whichever way (a panic included).
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["image", "rm", &self.0])
            .output();
    }
}

/// Removes the container when the test ends, whichever way (a panic included).
struct Remove(String);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

/// Starts the image with systemd as PID 1. Which flags boot systemd depends on the
/// daemon's cgroup version.
async fn boot(tag: &str) -> Result<(ContainerAsync<GenericImage>, Remove), String> {
    let cgroup_v2 = matches!(
        docker()
            .info()
            .await
            .map_err(|e| e.to_string())?
            .cgroup_version,
        Some(SystemInfoCgroupVersionEnum::_2)
    );
    let request = GenericImage::new(IMAGE, tag)
        .with_exposed_port(ContainerPort::Tcp(API_PORT))
        .with_cmd(["/sbin/init"])
        .with_env_var("container", "docker")
        .with_label(LABEL, LABEL_VALUE)
        .with_mount(Mount::tmpfs_mount("/run"))
        .with_mount(Mount::tmpfs_mount("/run/lock"))
        .with_startup_timeout(Duration::from_secs(60));
    let request = if cgroup_v2 {
        // Not proven on this project's CI (cgroup v1): a private cgroup namespace, which
        // Docker mounts writable only for a privileged container.
        request
            .with_privileged(true)
            .with_cgroupns_mode(CgroupnsMode::Private)
    } else {
        // cgroup v1: systemd needs the host's hierarchies (its own name=systemd cgroup
        // below the container's); SYS_ADMIN for its mounts and namespaces. Not
        // --privileged: where the daemon's bounding set lacks a capability (here:
        // CAP_SYS_RESOURCE) runc refuses to start a privileged container.
        request.with_cap_add("SYS_ADMIN").with_mount(
            Mount::bind_mount("/sys/fs/cgroup", "/sys/fs/cgroup")
                .with_access_mode(AccessMode::ReadOnly),
        )
    };
    eprintln!(
        "systemd test: starting {IMAGE}:{tag} with /sbin/init (cgroup v{})",
        if cgroup_v2 { 2 } else { 1 }
    );
    let container = request
        .start()
        .await
        .map_err(|e| format!("the container with systemd as PID 1 did not start: {e}"))?;
    let guard = Remove(container.id().to_string());
    Ok((container, guard))
}

/// A command in the container through `bash -c`, bounded by `timeout`.
async fn sh(host: &dyn Host, script: &str, timeout: Duration) -> CmdOutput {
    host.run("bash", &["-c", script], timeout)
        .await
        .unwrap_or_else(|e| panic!("`{script}` in the container: {e}"))
}

/// Like [`sh`], and the command must succeed.
async fn sh_ok(host: &dyn Host, script: &str, timeout: Duration) -> String {
    let out = sh(host, script, timeout).await;
    assert!(
        out.success(),
        "`{script}` in the container exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// Waits until systemd reports the boot finished (`running`, or `degraded` with the
/// failed units shown).
async fn wait_booted(host: &dyn Host, id: &str) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let last = match host
            .run("systemctl", &["is-system-running"], Duration::from_secs(10))
            .await
        {
            Ok(out) => format!("{}{}", out.stdout, out.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        if last == "running" {
            return Ok(last);
        }
        if last == "degraded" {
            let failed = sh(
                host,
                "systemctl --failed --no-pager",
                Duration::from_secs(10),
            )
            .await
            .stdout;
            eprintln!("systemd test: systemd is degraded:\n{failed}");
            return Ok(last);
        }
        if Instant::now() >= deadline {
            let state = std::process::Command::new("docker")
                .args([
                    "inspect",
                    "-f",
                    "{{.State.Status}} exit={{.State.ExitCode}}",
                    id,
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            return Err(format!(
                "systemd did not finish booting within 90 s: `systemctl is-system-running` last said {last:?}; container state: {state}. Run the image by hand with `docker run -t` to see systemd's console"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The step lines of a setup-native.sh run: step name -> status.
fn setup_steps(stdout: &str) -> BTreeMap<String, String> {
    const STEPS: [&str; 9] = [
        "gpu",
        "systemd",
        "ollama",
        "drop-in",
        "restart",
        "service",
        "api",
        "base-model",
        "custom-model",
    ];
    stdout
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(' ')?;
            STEPS.contains(&name).then(|| {
                let status = rest.split_whitespace().next().unwrap_or_default();
                (name.to_string(), status.to_string())
            })
        })
        .collect()
}

async fn setup_native(host: &dyn Host) -> String {
    let started = Instant::now();
    let out = sh_ok(
        host,
        "bash /opt/setup/setup-native.sh --allow-cpu",
        Duration::from_secs(180),
    )
    .await;
    eprintln!(
        "systemd test: setup-native.sh --allow-cpu ({}):\n{out}",
        secs(started)
    );
    out
}

/// The native host checks, run against the container: the API through its published
/// port, systemctl and the CLI through `docker exec`. Returns each check's status and
/// the run's exit code.
async fn verify(id: &str, api: &str) -> (BTreeMap<String, (Status, String)>, u8) {
    let started = Instant::now();
    let options = RunOptions {
        session: SessionOptions {
            target: Target::Native,
            host: Some(api.to_string()),
            gpu: Some(GpuSource::None),
            host_backend: Some(container_host(id).expect("a container backend")),
            command_timeout: Duration::from_secs(20),
            ..Default::default()
        },
        tags: Some("@systemd or @check.cli.available".into()),
        ..Default::default()
    };
    let report = tokio::time::timeout(Duration::from_secs(180), run(options))
        .await
        .expect("the run finishes within 180 s")
        .expect("the run starts");
    eprintln!(
        "systemd test: checks ran in {}: {} passed, {} failed, {} warned, {} skipped",
        secs(started),
        report.summary.passed,
        report.summary.failed,
        report.summary.warned,
        report.summary.skipped
    );
    let checks = report
        .summary
        .checks
        .iter()
        .map(|c| (c.id.clone(), (c.status, c.detail.clone())))
        .collect();
    (checks, report.exit_code)
}

/// The six host checks have these statuses (pass unless named).
fn expect(when: &str, checks: &BTreeMap<String, (Status, String)>, changed: &[(&str, Status)]) {
    for id in HOST_CHECKS {
        let want = changed
            .iter()
            .find(|(c, _)| *c == id)
            .map_or(Status::Pass, |(_, s)| *s);
        let (got, detail) = checks
            .get(id)
            .unwrap_or_else(|| panic!("{when}: {id} did not run: {checks:?}"));
        assert_eq!(*got, want, "{when}: {id}: {detail}");
    }
}

/// Whether the container still exists (`docker rm` done means a 404).
async fn exists(id: &str) -> bool {
    docker()
        .inspect_container(
            id,
            None::<testcontainers::bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .is_ok()
}

#[test]
fn setup_native_and_the_service_checks_against_a_real_systemd() {
    const TEST: &str = "setup_native_and_the_service_checks_against_a_real_systemd";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if let Err(e) = ollama_verify::provision::docker::available().await {
            // Not eprintln!: the test harness would swallow it for a passing test.
            let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {TEST}: Docker is not usable here: {e}\n");
            return;
        }
        let whole = Instant::now();
        match ensure_base().await {
            Ok(None) => {}
            Ok(Some(reason)) => {
                let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {TEST}: the systemd base image cannot be built here: {reason}\n");
                return;
            }
            Err(e) => panic!("{e}"),
        }
        // An older tag no container uses (another build's, minutes old): it goes once
        // this run's tag exists, and the base image stays.
        let stale_tag = format!("stale-{}", std::process::id());
        let stale = format!("{IMAGE}:{stale_tag}");
        let _stale = RemoveImage(stale.clone());
        let _built = GenericBuildableImage::new(IMAGE, &stale_tag)
            .with_data(format!("{stale} {:?}", Instant::now()), "stale")
            .with_dockerfile_string("FROM scratch\nCOPY stale /stale\n")
            .build_image()
            .await
            .expect("a stale test image builds");
        let tag = ensure_image().await.unwrap_or_else(|e| panic!("{e}"));
        let said = remove_older_tags(&tag).await;
        assert!(docker().inspect_image(&stale).await.is_err(), "the older tag goes: {said:?}");
        assert!(said.contains(&format!("systemd test: removed the older test image {stale}")), "{said:?}");
        assert!(docker().inspect_image(BASE).await.is_ok(), "the base image stays: {said:?}");

        let started = Instant::now();
        let (container, _remove) = match boot(&tag).await {
            Ok(booted) => booted,
            // A run of other inputs (another checkout) removes this tag as an older one
            // while no container uses it yet: build it again, once.
            Err(e) if docker().inspect_image(&format!("{IMAGE}:{tag}")).await.is_err() => {
                eprintln!("systemd test: {IMAGE}:{tag} went away before it booted ({e}): building it again");
                let tag = ensure_image().await.unwrap_or_else(|e| panic!("{e}"));
                boot(&tag).await.unwrap_or_else(|e| panic!("{e}"))
            }
            Err(e) => panic!("{e}"),
        };
        let id = container.id().to_string();
        let host: Arc<dyn Host> = container_host(&id).unwrap();
        let state = wait_booted(host.as_ref(), &id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let pid1 = sh_ok(host.as_ref(), "ps -o comm= -p 1", Duration::from_secs(10)).await;
        assert_eq!(pid1.trim(), "systemd", "PID 1 in the container");
        eprintln!(
            "systemd test: systemd is PID 1 and {state} after {}",
            secs(started)
        );
        let port = container
            .get_host_port_ipv4(ContainerPort::Tcp(API_PORT))
            .await
            .unwrap();
        let api = format!("127.0.0.1:{port}");

        // As the official installer leaves it: enabled, running, no drop-in, no model.
        let fresh = sh_ok(
            host.as_ref(),
            "systemctl is-enabled ollama; systemctl is-active ollama; systemctl show ollama -p DropInPaths --value",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(fresh.split_whitespace().collect::<Vec<_>>(), ["enabled", "active"]);

        // setup-native.sh, twice: the first run changes, the second finds nothing to do.
        let first = setup_native(host.as_ref()).await;
        let steps = setup_steps(&first);
        for step in ["drop-in", "restart", "base-model", "custom-model"] {
            assert_eq!(steps.get(step).map(String::as_str), Some("changed"), "{step} on the first run:\n{first}");
        }
        assert_eq!(steps["service"], "unchanged", "{first}");
        assert!(
            first.contains("changed: drop-in restart base-model custom-model"),
            "{first}"
        );
        let second = setup_native(host.as_ref()).await;
        let steps = setup_steps(&second);
        assert_eq!(steps.len(), 9, "every step reported:\n{second}");
        assert!(
            steps.values().all(|s| s != "changed"),
            "the second run changed something:\n{second}"
        );
        assert!(second.contains("\nnothing changed\n"), "{second}");
        let listed = sh_ok(host.as_ref(), "ollama list", Duration::from_secs(20)).await;
        assert!(listed.contains("qwen2.5-coder:7b") && listed.contains("my-coder:latest"), "{listed}");

        // Configured: the six host checks pass, the API reached through the published port.
        let (checks, code) = verify(&id, &api).await;
        expect("configured", &checks, &[]);
        assert_eq!(code, 0, "configured: {checks:?}");

        // Stopped: service.active fails.
        sh_ok(host.as_ref(), "systemctl stop ollama", Duration::from_secs(30)).await;
        let (checks, code) = verify(&id, &api).await;
        assert_eq!(checks["service.active"].0, Status::Fail, "stopped: {checks:?}");
        assert!(checks["service.active"].1.contains("systemctl start ollama"), "{checks:?}");
        assert_eq!(code, 1);
        sh_ok(host.as_ref(), "systemctl start ollama", Duration::from_secs(30)).await;

        // setup's drop-in removed: the unit has no drop-in left (the emulator's
        // configuration lives in the unit file), so the configuration checks warn.
        sh_ok(
            host.as_ref(),
            &format!("rm {DROP_IN} && systemctl daemon-reload"),
            Duration::from_secs(30),
        )
        .await;
        let drop_ins = sh_ok(
            host.as_ref(),
            "systemctl show ollama -p DropInPaths --value",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(drop_ins.trim(), "", "no drop-in is left");
        let (checks, code) = verify(&id, &api).await;
        expect(
            "without the drop-in",
            &checks,
            &[
                ("service.override", Status::Warn),
                ("service.host", Status::Warn),
                ("service.flash_attention", Status::Warn),
            ],
        );
        assert_eq!(code, 0, "warnings do not fail a run");

        // Disabled: service.enabled warns.
        sh_ok(host.as_ref(), "systemctl disable ollama", Duration::from_secs(30)).await;
        let (checks, code) = verify(&id, &api).await;
        expect(
            "disabled, without the drop-in",
            &checks,
            &[
                ("service.enabled", Status::Warn),
                ("service.override", Status::Warn),
                ("service.host", Status::Warn),
                ("service.flash_attention", Status::Warn),
            ],
        );
        assert_eq!(code, 0);

        // setup-native.sh repairs the drift: drop-in, restart, enable; the restarted
        // emulator has forgotten its models, so they come back too.
        let repair = setup_native(host.as_ref()).await;
        let steps = setup_steps(&repair);
        for step in ["drop-in", "restart", "service", "base-model", "custom-model"] {
            assert_eq!(steps.get(step).map(String::as_str), Some("changed"), "{step} on the repair run:\n{repair}");
        }
        let (checks, code) = verify(&id, &api).await;
        expect("repaired", &checks, &[]);
        assert_eq!(code, 0);

        // A drop-in changed on disk but not loaded: systemd says NeedDaemonReload=yes.
        sh_ok(host.as_ref(), &format!("touch {DROP_IN}"), Duration::from_secs(10)).await;
        let (checks, _) = verify(&id, &api).await;
        expect("changed, not reloaded", &checks, &[("service.override", Status::Warn)]);
        assert!(
            checks["service.override"].1.contains("NeedDaemonReload=yes")
                && checks["service.override"].1.contains("sudo systemctl daemon-reload"),
            "{checks:?}"
        );
        sh_ok(host.as_ref(), "systemctl daemon-reload", Duration::from_secs(30)).await;

        // An environment file overrides the drop-in's Environment= (flash attention off),
        // a missing optional one is no error, and a world-readable one holding secrets
        // is as public as `systemctl show`.
        sh_ok(
            host.as_ref(),
            &format!(
                "mkdir -p /etc/ollama && printf '%s\\n' {ENV_FILE} > /etc/ollama/env && chmod 0644 /etc/ollama/env \
                 && printf '[Service]\\nEnvironmentFile=/etc/ollama/env\\nEnvironmentFile=-/etc/ollama/absent\\n' > {ENV_DROP_IN} \
                 && systemctl daemon-reload && systemctl restart ollama \
                 && for i in $(seq 100); do ollama list >/dev/null 2>&1 && break; sleep 0.1; done"
            ),
            Duration::from_secs(60),
        )
        .await;
        let files = sh_ok(
            host.as_ref(),
            "systemctl show ollama -p EnvironmentFiles",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(
            files.lines().collect::<Vec<_>>(),
            [
                "EnvironmentFiles=/etc/ollama/env (ignore_errors=no)",
                "EnvironmentFiles=/etc/ollama/absent (ignore_errors=yes)"
            ],
            "systemctl show's rendering of EnvironmentFile="
        );
        let (checks, _) = verify(&id, &api).await;
        expect(
            "with an environment file",
            &checks,
            &[("service.flash_attention", Status::Warn)],
        );
        assert!(
            checks["service.flash_attention"].1.contains("it is 0"),
            "{checks:?}"
        );
        let (masking, detail) = &checks["security.masking"];
        assert_eq!(*masking, Status::Warn, "{detail}");
        for part in ["/etc/ollama/env (mode 644", "HF_TOKEN=****", "OLLAMA_TEST_PROXY=http://****@proxy.invalid:3128"] {
            assert!(detail.contains(part), "{part}: {detail}");
        }
        assert!(!detail.contains("s3cret") && !detail.contains("hf_test"), "{detail}");

        container
            .rm()
            .await
            .unwrap_or_else(|e| panic!("removing the container: {e}"));
        assert!(!exists(&id).await, "the test removes its container {id}");
        eprintln!("systemd test: whole test {}", secs(whole));
    });
}
