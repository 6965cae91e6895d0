//! The docker target: an Ollama container started with testcontainers from the
//! settings of setup/docker-compose.yml, on a random host port, with the GPUs passed in,
//! its models provisioned through `docker exec`, and removed afterwards.

use super::compose::ComposeService;
use crate::probe::host::{CmdOutput, Host, HostError};
use crate::probe::service::ContainerState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testcontainers::bollard::models::{DeviceRequest, RestartPolicy, RestartPolicyNameEnum};
use testcontainers::core::{ContainerPort, Healthcheck, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use url::Url;

/// The label every container and volume this tool creates carries.
pub const LABEL: &str = "org.ollama-verify.target";

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
    /// Deadline of pulling the base model.
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

/// A running Ollama container.
pub struct DockerTarget {
    container: Arc<ContainerAsync<GenericImage>>,
    docker: testcontainers::bollard::Docker,
    pub base_url: Url,
    pub id: String,
    volume: String,
    remove_volume: bool,
    keep: bool,
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
    /// Starts the container and waits until its API answers.
    pub async fn start(opts: &DockerOptions) -> Result<DockerTarget, String> {
        available().await?;
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
        let restart = match opts.compose.restart.as_deref() {
            Some("always") => Some(RestartPolicyNameEnum::ALWAYS),
            Some("unless-stopped") => Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            Some("on-failure") => Some(RestartPolicyNameEnum::ON_FAILURE),
            _ => None,
        };
        let mut request = GenericImage::new(name, tag)
            .with_exposed_port(ContainerPort::Tcp(port))
            .with_label(LABEL, "docker")
            .with_label("org.ollama-verify.run", run_id.clone())
            .with_mount(Mount::volume_mount(
                volume.clone(),
                opts.compose.models_path.clone(),
            ))
            .with_startup_timeout(Duration::from_secs(600))
            .with_host_config_modifier(move |hc| {
                if let Some(name) = restart {
                    hc.restart_policy = Some(RestartPolicy {
                        name: Some(name),
                        maximum_retry_count: None,
                    });
                }
            });
        for (k, v) in &opts.compose.environment {
            request = request.with_env_var(k.clone(), v.clone());
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
        let container = request
            .start()
            .await
            .map_err(|e| start_error(&image_ref, &e.to_string()))?;
        let id = container.id().to_string();
        let host_port = container
            .get_host_port_ipv4(ContainerPort::Tcp(port))
            .await
            .map_err(|e| format!("container {id}: port {port} is not published: {e}"))?;
        let base_url =
            Url::parse(&format!("http://127.0.0.1:{host_port}")).expect("a loopback URL");
        let target = DockerTarget {
            container: Arc::new(container),
            docker: docker()?,
            base_url,
            id,
            volume,
            remove_volume,
            keep: opts.keep,
        };
        if let Err(e) = target.wait_ready(opts.ready_timeout).await {
            let _ = target.finish().await;
            return Err(e);
        }
        Ok(target)
    }

    async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let client = crate::Client::with_timeouts(
            self.base_url.clone(),
            crate::Timeouts::default().capped(Duration::from_secs(2)),
        );
        let deadline = Instant::now() + timeout;
        loop {
            match client.root().await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "the container {} did not answer at {} within {:.0} s (last error: {e}). Its last log lines:\n{}",
                        short(&self.id),
                        self.base_url,
                        timeout.as_secs_f64(),
                        self.log_tail(20).await
                    ))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The last `n` lines the container logged (stdout and stderr).
    pub async fn log_tail(&self, n: usize) -> String {
        let out = self.container.stdout_to_vec().await.unwrap_or_default();
        let err = self.container.stderr_to_vec().await.unwrap_or_default();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
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
            let path =
                opts.compose.modelfile_path.clone().ok_or(
                    "the compose file mounts no Modelfile to create the custom model from",
                )?;
            let out = host
                .run(
                    "ollama",
                    &["create", &opts.custom_model, "-f", &path],
                    opts.exec_timeout,
                )
                .await
                .map_err(|e| e.to_string())?;
            if !out.success() {
                return Err(format!(
                    "`ollama create {} -f {path}` in the container failed: {}",
                    opts.custom_model,
                    out.stderr.trim()
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
        let mut pending = String::new();
        let on_output = |piece: &[u8], _stderr: bool| {
            pending.push_str(&String::from_utf8_lossy(piece));
            // The CLI redraws its line with \r; each piece is a status.
            while let Some(i) = pending.find(['\r', '\n']) {
                let line: String = pending.drain(..=i).collect();
                if let Some(pct) = percent(&line) {
                    bar.set_position(pct);
                }
                let status = line.trim();
                if !status.is_empty() {
                    bar.set_message(status.chars().take(50).collect::<String>());
                }
            }
        };
        let command = vec!["ollama".to_string(), "pull".into(), model.into()];
        let work = async {
            let (stdout, stderr, code) = exec(&self.docker, &self.id, command, on_output).await?;
            match code {
                Some(0) => Ok(()),
                _ => Err(format!(
                    "`ollama pull {model}` in the container failed (exit {code:?}): {}",
                    String::from_utf8_lossy(if stderr.is_empty() { &stdout } else { &stderr })
                        .trim()
                )),
            }
        };
        let result = tokio::time::timeout(opts.pull_timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "`ollama pull {model}` did not finish within {:.0} s",
                    opts.pull_timeout.as_secs_f64()
                ))
            });
        bar.finish_and_clear();
        result
    }

    /// What `docker inspect` says now.
    pub async fn state(&self) -> Result<ContainerState, String> {
        let info = self
            .docker
            .inspect_container(&self.id, None)
            .await
            .map_err(|e| format!("docker inspect {}: {e}", short(&self.id)))?;
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
        let restart_policy = info
            .host_config
            .and_then(|h| h.restart_policy)
            .and_then(|r| r.name)
            .map_or("no".to_string(), |n| n.to_string());
        Ok(ContainerState {
            id: self.id.clone(),
            running: state.running.unwrap_or(false),
            status: state.status.map_or("unknown".into(), |s| s.to_string()),
            health: state.health.and_then(|h| h.status).map(|s| s.to_string()),
            restart_policy,
            environment,
        })
    }

    /// Removes the container (unless kept) and a fresh volume. Says what it left.
    pub async fn finish(self) -> Option<String> {
        if self.keep {
            let note = format!(
                "kept container {} (--keep): API at {}; `docker exec -it {} sh`; remove it with `docker rm -f {}`{}",
                short(&self.id),
                self.base_url,
                short(&self.id),
                short(&self.id),
                if self.remove_volume { format!(" && docker volume rm {}", self.volume) } else { String::new() }
            );
            // Neither the container nor its volume is removed.
            std::mem::forget(self);
            return Some(note);
        }
        use testcontainers::bollard::query_parameters::{
            RemoveContainerOptions, RemoveVolumeOptions,
        };
        let DockerTarget {
            container,
            docker,
            volume,
            remove_volume,
            id,
            ..
        } = self;
        let mut left = Vec::new();
        match Arc::try_unwrap(container) {
            Ok(c) => {
                // Removed here, under our deadline; testcontainers' own removal on drop
                // has none, so its handle is forgotten.
                std::mem::forget(c);
                let options = RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                };
                let what = format!("container {} (`docker rm -f {}`)", short(&id), short(&id));
                left.extend(bounded(what, docker.remove_container(&id, Some(options))).await);
            }
            Err(shared) => drop(shared),
        }
        if remove_volume {
            let what = format!("volume {volume} (`docker volume rm {volume}`)");
            let removal = docker.remove_volume(&volume, None::<RemoveVolumeOptions>);
            left.extend(bounded(what, removal).await);
        }
        (!left.is_empty()).then(|| format!("not removed, remove by hand: {}", left.join("; ")))
    }
}

