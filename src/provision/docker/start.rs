//! Starting the container: the fresh volume, the request built from the compose file's
//! service, the image pulled when it is not here, the create and start on a thread a
//! stop does not interrupt, and the API's port on 127.0.0.1.

use super::cleanup::{await_start, Cleanup, LABEL, REMOVE_WAIT, RUN_LABEL};
use super::daemon::{available, docker};
use super::error::DockerError;
use super::inspect::{inspect, log_tail, not_running, ANSWER_WAIT};
use super::options::{split_image, DockerOptions, GpuRequest};
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::time::Duration;
use testcontainers::bollard::models::{
    DeviceRequest, PortBinding, PortMap, RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use testcontainers::core::{ContainerPort, Healthcheck, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};
use url::Url;

/// How long the container's create and start may take, its image here by then.
const START_WAIT: Duration = Duration::from_secs(120);

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

/// A container that runs, its API published, not yet known to answer.
pub(super) struct Started {
    pub(super) docker: testcontainers::bollard::Docker,
    pub(super) id: String,
    pub(super) base_url: Url,
    /// The image it runs, as asked for.
    pub(super) image: String,
    /// The API's port inside the container (the compose file's `ports:`).
    pub(super) port: u16,
    pub(super) volume: String,
    /// The volume is this run's own (`--fresh-volume`), removed afterwards.
    pub(super) remove_volume: bool,
    /// Armed: removes what the run made unless disarmed.
    pub(super) cleanup: Cleanup,
}

/// Starts the container and finds its API's port. Whatever fails on the way, or drops
/// this future before it finishes, removes what it made (with `--keep`, says where it
/// is); the [`Started`] carries the cleanup, still armed.
pub(super) async fn container(opts: &DockerOptions) -> Result<Started, DockerError> {
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
                return Err(DockerError::VolumeRefused {
                    volume,
                    said: e.to_string(),
                });
            }
            // Still armed: the volume may exist all the same.
            Err(_) => {
                return Err(DockerError::VolumeSilent {
                    volume,
                    secs: REMOVE_WAIT.as_secs(),
                })
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
                let error = DockerError::ImageMissing {
                    image: image_ref,
                    said: e.to_string(),
                };
                return Err(error.noted(cleanup.now(&docker, false).await));
            }
            Err(_) => {
                let error = DockerError::ImagePullSlow {
                    image: image_ref,
                    secs: opts.pull_timeout.as_secs_f64(),
                };
                return Err(error.noted(cleanup.now(&docker, false).await));
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
            let error = DockerError::NoThread(e.to_string());
            return Err(error.noted(cleanup.now(&docker, false).await));
        }
    }
    let started = match tokio::time::timeout(START_WAIT, receiver).await {
        Ok(answer) => answer.unwrap_or_else(|_| Err("the thread starting it panicked".to_string())),
        Err(_) => {
            // The daemon may still make the container: wait for the thread as a stop
            // does, then remove (or with --keep list) what the run made.
            let error = DockerError::StartSilent {
                image: image_ref,
                secs: START_WAIT.as_secs(),
                label: RUN_LABEL,
                run_id,
            };
            let starting = cleanup.starting.take();
            let answered = tokio::task::spawn_blocking(move || await_start(starting))
                .await
                .unwrap_or(false);
            return Err(error.noted(cleanup.now(&docker, !answered).await));
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
            let error = DockerError::not_started(&image_ref, source, &e);
            return Err(error.noted(cleanup.now(&docker, false).await));
        }
    };
    let id = container.id().to_string();
    let info = match inspect(&docker, &id, ANSWER_WAIT).await {
        Ok(info) => info,
        Err(e) => {
            let error = DockerError::Inspect(e.to_string());
            return Err(error.noted(cleanup.now(&docker, false).await));
        }
    };
    if let Some(why) = not_running(&info) {
        let log = log_tail(&docker, &id, 20, ANSWER_WAIT).await;
        let error = DockerError::Stopped {
            image: image_ref,
            id,
            why,
            log,
            keep: opts.keep,
        };
        return Err(error.noted(cleanup.now(&docker, false).await));
    }
    let published = info.network_settings.and_then(|n| n.ports);
    let Some(host_port) = published
        .as_ref()
        .and_then(|ports| loopback_port(ports, port))
    else {
        let error = DockerError::NotPublished {
            id,
            port,
            published: published.map_or("no ports".to_string(), |p| format!("{p:?}")),
        };
        return Err(error.noted(cleanup.now(&docker, false).await));
    };
    let base_url = Url::parse(&format!("http://127.0.0.1:{host_port}")).expect("a loopback URL");
    Ok(Started {
        docker,
        id,
        base_url,
        image: image_ref,
        port,
        volume,
        remove_volume,
        cleanup,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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
}
