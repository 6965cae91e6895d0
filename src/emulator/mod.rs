//! A deterministic Ollama stand-in: the HTTP API with real-shaped JSON, paced
//! generation with honest statistics, a model catalog for `pull`, Modelfile `create`,
//! fault injection, and a log of every request it served.
//!
//! Reachable in-process ([`Emulator::start`]), as `ollama-verify emulator --listen`,
//! and through the `ollama-emulator` binary (an `ollama`-like CLI).

pub mod catalog;
mod config;
mod faults;
pub mod generate;
mod inference;
mod log;
mod log_buffer;
mod models;
mod openai;
mod respond;
mod scheduler;
mod server;
mod slots;
mod state;

pub use config::{Answer, CustomModel, EmulatorConfig, Fault, FaultKind, SETUP_MODELFILE};
pub use state::RequestRecord;

use crate::client::{Client, Timeouts};
use state::Shared;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// A running emulator. Dropping it stops accepting connections.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, String> {
        Self::bind(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn bind(config: EmulatorConfig, addr: SocketAddr) -> Result<Emulator, String> {
        config.validate()?;
        let models = state::seed(&config)?;
        let shared = Arc::new(Shared {
            models: Mutex::new(models),
            log: Mutex::new(Vec::new()),
            config: Mutex::new(config.clone()),
            server_log: log_buffer::LogBuffer::default(),
            started: std::time::Instant::now(),
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        for line in log::startup(&config, addr) {
            shared.server_log.push(line);
        }
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            // Errors here mean the listener died; the owner notices as refused connections.
            // Like Ollama (Go), send each streamed token at once, not when Nagle allows.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
        Ok(Emulator { shared, addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("a socket address is a URL")
    }

    /// A client for this emulator with the given deadlines.
    pub fn client(&self, timeouts: Timeouts) -> Client {
        Client::with_timeouts(self.base_url(), timeouts)
    }

    /// Every API request served so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.lock().unwrap().clone()
    }

    /// What the server logged so far (its journal): the last lines, oldest first.
    pub fn log_lines(&self) -> Vec<String> {
        self.shared.server_log.lines()
    }

    /// Prints the server's log to stderr from now on (with what it logged so far), as
    /// the real server does: so a journal or a container log holds it.
    pub fn echo_log_to_stderr(&self) {
        self.shared.server_log.echo_to_stderr();
    }

    /// What the emulated GPU's driver would list as processes holding VRAM: this
    /// process (the emulator) with what its loaded models hold on the GPU, when any
    /// is loaded. With `vram_held = false`, none: the `/api/ps` misreport.
    pub fn gpu_processes(&self) -> Vec<crate::gpu::GpuProcess> {
        if !self.shared.config.lock().unwrap().vram_held {
            return Vec::new();
        }
        let held: u64 = self
            .shared
            .models
            .lock()
            .unwrap()
            .running()
            .iter()
            .map(|m| m.size_vram)
            .sum();
        if held == 0 {
            return Vec::new();
        }
        vec![crate::gpu::GpuProcess {
            pid: std::process::id(),
            name: "ollama-emulator (emulated GPU)".into(),
            used_bytes: Some(held),
        }]
    }

    /// Changes the configuration of the running emulator (faults, speed, placement).
    pub fn configure(&self, change: impl FnOnce(&mut EmulatorConfig)) {
        change(&mut self.shared.config.lock().unwrap());
    }

    /// Serves until the process is interrupted.
    pub async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The request log of an emulator in another process (`GET /_emulator/requests`).
pub async fn remote_requests(base: &url::Url) -> Result<Vec<RequestRecord>, String> {
    let url = format!("{}/_emulator/requests", base.as_str().trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    resp.json().await.map_err(|e| format!("GET {url}: {e}"))
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
