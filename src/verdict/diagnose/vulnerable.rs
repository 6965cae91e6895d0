//! `diagnose.vulnerable`: the server is not a known-vulnerable version. The verdict
//! finds what the version shows (a typed finding), and one renderer words it.

use crate::check::Outcome;
use crate::version::version_key;
use crate::ClientError;

/// The release that fixes a vulnerability.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub minimum: String,
    pub cve: String,
}

/// What `diagnose.vulnerable` found about the server's `version`.
#[derive(Debug, Clone)]
pub enum Vulnerable {
    /// `/api/version` only echoes a failed `GET /`: the reason api.root reports.
    RootDown(String),
    /// `/api/version` failed: the error.
    Unread(ClientError),
    /// The version cannot be compared with the fix's.
    Incomparable { version: String, minimum: String },
    /// 0.0.0, a build from source without a release version: the fix cannot be told.
    SourceBuild { version: String, fix: Fix },
    /// Not older than the fix.
    Fixed { version: String, fix: Fix },
    /// Older than the fix, and reachable from the network (`exposure`: why).
    Exposed {
        version: String,
        fix: Fix,
        exposure: String,
    },
    /// Older than the fix, and bound to loopback as far as is known.
    Local { version: String, fix: Fix },
}

/// `diagnose.vulnerable`: the server is not older than `minimum` (the release fixing
/// `cve`); older fails when the API is reachable beyond loopback, warns otherwise.
/// `exposure` says why it is reachable, if it is.
pub fn vulnerable(
    version: &Result<String, ClientError>,
    minimum: &str,
    cve: &str,
    exposure: Option<&str>,
    unreachable: Option<&str>,
) -> Outcome {
    vulnerable_finding(version, minimum, cve, exposure, unreachable).outcome()
}

pub fn vulnerable_finding(
    version: &Result<String, ClientError>,
    minimum: &str,
    cve: &str,
    exposure: Option<&str>,
    unreachable: Option<&str>,
) -> Vulnerable {
    let version = match version {
        Err(e) => {
            return match crate::verdict::root_reason(e, unreachable) {
                Some(reason) => Vulnerable::RootDown(reason.to_string()),
                None => Vulnerable::Unread(e.clone()),
            }
        }
        Ok(v) => v.clone(),
    };
    let (Some(have), Some(need)) = (version_key(&version), version_key(minimum)) else {
        return Vulnerable::Incomparable {
            version,
            minimum: minimum.to_string(),
        };
    };
    let fix = Fix {
        minimum: minimum.to_string(),
        cve: cve.to_string(),
    };
    if have.0.iter().all(|&n| n == 0) {
        Vulnerable::SourceBuild { version, fix }
    } else if have >= need {
        Vulnerable::Fixed { version, fix }
    } else {
        match exposure {
            Some(why) => Vulnerable::Exposed {
                version,
                fix,
                exposure: why.to_string(),
            },
            None => Vulnerable::Local { version, fix },
        }
    }
}

