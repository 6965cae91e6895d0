//! Model names as Ollama understands them: `[host/][namespace/]model[:tag]`.
//!
//! `my-coder` and `my-coder:latest` are the same model, and so are `library/x` and
//! `registry.ollama.ai/library/x`. Names compare case-insensitively, like Ollama's
//! (`Name.EqualFold`).

use std::fmt;

const DEFAULT_HOST: &str = "registry.ollama.ai";
const DEFAULT_NAMESPACE: &str = "library";
const DEFAULT_TAG: &str = "latest";

/// A parsed model name. Construction never fails: Ollama accepts odd names and a verifier
/// must be able to talk about whatever the server reports.
#[derive(Debug, Clone)]
pub struct ModelName {
    host: Option<String>,
    namespace: Option<String>,
    model: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ModelName {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        // A pinned digest (`name@sha256:...`) names the same model, kept apart (see
        // [`digest`](ModelName::digest)). Cut at the first '@', so no '@' is left in the
        // name. (Trimmed again: `name @sha256:...` must not leave a space in the tag.)
        let (raw, digest) = match raw.split_once('@') {
            Some((name, digest)) => (name.trim(), Some(digest.trim())),
            None => (raw, None),
        };
        // The tag follows the last ':' after the last '/', so `localhost:5000/x` keeps its port.
        let slash = raw.rfind('/').map_or(0, |i| i + 1);
        let (mut path, mut tag) = match raw[slash..].rfind(':') {
            Some(i) => (&raw[..slash + i], Some(raw[slash + i + 1..].to_string())),
            None => (raw, None),
        };
        // Ollama 0.18 on reads an explicit source after the tag: `model:tag:cloud` is
        // the cloud model `pull` stores as `model:tag-cloud`, and `model:tag:local` is
        // the local `model:tag` (internal/modelref). Only where a tag precedes it: a
        // lone `:local` is a tag to older servers.
        // Two sources (`model:tag:cloud:local`) Ollama refuses; left as they are.
        if let (Some(suffix), Some(i)) = (&tag, path[slash..].rfind(':')) {
            let inner = &path[slash + i + 1..];
            let inner = match suffix.to_ascii_lowercase().as_str() {
                _ if is_source(inner) => None,
                "cloud" => Some(format!("{inner}-cloud")),
                "local" => Some(inner.to_string()),
                _ => None,
            };
            if let Some(inner) = inner {
                tag = Some(inner);
                path = &path[..slash + i];
            }
        }
        // Parts are trimmed: no name holds whitespace, and a part that kept its space
        // would print a canonical form that parses (trimmed) to another name.
        let mut parts: Vec<&str> = path.split('/').map(str::trim).collect();
        let model = parts.pop().unwrap_or_default().to_string();
        let namespace = parts.pop().map(str::to_string);
        // What is left is the host, less any scheme (`https://host/ns/model`), as
        // Ollama's ParseNameBare cuts it.
        let host = (!parts.is_empty()).then(|| {
            let host = parts.join("/");
            match host.rsplit_once("://") {
                Some((_, host)) => host.trim().to_string(),
                None => host,
            }
        });
        ModelName {
            host,
            namespace,
            model,
            tag: tag.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            digest: digest.filter(|d| !d.is_empty()).map(str::to_string),
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn tag(&self) -> &str {
        self.tag.as_deref().unwrap_or(DEFAULT_TAG)
    }

    /// The digest a name pins (`sha256:2d4e…` of `x@sha256:2d4e…`), as written.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Whether the name is a cloud model's by its tag (`cloud`, `20b-cloud`), as Ollama
    /// 0.18 on decides by the name alone: it runs on ollama.com, not here.
    pub fn is_cloud(&self) -> bool {
        let tag = self.tag().to_ascii_lowercase();
        tag == "cloud" || tag.ends_with("-cloud")
    }

    /// Fully qualified and lower-cased: the identity two names are compared by.
    pub fn canonical(&self) -> String {
        format!(
            "{}/{}/{}:{}",
            self.host.as_deref().unwrap_or(DEFAULT_HOST),
            self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
            self.model,
            self.tag()
        )
        .to_lowercase()
    }

    /// The short form `ollama list` shows: default host and namespace left out, tag kept.
    pub fn display_name(&self) -> String {
        // Defaults compared as Ollama's DisplayShortest does, ignoring case.
        let host = self
            .host
            .as_deref()
            .filter(|h| !h.eq_ignore_ascii_case(DEFAULT_HOST));
        let namespace = self.namespace.as_deref();
        let prefix = match (host, namespace) {
            (Some(h), ns) => format!("{h}/{}/", ns.unwrap_or(DEFAULT_NAMESPACE)),
            (None, Some(ns)) if !ns.eq_ignore_ascii_case(DEFAULT_NAMESPACE) => format!("{ns}/"),
            _ => String::new(),
        };
        format!("{prefix}{}:{}", self.model, self.tag())
    }

    /// Whether `other` (any spelling) names this model.
    pub fn matches(&self, other: &str) -> bool {
        self.canonical() == ModelName::parse(other).canonical()
    }
}

impl PartialEq for ModelName {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}
impl Eq for ModelName {}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// A source suffix Ollama reads after a tag (internal/modelref `parseSourceSuffix`).
fn is_source(part: &str) -> bool {
    let part = part.trim().to_ascii_lowercase();
    part == "cloud" || part == "local" || part.ends_with("-cloud")
}

/// Normalised short name: `my-coder` → `my-coder:latest`.
pub fn normalize(raw: &str) -> String {
    ModelName::parse(raw).display_name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("my-coder", "my-coder:latest")]
    #[case("my-coder:latest", "my-coder:latest")]
    #[case("qwen2.5-coder:7b", "qwen2.5-coder:7b")]
    #[case("  qwen2.5-coder:7b ", "qwen2.5-coder:7b")]
    #[case("library/qwen2.5-coder:7b", "qwen2.5-coder:7b")]
    #[case("registry.ollama.ai/library/llama3.2", "llama3.2:latest")]
    #[case("user/model", "user/model:latest")]
    #[case("localhost:5000/team/model", "localhost:5000/team/model:latest")]
    #[case("localhost:5000/team/model:v1", "localhost:5000/team/model:v1")]
    #[case(
        "hf.co/bartowski/Qwen2.5-GGUF:Q4_K_M",
        "hf.co/bartowski/Qwen2.5-GGUF:Q4_K_M"
    )]
    #[case("my-coder@sha256:abc", "my-coder:latest")]
    #[case("my-coder:", "my-coder:latest")]
    // DisplayShortest leaves out the defaults in any case (strings.EqualFold).
    #[case("Registry.Ollama.AI/Library/x", "x:latest")]
    #[case("LIBRARY/x:1", "x:1")]
    // ParseNameBare cuts a scheme off the host.
    #[case("https://example.com/team/model:v1", "example.com/team/model:v1")]
    #[case("http://localhost:5000/team/model", "localhost:5000/team/model:latest")]
    // Ollama 0.18 on: an explicit source after the tag.
    #[case("gpt-oss:20b:cloud", "gpt-oss:20b-cloud")]
    #[case("gpt-oss:20b:CLOUD", "gpt-oss:20b-cloud")]
    #[case("qwen2.5-coder:7b:local", "qwen2.5-coder:7b")]
    #[case("gpt-oss:cloud", "gpt-oss:cloud")]
    #[case("x:local", "x:local")]
    #[case("a:b:cloud:local", "a:b:cloud:local")]
    fn normalises(#[case] raw: &str, #[case] expected: &str) {
        assert_eq!(normalize(raw), expected);
    }

    #[test]
    fn a_pinned_digest_is_kept_apart() {
        let name = ModelName::parse("qwen2.5-coder:7b@sha256:2d4eaafa2eee");
        assert_eq!(name.digest(), Some("sha256:2d4eaafa2eee"));
        assert!(name.matches("qwen2.5-coder:7b"));
        assert_eq!(ModelName::parse("qwen2.5-coder:7b").digest(), None);
        assert_eq!(ModelName::parse("x@").digest(), None);
    }

    #[rstest]
    #[case("gpt-oss:20b-cloud", true)]
    #[case("gpt-oss:cloud", true)]
    #[case("gpt-oss:20b:cloud", true)]
    #[case("Kimi-K2:1T-Cloud", true)]
    #[case("qwen2.5-coder:7b", false)]
    #[case("my-cloud-coder", false)]
    fn cloud_models_by_their_tag(#[case] raw: &str, #[case] cloud: bool) {
        assert_eq!(ModelName::parse(raw).is_cloud(), cloud, "{raw}");
    }

    #[rstest]
    #[case("my-coder", "my-coder:latest", true)]
    #[case("My-Coder", "my-coder:latest", true)]
    #[case("library/x:1", "x:1", true)]
    #[case("registry.ollama.ai/library/x", "x", true)]
    #[case("user/x", "x", false)]
    #[case("x:7b", "x:latest", false)]
    #[case("other.host/library/x", "x", false)]
    #[case("gpt-oss:20b:cloud", "gpt-oss:20b-cloud", true)]
    #[case("https://example.com/ns/x", "example.com/ns/x:latest", true)]
    fn compares(#[case] a: &str, #[case] b: &str, #[case] same: bool) {
        assert_eq!(ModelName::parse(a).matches(b), same, "{a} vs {b}");
    }

    /// Regressions of the property test: a canonical form must parse to itself.
    #[rstest]
    #[case(":// //")]
    #[case("://  //")]
    #[case(":\t@")]
    #[case(" a / b : c ")]
    #[case("https:// host /ns/x")]
    fn canonical_forms_parse_to_themselves(#[case] raw: &str) {
        let canonical = ModelName::parse(raw).canonical();
        assert_eq!(
            ModelName::parse(&canonical).canonical(),
            canonical,
            "{raw:?}"
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for raw in [
            "",
            ":",
            "/",
            "//:",
            "a/b/c/d/e:f:g",
            "@",
            "ü:ß",
            "::cloud",
            ":local",
            "ü:ß:cloud",
            "://",
            "a://b://c/d/e",
        ] {
            let name = ModelName::parse(raw);
            let canonical = name.canonical();
            assert_eq!(ModelName::parse(&canonical).canonical(), canonical, "{raw}");
        }
    }
}
