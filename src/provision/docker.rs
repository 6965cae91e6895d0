//! The docker target: an Ollama container started with testcontainers from the
//! settings of setup/docker-compose.yml, on a random port of 127.0.0.1, with the GPUs
//! passed in, its models provisioned through `docker exec`, and removed afterwards (also
//! after a failed start, and when the run is stopped while it starts or is provisioned;
//! with `--keep`, left where it is, with the commands to look at it and remove it).

use super::compose::ComposeService;
use crate::client::short_id as short;
use crate::probe::host::{CmdOutput, Host, HostError};
use crate::probe::service::ContainerState;
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testcontainers::bollard::models::{
    ContainerInspectResponse, DeviceRequest, PortBinding, PortMap, RestartPolicy,
    RestartPolicyNameEnum, VolumeCreateRequest,
};
use testcontainers::bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptions, LogsOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use testcontainers::core::{ContainerPort, Healthcheck, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};
use url::Url;

/// The label every container and volume this tool creates carries.
pub const LABEL: &str = "org.ollama-verify.target";
/// The label naming the run that created a container or volume (`<pid>-<millis>`):
/// what is removed after the run, also after a failed or abandoned start.
pub const RUN_LABEL: &str = "org.ollama-verify.run";

/// Which GPUs the container asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuRequest {
    /// All GPUs when NVML sees one on this machine, none otherwise.
    Auto,
    None,
    All,
    Count(u32),
}

impl std::str::FromStr for GpuRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(GpuRequest::Auto),
            "none" | "0" => Ok(GpuRequest::None),
            "all" => Ok(GpuRequest::All),
            n => n
                .parse()
                .map(GpuRequest::Count)
                .map_err(|_| format!("--gpus takes auto, none, all or a number, not `{n}`")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// `name:tag`; the compose file's image when `None`.
    pub image: Option<String>,
    pub gpus: GpuRequest,
    /// The named volume for models; kept between runs so models are pulled once.
    pub volume: String,
    /// Start from an empty volume of this run's own, removed afterwards.
    pub fresh_volume: bool,
    /// Leave the container running afterwards.
    pub keep: bool,
    pub compose: ComposeService,
    /// The Modelfile to create the custom model from.
    pub modelfile: String,
    pub base_model: String,
    pub custom_model: String,
    /// How long the API may take to answer after the container started.
    pub ready_timeout: Duration,
    /// Deadline of each `docker exec`, pulls excepted.
    pub exec_timeout: Duration,
    /// Deadline of pulling the image (when it is not here) and of pulling the base model.
    pub pull_timeout: Duration,
    /// Show a progress bar while pulling.
    pub progress: bool,
}

impl DockerOptions {
    pub fn new(compose: ComposeService, modelfile: String) -> Self {
        DockerOptions {
            image: None,
            gpus: GpuRequest::Auto,
            volume: "ollama-verify-models".into(),
            fresh_volume: false,
            keep: false,
            compose,
            modelfile,
            base_model: "qwen2.5-coder:7b".into(),
            custom_model: "my-coder".into(),
            ready_timeout: Duration::from_secs(60),
            exec_timeout: Duration::from_secs(60),
            pull_timeout: Duration::from_secs(3600),
            progress: true,
        }
    }
}

/// A running Ollama container. testcontainers' handle of it is never dropped (its
/// removal on drop waits on the daemon without a deadline): [`DockerTarget::finish`]
/// removes the container, or `cleanup` does when the target is dropped without it (a
/// run stopped while provisioning).
pub struct DockerTarget {
    docker: testcontainers::bollard::Docker,
    pub base_url: Url,
    pub id: String,
    /// The image it runs, as asked for.
    image: String,
    /// The API's port inside the container (the compose file's `ports:`).
    port: u16,
    /// How long the daemon may take to answer an inspect of the container, or to give
    /// its log ([`ANSWER_WAIT`]).
    answer_wait: Duration,
    volume: String,
    remove_volume: bool,
    keep: bool,
    /// The compose file's `restart:` (`no` when it sets none): what service.enabled
    /// judges. The throwaway container itself runs with `no` unless `--keep`.
    compose_restart: String,
    cleanup: Cleanup,
}

/// What a run made (its labelled containers, its fresh volume), removed when this is
/// dropped still armed: a start that failed, or a run stopped (Ctrl-C, SIGTERM,
/// `--deadline`) while the target started or was provisioned. With `--keep` nothing is
/// removed: what is there is listed, with how to reach it and how to remove it. Drop
/// cannot await, so this runs on a thread of its own with its own runtime, bounded by
/// [`REMOVE_WAIT`], and is waited for.
///
/// The container is created and started on a thread of its own (`starting`) that a stop
/// does not interrupt: a create request the daemon was already handling would otherwise
/// make a container after the run's containers were listed, and nobody would remove it.
/// Whatever ends the run first waits (within [`REMOVE_WAIT`]) for that thread to end,
/// then lists the run's containers.
#[derive(Debug)]
struct Cleanup {
    run_id: String,
    /// The fresh volume, removed after the containers.
    volume: Option<String>,
    /// `--keep`: leave what the run made, and say where it is.
    keep: bool,
    /// The thread creating and starting the container, while it may still run.
    starting: Option<std::thread::JoinHandle<()>>,
    armed: bool,
}

impl Cleanup {
    fn new(run_id: String, volume: Option<String>, keep: bool) -> Self {
        Cleanup {
            run_id,
            volume,
            keep,
            starting: None,
            armed: true,
        }
    }

    /// Removes what the run made now, or with `--keep` finds it: a note for the user
    /// (what was left and how to remove it by hand, or what was kept), if any. `late`:
    /// the container's create and start had not ended within [`REMOVE_WAIT`], so the
    /// daemon may still make a container after this.
    async fn now(
        &mut self,
        docker: &testcontainers::bollard::Docker,
        late: bool,
    ) -> Option<String> {
        self.armed = false;
        let (run_id, volume) = (self.run_id.clone(), self.volume.clone());
        if self.keep {
            return kept(docker, &run_id, volume.as_deref(), late).await;
        }
        let mut left = remove_run(docker, &run_id, volume.as_deref()).await.left;
        if late {
            left.push(still_creating(&run_id));
        }
        (!left.is_empty()).then(|| format!("not removed, remove by hand: {}", left.join("; ")))
    }

    /// Leaves everything as it is.
    fn disarm(&mut self) {
        self.armed = false;
    }
}

