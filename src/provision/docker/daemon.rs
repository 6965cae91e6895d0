//! Reaching the Docker daemon.

use std::time::Duration;

/// A client of the local Docker daemon, or why there is none.
pub(super) fn docker() -> Result<testcontainers::bollard::Docker, String> {
    testcontainers::bollard::Docker::connect_with_local_defaults().map_err(|e| {
        format!(
            "cannot reach the Docker daemon: {e}. Is Docker installed and running (`docker info`)?"
        )
    })
}

/// Whether a Docker daemon answers here.
pub async fn available() -> Result<(), String> {
    let info = docker()?;
    tokio::time::timeout(Duration::from_secs(10), info.ping())
        .await
        .map_err(|_| "the Docker daemon did not answer within 10 s".to_string())?
        .map(|_| ())
        .map_err(|e| {
            format!("the Docker daemon does not answer: {e}. Is it running (`docker info`)?")
        })
}
