//! Readiness: the API polled until it answers, ended at once by a container that no
//! longer runs or is gone.

use super::error::DockerError;
use super::inspect::{inspect, log_tail, not_running, Inspected};
use std::time::{Duration, Instant};
use url::Url;

/// The container whose API is awaited, as [`Awaited::wait`] needs to know it.
pub(super) struct Awaited<'a> {
    pub(super) docker: &'a testcontainers::bollard::Docker,
    pub(super) id: &'a str,
    /// The image it runs, as asked for.
    pub(super) image: &'a str,
    pub(super) base_url: &'a Url,
    /// The API's port inside the container (the compose file's `ports:`).
    pub(super) port: u16,
    /// `--keep`: the container stays to be looked at.
    pub(super) keep: bool,
    /// How long the daemon may take to answer an inspect of the container, or to give
    /// its log.
    pub(super) answer_wait: Duration,
}

impl Awaited<'_> {
    /// Polls the API until it answers, at most `timeout`; fails at once when the
    /// container no longer runs (exited, or restarting after an exit) or is gone.
    pub(super) async fn wait(&self, timeout: Duration) -> Result<(), DockerError> {
        // Its last error is quoted as a fact: the message ends with the container's
        // own next step (`docker logs`), not a systemd unit's.
        let client = crate::Client::with_timeouts(
            self.base_url.clone(),
            crate::Timeouts::default().capped(Duration::from_secs(2)),
        );
        let deadline = Instant::now() + timeout;
        loop {
            let e = match client.root().await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            // A server that exited never answers: no use waiting out the timeout. An
            // inspect the daemon does not answer in time is tried again next round.
            match inspect(self.docker, self.id, self.answer_wait).await {
                Ok(info) => {
                    if let Some(why) = not_running(&info) {
                        return Err(DockerError::Stopped {
                            image: self.image.to_string(),
                            id: self.id.to_string(),
                            why,
                            log: self.log_tail(20).await,
                            keep: self.keep,
                        });
                    }
                }
                Err(gone @ Inspected::Gone(_)) => {
                    return Err(DockerError::Inspect(gone.to_string()))
                }
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(DockerError::NotReady {
                    id: self.id.to_string(),
                    base_url: self.base_url.to_string(),
                    secs: timeout.as_secs_f64(),
                    last: e.to_string(),
                    log: self.log_tail(20).await,
                    port: self.port,
                    keep: self.keep,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn log_tail(&self, n: usize) -> String {
        log_tail(self.docker, self.id, n, self.answer_wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::docker::fake_daemon::{unanswered_url, FakeDaemon, HANG};
    use rstest::rstest;

    fn awaited<'a>(daemon: &'a FakeDaemon, base_url: &'a Url) -> Awaited<'a> {
        Awaited {
            docker: &daemon.docker,
            id: "0123456789abcdef",
            image: "ollama/ollama:test",
            base_url,
            port: 11434,
            keep: false,
            answer_wait: Duration::from_millis(300),
        }
    }

    #[tokio::test]
    async fn waiting_for_the_api_ends_on_time_when_the_daemon_stops_answering() {
        let daemon = FakeDaemon::start(|_| None);
        let url = unanswered_url();
        let target = awaited(&daemon, &url);
        let began = Instant::now();
        let e = tokio::time::timeout(HANG, target.wait(Duration::from_secs(1)))
            .await
            .expect("the wait ends on its own")
            .unwrap_err();
        assert!(matches!(e, DockerError::NotReady { .. }), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("did not answer at"), "{e}");
        // The advice is the container's: no systemd unit runs it.
        for wrong in ["systemctl", "journalctl"] {
            assert!(!e.contains(wrong), "{wrong} in {e}");
        }
        assert!(
            e.contains("listen on port 11434 inside the container") && e.contains("--keep"),
            "{e}"
        );
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
    }

    #[rstest]
    #[case(
        r#"{"Status": "exited", "Running": false, "ExitCode": 1}"#,
        "exited with code 1"
    )]
    #[case(
        r#"{"Status": "restarting", "Running": true, "Restarting": true, "ExitCode": 1}"#,
        "keeps exiting"
    )]
    #[tokio::test]
    async fn waiting_for_the_api_of_a_container_that_exited_fails_at_once(
        #[case] state: &'static str,
        #[case] said: &str,
    ) {
        let daemon = FakeDaemon::start(move |path| {
            if path.starts_with("/containers/0123456789abcdef/json") {
                Some((
                    200,
                    format!(r#"{{"Id": "0123456789abcdef", "RestartCount": 2, "State": {state}}}"#),
                ))
            } else if path.starts_with("/containers/0123456789abcdef/logs") {
                Some((
                    200,
                    "Error: cannot read emulator config /etc/x.toml\n".into(),
                ))
            } else {
                Some((404, r#"{"message": "page not found"}"#.into()))
            }
        });
        let url = unanswered_url();
        let target = awaited(&daemon, &url);
        let began = Instant::now();
        let e = tokio::time::timeout(HANG, target.wait(Duration::from_secs(60)))
            .await
            .expect("no waiting out the 60 s")
            .unwrap_err();
        assert!(matches!(e, DockerError::Stopped { .. }), "{e:?}");
        let e = e.to_string();
        for part in [
            said,
            "code 1",
            "Error: cannot read emulator config /etc/x.toml",
            "--keep",
        ] {
            assert!(e.contains(part), "{part:?} in {e}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
    }

    #[tokio::test]
    async fn waiting_for_the_api_of_a_removed_container_fails_at_once() {
        let daemon = FakeDaemon::start(|_| {
            Some((
                404,
                r#"{"message": "No such container: 0123456789abcdef"}"#.into(),
            ))
        });
        let url = unanswered_url();
        let target = awaited(&daemon, &url);
        let e = tokio::time::timeout(HANG, target.wait(Duration::from_secs(60)))
            .await
            .expect("no waiting out the 60 s")
            .unwrap_err();
        assert!(matches!(e, DockerError::Inspect(_)), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("Docker knows no such container"), "{e}");
        assert!(e.contains("docker ps -a"), "{e}");
    }
}
