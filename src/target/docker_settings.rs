//! The docker target's flags; the rest comes from the compose file.

/// The docker target's settings (flags); the rest comes from setup/docker-compose.yml.
#[derive(Debug, Clone)]
pub struct DockerSettings {
    /// `name:tag`; the compose file's image (`ollama/ollama:latest`) when `None`.
    pub image: Option<String>,
    /// `auto`, `none`, `all` or a count.
    pub gpus: String,
    /// The named volume for models, kept between runs.
    pub volume: String,
    pub fresh_volume: bool,
    pub keep: bool,
    /// Another compose file than setup/'s.
    pub compose_file: Option<std::path::PathBuf>,
    /// Pull the base model and create the custom one in the container when missing.
    pub provision: bool,
    /// Show a progress bar while pulling.
    pub progress: bool,
}

impl Default for DockerSettings {
    fn default() -> Self {
        DockerSettings {
            image: None,
            gpus: "auto".into(),
            volume: "ollama-verify-models".into(),
            fresh_volume: false,
            keep: false,
            compose_file: None,
            provision: true,
            progress: true,
        }
    }
}
