//! `cli.available`: the `ollama` CLI runs and agrees with the server on the version.

use crate::check::Outcome;
use crate::probe::cli::CliVersion;
use crate::probe::HostError;

pub fn available(
    run: &Result<(CliVersion, String), HostError>,
    server_version: Option<&str>,
) -> Outcome {
    let (v, text) = match run {
        Err(HostError::NotFound { host, .. }) => {
            return Outcome::fail(format!(
                "expected the `ollama` CLI on {host}, it is not on PATH. Install Ollama (`curl -fsSL https://ollama.com/install.sh | sh`) or add its directory to PATH"
            ))
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
            available(&ran("ollama version is 0.17.1"), Some("0.17.1")).status,
            Status::Pass
        );
        let o = available(&ran("ollama version is 0.17.1"), Some("0.15.4"));
        assert_eq!(
            (o.status, o.value.as_deref()),
            (Status::Warn, Some("0.17.1"))
        );
        assert_eq!(available(&ran("segfault"), None).status, Status::Fail);
        let missing = Err(HostError::NotFound {
            program: "ollama".into(),
            host: "this machine".into(),
        });
        let o = available(&missing, None);
        assert!(o.status == Status::Fail && o.detail.contains("install.sh"));
    }
}
