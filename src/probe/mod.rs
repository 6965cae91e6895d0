//! What is observed on the machine that runs Ollama: the GPU, the systemd service, the
//! `ollama` CLI. Host-side probes run their commands through a [`Host`] backend, so a
//! probe never cares whether it runs here or inside a container.

pub mod cli;
pub mod gpu;
pub mod host;
pub mod journal;
pub mod log_error;
pub mod logs;
pub mod network;
pub mod probe_error;
pub mod procfs;
pub mod service;

pub use host::{CmdOutput, Host, HostError, LocalHost};
pub use log_error::LogError;
pub use probe_error::{NativeProbe, ProbeError};
