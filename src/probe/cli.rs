//! The `ollama` CLI: `ollama --version` tells the client's version and, when it reaches
//! a server, the server's.

use super::host::{Host, HostError};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliVersion {
    /// The CLI's own version.
    pub client: Option<String>,
    /// The version of the server the CLI reached, if it reached one.
    pub server: Option<String>,
    /// `Warning:` lines other than the client version.
    pub warnings: Vec<String>,
}

/// Parses `ollama --version`:
/// `ollama version is 0.15.4` (client and server agree), an extra
/// `Warning: client version is X` when they differ, or
/// `Warning: could not connect to a running Ollama instance` without a server.
pub fn parse_version(stdout: &str) -> CliVersion {
    let mut v = CliVersion::default();
    for line in stdout.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ollama version is ") {
            v.server = Some(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("Warning: client version is ") {
            v.client = Some(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("Warning: ") {
            v.warnings.push(rest.to_string());
        }
    }
    if v.client.is_none() {
        v.client = v.server.clone();
    }
    v
}

/// Runs `ollama --version` on the host.
pub async fn version(
    host: &dyn Host,
    timeout: Duration,
) -> Result<(CliVersion, String), HostError> {
    let out = host.run("ollama", &["--version"], timeout).await?;
    let text = format!("{}{}", out.stdout, out.stderr);
    Ok((parse_version(&text), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("ollama version is 0.15.4\n", Some("0.15.4"), Some("0.15.4"), 0)]
    #[case(
        "ollama version is 0.17.1\nWarning: client version is 0.15.4\n",
        Some("0.15.4"),
        Some("0.17.1"),
        0
    )]
    #[case("Warning: could not connect to a running Ollama instance\nWarning: client version is 0.15.4\n", Some("0.15.4"), None, 1)]
    #[case("garbage", None, None, 0)]
    #[case("", None, None, 0)]
    fn parses(
        #[case] text: &str,
        #[case] client: Option<&str>,
        #[case] server: Option<&str>,
        #[case] warnings: usize,
    ) {
        let v = parse_version(text);
        assert_eq!(v.client.as_deref(), client);
        assert_eq!(v.server.as_deref(), server);
        assert_eq!(v.warnings.len(), warnings);
    }
}
