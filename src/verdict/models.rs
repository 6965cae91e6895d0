//! `models.base`, `models.custom`: a model is in `/api/tags`.

use super::{api_error, human_bytes};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::TagsResponse;
use crate::{ClientError, ModelName};

/// The model `wanted` is installed; `remedy` says how to install it.
pub fn installed(
    tags: &Result<TagsResponse, ClientError>,
    wanted: &str,
    remedy: &str,
    unreachable: Option<&str>,
) -> Outcome {
    let tags = match tags {
        Ok(t) => t,
        Err(e) if unreachable.is_some() => return api_error(e, unreachable),
        Err(e) => {
            return Outcome::skip(format!(
                "the model list could not be read (see {see}): {e}",
                see = CheckId::ApiTags
            ))
        }
    };
    let name = ModelName::parse(wanted);
    match tags.find(wanted) {
        Some(m) => {
            let digest = |d: &str| -> String {
                d.trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect::<String>()
            };
            // A pinned `name@sha256:…` is that build: the manifest digest `ollama list`
            // shows starts with it.
            if let Some(pin) = name.digest() {
                let want = pin.trim_start_matches("sha256:").to_ascii_lowercase();
                let have = m.digest.trim_start_matches("sha256:").to_ascii_lowercase();
                if !have.starts_with(&want) {
                    return Outcome::fail(format!(
                        "expected {} at digest {pin}, the installed one has digest {}: another build of that tag. `ollama pull {}` fetches the tag's current build; where that is not the pinned one, pin the digest `ollama list` shows",
                        m.name,
                        digest(&m.digest),
                        name.display_name()
                    ))
                    .with_value(digest(&m.digest));
                }
            }
            // A cloud model is a stub of a few hundred bytes: its weights are remote.
            if let Some(remote) = m.remote.describe() {
                return Outcome::pass(format!(
                    "{} is installed as a cloud model (digest {}): it runs as {remote}, with no weights on this machine, so it is never loaded here",
                    m.name,
                    digest(&m.digest)
                ))
                .with_value("cloud model");
            }
            let d = &m.details;
            let mut value = human_bytes(m.size);
            if !d.parameter_size.is_empty() {
                value = format!("{value}, {} {}", d.parameter_size, d.quantization_level);
            }
            Outcome::pass(format!(
                "{} is installed (digest {})",
                m.name,
                digest(&m.digest)
            ))
            .with_value(value)
        }
        None => {
            let have: Vec<&str> = tags.models.iter().map(|m| m.name.as_str()).collect();
            let have = if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            };
            Outcome::fail(format!(
                "expected {} in `ollama list`; installed: {have}. {remedy}",
                name.display_name()
            ))
        }
    }
}

/// `model` as the commands take it: Ollama refuses a name with a pinned digest.
fn unpinned(model: &str) -> &str {
    model.split_once('@').map_or(model, |(name, _)| name).trim()
}

/// How to install a base model.
pub fn pull_remedy(model: &str) -> String {
    format!("Try `ollama pull {}`", unpinned(model))
}

