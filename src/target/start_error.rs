//! Why a target could not be started: the address is unusable, the emulator could not
//! listen, the compose file or `--gpus` is wrong, Docker refused, or provisioning the
//! container failed. Each says what was expected, what was seen and what to try; the
//! binary shows it as a usage error (exit 2) before any check runs.

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `--host` or `OLLAMA_HOST` is no address the client can use.
    #[error("{0}")]
    Address(String),
    /// The emulator could not bind its port.
    #[error("{0}")]
    Emulator(String),
    /// This build was made without the docker target.
    #[error("this build of ollama-verify has no docker target (built without its `docker` feature): install a release binary (install.sh), or build with `cargo install --locked --features docker --path steps`")]
    NoDocker,
    #[error("cannot read the compose file {path}: {said}")]
    ComposeUnreadable {
        path: std::path::PathBuf,
        said: String,
    },
    /// The compose file has no usable `ollama` service.
    #[error("{0}")]
    Compose(String),
    /// `--gpus` is no count, index list, `all` or `none`.
    #[error("{0}")]
    Gpus(String),
    #[cfg(feature = "docker")]
    #[error(transparent)]
    Docker(#[from] crate::provision::docker::DockerError),
    /// Pulling or creating the models failed: the error, the container's last log
    /// lines, and the note of its removal (or of where it was kept).
    #[cfg(feature = "docker")]
    #[error("provisioning the container failed: {error}\nlast log lines:\n{logs}{}", note.as_ref().map_or(String::new(), |n| format!("\n{n}")))]
    Provision {
        error: Box<crate::provision::docker::DockerError>,
        logs: String,
        note: Option<String>,
    },
}
