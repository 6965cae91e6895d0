//! Reaching the Docker daemon.

use super::DockerError;
use std::time::Duration;

/// A client of the local Docker daemon, or why there is none.
pub(super) fn docker() -> Result<testcontainers::bollard::Docker, DockerError> {
    testcontainers::bollard::Docker::connect_with_local_defaults()
        .map_err(|e| DockerError::Unreachable(e.to_string()))
}

/// Whether a Docker daemon answers here.
pub async fn available() -> Result<(), DockerError> {
    const PING_WAIT: Duration = Duration::from_secs(10);
    let info = docker()?;
    tokio::time::timeout(PING_WAIT, info.ping())
        .await
        .map_err(|_| DockerError::Silent {
            secs: PING_WAIT.as_secs(),
        })?
        .map(|_| ())
        .map_err(|e| DockerError::NotAnswering(e.to_string()))
}
