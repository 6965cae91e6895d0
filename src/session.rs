//! What one verification run talks to: the target's API client, its host backend, its
//! GPU source, and the facts gathered so far. Facts several checks need (the root
//! answer, the model list, the chat with the custom model) are fetched once and shared,
//! so the chat check doubles as the warm-up and one failure shows once.

use crate::catalog::CheckId;
use crate::check::CheckResult;
use crate::client::types::{ChatChunk, PsResponse, TagsResponse};
use crate::client::{Client, ClientError};
use crate::probe::cli::CliVersion;
use crate::probe::gpu::{self, GpuError, GpuInfo, GpuSource};
use crate::probe::logs::ServerLog;
use crate::probe::procfs;
use crate::probe::service::ServiceFacts;
use crate::probe::{cli, Host, HostError};
use crate::probe::{LogError, NativeProbe, ProbeError};
#[cfg(feature = "docker")]
use crate::target::DockerBackend;
use crate::target::{Advice, Backend, EmulatorBackend, NativeBackend};
pub use crate::target::{DockerSettings, Target};
pub use options::SessionOptions;
pub use sampling::Sampling;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

mod options;
mod sampling;

type Shared<T> = Arc<OnceCell<T>>;
/// Facts fetched once per key (a unit, a model) and shared by every check needing them.
type Memo<T> = Mutex<HashMap<String, Shared<T>>>;

pub struct Session {
    pub target: Target,
    pub client: Client,
    /// The target's next steps, added to the client's errors before a check sees them.
    pub advice: Advice,
    pub gpu_source: GpuSource,
    pub strict: bool,
    /// See [`SessionOptions::unselected`].
    pub unselected: Vec<(String, crate::check::Severity)>,
    pub allow_unload: bool,
    /// See [`SessionOptions::baseline`].
    pub baseline: Option<Arc<crate::baseline::Summary>>,
    pub command_timeout: Duration,
    spec_root: Option<std::path::PathBuf>,
    backend: Box<dyn Backend>,
    host: Option<Arc<dyn Host>>,
    root: OnceCell<Result<String, ClientError>>,
    tags: OnceCell<Result<TagsResponse, ClientError>>,
    version: OnceCell<Result<String, ClientError>>,
    gpus: OnceCell<Result<Vec<GpuInfo>, GpuError>>,
    cli: OnceCell<Result<(CliVersion, String), HostError>>,
    chats: Memo<Result<ChatChunk, ClientError>>,
    samples: Memo<Result<Vec<crate::perf::StreamTiming>, ClientError>>,
    shows: Memo<Result<crate::client::types::ShowResponse, ClientError>>,
    /// Turns at the server: see [`Session::turn`] and [`Session::alone`].
    turns: tokio::sync::RwLock<()>,
    results: Mutex<Vec<CheckResult>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.target)
            .field("base_url", &self.client.base_url().as_str())
            .finish_non_exhaustive()
    }
}

/// Samples of the GPUs (each sample every GPU), or why they cannot be read.
pub type GpuSamples = Result<Vec<Vec<GpuInfo>>, GpuError>;
/// A generation (answered, or why not) and the GPUs sampled while it ran.
pub type Watched = (Result<(), ClientError>, GpuSamples);

/// The prompt of the shared chat: short, so that the check costs little.
pub const CHAT_PROMPT: &str = "Reply with one word: ready?";
/// The shared chat only has to complete: a model that ignores "one word" is capped here
/// (`num_predict` is not a load-time option, so it forces no reload).
pub const CHAT_NUM_PREDICT: u64 = 32;

/// The generation diagnose.offload watches: a few NVML looks 100 ms apart, with room
/// for a slow GPU (16 tokens take 0.25 s at 63 tok/s).
const WATCH_PROMPT: &str = "Count from 1 to 10.";
const WATCH_NUM_PREDICT: u64 = 16;

impl Session {
    /// Prepares a run; for the emulator target this starts the emulator, for the docker
    /// target the container (provisioned, ready).
    pub async fn start(options: SessionOptions) -> Result<Session, crate::target::StartError> {
        let backend: Box<dyn Backend> = match options.target {
            #[cfg(feature = "docker")]
            Target::Docker => {
                Box::new(DockerBackend::start(&options.docker, options.timeouts).await?)
            }
            #[cfg(not(feature = "docker"))]
            Target::Docker => return Err(crate::target::StartError::NoDocker),
            Target::Emulator => {
                Box::new(EmulatorBackend::start(options.emulator.clone(), options.timeouts).await?)
            }
            Target::Native => Box::new(NativeBackend::new(
                options.host.as_deref(),
                options.timeouts,
                options.host_backend.clone(),
            )?),
        };
        let gpu_source = options.gpu.unwrap_or(options.target.default_gpu_source());
        Ok(Session {
            target: options.target,
            gpu_source,
            strict: options.strict,
            unselected: options.unselected.clone(),
            allow_unload: options.allow_unload,
            baseline: options.baseline.clone(),
            command_timeout: options.command_timeout,
            spec_root: options.spec_root,
            client: backend.client().clone(),
            advice: backend.advice(),
            host: backend.host(),
            backend,
            root: OnceCell::new(),
            tags: OnceCell::new(),
            version: OnceCell::new(),
            gpus: OnceCell::new(),
            cli: OnceCell::new(),
            chats: Mutex::new(HashMap::new()),
            samples: Mutex::new(HashMap::new()),
            shows: Mutex::new(HashMap::new()),
            turns: tokio::sync::RwLock::new(()),
            results: Mutex::new(Vec::new()),
        })
    }