/// A Docker daemon that stops answering must not hold the run's exit.
const REMOVE_WAIT: Duration = Duration::from_secs(30);

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

fn start_error(image: &str, e: &str) -> String {
    if e.contains("could not select device driver") || e.contains("nvidia-container-cli") {
        format!("the container could not get the GPU: {e}. The Docker daemon lacks the NVIDIA runtime: install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`; or run without GPUs (--gpus none)")
    } else if e.contains("No such image")
        || e.contains("pull access denied")
        || e.contains("manifest unknown")
    {
        format!("the image {image} is not here and could not be pulled: {e}. Pull or build it first, or name another with --image")
    } else {
        format!("the container from {image} did not start: {e}")
    }
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

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
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
            "could not select device driver \"nvidia\" with capabilities: [[gpu]]",
        );
        assert!(
            e.contains("NVIDIA Container Toolkit") && e.contains("--gpus none"),
            "{e}"
        );
        let e = start_error("x:1", "No such image: x:1");
        assert!(e.contains("--image"), "{e}");
        assert!(start_error("x:1", "boom").contains("did not start: boom"));
    }

    #[test]
    fn gpu_requests() {
        assert_eq!("all".parse(), Ok(GpuRequest::All));
        assert_eq!("2".parse(), Ok(GpuRequest::Count(2)));
        assert!("many".parse::<GpuRequest>().unwrap_err().contains("--gpus"));
    }
}
