//! `diagnose.vulnerable`: the server is not a known-vulnerable version.

use crate::check::Outcome;
use crate::version::version_key;
use crate::ClientError;

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
    let version = match version {
        Err(e) => {
            return crate::verdict::echo_of_root(e, unreachable)
                .unwrap_or_else(|| Outcome::skip(format!("`/api/version` failed: {e}")))
        }
        Ok(v) => v,
    };
    let (Some(have), Some(need)) = (version_key(version), version_key(minimum)) else {
        return Outcome::skip(format!(
            "the server's version `{version}` cannot be compared with {minimum}"
        ));
    };
    if have.0.iter().all(|&n| n == 0) {
        return Outcome::warn(format!(
            "the server reports version {version}, which is what a build from source without a release version says: whether it has the fix for {cve} (in {minimum}) cannot be told. Next: check the source's commit, or install a release"
        ))
        .with_value(version.clone());
    }
    if have >= need {
        return Outcome::pass(format!(
            "server {version} is not older than {minimum}, which fixes {cve}"
        ))
        .with_value(version.clone());
    }
    let next = "Next: upgrade Ollama (`curl -fsSL https://ollama.com/install.sh | sh`, or a newer image tag), then restart it";
    match exposure {
        Some(why) => Outcome::fail(format!(
            "server {version} is older than {minimum}, which fixes {cve}, and {why}: anyone who can reach it can exploit it, without authentication. {next}; bind loopback (`OLLAMA_HOST=127.0.0.1:11434`) if no other machine needs the API"
        ))
        .with_value(version.clone()),
        None => Outcome::warn(format!(
            "server {version} is older than {minimum}, which fixes {cve}; the API seems bound to loopback, so only this machine's users and the web pages it opens can reach it. {next}"
        ))
        .with_value(version.clone()),
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
}