impl Vulnerable {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let next = "Next: upgrade Ollama (`curl -fsSL https://ollama.com/install.sh | sh`, or a newer image tag), then restart it";
        match self {
            Vulnerable::RootDown(reason) => Outcome::skip(reason.clone()),
            Vulnerable::Unread(e) => Outcome::skip(format!("`/api/version` failed: {e}")),
            Vulnerable::Incomparable { version, minimum } => Outcome::skip(format!(
                "the server's version `{version}` cannot be compared with {minimum}"
            )),
            Vulnerable::SourceBuild {
                version,
                fix: Fix { minimum, cve },
            } => Outcome::warn(format!(
                "the server reports version {version}, which is what a build from source without a release version says: whether it has the fix for {cve} (in {minimum}) cannot be told. Next: check the source's commit, or install a release"
            ))
            .with_value(version.as_str()),
            Vulnerable::Fixed {
                version,
                fix: Fix { minimum, cve },
            } => Outcome::pass(format!(
                "server {version} is not older than {minimum}, which fixes {cve}"
            ))
            .with_value(version.as_str()),
            Vulnerable::Exposed {
                version,
                fix: Fix { minimum, cve },
                exposure,
            } => Outcome::fail(format!(
                "server {version} is older than {minimum}, which fixes {cve}, and {exposure}: anyone who can reach it can exploit it, without authentication. {next}; bind loopback (`OLLAMA_HOST=127.0.0.1:11434`) if no other machine needs the API"
            ))
            .with_value(version.as_str()),
            Vulnerable::Local {
                version,
                fix: Fix { minimum, cve },
            } => Outcome::warn(format!(
                "server {version} is older than {minimum}, which fixes {cve}; the API seems bound to loopback, so only this machine's users and the web pages it opens can reach it. {next}"
            ))
            .with_value(version.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::Status;

    use rstest::rstest;

    #[rstest]
    #[case(
        "0.17.1",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Pass
    )]
    #[case("0.18.0-rc1", None, Status::Pass)]
    #[case(
        "0.15.4",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Fail
    )]
    #[case("0.15.4", None, Status::Warn)]
    #[case("0.0.0", None, Status::Warn)]
    #[case(
        "0.0.0",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Warn
    )]
    #[case("0.17.1-rc2", None, Status::Warn)] // a pre-release comes before the fix
    #[case("0.17.1+cuda", None, Status::Pass)] // build metadata is not a pre-release
    #[case("0.17.1-0-gabc1234", None, Status::Pass)] // built from the release's tag
    #[case("0.17.1-3-gabc1234-dirty", None, Status::Pass)]
    #[case("0.17.0-12-gabc1234", None, Status::Warn)]
    #[case("0.18", None, Status::Pass)]
    #[case("dev", None, Status::Skip)]
    fn old_servers_reachable_from_the_network_fail(
        #[case] version: &str,
        #[case] exposure: Option<&str>,
        #[case] status: Status,
    ) {
        let o = vulnerable(
            &Ok(version.into()),
            "0.17.1",
            "CVE-2026-7482",
            exposure,
            None,
        );
        assert_eq!(o.status, status, "{}", o.detail);
    }

    /// The fix came with 0.17.1-rc1: release candidates in their natural order.
    #[rstest]
    #[case("0.17.1-rc0", Status::Warn)]
    #[case("0.17.1-rc1", Status::Pass)]
    #[case("0.17.1-rc2", Status::Pass)]
    #[case("0.17.1-rc10", Status::Pass)]
    #[case("0.17.1", Status::Pass)]
    #[case("0.17.0", Status::Warn)]
    fn the_fix_came_with_a_release_candidate(#[case] version: &str, #[case] status: Status) {
        let o = vulnerable(
            &Ok(version.into()),
            "0.17.1-rc1",
            "CVE-2026-7482",
            None,
            None,
        );
        assert_eq!(o.status, status, "{}", o.detail);
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let fix = || Fix {
            minimum: "0.17.1".into(),
            cve: "CVE-2026-7482".into(),
        };
        let found = [
            Vulnerable::RootDown("the API does not answer (see api.root)".into()),
            Vulnerable::Unread(ClientError::ConnectionRefused {
                addr: "127.0.0.1:11434".into(),
                next: Default::default(),
            }),
            Vulnerable::Incomparable {
                version: "dev".into(),
                minimum: "0.17.1".into(),
            },
            Vulnerable::SourceBuild {
                version: "0.0.0".into(),
                fix: fix(),
            },
            Vulnerable::Fixed {
                version: "0.17.1".into(),
                fix: fix(),
            },
            Vulnerable::Exposed {
                version: "0.15.4".into(),
                fix: fix(),
                exposure: "OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback".into(),
            },
            Vulnerable::Local {
                version: "0.15.4".into(),
                fix: fix(),
            },
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
