//! `cli.available`: the `ollama` CLI runs and agrees with the server on the version.

use crate::check::Outcome;
use crate::probe::cli::CliVersion;
use crate::probe::HostError;

/// `silent` is why the API cannot be asked, when the server does not answer at all
/// (`api.root` reports that): `ollama --version` asks the server too, so it waits.
pub fn available(
    run: &Result<(CliVersion, String), HostError>,
    server_version: Option<&str>,
    silent: Option<&str>,
) -> Outcome {
    let (v, text) = match run {
        Err(HostError::NotFound { host, .. }) => {
            return Outcome::fail(format!(
                "expected the `ollama` CLI on {host}, it is not on PATH. Install Ollama (`curl -fsSL https://ollama.com/install.sh | sh`) or add its directory to PATH"
            ))
        }
        // The CLI waits for the server's version: a silent server holds it up.
        Err(e @ HostError::TimedOut { .. }) => {
            return match silent {
                Some(reason) => Outcome::skip(format!(
                    "{reason}: `ollama --version` asks the server for its version too, and waited on it: {e}"
                )),
                None => Outcome::fail(format!(
                    "{e}. `ollama --version` also asks the server at OLLAMA_HOST for its version; run it by hand to see whether it waits on the server"
                )),
            }
        }
        Err(e) => return Outcome::fail(e.to_string()),
        Ok(r) => r,
    };
    let Some(client) = &v.client else {
        return Outcome::fail(format!(
            "expected `ollama --version` to print a version, it printed \"{}\"",
            crate::client::excerpt(text.as_bytes())
        ));
    };
    match server_version {
        Some(server) if server != client => Outcome::warn(format!(
            "the CLI is {client} but the server answers {server}: two installs may be side by side; update the older one"
        ))
        .with_value(client.as_str()),
        Some(_) => Outcome::pass("the CLI and the server agree").with_value(client.as_str()),
        None => Outcome::pass("the CLI runs (the server's version could not be read)").with_value(client.as_str()),
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
        let o = available(&missing, None, None);
        assert!(o.status == Status::Fail && o.detail.contains("install.sh"));
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
        let o = available(&stopped, None, Some(silent));
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
        assert!(o.detail.starts_with(silent), "{}", o.detail);
        let o = available(&stopped, None, None);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(o.detail.contains("asks the server"), "{}", o.detail);
    }
}
