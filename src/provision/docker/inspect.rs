//! What the daemon says of a container, each answer within a bound: its state, why it
//! no longer runs, its last log lines.

use super::cleanup::LABEL;
use crate::text::short_id as short;
use std::time::Duration;
use testcontainers::bollard::models::ContainerInspectResponse;
use testcontainers::bollard::query_parameters::{InspectContainerOptions, LogsOptions};

/// How long the daemon may take to answer an inspect of the container, or to give its log.
pub(super) const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// The last `n` lines container `id` logged (stdout and stderr), as far as the daemon
/// gives them within `wait`.
pub(super) async fn log_tail(
    docker: &testcontainers::bollard::Docker,
    id: &str,
    n: usize,
    wait: Duration,
) -> String {
    use futures_util::StreamExt;
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: n.to_string(),
        ..Default::default()
    };
    let mut text = Vec::new();
    let read = async {
        let mut logs = docker.logs(id, Some(options));
        while let Some(Ok(piece)) = logs.next().await {
            text.extend_from_slice(&piece.into_bytes());
        }
    };
    let _ = tokio::time::timeout(wait, read).await;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Why a `docker inspect` of the container gave no state.
#[derive(Debug)]
pub(super) enum Inspected {
    /// Docker knows no such container (404).
    Gone(String),
    /// Any other error, or no answer in time.
    Failed(String),
}

impl std::fmt::Display for Inspected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inspected::Gone(m) | Inspected::Failed(m) => f.write_str(m),
        }
    }
}

/// `docker inspect` of container `id`, within `wait`.
pub(super) async fn inspect(
    docker: &testcontainers::bollard::Docker,
    id: &str,
    wait: Duration,
) -> Result<ContainerInspectResponse, Inspected> {
    let asked = docker.inspect_container(id, None::<InspectContainerOptions>);
    match tokio::time::timeout(wait, asked).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        })) => Err(Inspected::Gone(format!(
            "expected the container {} to exist, Docker knows no such container: was it removed by hand? See `docker ps -a --filter label={LABEL}`",
            short(id)
        ))),
        Ok(Err(e)) => Err(Inspected::Failed(format!(
            "docker inspect {}: {e}. Is the Docker daemon healthy (`docker info`)?",
            short(id)
        ))),
        Err(_) => Err(Inspected::Failed(format!(
            "docker inspect {}: no answer from the Docker daemon within {:.0} s: is it overloaded or stuck (`docker info`)?",
            short(id),
            wait.as_secs_f64()
        ))),
    }
}

/// Why the container no longer runs, from its `docker inspect`: `None` while it runs
/// (or Docker says nothing of its state).
pub(super) fn not_running(info: &ContainerInspectResponse) -> Option<String> {
    let state = info.state.as_ref()?;
    let code = state
        .exit_code
        .map_or("unknown".to_string(), |c| c.to_string());
    let mut also = String::new();
    if state.oom_killed == Some(true) {
        also.push_str(", killed for lack of memory (OOM)");
    }
    if let Some(error) = state.error.as_deref().filter(|e| !e.is_empty()) {
        also.push_str(&format!(", Docker says: {error}"));
    }
    if state.restarting == Some(true) {
        Some(format!(
            "it keeps exiting: Docker restarts it by its restart policy (restarted {} times so far), last exit code {code}{also}",
            info.restart_count.unwrap_or(0)
        ))
    } else if state.running == Some(false) {
        let ended = match state.status.map(|s| s.to_string()).as_deref() {
            Some("dead") => "died".to_string(),
            Some("exited" | "") | None => "exited".to_string(),
            Some(other) => format!("is {other}, not running, last exited"),
        };
        Some(format!("it {ended} with code {code}{also}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn inspected(state: &str, restart_count: i64) -> ContainerInspectResponse {
        serde_json::from_str(&format!(
            r#"{{"Id": "0123456789abcdef", "RestartCount": {restart_count}, "State": {state}}}"#
        ))
        .unwrap()
    }

    #[rstest]
    #[case(r#"{"Status": "running", "Running": true, "ExitCode": 0}"#, None)]
    #[case(r#"{"Status": "paused", "Running": true, "Paused": true}"#, None)]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 1}"#,
        Some("it exited with code 1")
    )]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 137, "OOMKilled": true}"#,
        Some("it exited with code 137, killed for lack of memory (OOM)")
    )]
    #[case(
        r#"{"Status": "dead", "Running": false, "Dead": true, "ExitCode": 128, "Error": "no such file"}"#,
        Some("it died with code 128, Docker says: no such file")
    )]
    #[case(
        r#"{"Status": "restarting", "Running": true, "Restarting": true, "ExitCode": 1}"#,
        Some("it keeps exiting: Docker restarts it by its restart policy (restarted 4 times so far), last exit code 1")
    )]
    fn a_container_that_no_longer_runs_says_how_it_ended(
        #[case] state: &str,
        #[case] why: Option<&str>,
    ) {
        assert_eq!(not_running(&inspected(state, 4)).as_deref(), why);
    }
}