    /// The host to run commands on, or why there is none.
    pub fn host(&self) -> Result<&dyn Host, ProbeError> {
        self.host
            .as_deref()
            .ok_or_else(|| crate::target::no_host(self.target))
    }

    /// A file the spec names: as given if it exists (absolute, or from the working
    /// folder), else from the spec root.
    pub fn resolve(&self, path: &str) -> std::path::PathBuf {
        let given = std::path::PathBuf::from(path);
        match &self.spec_root {
            Some(root) if !given.exists() && given.is_relative() => root.join(given),
            _ => given,
        }
    }

    /// A turn at the server, shared: every request of the suite takes one, except a
    /// measurement's, which takes the server [`alone`](Session::alone). Checks that
    /// only read the host (NVML, systemd, /proc) take none, so they go on while a
    /// measurement runs. Never wait for a turn while holding one: a measurement queued
    /// in between would wait for the first, and the second for it.
    pub async fn turn(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.turns.read().await
    }

    /// The server to itself: waits until no other request of the suite is in flight,
    /// and holds new ones back until dropped (the speed samples, the cold load).
    async fn alone(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.turns.write().await
    }

    pub async fn root(&self) -> &Result<String, ClientError> {
        self.root
            .get_or_init(|| async {
                let _turn = self.turn().await;
                self.advice.advised(self.client.root().await)
            })
            .await
    }

    /// Why API checks other than `api.root` cannot run, if the server is unreachable.
    /// A server that accepts connections but never answers counts as unreachable; one
    /// that answers `GET /` as no Ollama does is named too, for the checks whose own
    /// errors only echo that (see [`ClientError::is_foreign`]).
    pub async fn unreachable(&self) -> Option<String> {
        match self.root().await {
            Err(e) if e.is_unreachable() => Some(format!(
                "the API at {} is unreachable (see {see})",
                self.client.base_url(),
                see = CheckId::ApiRoot
            )),
            Err(e) if e.is_unresponsive() => Some(format!(
                "the API at {} does not answer (see {see})",
                self.client.base_url(),
                see = CheckId::ApiRoot
            )),
            Err(_) => Some(format!(
                "the server at {} fails `GET /`, so it is not a working Ollama (see {see})",
                self.client.base_url(),
                see = CheckId::ApiRoot
            )),
            Ok(text) if text.trim() != crate::client::GREETING => Some(format!(
                "the server at {} does not greet as Ollama (see {see})",
                self.client.base_url(),
                see = CheckId::ApiRoot
            )),
            Ok(_) => None,
        }
    }

    pub async fn tags(&self) -> &Result<TagsResponse, ClientError> {
        self.tags
            .get_or_init(|| async {
                let _turn = self.turn().await;
                self.advice.advised(self.client.tags().await)
            })
            .await
    }

    pub async fn server_version(&self) -> &Result<String, ClientError> {
        self.version
            .get_or_init(|| async {
                let _turn = self.turn().await;
                self.advice
                    .advised(self.client.version().await.map(|v| v.version))
            })
            .await
    }

    pub async fn gpus(&self) -> &Result<Vec<GpuInfo>, GpuError> {
        self.gpus.get_or_init(|| self.probe_gpus()).await
    }

    async fn probe_gpus(&self) -> Result<Vec<GpuInfo>, GpuError> {
        let mut gpus = match (self.gpu_source, self.host()) {
            (GpuSource::NvidiaSmi, Ok(host)) => gpu::probe_smi(host, self.command_timeout).await,
            (GpuSource::NvidiaSmi, Err(reason)) => Err(GpuError::NotVisible(reason.to_string())),
            (source, _) => gpu::probe(source, self.command_timeout).await,
        }?;
        // The in-process emulator is the one process that can hold the emulated VRAM.
        if self.gpu_source == GpuSource::Emulated {
            if let Some(processes) = self.backend.emulated_gpu_processes() {
                for g in &mut gpus {
                    g.processes = Some(processes.clone());
                }
            }
        }
        Ok(gpus)
    }

