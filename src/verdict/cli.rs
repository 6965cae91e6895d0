//! `cli.available`: the `ollama` CLI runs and agrees with the server on the version.
//! The verdict finds what the run shows (a typed finding), and one renderer words it.

use crate::check::Outcome;
use crate::probe::cli::CliVersion;
use crate::probe::HostError;

/// What `cli.available` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Available {
    /// `ollama` is not on PATH on `host`.
    NotFound { host: String },
    /// It waited on a server that does not answer (`silent`, which api.root reports).
    HeldUp { silent: String, error: HostError },
    /// It was stopped while the server answers: the error.
    TimedOut(HostError),
    /// It could not run: the error.
    Failed(HostError),
    /// It printed no version: what it printed.
    NoVersion { printed: String },
    /// Its version and the server's differ.
    Differs { client: String, server: String },
    /// Its version is the server's.
    Agrees { client: String },
    /// It runs; the server's version could not be read.
    Runs { client: String },
}

/// `silent` is why the API cannot be asked, when the server does not answer at all
/// (`api.root` reports that): `ollama --version` asks the server too, so it waits.
pub fn available(
    run: &Result<(CliVersion, String), HostError>,
    server_version: Option<&str>,
    silent: Option<&str>,
) -> Outcome {
    available_finding(run, server_version, silent).outcome()
}

pub fn available_finding(
    run: &Result<(CliVersion, String), HostError>,
    server_version: Option<&str>,
    silent: Option<&str>,
) -> Available {
    let (v, text) = match run {
        Err(HostError::NotFound { host, .. }) => return Available::NotFound { host: host.clone() },
        // The CLI waits for the server's version: a silent server holds it up.
        Err(e @ HostError::TimedOut { .. }) => {
            return match silent {
                Some(reason) => Available::HeldUp {
                    silent: reason.to_string(),
                    error: e.clone(),
                },
                None => Available::TimedOut(e.clone()),
            }
        }
        Err(e) => return Available::Failed(e.clone()),
        Ok(r) => r,
    };
    let Some(client) = v.client.clone() else {
        return Available::NoVersion {
            printed: text.clone(),
        };
    };
    match server_version {
        Some(server) if server != client => Available::Differs {
            client,
            server: server.to_string(),
        },
        Some(_) => Available::Agrees { client },
        None => Available::Runs { client },
    }
}

impl Available {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Available::NotFound { host } => Outcome::fail(format!(
                "expected the `ollama` CLI on {host}, it is not on PATH. Install Ollama (`curl -fsSL https://ollama.com/install.sh | sh`) or add its directory to PATH"
            )),
            Available::HeldUp { silent, error } => Outcome::skip(format!(
                "{silent}: `ollama --version` asks the server for its version too, and waited on it: {error}"
            )),
            Available::TimedOut(e) => Outcome::fail(format!(
                "{e}. `ollama --version` also asks the server at OLLAMA_HOST for its version; run it by hand to see whether it waits on the server"
            )),
            Available::Failed(e) => Outcome::fail(e.to_string()),
            Available::NoVersion { printed } => Outcome::fail(format!(
                "expected `ollama --version` to print a version, it printed \"{}\"",
                crate::client::excerpt(printed.as_bytes())
            )),
            Available::Differs { client, server } => Outcome::warn(format!(
                "the CLI is {client} but the server answers {server}: two installs may be side by side; update the older one"
            ))
            .with_value(client.as_str()),
            Available::Agrees { client } => {
                Outcome::pass("the CLI and the server agree").with_value(client.as_str())
            }
            Available::Runs { client } => {
                Outcome::pass("the CLI runs (the server's version could not be read)")
                    .with_value(client.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::probe::cli::parse_version;

    fn ran(text: &str) -> Result<(CliVersion, String), HostError> {
        Ok((parse_version(text), text.to_string()))
    }

    #[test]
    fn versions() {
        assert_eq!(
            available(&ran("ollama version is 0.17.1"), Some("0.17.1"), None).status,
            Status::Pass
        );
        let o = available(&ran("ollama version is 0.17.1"), Some("0.15.4"), None);
        assert_eq!(
            (o.status, o.value.as_deref()),
            (Status::Warn, Some("0.17.1"))
        );
        assert_eq!(available(&ran("segfault"), None, None).status, Status::Fail);
        let missing = Err(HostError::NotFound {
            program: "ollama".into(),
            host: "this machine".into(),
        });
        assert_eq!(
            available_finding(&missing, None, None),
            Available::NotFound {
                host: "this machine".into()
            }
        );
        assert_eq!(available(&missing, None, None).status, Status::Fail);
    }

    /// `ollama --version` waits for the server's version: stopped while the server is
    /// silent, it echoes api.root's failure; stopped while the server answers, it fails
    /// saying what it waits for.
    #[test]
    fn a_cli_held_up_by_a_silent_server_points_at_api_root() {
        let stopped = Err(HostError::TimedOut {
            command: "ollama --version".into(),
            host: "this machine".into(),
            seconds: 10.0,
        });
        let silent = "the API at http://127.0.0.1:11434/ does not answer (see api.root)";
        let Err(e) = &stopped else { unreachable!() };
        assert_eq!(
            available_finding(&stopped, None, Some(silent)),
            Available::HeldUp {
                silent: silent.into(),
                error: e.clone()
            }
        );
        assert_eq!(available(&stopped, None, Some(silent)).status, Status::Skip);
        assert_eq!(
            available_finding(&stopped, None, None),
            Available::TimedOut(e.clone())
        );
        assert_eq!(available(&stopped, None, None).status, Status::Fail);
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let stopped = HostError::TimedOut {
            command: "ollama --version".into(),
            host: "this machine".into(),
            seconds: 10.0,
        };
        let client = || "0.17.1".to_string();
        let found = [
            Available::NotFound {
                host: "this machine".into(),
            },
            Available::HeldUp {
                silent: "the API at http://127.0.0.1:11434/ does not answer (see api.root)".into(),
                error: stopped.clone(),
            },
            Available::TimedOut(stopped),
            Available::Failed(HostError::Io {
                command: "ollama --version".into(),
                host: "this machine".into(),
                message: "permission denied".into(),
            }),
            Available::NoVersion {
                printed: "Segmentation fault\n".into(),
            },
            Available::Differs {
                client: client(),
                server: "0.15.4".into(),
            },
            Available::Agrees { client: client() },
            Available::Runs { client: client() },
        ];
        let all: String = found
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
