//! What a run verifies: a native install, the built-in emulator, or a container the run
//! starts. Each is a [`Backend`] that knows how to reach its server (the client), where
//! host commands run, where the server's log and service state are, and what to remove
//! when the run ends; the session asks it and caches what it learns.

mod advice;
#[cfg(feature = "docker")]
mod docker;
mod docker_settings;
mod emulator;
mod native;
mod start_error;

pub use advice::Advice;
#[cfg(feature = "docker")]
pub use docker::DockerBackend;
pub use docker_settings::DockerSettings;
pub use emulator::EmulatorBackend;
pub use native::NativeBackend;
pub use start_error::StartError;

use crate::client::Client;
use crate::gpu::GpuProcess;
use crate::probe::gpu::GpuSource;
use crate::probe::logs::ServerLog;
use crate::probe::service::ServiceFacts;
use crate::probe::Host;
use crate::probe::{LogError, ProbeError};
use std::sync::Arc;
use std::time::Duration;

/// What is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The server at `OLLAMA_HOST` (or `--host`), host checks on this machine.
    Native,
    /// The built-in emulator, in-process; no host to inspect.
    Emulator,
    /// An Ollama container this run starts (testcontainers), provisions and removes;
    /// host checks run inside it.
    Docker,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(Target::Native),
            "emulator" => Ok(Target::Emulator),
            "docker" if cfg!(feature = "docker") => Ok(Target::Docker),
            "docker" => {
                Err("this build has no docker target (built without the `docker` feature)".into())
            }
            other => Err(format!(
                "unknown target `{other}`: use native, docker or emulator"
            )),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Target::Native => "native",
            Target::Emulator => "emulator",
            Target::Docker => "docker",
        })
    }
}

impl Target {
    /// Where GPU facts come from unless `--gpu` says otherwise: NVML natively, the
    /// emulated GPU on the emulator, `nvidia-smi` in the container (the GPU must be
    /// visible inside it, not only on this machine).
    pub fn default_gpu_source(self) -> GpuSource {
        match self {
            Target::Native => GpuSource::Nvml,
            Target::Emulator => GpuSource::Emulated,
            Target::Docker => GpuSource::NvidiaSmi,
        }
    }
}

/// One started target. Read-only towards the install it checks; [`finish`] removes
/// only what the run itself created.
///
/// [`finish`]: Backend::finish
#[async_trait::async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    fn target(&self) -> Target;

    /// The API client, set up for this target's server.
    fn client(&self) -> &Client;

    /// What a person is told to try next on this target: where its server's log is,
    /// how to see whether it runs; added to the client's errors at the edge.
    fn advice(&self) -> Advice;

    /// Where host commands run (this machine, the container), or `None`: the emulator
    /// has no host to inspect.
    fn host(&self) -> Option<Arc<dyn Host>>;

    /// The server log's last [`TAIL_LINES`](crate::server_log::TAIL_LINES) lines, or why
    /// they cannot be read here.
    async fn server_log(&self, unit: &str, timeout: Duration) -> Result<ServerLog, LogError>;

    /// The state of the service that runs the server (`unit` natively, the container on
    /// the docker target), or why it cannot be read.
    async fn service(&self, unit: &str, timeout: Duration) -> Result<ServiceFacts, ProbeError>;

    /// Who holds the emulated GPU's memory: only an in-process emulator knows.
    fn emulated_gpu_processes(&self) -> Option<Vec<GpuProcess>> {
        None
    }

    /// Ends the run: removes what it created (the docker target's container and fresh
    /// volume, unless kept). Returns a note for the user, if there is one.
    async fn finish(&self) -> Option<String> {
        None
    }
}

/// Why a target without a host cannot answer a host question.
pub fn no_host(target: Target) -> ProbeError {
    ProbeError::NoHost {
        target: target.to_string(),
    }
}