/// Waits for the thread that creates and starts the container to end, at most
/// [`REMOVE_WAIT`]; whether it did. Says so when the wait is noticeable.
fn await_start(starting: Option<std::thread::JoinHandle<()>>) -> bool {
    let Some(starting) = starting else {
        return true;
    };
    let began = Instant::now();
    let mut said = false;
    while !starting.is_finished() {
        if began.elapsed() >= REMOVE_WAIT {
            return false;
        }
        if !said && began.elapsed() >= Duration::from_secs(2) {
            eprintln!(
                "docker: waiting (at most {} s) for the Docker daemon to answer the container's create and start, so that what it makes is not left behind",
                REMOVE_WAIT.as_secs()
            );
            said = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What is left when the container's create and start did not end in time.
fn still_creating(run_id: &str) -> String {
    format!(
        "a container the Docker daemon may still create: it did not answer the create and start within {} s (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`)",
        REMOVE_WAIT.as_secs()
    )
}

/// The command that removes every container of the run, and its fresh volume.
fn remove_by_hand(run_id: &str, volume: Option<&str>) -> String {
    format!(
        "`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`{}",
        volume.map_or(String::new(), |v| format!(", then `docker volume rm {v}`"))
    )
}

/// What a run kept with `--keep`, found by its label: the containers, how to look at
/// them and how to remove them with the fresh volume; `late` when the container's
/// create and start had not ended (what they make yet is kept too). `None` when the
/// run made nothing.
async fn kept(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
    volume: Option<&str>,
    late: bool,
) -> Option<String> {
    let find = format!("`docker ps -a --filter label={RUN_LABEL}={run_id}`");
    let late = if late {
        format!(
            "; its create and start had not ended within {} s, what they make stays too: look again with {find}",
            REMOVE_WAIT.as_secs()
        )
    } else {
        String::new()
    };
    let ids = match tokio::time::timeout(REMOVE_WAIT, list_run(docker, run_id)).await {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            return Some(format!(
                "kept what the run made (--keep), but cannot list it: {e}. Find it with {find}; remove it with {}",
                remove_by_hand(run_id, volume)
            ))
        }
        Err(_) => {
            return Some(format!(
                "kept what the run made (--keep), but the Docker daemon did not answer within {} s to list it. Find it with {find}; remove it with {}",
                REMOVE_WAIT.as_secs(),
                remove_by_hand(run_id, volume)
            ))
        }
    };
    let volume_rm = volume.map_or(String::new(), |v| format!(" && docker volume rm {v}"));
    match (ids.first(), volume) {
        (Some(first), _) => {
            let shorts: Vec<&str> = ids.iter().map(|id| short(id)).collect();
            Some(format!(
                "kept container {}{} (--keep): see its log with `docker logs {}` and its state with `docker inspect {}` (the run's containers: {find}); remove {} with `docker rm -f {}{volume_rm}`{late}",
                shorts.join(", "),
                volume.map_or(String::new(), |v| format!(" and the volume {v}")),
                short(first),
                short(first),
                if ids.len() > 1 || volume.is_some() { "them" } else { "it" },
                shorts.join(" "),
            ))
        }
        (None, Some(v)) => Some(format!(
            "kept the volume {v} (--keep); no container was made ({find} lists none); remove it with `docker volume rm {v}`{late}"
        )),
        (None, None) if !late.is_empty() => Some(format!("kept what the run made (--keep), nothing yet{late}")),
        (None, None) => None,
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let run_id = self.run_id.clone();
        let volume = self.volume.clone();
        let keep = self.keep;
        let starting = self.starting.take();
        let removal = std::thread::spawn(move || {
            // The daemon may still be creating the container: only once it answered does
            // the listing below see everything the run made.
            let started = await_start(starting);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("no runtime to remove them with: {e}"))?;
            runtime.block_on(async {
                let docker = docker()?;
                if keep {
                    let note = kept(&docker, &run_id, volume.as_deref(), !started).await;
                    return Ok::<_, String>(Ended::Kept(note));
                }
                let mut done = tokio::time::timeout(
                    REMOVE_WAIT,
                    remove_run(&docker, &run_id, volume.as_deref()),
                )
                .await
                .map_err(|_| {
                    format!(
                        "no answer from the Docker daemon within {} s",
                        REMOVE_WAIT.as_secs()
                    )
                })?;
                if !started {
                    done.left.push(still_creating(&run_id));
                }
                Ok(Ended::Removed(done))
            })
        });
        let what = format!(
            "containers labelled {RUN_LABEL}={}{}",
            self.run_id,
            self.volume
                .as_ref()
                .map_or(String::new(), |v| format!(" and the volume {v}"))
        );
        match removal.join() {
            Ok(Ok(Ended::Removed(done))) => {
                if !done.removed.is_empty() {
                    eprintln!(
                        "docker: the run stopped while its container was started or provisioned; removed {}",
                        done.removed.join(", ")
                    );
                }
                if !done.left.is_empty() {
                    eprintln!(
                        "docker: not removed, remove by hand: {}",
                        done.left.join("; ")
                    );
                }
            }
            Ok(Ok(Ended::Kept(note))) => eprintln!(
                "docker: the run stopped while its container was started or provisioned; {}",
                note.unwrap_or_else(|| "it had made nothing to keep (--keep)".into())
            ),
            Ok(Err(e)) if self.keep => eprintln!(
                "docker: kept the {what} (--keep), but could not list them: {e}. Find them with `docker ps -a --filter label={RUN_LABEL}={}`; remove them with {}",
                self.run_id,
                remove_by_hand(&self.run_id, self.volume.as_deref())
            ),
            Ok(Err(e)) => eprintln!(
                "docker: could not remove the {what}: {e}. Remove them by hand: {}",
                remove_by_hand(&self.run_id, self.volume.as_deref())
            ),
            Err(_) => eprintln!("docker: removing the {what} panicked; check `docker ps -a --filter label={RUN_LABEL}={}`", self.run_id),
        }
    }
}

/// How the cleanup of a dropped run ended.
enum Ended {
    Removed(Removed),
    /// `--keep`: what the run made, if anything.
    Kept(Option<String>),
}

/// The ids of the run's containers, stopped ones included.
async fn list_run(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
) -> Result<Vec<String>, testcontainers::bollard::errors::Error> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{RUN_LABEL}={run_id}")])]);
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await?;
    Ok(list.into_iter().filter_map(|c| c.id).collect())
}

/// What [`remove_run`] removed and what it left (with why and the command to do it).
#[derive(Debug, Default)]
struct Removed {
    removed: Vec<String>,
    left: Vec<String>,
}

/// Force-removes every container labelled with `run_id` (with its anonymous volumes),
/// then `volume`; each step within [`REMOVE_WAIT`]. A container or volume already gone
/// counts as removed.
async fn remove_run(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
    volume: Option<&str>,
) -> Removed {
    let mut done = Removed::default();
    let ids = match tokio::time::timeout(REMOVE_WAIT, list_run(docker, run_id)).await {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            done.left.push(format!(
                "the run's containers (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`): cannot list them: {e}"
            ));
            Vec::new()
        }
        Err(_) => {
            done.left.push(format!(
                "the run's containers (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`): no answer from the Docker daemon within {} s",
                REMOVE_WAIT.as_secs()
            ));
            Vec::new()
        }
    };
    for id in ids {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        let what = format!("container {} (`docker rm -f {}`)", short(&id), short(&id));
        match bounded(
            what,
            gone_is_fine(docker.remove_container(&id, Some(options))),
        )
        .await
        {
            Some(left) => done.left.push(left),
            None => done.removed.push(format!("container {}", short(&id))),
        }
    }
    if let Some(volume) = volume {
        let what = format!("volume {volume} (`docker volume rm {volume}`)");
        let removal = docker.remove_volume(volume, None::<RemoveVolumeOptions>);
        match bounded(what, gone_is_fine(removal)).await {
            Some(left) => done.left.push(left),
            None => done.removed.push(format!("volume {volume}")),
        }
    }
    done
}

/// A removal answered 404 (already gone, or never made) succeeded.
async fn gone_is_fine(
    removal: impl std::future::Future<Output = Result<(), testcontainers::bollard::errors::Error>>,
) -> Result<(), testcontainers::bollard::errors::Error> {
    match removal.await {
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }) => Ok(()),
        other => other,
    }
}

impl std::fmt::Debug for DockerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerTarget")
            .field("id", &self.id)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

fn docker() -> Result<testcontainers::bollard::Docker, String> {
    testcontainers::bollard::Docker::connect_with_local_defaults().map_err(|e| {
        format!(
            "cannot reach the Docker daemon: {e}. Is Docker installed and running (`docker info`)?"
        )
    })
}

/// Whether a Docker daemon answers here.
pub async fn available() -> Result<(), String> {
    let info = docker()?;
    tokio::time::timeout(Duration::from_secs(10), info.ping())
        .await
        .map_err(|_| "the Docker daemon did not answer within 10 s".to_string())?
        .map(|_| ())
        .map_err(|e| {
            format!("the Docker daemon does not answer: {e}. Is it running (`docker info`)?")
        })
}

/// A native Ollama already answering on 11434: worth saying, since the compose file
/// publishes that port and the two cannot both own it.
pub async fn native_on_default_port() -> Option<String> {
    let client = crate::Client::with_timeouts(
        Url::parse("http://127.0.0.1:11434").expect("a fixed URL"),
        crate::Timeouts::default().capped(Duration::from_secs(2)),
    );
    match client.root().await {
        Ok(text) if text.contains("Ollama") => Some(
            "a native Ollama already listens on 127.0.0.1:11434. This run uses a random port, but setup/docker-compose.yml publishes 11434 and cannot start beside it: stop one (`sudo systemctl stop ollama`) before `docker compose up`".into(),
        ),
        _ => None,
    }
}

