//! The exec host: commands run inside a container (`docker exec`), for the host checks
//! and for provisioning.

use super::daemon::docker;
use crate::probe::host::{CmdOutput, Host, HostError};
use crate::text::short_id as short;
use std::sync::Arc;
use std::time::Duration;

/// A host backend for any running container (`docker exec`), for checks of a machine
/// that lives in a container (a systemd test image, say).
pub fn container_host(id: &str) -> Result<Arc<dyn Host>, super::DockerError> {
    Ok(Arc::new(ContainerHost::new(docker()?, id.to_string())))
}

/// Commands inside the container (`docker exec`).
#[derive(Debug)]
pub(super) struct ContainerHost {
    docker: testcontainers::bollard::Docker,
    id: String,
}

impl ContainerHost {
    pub(super) fn new(docker: testcontainers::bollard::Docker, id: String) -> Self {
        ContainerHost { docker, id }
    }

    /// Runs a command in the container (`docker exec`), handing each piece of output to
    /// `on_output` as it arrives (`true` for stderr); returns stdout, stderr, exit code.
    pub(super) async fn exec(
        &self,
        command: Vec<String>,
        mut on_output: impl FnMut(&[u8], bool) + Send,
    ) -> Result<(Vec<u8>, Vec<u8>, Option<i64>), String> {
        use futures_util::StreamExt;
        use testcontainers::bollard::container::LogOutput;
        use testcontainers::bollard::exec::{CreateExecOptions, StartExecResults};
        let created = self
            .docker
            .create_exec(
                &self.id,
                CreateExecOptions {
                    cmd: Some(command),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached { mut output, .. } = self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| e.to_string())?
        {
            while let Some(piece) = output.next().await {
                match piece.map_err(|e| e.to_string())? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        on_output(&message, false);
                        stdout.extend_from_slice(&message);
                    }
                    LogOutput::StdErr { message } => {
                        on_output(&message, true);
                        stderr.extend_from_slice(&message);
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
        }
        let code = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| e.to_string())?
            .exit_code;
        Ok((stdout, stderr, code))
    }
}

#[async_trait::async_trait]
impl Host for ContainerHost {
    fn is_container(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("container {}", short(&self.id))
    }

    async fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CmdOutput, HostError> {
        let command: Vec<String> = std::iter::once(program)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let text = command.join(" ");
        let work = self.exec(command, |_, _| {});
        let (stdout, stderr, code) = match tokio::time::timeout(timeout, work).await {
            Err(_) => {
                return Err(HostError::TimedOut {
                    command: text,
                    host: self.describe(),
                    seconds: timeout.as_secs_f64(),
                })
            }
            Ok(Err(message)) => {
                if message.contains("executable file not found")
                    || message.contains("no such file or directory")
                {
                    return Err(HostError::NotFound {
                        program: program.into(),
                        host: self.describe(),
                    });
                }
                return Err(HostError::Io {
                    command: text,
                    host: self.describe(),
                    message,
                });
            }
            Ok(Ok(r)) => r,
        };
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        // The runtime reports a program it cannot find as exit 126/127 with a message.
        let said = format!("{stdout}{stderr}");
        if matches!(code, Some(126 | 127))
            && (said.contains("not found") || said.contains("no such file"))
        {
            return Err(HostError::NotFound {
                program: program.into(),
                host: self.describe(),
            });
        }
        Ok(CmdOutput {
            code: code.map(|c| c as i32),
            stdout,
            stderr,
        })
    }
}
