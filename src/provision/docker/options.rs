//! What the docker target is asked for: the image, the GPUs, the models' volume, the
//! models to provision and the deadlines, beside the compose file's service.

use crate::provision::compose::ComposeService;
use std::time::Duration;

/// Which GPUs the container asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuRequest {
    /// All GPUs when NVML sees one on this machine, none otherwise.
    Auto,
    None,
    All,
    Count(u32),
}

impl std::str::FromStr for GpuRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(GpuRequest::Auto),
            "none" | "0" => Ok(GpuRequest::None),
            "all" => Ok(GpuRequest::All),
            n => n
                .parse()
                .map(GpuRequest::Count)
                .map_err(|_| format!("--gpus takes auto, none, all or a number, not `{n}`")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// `name:tag`; the compose file's image when `None`.
    pub image: Option<String>,
    pub gpus: GpuRequest,
    /// The named volume for models; kept between runs so models are pulled once.
    pub volume: String,
    /// Start from an empty volume of this run's own, removed afterwards.
    pub fresh_volume: bool,
    /// Leave the container running afterwards.
    pub keep: bool,
    pub compose: ComposeService,
    /// The Modelfile to create the custom model from.
    pub modelfile: String,
    pub base_model: String,
    pub custom_model: String,
    /// How long the API may take to answer after the container started.
    pub ready_timeout: Duration,
    /// Deadline of each `docker exec`, pulls excepted.
    pub exec_timeout: Duration,
    /// Deadline of pulling the image (when it is not here) and of pulling the base model.
    pub pull_timeout: Duration,
    /// Show a progress bar while pulling.
    pub progress: bool,
}

impl DockerOptions {
    pub fn new(compose: ComposeService, modelfile: String) -> Self {
        DockerOptions {
            image: None,
            gpus: GpuRequest::Auto,
            volume: "ollama-verify-models".into(),
            fresh_volume: false,
            keep: false,
            compose,
            modelfile,
            base_model: "qwen2.5-coder:7b".into(),
            custom_model: "my-coder".into(),
            ready_timeout: Duration::from_secs(60),
            exec_timeout: Duration::from_secs(60),
            pull_timeout: Duration::from_secs(3600),
            progress: true,
        }
    }
}

/// An image reference's name and tag (`latest` when it names none); a registry's port
/// is not a tag.
pub(super) fn split_image(image: &str) -> (String, String) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("ollama/ollama:0.17.1", "ollama/ollama", "0.17.1")]
    #[case("ollama/ollama", "ollama/ollama", "latest")]
    #[case("localhost:5000/x/y:t", "localhost:5000/x/y", "t")]
    fn images(#[case] image: &str, #[case] name: &str, #[case] tag: &str) {
        assert_eq!(split_image(image), (name.to_string(), tag.to_string()));
    }

    #[test]
    fn gpu_requests() {
        assert_eq!("all".parse(), Ok(GpuRequest::All));
        assert_eq!("2".parse(), Ok(GpuRequest::Count(2)));
        assert!("many".parse::<GpuRequest>().unwrap_err().contains("--gpus"));
    }
}
