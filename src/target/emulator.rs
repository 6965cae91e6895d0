//! The emulator target: the built-in emulator, in-process; no host to inspect.

use super::{no_host, Advice, Backend, StartError, Target};
use crate::client::{Client, Timeouts};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::gpu::GpuProcess;
use crate::probe::logs::ServerLog;
use crate::probe::service::ServiceFacts;
use crate::probe::Host;
use crate::probe::{LogError, ProbeError};
use std::sync::Arc;
use std::time::Duration;

pub struct EmulatorBackend {
    emulator: Emulator,
    client: Client,
}

impl std::fmt::Debug for EmulatorBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBackend")
            .field("base_url", &self.client.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl EmulatorBackend {
    /// Starts the emulator as `config` says.
    pub async fn start(config: EmulatorConfig, timeouts: Timeouts) -> Result<Self, StartError> {
        let emulator = Emulator::start(config)
            .await
            .map_err(StartError::Emulator)?;
        let client = emulator.client(timeouts);
        Ok(EmulatorBackend { emulator, client })
    }
}

#[async_trait::async_trait]
impl Backend for EmulatorBackend {
    fn target(&self) -> Target {
        Target::Emulator
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn advice(&self) -> Advice {
        Advice::Emulator
    }

    fn host(&self) -> Option<Arc<dyn Host>> {
        None
    }

    async fn server_log(&self, _unit: &str, _timeout: Duration) -> Result<ServerLog, LogError> {
        Ok(ServerLog {
            lines: self.emulator.log_lines(),
            source: "the emulator's log".into(),
        })
    }

    async fn service(&self, _unit: &str, _timeout: Duration) -> Result<ServiceFacts, ProbeError> {
        Ok(ServiceFacts::Unavailable(
            no_host(Target::Emulator).to_string(),
        ))
    }

    fn emulated_gpu_processes(&self) -> Option<Vec<GpuProcess>> {
        Some(self.emulator.gpu_processes())
    }
}