impl DockerTarget {
    /// Starts the container and waits until its API answers. Whatever fails on the
    /// way, or drops this future before it finishes, removes what it made.
    pub async fn start(opts: &DockerOptions) -> Result<DockerTarget, String> {
        available().await?;
        let docker = docker()?;
        let image_ref = opts
            .image
            .clone()
            .unwrap_or_else(|| opts.compose.image.clone());
        let (name, tag) = split_image(&image_ref);
        let port = opts.compose.container_port;
        let run_id = format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_millis()
        );
        let (volume, remove_volume) = if opts.fresh_volume {
            (format!("ollama-verify-{run_id}"), true)
        } else {
            (opts.volume.clone(), false)
        };
        // Armed from here: a failed start, or this future dropped (Ctrl-C, SIGTERM,
        // --deadline), removes the run's containers and its fresh volume (with --keep,
        // says where they are).
        let mut cleanup = Cleanup::new(
            run_id.clone(),
            remove_volume.then(|| volume.clone()),
            opts.keep,
        );
        if remove_volume {
            // Made here, labelled, so that it can always be found and removed.
            let request = VolumeCreateRequest {
                name: Some(volume.clone()),
                labels: Some(HashMap::from([
                    (LABEL.to_string(), "docker".to_string()),
                    (RUN_LABEL.to_string(), run_id.clone()),
                ])),
                ..Default::default()
            };
            let made = tokio::time::timeout(REMOVE_WAIT, docker.create_volume(request)).await;
            match made {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    cleanup.disarm();
                    return Err(format!(
                        "expected to create the fresh volume {volume} (--fresh-volume), Docker refused: {e}. See `docker volume ls`, or run without --fresh-volume"
                    ));
                }
                // Still armed: the volume may exist all the same.
                Err(_) => {
                    return Err(format!(
                        "expected to create the fresh volume {volume} (--fresh-volume), the Docker daemon did not answer within {} s: is it overloaded (`docker info`)?",
                        REMOVE_WAIT.as_secs()
                    ))
                }
            }
        }
        let gpus = match opts.gpus {
            GpuRequest::Auto => {
                let seen = crate::probe::gpu::probe(
                    crate::probe::gpu::GpuSource::Nvml,
                    Duration::from_secs(10),
                )
                .await;
                if seen.is_ok_and(|g| !g.is_empty()) {
                    Some(-1)
                } else {
                    None
                }
            }
            GpuRequest::None => None,
            GpuRequest::All => Some(-1),
            GpuRequest::Count(n) => Some(i64::from(n)),
        };
        let restart = container_restart(opts.compose.restart.as_deref(), opts.keep);
        let mut request = GenericImage::new(name, tag)
            .with_exposed_port(ContainerPort::Tcp(port))
            .with_label(LABEL, "docker")
            .with_label(RUN_LABEL, run_id.clone())
            .with_mount(Mount::volume_mount(
                volume.clone(),
                opts.compose.models_path.clone(),
            ))
            .with_startup_timeout(Duration::from_secs(600))
            .with_host_config_modifier(move |hc| {
                hc.restart_policy = Some(RestartPolicy {
                    name: Some(restart),
                    maximum_retry_count: None,
                });
                // The API has no authentication (and the compose file allows every
                // origin): published on this machine's loopback only, on a port
                // Docker picks, never on 0.0.0.0 or [::].
                hc.publish_all_ports = Some(false);
                hc.port_bindings = Some(loopback_binding(port));
            });
        for (k, v) in &opts.compose.environment {
            request = request.with_env_var(k.clone(), v.clone());
        }
        if gpus.is_none() {
            // The official image sets NVIDIA_VISIBLE_DEVICES=all: where nvidia is the
            // daemon's default runtime, that alone hands every GPU over.
            request = request.with_env_var("NVIDIA_VISIBLE_DEVICES", "void");
        }
        if let Some(path) = &opts.compose.modelfile_path {
            request = request.with_copy_to(path.clone(), opts.modelfile.clone().into_bytes());
        }
        if let Some(h) = &opts.compose.healthcheck {
            request = request.with_health_check(
                Healthcheck::cmd(h.test.clone())
                    .with_interval(h.interval)
                    .with_timeout(h.timeout)
                    .with_retries(h.retries)
                    .with_start_period(h.start_period),
            );
        }
        if let Some(count) = gpus {
            request = request.with_device_requests(vec![DeviceRequest {
                driver: Some("nvidia".into()),
                count: Some(count),
                capabilities: Some(vec![vec!["gpu".into(), "utility".into(), "compute".into()]]),
                ..Default::default()
            }]);
        }
        // An image that is only here starts without a pull. A missing one is pulled
        // now, where a stop may interrupt it (a pull abandoned leaves no container).
        let here = tokio::time::timeout(REMOVE_WAIT, docker.inspect_image(&image_ref)).await;
        if let Ok(Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        })) = here
        {
            request = match tokio::time::timeout(opts.pull_timeout, request.pull_image()).await {
                Ok(Ok(pulled)) => pulled,
                Ok(Err(e)) => {
                    let message = not_here(&image_ref, &e.to_string());
                    return Err(with_note(message, cleanup.now(&docker, false).await));
                }
                Err(_) => {
                    let message = format!(
                        "the image {image_ref} is not here, and pulling it did not finish within {:.0} s: pull it first (`docker pull {image_ref}`), or name another with --image",
                        opts.pull_timeout.as_secs_f64()
                    );
                    return Err(with_note(message, cleanup.now(&docker, false).await));
                }
            };
        }
        // Created and started on a thread of its own that a stop does not interrupt
        // (see [`Cleanup`]); never dropped (testcontainers' removal on drop waits on the
        // daemon without a deadline): when nobody waits for it, the cleanup removes it.
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let starting = std::thread::Builder::new()
            .name("ollama-verify-docker-start".into())
            .spawn(move || {
                let started = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime
                        .block_on(request.start())
                        .map(ManuallyDrop::new)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("no runtime to start it with: {e}")),
                };
                let _ = sender.send(started);
            });
        match starting {
            Ok(starting) => cleanup.starting = Some(starting),
            Err(e) => {
                let message = format!("cannot start a thread to start the container on: {e}");
                return Err(with_note(message, cleanup.now(&docker, false).await));
            }
        }
        let started = match tokio::time::timeout(START_WAIT, receiver).await {
            Ok(answer) => {
                answer.unwrap_or_else(|_| Err("the thread starting it panicked".to_string()))
            }
            Err(_) => {
                // The daemon may still make the container: wait for the thread as a stop
                // does, then remove (or with --keep list) what the run made.
                let message = format!(
                    "expected the Docker daemon to create and start the container from {image_ref} within {} s, it has not answered: is it overloaded or stuck (`docker info`, `docker ps -a --filter label={RUN_LABEL}={run_id}`)?",
                    START_WAIT.as_secs()
                );
                let starting = cleanup.starting.take();
                let answered = tokio::task::spawn_blocking(move || await_start(starting))
                    .await
                    .unwrap_or(false);
                return Err(with_note(message, cleanup.now(&docker, !answered).await));
            }
        };
        // The thread has answered: it makes nothing more.
        cleanup.starting = None;
        let container = match started {
            Ok(c) => c,
            Err(e) => {
                // testcontainers leaves a container it created but could not start.
                let source = match opts.image {
                    Some(_) => "--image",
                    None => "the compose file's `image:`",
                };
                let message = start_error(&image_ref, source, &e);
                return Err(with_note(message, cleanup.now(&docker, false).await));
            }
        };
        let id = container.id().to_string();
        let info = match inspect(&docker, &id, ANSWER_WAIT).await {
            Ok(info) => info,
            Err(e) => {
                let message = e.to_string();
                return Err(with_note(message, cleanup.now(&docker, false).await));
            }
        };
        if let Some(why) = not_running(&info) {
            let log = log_tail(&docker, &id, 20, ANSWER_WAIT).await;
            let message = stopped(&image_ref, &id, &why, &log, opts.keep);
            return Err(with_note(message, cleanup.now(&docker, false).await));
        }
        let published = info.network_settings.and_then(|n| n.ports);
        let Some(host_port) = published
            .as_ref()
            .and_then(|ports| loopback_port(ports, port))
        else {
            let message = format!(
                "expected the container {}'s port {port} published on 127.0.0.1, Docker reports {}: see `docker port {}`",
                short(&id),
                published.map_or("no ports".to_string(), |p| format!("{p:?}")),
                short(&id)
            );
            return Err(with_note(message, cleanup.now(&docker, false).await));
        };
        let base_url =
            Url::parse(&format!("http://127.0.0.1:{host_port}")).expect("a loopback URL");
        let target = DockerTarget {
            docker,
            base_url,
            id,
            image: image_ref,
            port,
            answer_wait: ANSWER_WAIT,
            volume,
            remove_volume,
            keep: opts.keep,
            compose_restart: opts.compose.restart.clone().unwrap_or_else(|| "no".into()),
            cleanup,
        };
        if let Err(e) = target.wait_ready(opts.ready_timeout).await {
            return Err(match target.give_up().await {
                Some(note) => format!("{e}\n{note}"),
                None => e,
            });
        }
        Ok(target)
    }

    /// Polls the API until it answers, at most `timeout`; fails at once when the
    /// container no longer runs (exited, or restarting after an exit) or is gone.
    async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        // Its errors' advice is the container's (`docker logs`), not a systemd unit's.
        let client = crate::Client::with_timeouts(
            self.base_url.clone(),
            crate::Timeouts::default().capped(Duration::from_secs(2)),
        )
        .on(crate::client::ServerKind::Container {
            id: self.id.clone(),
            kept: self.keep,
        });
        let deadline = Instant::now() + timeout;
        loop {
            let e = match client.root().await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            // A server that exited never answers: no use waiting out the timeout. An
            // inspect the daemon does not answer in time is tried again next round.
            match inspect(&self.docker, &self.id, self.answer_wait).await {
                Ok(info) => {
                    if let Some(why) = not_running(&info) {
                        return Err(stopped(
                            &self.image,
                            &self.id,
                            &why,
                            &self.log_tail(20).await,
                            self.keep,
                        ));
                    }
                }
                Err(gone @ Inspected::Gone(_)) => return Err(gone.to_string()),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                let look = match self.keep {
                    true => format!(
                        "look at the container it kept (`docker logs {}`)",
                        short(&self.id)
                    ),
                    false => "run with --keep to look at the container".to_string(),
                };
                return Err(format!(
                    "the container {} did not answer at {} within {:.0} s (last error: {e}). Its last log lines:\n{}\nExpected the server to listen on port {} inside the container (the compose file's `ports:`): if the log says it listens on another, give OLLAMA_HOST in the compose file's environment and its `ports:` the same port; otherwise fix what the log says, or {look}",
                    short(&self.id),
                    self.base_url,
                    timeout.as_secs_f64(),
                    match self.log_tail(20).await {
                        log if log.trim().is_empty() => "(it logged nothing)".to_string(),
                        log => log,
                    },
                    self.port,
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The last `n` lines the container logged (stdout and stderr), as far as the
    /// daemon gives them within 10 s.
    pub async fn log_tail(&self, n: usize) -> String {
        log_tail(&self.docker, &self.id, n, self.answer_wait).await
    }

    /// Commands in the container, for the host checks.
    pub fn host(&self) -> Arc<dyn Host> {
        Arc::new(ContainerHost {
            docker: self.docker.clone(),
            id: self.id.clone(),
        })
    }

    /// Pulls the base model and creates the custom one inside the container, each only
    /// when the volume lacks it. Returns what it did, a line per step.
    pub async fn provision(&self, opts: &DockerOptions) -> Result<Vec<String>, String> {
        let host = self.host();
        let list = host
            .run("ollama", &["list"], opts.exec_timeout)
            .await
            .map_err(|e| e.to_string())?;
        let installed = |model: &str| {
            let name = crate::ModelName::parse(model);
            list.stdout
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().next())
                .any(|n| name.matches(n))
        };
        let mut done = Vec::new();
        if installed(&opts.base_model) {
            done.push(format!("{}: already in the volume", opts.base_model));
        } else {
            self.pull(&opts.base_model, opts).await?;
            done.push(format!("{}: pulled", opts.base_model));
        }
        if installed(&opts.custom_model) {
            done.push(format!("{}: already in the volume", opts.custom_model));
        } else {
            let path = opts.compose.modelfile_path.clone().ok_or_else(|| {
                format!(
                    "expected the compose file to mount a Modelfile (a volume whose source ends in Modelfile) to create {} from, it mounts none. Add setup/docker-compose.yml's `- ./coding-assistant.Modelfile:/modelfiles/coding-assistant.Modelfile:ro` to the service's volumes, or run with --no-provision and a --volume that already holds {}",
                    opts.custom_model, opts.custom_model
                )
            })?;
            let out = host
                .run(
                    "ollama",
                    &["create", &opts.custom_model, "-f", &path],
                    opts.exec_timeout,
                )
                .await
                .map_err(|e| e.to_string())?;
            if !out.success() {
                let said = if out.stderr.trim().is_empty() {
                    &out.stdout
                } else {
                    &out.stderr
                };
                return Err(format!(
                    "`ollama create {} -f {path}` in the container failed: {}. Check the Modelfile the compose file mounts there (its FROM, PARAMETER and TEMPLATE lines)",
                    opts.custom_model,
                    last_words(said.as_bytes())
                ));
            }
            done.push(format!("{}: created from {path}", opts.custom_model));
        }
        Ok(done)
    }

    /// `ollama pull` in the container, its percentages drawn as a progress bar.
    async fn pull(&self, model: &str, opts: &DockerOptions) -> Result<(), String> {
        let bar = if opts.progress {
            indicatif::ProgressBar::new(100)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>3}% {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("pulling {model}"));
        let mut seen = PullProgress::default();
        let on_output = |piece: &[u8], _stderr: bool| {
            seen.feed(piece);
            if let Some(pct) = seen.percent() {
                bar.set_position(pct);
            }
            if !seen.message().is_empty() {
                bar.set_message(seen.message().to_string());
            }
        };
        let command = vec!["ollama".to_string(), "pull".into(), model.into()];
        let work = async {
            let (stdout, stderr, code) = exec(&self.docker, &self.id, command, on_output).await?;
            match code {
                Some(0) => Ok(()),
                _ => Err(pull_failed(
                    model,
                    code,
                    if stderr.is_empty() { &stdout } else { &stderr },
                )),
            }
        };
        let result = tokio::time::timeout(opts.pull_timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "`ollama pull {model}` did not finish within {:.0} s: is the network slow, or does the container not reach the registry (a proxy)? Or run with --no-provision and a --volume that already holds it",
                    opts.pull_timeout.as_secs_f64()
                ))
            });
        bar.finish_and_clear();
        result
    }

    /// What `docker inspect` says now.
    pub async fn state(&self) -> Result<ContainerState, String> {
        let info = inspect(&self.docker, &self.id, self.answer_wait)
            .await
            .map_err(|e| e.to_string())?;
        let state = info.state.unwrap_or_default();
        let environment = info
            .config
            .and_then(|c| c.env)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                e.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        // The container runs with `restart: no` unless kept (a leaked one must not come
        // back with the daemon); service.enabled judges the compose file's policy.
        let restart_policy = if self.keep {
            info.host_config
                .and_then(|h| h.restart_policy)
                .and_then(|r| r.name)
                .map_or("no".to_string(), |n| n.to_string())
        } else {
            self.compose_restart.clone()
        };
        Ok(ContainerState {
            id: self.id.clone(),
            running: state.running.unwrap_or(false),
            status: state.status.map_or("unknown".into(), |s| s.to_string()),
            health: state.health.and_then(|h| h.status).map(|s| s.to_string()),
            restart_policy,
            environment,
            kept: self.keep,
        })
    }

    /// A container that never became ready: removed with its fresh volume, or with
    /// --keep kept and said how to look at it (its log, its state) and remove it; no
    /// API is offered, as none answered.
    async fn give_up(self) -> Option<String> {
        let DockerTarget {
            docker,
            mut cleanup,
            ..
        } = self;
        cleanup.now(&docker, false).await
    }

    /// Removes the container and a fresh volume, unless kept. Says what it left, or
    /// what it kept and how to reach and remove it.
    pub async fn finish(self) -> Option<String> {
        let DockerTarget {
            docker,
            mut cleanup,
            id,
            base_url,
            volume,
            remove_volume,
            keep,
            ..
        } = self;
        if keep {
            // Neither the container nor its volume is removed.
            cleanup.disarm();
            let id = short(&id);
            let (and_volume, them, volume_rm) = match remove_volume {
                true => (
                    format!(" and the volume {volume}"),
                    "them",
                    format!(" && docker volume rm {volume}"),
                ),
                false => (String::new(), "it", String::new()),
            };
            return Some(format!(
                "kept container {id}{and_volume} (--keep): API at {base_url}; `docker exec -it {id} sh`, its log with `docker logs {id}`; remove {them} with `docker rm -f {id}{volume_rm}`"
            ));
        }
        cleanup.now(&docker, false).await
    }
}

