//! What a run asks of its session: the target, where the server is, the GPU source,
//! consent to unload, timeouts, and how the emulator and docker targets are set up.

use crate::client::Timeouts;
use crate::emulator::EmulatorConfig;
use crate::probe::gpu::GpuSource;
use crate::probe::Host;
use crate::target::{DockerSettings, Target};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub target: Target,
    /// An `OLLAMA_HOST`-style address; `None` reads `OLLAMA_HOST`.
    pub host: Option<String>,
    /// `None`: NVML natively, an emulated GPU on the emulator target.
    pub gpu: Option<GpuSource>,
    pub strict: bool,
    /// The checks of the spec that `--tags` left out, with their severities: a check
    /// that points at one says so ([`Outcome::past_selection`](crate::check::Outcome::past_selection)).
    pub unselected: Vec<(String, crate::check::Severity)>,
    /// Checks may unload a model to time a cold load (changes the server's state).
    pub allow_unload: bool,
    /// An earlier run's figures and facts (`--baseline`) for the perf checks to compare with.
    pub baseline: Option<Arc<crate::baseline::Summary>>,
    pub timeouts: Timeouts,
    /// Deadline of each host command (`systemctl`, `ollama --version`).
    pub command_timeout: Duration,
    /// What the emulator target emulates.
    pub emulator: EmulatorConfig,
    /// Where relative file paths named in the spec resolve when the working folder
    /// lacks them: the folder above the feature files.
    pub spec_root: Option<std::path::PathBuf>,
    /// How the docker target starts its container.
    pub docker: DockerSettings,
    /// Where the native target's host checks run instead of this machine (a container
    /// backend, in tests of a real systemd).
    pub host_backend: Option<Arc<dyn Host>>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            target: Target::Native,
            host: None,
            gpu: None,
            strict: false,
            unselected: Vec::new(),
            allow_unload: false,
            baseline: None,
            timeouts: Timeouts::default(),
            command_timeout: Duration::from_secs(10),
            emulator: EmulatorConfig::default(),
            spec_root: None,
            docker: DockerSettings::default(),
            host_backend: None,
        }
    }
}