/// How to install a custom model.
pub fn create_remedy(model: &str) -> String {
    let model = unpinned(model);
    format!(
        "Try `ollama create {model} -f setup/coding-assistant.Modelfile` (or your own Modelfile)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::{ModelDetails, ModelInfo};

    fn tags(names: &[&str]) -> Result<TagsResponse, ClientError> {
        Ok(TagsResponse {
            models: names.iter().map(|n| info(n)).collect(),
        })
    }

    fn info(name: &str) -> ModelInfo {
        ModelInfo {
            name: name.to_string(),
            model: name.to_string(),
            modified_at: String::new(),
            size: 4_683_087_332,
            digest: "dae161e27b0e".into(),
            details: ModelDetails::default(),
            remote: Default::default(),
        }
    }

    #[test]
    fn finds_by_normalised_name() {
        let o = installed(&tags(&["my-coder:latest"]), "my-coder", "", None);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.value.as_deref(), Some("4.7 GB"));
    }

    #[test]
    fn a_missing_model_lists_what_is_there_and_how_to_fix() {
        let o = installed(
            &tags(&["llama3.2:3b"]),
            "qwen2.5-coder:7b",
            &pull_remedy("qwen2.5-coder:7b"),
            None,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("llama3.2:3b") && o.detail.contains("ollama pull qwen2.5-coder:7b"),
            "{}",
            o.detail
        );
    }

    /// `ollama pull gpt-oss:20b-cloud` stores a stub: /api/tags lists it with its
    /// remote, a size of a few hundred bytes and no weights (ListHandler, v0.17.1).
    #[test]
    fn a_cloud_model_says_it_runs_elsewhere() {
        let mut m = info("gpt-oss:20b-cloud");
        m.size = 384;
        m.remote.remote_model = Some("gpt-oss:20b".into());
        m.remote.remote_host = Some("https://ollama.com:443".into());
        let tags = Ok(TagsResponse { models: vec![m] });
        let o = installed(&tags, "gpt-oss:20b-cloud", "", None);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.value.as_deref(), Some("cloud model"));
        assert!(
            o.detail.contains("cloud model")
                && o.detail.contains("gpt-oss:20b on https://ollama.com:443")
                && o.detail.contains("no weights"),
            "{}",
            o.detail
        );
        // Ollama 0.18 on takes `gpt-oss:20b:cloud` for the stub `pull` stores.
        assert_eq!(
            installed(&tags, "gpt-oss:20b:cloud", "", None).status,
            Status::Pass
        );
    }

    /// A pinned digest is that build, not any build of the tag.
    #[test]
    fn a_pinned_digest_must_be_the_installed_one() {
        let pinned = |pin: &str| installed(&tags(&["qwen2.5-coder:7b"]), pin, "", None);
        assert_eq!(
            pinned("qwen2.5-coder:7b@sha256:dae161e27b0e").status,
            Status::Pass
        );
        assert_eq!(pinned("qwen2.5-coder:7b@DAE161").status, Status::Pass);
        let o = pinned("qwen2.5-coder:7b@sha256:2d4eaafa2eee");
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("sha256:2d4eaafa2eee")
                && o.detail.contains("dae161e27b0e")
                && o.detail.contains("`ollama pull qwen2.5-coder:7b`"),
            "{}",
            o.detail
        );
    }

    /// Lists of a 0.1.20 server (no per-entry `model`, `families: null`) and of
    /// ollama.com (12-character digests, empty details) are read as they are.
    #[test]
    fn recorded_lists_of_old_and_hosted_servers() {
        let recorded = |fixture: &str| -> Result<TagsResponse, ClientError> {
            let path = format!(
                "{}/tests/fixtures/api/{fixture}",
                env!("CARGO_MANIFEST_DIR")
            );
            Ok(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        };
        let old = recorded("039-tags-docs-v0.1.20.json");
        let o = installed(&old, "llama2", "", None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("3.8 GB, 7B Q4_0"));
        let hosted = recorded("026-tags-ollama-com-cloud.json");
        let o = installed(&hosted, "gpt-oss:120b", "", None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        // Empty details add nothing to the size.
        assert_eq!(o.value.as_deref(), Some("65.3 GB"));
        assert!(o.detail.contains("d98fe6ba01e6"), "{}", o.detail);
    }

    /// Ollama refuses a name with `@` (its model part is invalid): the remedy does not
    /// pass the pin on.
    #[test]
    fn remedies_leave_the_pin_out() {
        assert_eq!(
            pull_remedy("qwen2.5-coder:7b@sha256:2d4e"),
            "Try `ollama pull qwen2.5-coder:7b`"
        );
        assert!(create_remedy("my-coder@sha256:2d4e").contains("ollama create my-coder -f"));
    }
}
