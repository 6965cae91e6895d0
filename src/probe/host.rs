//! Where host commands run. Each backend implements only "run a command".

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    #[error("`{program}` is not installed on {host} (not found on PATH)")]
    NotFound { program: String, host: String },
    #[error("`{command}` did not finish within {seconds:.1} s on {host}; it was stopped")]
    TimedOut {
        command: String,
        host: String,
        seconds: f64,
    },
    #[error("could not run `{command}` on {host}: {message}")]
    Io {
        command: String,
        host: String,
        message: String,
    },
}

#[async_trait::async_trait]
pub trait Host: Send + Sync + std::fmt::Debug {
    /// Where commands run, for messages ("this machine", "container abc123").
    fn describe(&self) -> String;

    /// Whether commands run in a container: what is missing there was not passed in,
    /// rather than not installed.
    fn is_container(&self) -> bool {
        false
    }

    async fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CmdOutput, HostError>;
}

/// A host for tests: a name, whether it is a container, and what a command answers.
#[cfg(test)]
pub(crate) struct Scripted {
    pub name: &'static str,
    pub container: bool,
    #[allow(clippy::type_complexity)]
    pub answer: Box<dyn Fn(&str, &[&str]) -> Result<CmdOutput, HostError> + Send + Sync>,
}

#[cfg(test)]
impl Scripted {
    /// Every command answers `answer`.
    pub fn always(name: &'static str, answer: Result<CmdOutput, HostError>) -> Self {
        Scripted {
            name,
            container: false,
            answer: Box::new(move |_, _| answer.clone()),
        }
    }

    /// No program is installed there.
    pub fn empty(name: &'static str, container: bool) -> Self {
        Scripted {
            name,
            container,
            answer: Box::new(move |program, _| {
                Err(HostError::NotFound {
                    program: program.into(),
                    host: name.into(),
                })
            }),
        }
    }
}

#[cfg(test)]
impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scripted({})", self.name)
    }
}

#[cfg(test)]
#[async_trait::async_trait]
impl Host for Scripted {
    fn describe(&self) -> String {
        self.name.into()
    }
    fn is_container(&self) -> bool {
        self.container
    }
    async fn run(&self, program: &str, args: &[&str], _: Duration) -> Result<CmdOutput, HostError> {
        (self.answer)(program, args)
    }
}

/// This machine: commands run as child processes, killed when they overrun.
#[derive(Debug, Default, Clone)]
pub struct LocalHost;

#[async_trait::async_trait]
impl Host for LocalHost {
    fn describe(&self) -> String {
        "this machine".into()
    }

    async fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CmdOutput, HostError> {
        let command = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // Neither a locale nor a pager may change what a probe parses.
            .env("LC_ALL", "C")
            .env("SYSTEMD_PAGER", "")
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => HostError::NotFound {
                    program: program.into(),
                    host: self.describe(),
                },
                _ => HostError::Io {
                    command: command.clone(),
                    host: self.describe(),
                    message: e.to_string(),
                },
            })?;
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Err(_) => Err(HostError::TimedOut {
                command,
                host: self.describe(),
                seconds: timeout.as_secs_f64(),
            }),
            Ok(Err(e)) => Err(HostError::Io {
                command,
                host: self.describe(),
                message: e.to_string(),
            }),
            Ok(Ok(out)) => Ok(CmdOutput {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_and_captures() {
        let out = LocalHost
            .run(
                "sh",
                &["-c", "echo out; echo err >&2; exit 3"],
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let e = LocalHost
            .run("no-such-program-xyz", &[], Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, HostError::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("no-such-program-xyz"));
    }

    #[tokio::test]
    async fn an_overrunning_command_is_stopped() {
        let started = std::time::Instant::now();
        let e = LocalHost
            .run("sleep", &["30"], Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(e, HostError::TimedOut { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