/// Why `ollama pull` failed in the container: its exit code and its own last words
/// (the line that says `Error:`, without the progress frames drawn before it).
fn pull_failed(model: &str, code: Option<i64>, said: &[u8]) -> String {
    let code = code.map_or("unknown".to_string(), |c| c.to_string());
    format!(
        "`ollama pull {model}` in the container failed (exit code {code}): {}. Check the model's name, and that the container reaches the registry (network, proxy); or run with --no-provision and a --volume that already holds it",
        last_words(said)
    )
}

/// What the `ollama` CLI said last: its `Error:` line, else its last line, without the
/// progress frames (escape sequences, `\r` redraws) drawn before it.
fn last_words(said: &[u8]) -> String {
    let mut plain = Vec::new();
    let mut i = 0;
    while i < said.len() {
        match said[i] {
            0x1b => i += escape_len(&said[i..]).unwrap_or(said.len() - i),
            b'\r' => {
                plain.push(b'\n');
                i += 1;
            }
            b => {
                plain.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&plain);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| l.contains("Error"))
        .or(lines.last())
        .map_or("(it printed nothing)".to_string(), |l| l.to_string())
}

/// The last `n` lines container `id` logged (stdout and stderr), as far as the daemon
/// gives them within `wait`.
async fn log_tail(
    docker: &testcontainers::bollard::Docker,
    id: &str,
    n: usize,
    wait: Duration,
) -> String {
    use futures_util::StreamExt;
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: n.to_string(),
        ..Default::default()
    };
    let mut text = Vec::new();
    let read = async {
        let mut logs = docker.logs(id, Some(options));
        while let Some(Ok(piece)) = logs.next().await {
            text.extend_from_slice(&piece.into_bytes());
        }
    };
    let _ = tokio::time::timeout(wait, read).await;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Why a `docker inspect` of the container gave no state.
#[derive(Debug)]
enum Inspected {
    /// Docker knows no such container (404).
    Gone(String),
    /// Any other error, or no answer in time.
    Failed(String),
}

impl std::fmt::Display for Inspected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inspected::Gone(m) | Inspected::Failed(m) => f.write_str(m),
        }
    }
}