    /// The server's log, the last [`logs::TAIL_LINES`] lines: `journalctl -u ollama`
    /// natively, the container's log on the docker target, the emulator's own log on
    /// the emulator target. Read-only; `Err` says why it cannot be read here.
    pub async fn server_log(&self, unit: &str) -> Result<ServerLog, LogError> {
        self.backend.server_log(unit, self.command_timeout).await
    }

    /// The GPUs sampled while `model` generates a short answer: what NVML shows
    /// holding VRAM and how busy the GPU is during a generation, not before it. Which
    /// process holds VRAM shows at once, so the answer is kept short: it adds to the
    /// time to verdict.
    pub async fn gpus_during_generation(&self, model: &str) -> Watched {
        // One turn for the whole watch: the looks at an emulated GPU read /api/ps
        // unturned (`gpus_at`), so nothing here waits for a second turn.
        let _turn = self.turn().await;
        let req = crate::perf::sample_request(model, WATCH_PROMPT, WATCH_NUM_PREDICT, None);
        let chat = self.client.chat(&req);
        tokio::pin!(chat);
        let mut samples = Vec::new();
        let answered = loop {
            tokio::select! {
                done = &mut chat => break self.advice.advised(done.map(|_| ())),
                sample = self.gpus_at() => {
                    match sample {
                        Ok(gpus) => samples.push(gpus),
                        Err(e) => return (Ok(()), Err(e)),
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        if samples.is_empty() {
            // Too quick to sample during: a look right after still shows who holds it.
            match self.gpus_at().await {
                Ok(gpus) => samples.push(gpus),
                Err(e) => return (answered, Err(e)),
            }
        }
        (answered, Ok(samples))
    }

    /// Who listens on the API's port on this machine, or why it cannot be told.
    pub async fn port_owners(&self) -> Result<procfs::PortOwners, ProbeError> {
        if self.target != Target::Native {
            return Err(ProbeError::NativeOnly {
                target: self.target.to_string(),
                probe: NativeProbe::PortOwners,
            });
        }
        let host = self.host()?;
        let base = self.client.base_url();
        if !crate::client::is_local(base) {
            return Err(ProbeError::NotHere {
                server: base.to_string(),
                host: host.describe(),
                what: "who listens on its port",
            });
        }
        let port = base
            .port_or_known_default()
            .unwrap_or(crate::client::DEFAULT_PORT);
        procfs::port_owners(host, port, self.command_timeout).await
    }

    /// The kernel side of the NVIDIA driver on the host, or why it cannot be read.
    pub async fn platform(&self) -> Result<procfs::Platform, ProbeError> {
        if self.target != Target::Native {
            return Err(ProbeError::NativeOnly {
                target: self.target.to_string(),
                probe: NativeProbe::Platform,
            });
        }
        let host = self.host()?;
        procfs::platform(host, self.command_timeout).await
    }

    /// Ends the run: removes the docker target's container and fresh volume (unless
    /// kept). Returns a note for the user, if there is one.
    pub async fn finish(&self) -> Option<String> {
        self.backend.finish().await
    }

    pub async fn cli_version(
        &self,
    ) -> Result<&Result<(CliVersion, String), HostError>, ProbeError> {
        let host = self.host()?;
        // `ollama --version` asks the server for its version too.
        Ok(self
            .cli
            .get_or_init(|| async {
                let _turn = self.turn().await;
                cli::version(host, self.command_timeout).await
            })
            .await)
    }

    /// The systemd unit's state (the container's, on the docker target), or why it
    /// cannot be read here.
    pub async fn service(&self, unit: &str) -> Result<ServiceFacts, ProbeError> {
        self.backend.service(unit, self.command_timeout).await
    }

    /// One non-streaming chat with `model`, made once per run and shared by every check
    /// that needs the model answering (and so loaded).
    pub async fn chat(&self, model: &str) -> Result<ChatChunk, ClientError> {
        let cell = shared(&self.chats, &crate::ModelName::parse(model).canonical());
        cell.get_or_init(|| async {
            let chat = async {
                let _turn = self.turn().await;
                let mut req =
                    crate::perf::sample_request(model, CHAT_PROMPT, CHAT_NUM_PREDICT, None);
                req.stream = false;
                self.advice.advised(self.client.chat(&req).await)
            };
            // A server that does not answer `GET /` would hold the chat for the whole
            // load timeout: once `GET /` gives up, its error stands for the chat's.
            // Raced, not awaited first, so a healthy server's chat starts at once.
            let silent = async {
                match self.root().await {
                    Err(e) if e.is_unresponsive() => e.clone(),
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                answer = chat => answer,
                e = silent => Err(e),
            }
        })
        .await
        .clone()
    }

    /// The GPUs as they are now (not the memoized first look): for memory in use after
    /// a load, and for the GPUs the server holds. A turn is taken so that the reading
    /// never falls inside a cold load's unload or a sample (and the emulated GPU, which
    /// asks the emulated server, keeps off the measurements).
    pub async fn gpus_now(&self) -> Result<Vec<GpuInfo>, GpuError> {
        let _turn = self.turn().await;
        self.gpus_at().await
    }

    /// [`gpus_now`](Session::gpus_now) for a caller that holds a turn already.
    async fn gpus_at(&self) -> Result<Vec<GpuInfo>, GpuError> {
        let mut gpus = self.probe_gpus().await?;
        if self.gpu_source == GpuSource::Emulated {
            if let Ok(ps) = self.client.ps().await {
                let mut loaded: u64 = ps.models.iter().map(|m| m.size_vram).sum();
                // In-process, the emulated driver knows who holds what (and, with
                // `vram_held = false`, that nobody does).
                if let Some(processes) = self.backend.emulated_gpu_processes() {
                    loaded = processes.iter().filter_map(|p| p.used_bytes).sum();
                }
                for g in &mut gpus {
                    g.memory_used = (gpu::EMULATED_DRIVER_BYTES + loaded).min(g.memory_total);
                }
            }
        }
        Ok(gpus)
    }

    /// `/api/show` of `model`, asked once per run.
    pub async fn show(
        &self,
        model: &str,
    ) -> Result<crate::client::types::ShowResponse, ClientError> {
        let cell = shared(&self.shows, &crate::ModelName::parse(model).canonical());
        cell.get_or_init(|| async {
            let _turn = self.turn().await;
            self.advice.advised(self.client.show(model).await)
        })
        .await
        .clone()
    }

    pub async fn ps(&self) -> Result<PsResponse, ClientError> {
        let _turn = self.turn().await;
        self.advice.advised(self.client.ps().await)
    }

    /// Whether `model` is loaded to stay forever (its `expires_at` decades away): the
    /// cold load's reload asks for that again, where otherwise the server's default
    /// applies as to any fresh load. The caller holds a turn.
    async fn loaded_forever(&self, model: &str) -> bool {
        let Ok(ps) = self.client.ps().await else {
            return false;
        };
        ps.find(model)
            .is_some_and(|m| stays_forever(&m.expires_at, chrono::Utc::now()))
    }

    pub fn record(&self, result: CheckResult) {
        self.results.lock().unwrap().push(result);
    }

    pub fn results(&self) -> Vec<CheckResult> {
        self.results.lock().unwrap().clone()
    }

    /// The models the shared chat and the speed samples asked (canonical names, sorted):
    /// those the run's facts describe.
    pub fn used_models(&self) -> Vec<String> {
        let mut names: Vec<String> = self.chats.lock().unwrap().keys().cloned().collect();
        let samples = self.samples.lock().unwrap();
        names.extend(
            samples
                .keys()
                .filter_map(|k| Some(k.split('|').next()?.to_string())),
        );
        names.sort();
        names.dedup();
        names
    }

    /// Fails the result recorded for check `id`, unless it failed already: a step after
    /// its verdict failed, which fails the run, so the reports must say so and why.
    pub fn fail_after_verdict(&self, id: &str, why: &str) {
        let mut results = self.results.lock().unwrap();
        if let Some(r) = results
            .iter_mut()
            .find(|r| r.id == id && r.status != crate::check::Status::Fail)
        {
            let detail = format!(
                "{why} (the verdict before it: {} {})",
                r.status.label(),
                r.detail
            );
            let mut failed = CheckResult::new(&r.id, &r.name, crate::check::Outcome::fail(detail));
            failed.elapsed = r.elapsed;
            *r = failed;
        }
    }
}

/// Whether an `expires_at` is decades after `now`: how the server shows a model kept
/// loaded forever (a negative keep-alive).
fn stays_forever(expires_at: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    chrono::DateTime::parse_from_rfc3339(expires_at)
        .is_ok_and(|e| (e.with_timezone(&chrono::Utc) - now).num_days() > 10 * 365)
}

fn shared<T>(map: &Memo<T>, key: &str) -> Shared<T> {
    map.lock()
        .unwrap()
        .entry(key.to_string())
        .or_default()
        .clone()
}

#[cfg(test)]
mod tests {
    use super::stays_forever;

    #[test]
    fn forever_is_decades_away() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(stays_forever("2318-01-01T00:00:00Z", now));
        for other in ["2026-12-01T12:05:00Z", "0001-01-01T00:00:00Z", "soon", ""] {
            assert!(!stays_forever(other, now), "{other}");
        }
    }
}
