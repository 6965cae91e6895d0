//! Model names as Ollama understands them: `[host/][namespace/]model[:tag]`.
//!
//! `my-coder` and `my-coder:latest` are the same model, and so are `library/x` and
//! `registry.ollama.ai/library/x`. Names compare case-insensitively, like Ollama's.

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
}

impl ModelName {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        // A pinned digest (`name@sha256:...`) names the same model; drop it.
        // (Trimmed again: `name @sha256:...` must not leave a space in the tag.)
        let raw = raw.split_once('@').map_or(raw, |(name, _)| name).trim();
        // The tag follows the last ':' after the last '/', so `localhost:5000/x` keeps its port.
        let slash = raw.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match raw[slash..].rfind(':') {
            Some(i) => (&raw[..slash + i], Some(&raw[slash + i + 1..])),
            None => (raw, None),
        };
        let mut parts: Vec<&str> = path.split('/').collect();
        let model = parts.pop().unwrap_or_default().to_string();
        let namespace = parts.pop().map(str::to_string);
        let host = if parts.is_empty() {
            None
        } else {
            Some(parts.join("/"))
        };
        ModelName {
            host,
            namespace,
            model,
            tag: tag.filter(|t| !t.is_empty()).map(str::to_string),
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn tag(&self) -> &str {
        self.tag.as_deref().unwrap_or(DEFAULT_TAG)
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
        let host = self.host.as_deref().filter(|h| *h != DEFAULT_HOST);
        let namespace = self.namespace.as_deref();
        let prefix = match (host, namespace) {
            (Some(h), ns) => format!("{h}/{}/", ns.unwrap_or(DEFAULT_NAMESPACE)),
            (None, Some(ns)) if ns != DEFAULT_NAMESPACE => format!("{ns}/"),
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
    fn normalises(#[case] raw: &str, #[case] expected: &str) {
        assert_eq!(normalize(raw), expected);
    }

    #[rstest]
    #[case("my-coder", "my-coder:latest", true)]
    #[case("My-Coder", "my-coder:latest", true)]
    #[case("library/x:1", "x:1", true)]
    #[case("registry.ollama.ai/library/x", "x", true)]
    #[case("user/x", "x", false)]
    #[case("x:7b", "x:latest", false)]
    #[case("other.host/library/x", "x", false)]
    fn compares(#[case] a: &str, #[case] b: &str, #[case] same: bool) {
        assert_eq!(ModelName::parse(a).matches(b), same, "{a} vs {b}");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for raw in ["", ":", "/", "//:", "a/b/c/d/e:f:g", "@", "ü:ß"] {
            let _ = ModelName::parse(raw).canonical();
        }
    }
}
