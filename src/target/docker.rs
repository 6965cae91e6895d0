//! The docker target: an Ollama container this run starts (testcontainers), provisions
//! and removes; host checks run inside it.

use super::{Advice, Backend, DockerSettings, StartError, Target};
use crate::client::{Client, Timeouts};
use crate::probe::logs::ServerLog;
use crate::probe::service::ServiceFacts;
use crate::probe::Host;
use crate::probe::{LogError, ProbeError};
use crate::provision::docker::DockerTarget;
use crate::server_log::TAIL_LINES;
use std::sync::Arc;
use std::time::Duration;

pub struct DockerBackend {
    /// Taken by [`finish`](Backend::finish), which removes the container.
    container: tokio::sync::Mutex<Option<DockerTarget>>,
    client: Client,
    advice: Advice,
    host: Arc<dyn Host>,
}

impl std::fmt::Debug for DockerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerBackend")
            .field("base_url", &self.client.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl DockerBackend {
    /// Starts the container as `settings` say, provisioned and ready.
    pub async fn start(settings: &DockerSettings, timeouts: Timeouts) -> Result<Self, StartError> {
        let container = start(settings).await?;
        let client = Client::with_timeouts(container.base_url.clone(), timeouts);
        let advice = Advice::Docker {
            id: container.id.clone(),
            kept: settings.keep,
        };
        let host = container.host();
        Ok(DockerBackend {
            container: tokio::sync::Mutex::new(Some(container)),
            client,
            advice,
            host,
        })
    }
}

#[async_trait::async_trait]
impl Backend for DockerBackend {
    fn target(&self) -> Target {
        Target::Docker
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn advice(&self) -> Advice {
        self.advice.clone()
    }

    fn host(&self) -> Option<Arc<dyn Host>> {
        Some(self.host.clone())
    }

    async fn server_log(&self, _unit: &str, _timeout: Duration) -> Result<ServerLog, LogError> {
        match self.container.lock().await.as_ref() {
            Some(container) => {
                let text = container.log_tail(TAIL_LINES).await;
                Ok(ServerLog::new("the container log", &text))
            }
            None => Err(LogError::ContainerRemoved),
        }
    }

    /// The container's state, read at each call: a container can stop during a run.
    async fn service(&self, _unit: &str, _timeout: Duration) -> Result<ServiceFacts, ProbeError> {
        match self.container.lock().await.as_ref() {
            Some(container) => container
                .state()
                .await
                .map(ServiceFacts::Container)
                .map_err(ProbeError::Container),
            None => Err(ProbeError::ContainerRemoved),
        }
    }

    async fn finish(&self) -> Option<String> {
        let container = self.container.lock().await.take()?;
        container.finish().await
    }
}

/// Starts and provisions the docker target from setup/'s compose file and Modelfile.
async fn start(settings: &DockerSettings) -> Result<DockerTarget, StartError> {
    use crate::provision::{compose, docker};
    let compose_text = match &settings.compose_file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| StartError::ComposeUnreadable {
            path: path.clone(),
            said: e.to_string(),
        })?,
        None => compose::SETUP_COMPOSE.to_string(),
    };
    let service = compose::parse(&compose_text, "ollama").map_err(StartError::Compose)?;
    let mut opts =
        docker::DockerOptions::new(service, crate::emulator::SETUP_MODELFILE.to_string());
    opts.image = settings.image.clone();
    opts.gpus = settings.gpus.parse().map_err(StartError::Gpus)?;
    opts.volume = settings.volume.clone();
    opts.fresh_volume = settings.fresh_volume;
    opts.keep = settings.keep;
    opts.progress = settings.progress;
    if let Some(note) = docker::native_on_default_port().await {
        eprintln!("note: {note}");
    }
    let target = docker::DockerTarget::start(&opts).await?;
    eprintln!(
        "docker: container {} from {} answers at {}",
        crate::text::short_id(&target.id),
        opts.image.as_deref().unwrap_or(&opts.compose.image),
        target.base_url
    );
    if settings.provision {
        match target.provision(&opts).await {
            Ok(steps) => steps.iter().for_each(|s| eprintln!("docker: {s}")),
            Err(error) => {
                let logs = target.log_tail(10).await;
                let note = target.finish().await;
                return Err(StartError::Provision {
                    error: Box::new(error),
                    logs,
                    note,
                });
            }
        }
    }
    Ok(target)
}