/// `docker inspect` of container `id`, within `wait`.
async fn inspect(
    docker: &testcontainers::bollard::Docker,
    id: &str,
    wait: Duration,
) -> Result<ContainerInspectResponse, Inspected> {
    let asked = docker.inspect_container(id, None::<InspectContainerOptions>);
    match tokio::time::timeout(wait, asked).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        })) => Err(Inspected::Gone(format!(
            "expected the container {} to exist, Docker knows no such container: was it removed by hand? See `docker ps -a --filter label={LABEL}`",
            short(id)
        ))),
        Ok(Err(e)) => Err(Inspected::Failed(format!(
            "docker inspect {}: {e}. Is the Docker daemon healthy (`docker info`)?",
            short(id)
        ))),
        Err(_) => Err(Inspected::Failed(format!(
            "docker inspect {}: no answer from the Docker daemon within {:.0} s: is it overloaded or stuck (`docker info`)?",
            short(id),
            wait.as_secs_f64()
        ))),
    }
}

/// Why the container no longer runs, from its `docker inspect`: `None` while it runs
/// (or Docker says nothing of its state).
fn not_running(info: &ContainerInspectResponse) -> Option<String> {
    let state = info.state.as_ref()?;
    let code = state
        .exit_code
        .map_or("unknown".to_string(), |c| c.to_string());
    let mut also = String::new();
    if state.oom_killed == Some(true) {
        also.push_str(", killed for lack of memory (OOM)");
    }
    if let Some(error) = state.error.as_deref().filter(|e| !e.is_empty()) {
        also.push_str(&format!(", Docker says: {error}"));
    }
    if state.restarting == Some(true) {
        Some(format!(
            "it keeps exiting: Docker restarts it by its restart policy (restarted {} times so far), last exit code {code}{also}",
            info.restart_count.unwrap_or(0)
        ))
    } else if state.running == Some(false) {
        let ended = match state.status.map(|s| s.to_string()).as_deref() {
            Some("dead") => "died".to_string(),
            Some("exited" | "") | None => "exited".to_string(),
            Some(other) => format!("is {other}, not running, last exited"),
        };
        Some(format!("it {ended} with code {code}{also}"))
    } else {
        None
    }
}

/// The error of a container that stopped running before its API answered; `keep`:
/// it stays to be looked at.
fn stopped(image: &str, id: &str, why: &str, log: &str, keep: bool) -> String {
    let log = if log.trim().is_empty() {
        "(it logged nothing)".to_string()
    } else {
        log.to_string()
    };
    let id = short(id);
    let look = if keep {
        format!("look at the container it kept (`docker logs {id}`, `docker inspect {id}`)")
    } else {
        "run with --keep to look at the container (`docker logs`, `docker inspect`)".to_string()
    };
    format!(
        "expected the container {id} from {image} to keep running until its API answers, but {why}. Its last log lines:\n{log}\nFix what the log says (the image, or the compose file's environment and volumes), or {look}"
    )
}

/// An image that is neither here nor pulled: what to do, and where to look for the
/// tags that are here (a name without a tag means `:latest`).
fn not_here(image: &str, e: &str) -> String {
    let (name, tag) = split_image(image);
    let latest = match image.ends_with(&format!(":{tag}")) {
        true => String::new(),
        false => " (a name without a tag means :latest)".to_string(),
    };
    format!(
        "the image {image} is not here{latest} and could not be pulled: {e}. Pull or build it first (`docker images {name}` lists the tags here), or name another with --image"
    )
}

/// A start error with its cleanup's note: what it could not remove, or what it kept.
fn with_note(message: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{message}\n{note}"),
        None => message,
    }
}

/// The restart policy of the throwaway container: the compose file's only with `--keep`
/// (a container left behind by a killed run must not come back with every daemon start).
fn container_restart(compose: Option<&str>, keep: bool) -> RestartPolicyNameEnum {
    match (keep, compose) {
        (true, Some("always")) => RestartPolicyNameEnum::ALWAYS,
        (true, Some("unless-stopped")) => RestartPolicyNameEnum::UNLESS_STOPPED,
        (true, Some("on-failure")) => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    }
}

/// `port`/tcp published on 127.0.0.1 only, on a host port Docker picks.
fn loopback_binding(port: u16) -> PortMap {
    HashMap::from([(
        ContainerPort::Tcp(port).to_string(),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(String::new()),
        }]),
    )])
}

/// The host port `port`/tcp is published on at 127.0.0.1, as `docker inspect` reports it.
fn loopback_port(ports: &PortMap, port: u16) -> Option<u16> {
    ports
        .get(&ContainerPort::Tcp(port).to_string())?
        .as_ref()?
        .iter()
        .find(|b| b.host_ip.as_deref() == Some("127.0.0.1"))?
        .host_port
        .as_deref()?
        .parse()
        .ok()
}

/// A Docker daemon that stops answering must not hold the run's exit.
const REMOVE_WAIT: Duration = Duration::from_secs(30);

/// How long the daemon may take to answer an inspect of the container, or to give its log.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// How long the container's create and start may take, its image here by then.
const START_WAIT: Duration = Duration::from_secs(120);

/// Awaits a removal within [`REMOVE_WAIT`]; what was left behind, and why, if anything.
async fn bounded<E: std::fmt::Display>(
    what: String,
    removal: impl std::future::Future<Output = Result<(), E>>,
) -> Option<String> {
    match tokio::time::timeout(REMOVE_WAIT, removal).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{what}: {e}")),
        Err(_) => Some(format!(
            "{what}: no answer from the Docker daemon within {} s",
            REMOVE_WAIT.as_secs()
        )),
    }
}

fn split_image(image: &str) -> (String, String) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

/// Why the container did not start, and what to do about it; `source` is where the
/// image's name came from (`--image`, or the compose file's `image:`).
fn start_error(image: &str, source: &str, e: &str) -> String {
    if e.contains("unknown device") || e.contains("device error") {
        // nvidia-container-cli found the toolkit and the driver, not the GPUs asked for.
        format!("the container asked for GPUs this machine does not have: {e}. The NVIDIA Container Toolkit works, but the GPU count or index is wrong: see which GPUs there are with `nvidia-smi -L`, then pass --gpus with a count no larger, --gpus all, or --gpus none")
    } else if e.contains("could not select device driver") || e.contains("nvidia-container-cli") {
        format!("the container could not get the GPU: {e}. The Docker daemon lacks the NVIDIA runtime: install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`; or run without GPUs (--gpus none)")
    } else if e.contains("No such image")
        || e.contains("pull access denied")
        || e.contains("manifest unknown")
    {
        not_here(image, e)
    } else if e.contains("invalid reference format") {
        format!("expected an image name Docker takes from {source}, got `{image}`: {e}. Write it as [registry/]name[:tag] in lowercase, without spaces (e.g. ollama/ollama:0.17.1); `docker images` lists the images here")
    } else {
        format!("the container from {image} did not start: {e}. Docker's answer says why; run with --keep to keep the container it created, for `docker inspect`")
    }
}

/// `ollama pull`'s output as it arrives, read for a progress bar. The real CLI draws
/// on stderr a frame of lines ("pulling manifest", a bar per layer, "verifying sha256
/// digest", ...) every 100 ms and redraws it in place with CSI sequences (ESC[A up,
/// ESC[1G to column 1, ESC[K erase, ESC[?2026h/l and ESC[?25l/h around each frame),
/// with no newline after a frame until the pull ends (ollama progress/progress.go); the
/// emulator's CLI prints plain lines. Text is cut at every CSI sequence, `\r` and `\n`, and read only once a cut
/// ends it (a piece may stop inside an escape or a UTF-8 character).
#[derive(Debug, Default)]
struct PullProgress {
    pending: Vec<u8>,
    /// Each layer's bar as last drawn: its name, its size when read, its percentage.
    layers: Vec<(String, Option<u64>, u64)>,
    /// The newest line: a status, or a layer's name; no escapes, at most 50 characters.
    message: String,
}

