//! Ollama's version strings, ordered: releases, release candidates and `git describe`
//! builds. A leaf module, so the verdicts and the emulator compare versions alike.

/// A version as a sortable key: `0.17.1-rc2` → ([0, 17, 1], false, [rc, 2]). A
/// pre-release comes before its release (`0.17.1-rc2` does not have all `0.17.1`
/// has), and pre-releases of one release in their natural order (`rc2` before `rc10`);
/// missing parts are zeros (`0.17` is `0.17.0`).
pub fn version_key(v: &str) -> Option<VersionKey> {
    let v = v.trim().trim_start_matches('v');
    let core_end = v.find(['-', '+', ' ']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    let mut numbers: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    while numbers.len() < 3 {
        numbers.push(0);
    }
    let release = !rest.starts_with('-') || is_git_describe(rest);
    let pre = if release {
        Vec::new()
    } else {
        let tag = rest[1..].split(['+', ' ']).next().unwrap_or_default();
        pre_release_order(tag)
    };
    Some((numbers, release, pre))
}

/// [`version_key`]'s key: the numbers, whether it is a release, a pre-release's order.
pub type VersionKey = (Vec<u64>, bool, Vec<PreRelease>);

/// A run of digits or of other characters in a pre-release tag; numbers sort by value,
/// and before words (as in semantic versioning).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreRelease {
    Number(u64),
    Word(String),
}

fn pre_release_order(tag: &str) -> Vec<PreRelease> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest
            .find(|ch: char| ch.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        out.push(match run.parse() {
            Ok(n) if digit => PreRelease::Number(n),
            _ => PreRelease::Word(run.to_string()),
        });
        rest = tail;
    }
    out
}

/// `-3-gabc1234` or `-0-gabc1234-dirty`: what Ollama's build scripts append (`git
/// describe --long`) to a build at or after that release, not a pre-release.
fn is_git_describe(suffix: &str) -> bool {
    let suffix = suffix.strip_suffix("-dirty").unwrap_or(suffix);
    let mut parts = suffix.trim_start_matches('-').splitn(2, '-');
    let commits = parts.next().unwrap_or_default();
    let hash = parts.next().unwrap_or_default();
    !commits.is_empty()
        && commits.bytes().all(|b| b.is_ascii_digit())
        && hash.len() > 1
        && hash.starts_with('g')
        && hash[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_releases_come_in_their_natural_order_before_the_release() {
        assert!(version_key("0.30.0-rc2") < version_key("0.30.0-rc10"));
        assert!(version_key("0.30.0-rc32") < version_key("0.30.0"));
        assert_eq!(version_key("v0.17"), version_key("0.17.0"));
        assert_eq!(version_key("0.17.1+cuda"), version_key("0.17.1"));
        // A build after a release's tag is that release, not a pre-release of it.
        assert!(version_key("0.17.1-3-gabc1234-dirty") >= version_key("0.17.1"));
        assert!(version_key("0.17.0-12-gabc1234") < version_key("0.17.1"));
        assert_eq!(version_key("dev"), None);
    }
}
