//! The docker target: an Ollama container started with testcontainers from the
//! settings of setup/docker-compose.yml, on a random port of 127.0.0.1, with the GPUs
//! passed in, its models provisioned through `docker exec`, and removed afterwards (also
//! after a failed start, and when the run is stopped while it starts or is provisioned;
//! with `--keep`, left where it is, with the commands to look at it and remove it).
//!
//! One job per file, each using only files named before it here: `options` (what is
//! asked for), `daemon` (reaching Docker), `progress` (reading `ollama pull`'s output),
//! `error` (the wording of failures), `cleanup` (what a run made, removed however it
//! ends), `inspect` (a container's state and log), `exec` (commands in a container),
//! `ready` (waiting for the API), `provision` (the models), `start` (the container);
//! this file holds the target they make up.

mod cleanup;
mod daemon;
mod error;
mod exec;
#[cfg(test)]
mod fake_daemon;
mod inspect;
mod options;
mod progress;
mod provision;
mod ready;
mod start;

pub use cleanup::{LABEL, RUN_LABEL};
pub use daemon::available;
pub use exec::container_host;
pub use options::{DockerOptions, GpuRequest};
pub use start::native_on_default_port;

use crate::probe::host::Host;
use crate::probe::service::ContainerState;
use crate::text::short_id as short;
use cleanup::Cleanup;
pub use error::DockerError;
use exec::ContainerHost;
use inspect::{inspect, log_tail, ANSWER_WAIT};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

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

impl std::fmt::Debug for DockerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerTarget")
            .field("id", &self.id)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl DockerTarget {
    /// Starts the container and waits until its API answers. Whatever fails on the
    /// way, or drops this future before it finishes, removes what it made.
    pub async fn start(opts: &DockerOptions) -> Result<DockerTarget, DockerError> {
        let started = start::container(opts).await?;
        let target = DockerTarget {
            docker: started.docker,
            base_url: started.base_url,
            id: started.id,
            image: started.image,
            port: started.port,
            answer_wait: ANSWER_WAIT,
            volume: started.volume,
            remove_volume: started.remove_volume,
            keep: opts.keep,
            compose_restart: opts.compose.restart.clone().unwrap_or_else(|| "no".into()),
            cleanup: started.cleanup,
        };
        if let Err(e) = target.wait_ready(opts.ready_timeout).await {
            return Err(e.noted(target.give_up().await));
        }
        Ok(target)
    }

    /// Polls the API until it answers, at most `timeout`; fails at once when the
    /// container no longer runs (exited, or restarting after an exit) or is gone.
    async fn wait_ready(&self, timeout: Duration) -> Result<(), DockerError> {
        ready::Awaited {
            docker: &self.docker,
            id: &self.id,
            image: &self.image,
            base_url: &self.base_url,
            port: self.port,
            keep: self.keep,
            answer_wait: self.answer_wait,
        }
        .wait(timeout)
        .await
    }

    /// The last `n` lines the container logged (stdout and stderr), as far as the
    /// daemon gives them within 10 s.
    pub async fn log_tail(&self, n: usize) -> String {
        log_tail(&self.docker, &self.id, n, self.answer_wait).await
    }

    /// Commands in the container, for the host checks.
    pub fn host(&self) -> Arc<dyn Host> {
        Arc::new(self.container_host())
    }

    /// Pulls the base model and creates the custom one inside the container, each only
    /// when the volume lacks it. Returns what it did, a line per step.
    pub async fn provision(&self, opts: &DockerOptions) -> Result<Vec<String>, DockerError> {
        provision::models(&self.container_host(), opts).await
    }

    fn container_host(&self) -> ContainerHost {
        ContainerHost::new(self.docker.clone(), self.id.clone())
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

#[cfg(test)]
mod tests {
    use super::*;
    use fake_daemon::{unanswered_url, FakeDaemon, HANG};
    use inspect::Inspected;
    use std::time::Instant;

    /// A target on `daemon` whose API nothing answers.
    fn target(daemon: &FakeDaemon) -> DockerTarget {
        let mut cleanup = Cleanup::new("unit-test".into(), None, false);
        cleanup.disarm();
        DockerTarget {
            docker: daemon.docker.clone(),
            base_url: unanswered_url(),
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

    #[tokio::test]
    async fn a_daemon_that_stops_answering_does_not_hold_an_inspect() {
        let daemon = FakeDaemon::start(|_| None);
        let target = target(&daemon);
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
}