impl PullProgress {
    fn feed(&mut self, piece: &[u8]) {
        self.pending.extend_from_slice(piece);
        let mut lines = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < self.pending.len() {
            let cut = match self.pending[i] {
                b'\r' | b'\n' => Some(1),
                0x1b => match escape_len(&self.pending[i..]) {
                    Some(n) => Some(n),
                    // An escape the piece cut short: wait for the rest.
                    None => break,
                },
                _ => None,
            };
            match cut {
                Some(n) => {
                    lines.push(String::from_utf8_lossy(&self.pending[start..i]).into_owned());
                    i += n;
                    start = i;
                }
                None => i += 1,
            }
        }
        self.pending.drain(..start);
        for line in lines {
            self.line(&line);
        }
    }

    fn line(&mut self, line: &str) {
        // The spinner's braille frame goes; control characters never reach the bar.
        let text: String = line
            .chars()
            .filter(|c| !c.is_control() && !('\u{2800}'..='\u{28ff}').contains(c))
            .collect();
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let layer = text
            .find('%')
            .and_then(|p| text[..p].rfind(':').map(|c| (c, p)))
            .and_then(|(c, p)| Some((c, p, percent(text)?)));
        let shown = match layer {
            Some((colon, at, pct)) => {
                let name = text[..colon].trim().to_string();
                let size = layer_size(&text[at + 1..]);
                match self.layers.iter_mut().find(|l| l.0 == name) {
                    Some(l) => {
                        l.1 = size.or(l.1);
                        l.2 = pct;
                    }
                    None => self.layers.push((name.clone(), size, pct)),
                }
                name
            }
            None => text.to_string(),
        };
        self.message = shown.chars().take(50).collect();
    }

    /// The largest layer's percentage (the weights: what takes the time).
    fn percent(&self) -> Option<u64> {
        let mut largest: Option<&(String, Option<u64>, u64)> = None;
        for layer in &self.layers {
            if largest.is_none_or(|l| layer.1 > l.1) {
                largest = Some(layer);
            }
        }
        largest.map(|l| l.2)
    }

    fn message(&self) -> &str {
        &self.message
    }
}

/// The length of the escape sequence `bytes` starts with (ESC[ parameters, final byte;
/// or ESC and one byte), `None` while incomplete.
fn escape_len(bytes: &[u8]) -> Option<usize> {
    match bytes.get(1)? {
        b'[' => {
            let mut j = 2;
            while (0x20..=0x3f).contains(bytes.get(j)?) {
                j += 1;
            }
            // The final byte (0x40..=0x7e); anything else ends a malformed one.
            Some(if (0x40..=0x7e).contains(&bytes[j]) {
                j + 1
            } else {
                j
            })
        }
        _ => Some(2),
    }
}

/// A layer's size from what its bar shows after the percentage: `▏ 1.9 GB/4.7 GB  50
/// MB/s  1m2s` while it downloads, `▏ 4.7 GB` once done (ollama's format.HumanBytes).
fn layer_size(after: &str) -> Option<u64> {
    let sizes = after.rsplit('▏').next().unwrap_or(after);
    let total = match sizes.split_once('/') {
        Some((_, total)) => total,
        None => sizes,
    };
    let mut words = total.split_whitespace();
    let number: f64 = words.next()?.parse().ok()?;
    let unit = match words.next()? {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((number * unit) as u64)
}

fn percent(line: &str) -> Option<u64> {
    let i = line.find('%')?;
    let digits: String = line[..i]
        .chars()
        .rev()
        .skip_while(|c| *c == ' ')
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .ok()
        .filter(|p| *p <= 100)
}

/// A host backend for any running container (`docker exec`), for checks of a machine
/// that lives in a container (a systemd test image, say).
pub fn container_host(id: &str) -> Result<Arc<dyn Host>, String> {
    Ok(Arc::new(ContainerHost {
        docker: docker()?,
        id: id.to_string(),
    }))
}

/// Runs a command in the container (`docker exec`), handing each piece of output to
/// `on_output` as it arrives (`true` for stderr); returns stdout, stderr, exit code.
async fn exec(
    docker: &testcontainers::bollard::Docker,
    id: &str,
    command: Vec<String>,
    mut on_output: impl FnMut(&[u8], bool) + Send,
) -> Result<(Vec<u8>, Vec<u8>, Option<i64>), String> {
    use futures_util::StreamExt;
    use testcontainers::bollard::container::LogOutput;
    use testcontainers::bollard::exec::{CreateExecOptions, StartExecResults};
    let created = docker
        .create_exec(
            id,
            CreateExecOptions {
                cmd: Some(command),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&created.id, None)
        .await
        .map_err(|e| e.to_string())?
    {
        while let Some(piece) = output.next().await {
            match piece.map_err(|e| e.to_string())? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    on_output(&message, false);
                    stdout.extend_from_slice(&message);
                }
                LogOutput::StdErr { message } => {
                    on_output(&message, true);
                    stderr.extend_from_slice(&message);
                }
                LogOutput::StdIn { .. } => {}
            }
        }
    }
    let code = docker
        .inspect_exec(&created.id)
        .await
        .map_err(|e| e.to_string())?
        .exit_code;
    Ok((stdout, stderr, code))
}

/// Commands inside the container (`docker exec`).
#[derive(Debug)]
struct ContainerHost {
    docker: testcontainers::bollard::Docker,
    id: String,
}

#[async_trait::async_trait]
impl Host for ContainerHost {
    fn is_container(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("container {}", short(&self.id))
    }

