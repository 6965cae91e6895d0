//! The native target: the server at `OLLAMA_HOST` (or `--host`), its host facts read on
//! this machine (or on the host backend a test gives).

use super::{Advice, Backend, StartError, Target};
use crate::client::{Client, Timeouts};
use crate::probe::logs::ServerLog;
use crate::probe::service::{self, ServiceFacts};
use crate::probe::{journal, Host, LocalHost};
use crate::probe::{LogError, ProbeError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// A unit's state, read once and shared.
type UnitFacts = Arc<OnceCell<Result<ServiceFacts, ProbeError>>>;

#[derive(Debug)]
pub struct NativeBackend {
    client: Client,
    host: Arc<dyn Host>,
    /// A unit's state is read once per run: `systemctl show` is slow and does not
    /// change under a read-only run.
    services: Mutex<HashMap<String, UnitFacts>>,
}

impl NativeBackend {
    /// `host` as the user gave it (`--host`), else `OLLAMA_HOST`; host commands on
    /// `backend`, else on this machine.
    pub fn new(
        host: Option<&str>,
        timeouts: Timeouts,
        backend: Option<Arc<dyn Host>>,
    ) -> Result<NativeBackend, StartError> {
        let base = match host {
            // Named as the user gave it: the flag (or its variable).
            Some(h) => crate::client::parse_ollama_host(h)
                .map_err(|e| e.from_setting("--host (OLLAMA_VERIFY_HOST) ").to_string()),
            None => crate::client::base_url_from_env().map_err(|e| e.to_string()),
        }
        .map_err(StartError::Address)?;
        Ok(NativeBackend {
            client: Client::with_timeouts(base, timeouts),
            host: backend.unwrap_or_else(|| Arc::new(LocalHost)),
            services: Mutex::new(HashMap::new()),
        })
    }
}

#[async_trait::async_trait]
impl Backend for NativeBackend {
    fn target(&self) -> Target {
        Target::Native
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn advice(&self) -> Advice {
        Advice::Native
    }

    fn host(&self) -> Option<Arc<dyn Host>> {
        Some(self.host.clone())
    }

    async fn server_log(&self, unit: &str, timeout: Duration) -> Result<ServerLog, LogError> {
        if !crate::client::is_local(self.client.base_url()) {
            return Err(LogError::NotHere {
                server: self.client.base_url().to_string(),
                host: self.host.describe(),
            });
        }
        journal::tail(self.host.as_ref(), unit, timeout).await
    }

    async fn service(&self, unit: &str, timeout: Duration) -> Result<ServiceFacts, ProbeError> {
        let cell = self
            .services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(unit.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| service::probe(self.host.as_ref(), unit, timeout))
            .await
            .clone()
    }
}