    async fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CmdOutput, HostError> {
        let command: Vec<String> = std::iter::once(program)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let text = command.join(" ");
        let work = exec(&self.docker, &self.id, command, |_, _| {});
        let (stdout, stderr, code) = match tokio::time::timeout(timeout, work).await {
            Err(_) => {
                return Err(HostError::TimedOut {
                    command: text,
                    host: self.describe(),
                    seconds: timeout.as_secs_f64(),
                })
            }
            Ok(Err(message)) => {
                if message.contains("executable file not found")
                    || message.contains("no such file or directory")
                {
                    return Err(HostError::NotFound {
                        program: program.into(),
                        host: self.describe(),
                    });
                }
                return Err(HostError::Io {
                    command: text,
                    host: self.describe(),
                    message,
                });
            }
            Ok(Ok(r)) => r,
        };
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        // The runtime reports a program it cannot find as exit 126/127 with a message.
        let said = format!("{stdout}{stderr}");
        if matches!(code, Some(126 | 127))
            && (said.contains("not found") || said.contains("no such file"))
        {
            return Err(HostError::NotFound {
                program: program.into(),
                host: self.describe(),
            });
        }
        Ok(CmdOutput {
            code: code.map(|c| c as i32),
            stdout,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("ollama/ollama:0.17.1", "ollama/ollama", "0.17.1")]
    #[case("ollama/ollama", "ollama/ollama", "latest")]
    #[case("localhost:5000/x/y:t", "localhost:5000/x/y", "t")]
    fn images(#[case] image: &str, #[case] name: &str, #[case] tag: &str) {
        assert_eq!(split_image(image), (name.to_string(), tag.to_string()));
    }

    #[rstest]
    #[case("pulling dae161e27b0e:  42% ▕████  ▏ 1.9 GB/4.7 GB", Some(42))]
    #[case("pulling manifest", None)]
    #[case("100%", Some(100))]
    #[case("disk 250% full", None)]
    fn percentages(#[case] line: &str, #[case] pct: Option<u64>) {
        assert_eq!(percent(line), pct);
    }

    #[test]
    fn start_errors_name_the_fix() {
        let e = start_error(
            "ollama/ollama:latest",
            "--image",
            "could not select device driver \"nvidia\" with capabilities: [[gpu]]",
        );
        assert!(
            e.contains("NVIDIA Container Toolkit") && e.contains("--gpus none"),
            "{e}"
        );
        let e = start_error("x:1", "--image", "No such image: x:1");
        assert!(e.contains("--image"), "{e}");
        assert!(start_error("x:1", "--image", "boom").contains("did not start: boom"));
    }

    #[test]
    fn a_wrong_gpu_count_is_not_a_missing_toolkit() {
        for said in [
            "failed to create task for container: nvidia-container-cli: device error: 2: unknown device: unknown",
            "nvidia-container-cli: device error: GPU-1234: unknown device",
        ] {
            let e = start_error("ollama/ollama:latest", "--image", said);
            assert!(
                e.contains("count or index is wrong") && e.contains("nvidia-smi -L"),
                "{e}"
            );
            assert!(!e.contains("install the NVIDIA Container Toolkit"), "{e}");
        }
    }

    #[rstest]
    #[case(Some("unless-stopped"), false, RestartPolicyNameEnum::NO)]
    #[case(Some("always"), false, RestartPolicyNameEnum::NO)]
    #[case(None, false, RestartPolicyNameEnum::NO)]
    #[case(Some("unless-stopped"), true, RestartPolicyNameEnum::UNLESS_STOPPED)]
    #[case(Some("always"), true, RestartPolicyNameEnum::ALWAYS)]
    #[case(Some("on-failure"), true, RestartPolicyNameEnum::ON_FAILURE)]
    #[case(Some("no"), true, RestartPolicyNameEnum::NO)]
    #[case(None, true, RestartPolicyNameEnum::NO)]
    fn only_a_kept_container_restarts_with_the_daemon(
        #[case] compose: Option<&str>,
        #[case] keep: bool,
        #[case] policy: RestartPolicyNameEnum,
    ) {
        assert_eq!(container_restart(compose, keep), policy);
    }

    #[test]
    fn the_api_is_published_on_loopback_only() {
        let bindings = loopback_binding(11434);
        let b = &bindings["11434/tcp"].as_ref().unwrap()[0];
        assert_eq!(b.host_ip.as_deref(), Some("127.0.0.1"));
        // Empty: Docker picks a free port.
        assert_eq!(b.host_port.as_deref(), Some(""));
        assert_eq!(bindings.len(), 1);

        let binding = |ip: &str, port: &str| PortBinding {
            host_ip: Some(ip.into()),
            host_port: Some(port.into()),
        };
        // What `docker inspect` reports once it runs.
        let inspected: PortMap = HashMap::from([
            (
                "11434/tcp".to_string(),
                Some(vec![binding("::", "40001"), binding("127.0.0.1", "40002")]),
            ),
            (
                "80/tcp".to_string(),
                Some(vec![binding("127.0.0.1", "40003")]),
            ),
        ]);
        assert_eq!(loopback_port(&inspected, 11434), Some(40002));
        assert_eq!(loopback_port(&inspected, 8080), None);
        let everywhere: PortMap = HashMap::from([(
            "11434/tcp".to_string(),
            Some(vec![binding("0.0.0.0", "40001")]),
        )]);
        assert_eq!(loopback_port(&everywhere, 11434), None);
        let unpublished: PortMap = HashMap::from([("11434/tcp".to_string(), None)]);
        assert_eq!(loopback_port(&unpublished, 11434), None);
    }

    /// Frames as the real CLI draws them (ollama progress.go and bar.go): synchronised
    /// output around each, the cursor moved up and to column 1, each line erased to
    /// its end, no newline until the end.
    fn frame(lines: &[&str], up: usize) -> String {
        let mut f = String::from("\x1b[?2026h\x1b[?25l");
        f.push_str(&"\x1b[A".repeat(up));
        f.push_str("\x1b[1G");
        f.push_str(
            &lines
                .iter()
                .map(|l| format!("{l}\x1b[K"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        f.push_str("\x1b[?25h\x1b[?2026l");
        f
    }

    #[test]
    fn the_pull_progress_reads_the_real_cli_redraws() {
        const WEIGHTS: &str = "pulling 60e05f210007:";
        let bar = |pct: u32, done: &str| {
            format!(
                "{WEIGHTS} {pct:3}% ▕{:<40}▏ {done}/4.7 GB   53 MB/s   1m17s",
                "█".repeat(pct as usize * 40 / 100)
            )
        };
        let small = "pulling 66b9ea09bd5b: 100% ▕████████████████████████████████████████▏   68 B                         ";
        let stream = [
            frame(&["pulling manifest ⠋"], 0),
            frame(&["pulling manifest ⠙"], 0),
            frame(&["pulling manifest ", &bar(3, "141 MB")], 0),
            frame(&["pulling manifest ", &bar(42, "1.9 GB")], 1),
            // A small layer done after the weights' bar: the bar stays on the weights.
            frame(&["pulling manifest ", &bar(57, "2.7 GB"), small], 1),
            frame(
                &[
                    "pulling manifest ",
                    &format!(
                        "{WEIGHTS} 100% ▕{}▏ 4.7 GB                         ",
                        "█".repeat(40)
                    ),
                    small,
                    "verifying sha256 digest ⠹",
                ],
                2,
            ),
        ]
        .concat()
            + "\n";
        let bytes = stream.as_bytes();
        // Cut into pieces that stop inside escapes and inside multi-byte characters.
        let mut progress = PullProgress::default();
        let mut percents = Vec::new();
        let mut messages = Vec::new();
        for piece in bytes.chunks(7) {
            progress.feed(piece);
            percents.extend(progress.percent());
            messages.push(progress.message().to_string());
        }
        percents.dedup();
        assert_eq!(percents, vec![3, 42, 57, 100]);
        for m in &messages {
            assert!(
                !m.contains('\x1b') && !m.contains('['),
                "an escape reached the bar: {m:?}"
            );
            assert!(!m.chars().any(char::is_control), "{m:?}");
            assert!(m.chars().count() <= 50, "{m:?}");
        }
        assert!(
            messages.contains(&"pulling manifest".to_string()),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"pulling 60e05f210007".to_string()),
            "{messages:?}"
        );
        assert_eq!(progress.message(), "verifying sha256 digest");
        assert!(progress.pending.is_empty());
    }

    #[test]
    fn the_pull_progress_reads_plain_lines_too() {
        // The emulator's CLI, and an old CLI that redrew with \r.
        let mut progress = PullProgress::default();
        progress.feed(b"pulling manifest\npulling dae161e27b0e:  40% 1.9 GB/4.7 GB\n");
        assert_eq!(progress.percent(), Some(40));
        progress
            .feed(b"pulling dae161e27b0e:  80% 3.8 GB/4.7 GB\rpulling 0123456789ab: 100% 487 B\n");
        assert_eq!(progress.percent(), Some(80));
        progress.feed(b"success\n");
        assert_eq!(progress.message(), "success");
    }

    #[rstest]
    #[case(" ▕██▏ 1.9 GB/4.7 GB   53 MB/s   1m17s", Some(4_700_000_000))]
    #[case(" ▕██▏   68 B          ", Some(68))]
    #[case(" 141 MB/986 MB", Some(986_000_000))]
    #[case(" ▕██▏", None)]
    fn layer_sizes(#[case] after: &str, #[case] size: Option<u64>) {
        assert_eq!(layer_size(after), size);
    }

    #[test]
    fn escapes_are_measured_or_awaited() {
        assert_eq!(escape_len(b"\x1b[?2026hX"), Some(8));
        assert_eq!(escape_len(b"\x1b[A"), Some(3));
        assert_eq!(escape_len(b"\x1b[K"), Some(3));
        assert_eq!(escape_len(b"\x1b[?20"), None);
        assert_eq!(escape_len(b"\x1b"), None);
        assert_eq!(escape_len(b"\x1b7"), Some(2));
    }

    fn inspected(state: &str, restart_count: i64) -> ContainerInspectResponse {
        serde_json::from_str(&format!(
            r#"{{"Id": "0123456789abcdef", "RestartCount": {restart_count}, "State": {state}}}"#
        ))
        .unwrap()
    }

    #[rstest]
    #[case(r#"{"Status": "running", "Running": true, "ExitCode": 0}"#, None)]
    #[case(r#"{"Status": "paused", "Running": true, "Paused": true}"#, None)]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 1}"#,
        Some("it exited with code 1")
    )]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 137, "OOMKilled": true}"#,
        Some("it exited with code 137, killed for lack of memory (OOM)")
    )]
    #[case(
        r#"{"Status": "dead", "Running": false, "Dead": true, "ExitCode": 128, "Error": "no such file"}"#,
        Some("it died with code 128, Docker says: no such file")
    )]
    #[case(
        r#"{"Status": "restarting", "Running": true, "Restarting": true, "ExitCode": 1}"#,
        Some("it keeps exiting: Docker restarts it by its restart policy (restarted 4 times so far), last exit code 1")
    )]
    fn a_container_that_no_longer_runs_says_how_it_ended(
        #[case] state: &str,
        #[case] why: Option<&str>,
    ) {
        assert_eq!(not_running(&inspected(state, 4)).as_deref(), why);
    }

    #[test]
    fn a_stopped_server_shows_its_log_and_what_to_try() {
        let e = stopped(
            "ollama/ollama:0.17.1",
            "0123456789abcdef",
            "it exited with code 1",
            "Error: bad config",
            false,
        );
        for said in [
            "container 0123456789ab from ollama/ollama:0.17.1",
            "it exited with code 1",
            "\nError: bad config\n",
            "--keep",
        ] {
            assert!(e.contains(said), "{said:?} in {e}");
        }
        let kept = stopped(
            "x:1",
            "0123456789abcdef",
            "it exited with code 2",
            " \n",
            true,
        );
        assert!(kept.contains("(it logged nothing)"), "{kept}");
        assert!(kept.contains("`docker logs 0123456789ab`"), "{kept}");
        assert!(!kept.contains("--keep"), "{kept}");
    }

    /// A Docker API on a unix socket of its own: each request's path (the API version
    /// cut off) goes to `answer`, whose `(status, JSON or text)` goes back; `None` holds
    /// the request unanswered while the test runs: a daemon that stopped answering.
    struct FakeDaemon {
        docker: testcontainers::bollard::Docker,
        _dir: tempfile::TempDir,
    }

    impl FakeDaemon {
        fn start(answer: impl Fn(&str) -> Option<(u16, String)> + Send + Sync + 'static) -> Self {
            use std::io::{BufRead, Write};
            let dir = tempfile::tempdir().unwrap();
            let socket = dir.path().join("docker.sock");
            let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
            let answer = Arc::new(answer);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    let answer = answer.clone();
                    std::thread::spawn(move || {
                        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                        loop {
                            let mut request = String::new();
                            loop {
                                let mut line = String::new();
                                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == "\r\n" {
                                    break;
                                }
                                request.push_str(&line);
                            }
                            let path = request.split_whitespace().nth(1).unwrap_or_default();
                            let path = match path.strip_prefix("/v") {
                                Some(rest) => rest.find('/').map_or(path, |i| &rest[i..]),
                                None => path,
                            };
                            let Some((status, body)) = answer(path) else {
                                std::thread::sleep(Duration::from_secs(3600));
                                return;
                            };
                            let head = format!(
                                "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                                body.len()
                            );
                            if stream
                                .write_all(format!("{head}{body}").as_bytes())
                                .is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            });
            let docker = testcontainers::bollard::Docker::connect_with_unix(
                socket.to_str().unwrap(),
                120,
                testcontainers::bollard::API_DEFAULT_VERSION,
            )
            .unwrap();
            FakeDaemon { docker, _dir: dir }
        }

        /// A target on this daemon whose API nothing answers (a port nothing listens on).
        fn target(&self) -> DockerTarget {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut cleanup = Cleanup::new("unit-test".into(), None, false);
            cleanup.disarm();
            DockerTarget {
                docker: self.docker.clone(),
                base_url: Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
                id: "0123456789abcdef".into(),
                image: "ollama/ollama:test".into(),
                port: 11434,
                answer_wait: Duration::from_millis(300),
                volume: "ollama-verify-models".into(),
                remove_volume: false,
                keep: false,
                compose_restart: "no".into(),
                cleanup,
            }
        }
    }

    /// Well past each call's own bound, well before bollard's two minutes.
    const HANG: Duration = Duration::from_secs(20);

    #[tokio::test]
    async fn a_daemon_that_stops_answering_does_not_hold_an_inspect() {
        let daemon = FakeDaemon::start(|_| None);
        let target = daemon.target();
        let began = Instant::now();
        let e = tokio::time::timeout(HANG, target.state())
            .await
            .expect("the inspect gives up on its own")
            .unwrap_err();
        assert!(e.contains("no answer from the Docker daemon within"), "{e}");
        assert!(e.contains("docker info"), "{e}");
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
        let e = tokio::time::timeout(
            HANG,
            inspect(&daemon.docker, "x", Duration::from_millis(200)),
        )
        .await
        .expect("bounded")
        .unwrap_err();
        assert!(matches!(e, Inspected::Failed(_)), "{e}");
    }

    #[tokio::test]
    async fn waiting_for_the_api_ends_on_time_when_the_daemon_stops_answering() {
        let daemon = FakeDaemon::start(|_| None);
        let target = daemon.target();
        let began = Instant::now();
        let e = tokio::time::timeout(HANG, target.wait_ready(Duration::from_secs(1)))
            .await
            .expect("the wait ends on its own")
            .unwrap_err();
        assert!(e.contains("did not answer at"), "{e}");
        // The advice is the container's: no systemd unit runs it.
        for wrong in ["systemctl", "journalctl"] {
            assert!(!e.contains(wrong), "{wrong} in {e}");
        }
        assert!(
            e.contains("listen on port 11434 inside the container") && e.contains("--keep"),
            "{e}"
        );
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
    }

    #[rstest]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 1}"#,
        "exited with code 1"
    )]
    #[case(
        r#"{"Status": "restarting", "Running": true, "Restarting": true, "ExitCode": 1}"#,
        "keeps exiting"
    )]
    #[tokio::test]
    async fn waiting_for_the_api_of_a_container_that_exited_fails_at_once(
        #[case] state: &'static str,
        #[case] said: &str,
    ) {
        let daemon = FakeDaemon::start(move |path| {
            if path.starts_with("/containers/0123456789abcdef/json") {
                Some((
                    200,
                    format!(r#"{{"Id": "0123456789abcdef", "RestartCount": 2, "State": {state}}}"#),
                ))
            } else if path.starts_with("/containers/0123456789abcdef/logs") {
                Some((
                    200,
                    "Error: cannot read emulator config /etc/x.toml\n".into(),
                ))
            } else {
                Some((404, r#"{"message": "page not found"}"#.into()))
            }
        });
        let target = daemon.target();
        let began = Instant::now();
        let e = tokio::time::timeout(HANG, target.wait_ready(Duration::from_secs(60)))
            .await
            .expect("no waiting out the 60 s")
            .unwrap_err();
        for part in [
            said,
            "code 1",
            "Error: cannot read emulator config /etc/x.toml",
            "--keep",
        ] {
            assert!(e.contains(part), "{part:?} in {e}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
    }

    #[tokio::test]
    async fn waiting_for_the_api_of_a_removed_container_fails_at_once() {
        let daemon = FakeDaemon::start(|_| {
            Some((
                404,
                r#"{"message": "No such container: 0123456789abcdef"}"#.into(),
            ))
        });
        let target = daemon.target();
        let e = tokio::time::timeout(HANG, target.wait_ready(Duration::from_secs(60)))
            .await
            .expect("no waiting out the 60 s")
            .unwrap_err();
        assert!(e.contains("Docker knows no such container"), "{e}");
        assert!(e.contains("docker ps -a"), "{e}");
    }

    /// A name Docker refuses is named with where it came from and how it is written;
    /// any other refusal still says what to try.
    #[test]
    fn a_start_error_says_what_to_try() {
        let e = start_error(
            "Bad_Image",
            "--image",
            "failed to create a container: Docker responded with status code 400: invalid reference format: repository name must be lowercase",
        );
        assert!(
            e.starts_with("expected an image name Docker takes from --image, got `Bad_Image`")
                && e.contains("in lowercase"),
            "{e}"
        );
        let e = start_error("x:1", "--image", "failed to start a container: boom");
        assert!(e.contains("boom") && e.contains("--keep"), "{e}");
    }

    /// A failed pull says its exit code as a number and the CLI's error line, not its
    /// progress frames.
    #[test]
    fn a_failed_pull_says_why_in_a_line() {
        let said = b"\x1b[?25lpulling manifest \xe2\xa0\x8b \x1b[K\x1b[?25h\x1b[?2026l\rError: pull model manifest: file does not exist\n";
        let e = pull_failed("qwen2.5-coder:7b", Some(1), said);
        assert!(
            e.starts_with("`ollama pull qwen2.5-coder:7b` in the container failed (exit code 1): Error: pull model manifest: file does not exist. "),
            "{e}"
        );
        assert!(!e.contains('\x1b') && !e.contains("Some("), "{e:?}");
        assert!(e.contains("--no-provision"), "{e}");
        assert!(pull_failed("m", None, b"").contains("(exit code unknown): (it printed nothing)"));
    }

    #[test]
    fn an_image_not_here_says_where_its_tags_are() {
        let e = not_here("ollama-verify-emulator", "no such host");
        assert!(
            e.starts_with("the image ollama-verify-emulator is not here (a name without a tag means :latest) and could not be pulled: no such host.")
                && e.contains("`docker images ollama-verify-emulator`"),
            "{e}"
        );
        let e = not_here("localhost:5000/o/x:1", "denied");
        assert!(
            !e.contains(":latest") && e.contains("`docker images localhost:5000/o/x`"),
            "{e}"
        );
    }

    #[test]
    fn gpu_requests() {
        assert_eq!("all".parse(), Ok(GpuRequest::All));
        assert_eq!("2".parse(), Ok(GpuRequest::Count(2)));
        assert!("many".parse::<GpuRequest>().unwrap_err().contains("--gpus"));
    }

    proptest::proptest! {
        /// Whatever bytes `ollama pull` writes, in whatever pieces they arrive, the
        /// reader neither panics nor passes a control character to the progress bar.
        #[test]
        fn the_pull_progress_takes_any_bytes(
            pieces in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), 0..20),
        ) {
            let mut p = PullProgress::default();
            for piece in &pieces {
                p.feed(piece);
                proptest::prop_assert!(p.message().chars().all(|c| !c.is_control()));
                proptest::prop_assert!(p.message().chars().count() <= 50);
                let _ = p.percent();
            }
        }
    }
}
