//! `models.base`, `models.custom`: a model is in `/api/tags`. The verdict finds what
//! the list shows (a typed finding), and one renderer words it.

use super::{human_bytes, Unanswered};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::TagsResponse;
use crate::{ClientError, ModelName};

/// What `models.base` or `models.custom` found.
#[derive(Debug, Clone)]
pub enum Installed {
    /// `/api/tags` failed where `GET /` did too: as api.root reports it, or its own
    /// error.
    Unanswered(Unanswered),
    /// `/api/tags` failed (api.tags reports it): the error.
    Unlisted(ClientError),
    /// Installed at another digest than the one pinned (`name@sha256:…`): `tag` is
    /// the name without the pin.
    OtherBuild {
        name: String,
        pin: String,
        digest: String,
        tag: String,
    },
    /// Installed as a cloud model: where it runs.
    Cloud {
        name: String,
        digest: String,
        remote: String,
    },
    /// Installed: its size, and its parameter size and quantisation where the server
    /// reports them.
    Installed {
        name: String,
        digest: String,
        size: u64,
        parameter_size: String,
        quantization: String,
    },
    /// Not installed: the name wanted, those installed, and how to install it.
    Missing {
        wanted: String,
        installed: Vec<String>,
        remedy: String,
    },
}

/// The model `wanted` is installed; `remedy` says how to install it.
pub fn installed(
    tags: &Result<TagsResponse, ClientError>,
    wanted: &str,
    remedy: &str,
    unreachable: Option<&str>,
) -> Outcome {
    installed_finding(tags, wanted, remedy, unreachable).outcome()
}

pub fn installed_finding(
    tags: &Result<TagsResponse, ClientError>,
    wanted: &str,
    remedy: &str,
    unreachable: Option<&str>,
) -> Installed {
    let tags = match tags {
        Ok(t) => t,
        Err(e) if unreachable.is_some() => {
            return Installed::Unanswered(Unanswered::of(e, unreachable))
        }
        Err(e) => return Installed::Unlisted(e.clone()),
    };
    let name = ModelName::parse(wanted);
    let Some(m) = tags.find(wanted) else {
        return Installed::Missing {
            wanted: name.display_name(),
            installed: tags.models.iter().map(|m| m.name.clone()).collect(),
            remedy: remedy.to_string(),
        };
    };
    // A pinned `name@sha256:…` is that build: the manifest digest `ollama list`
    // shows starts with it.
    if let Some(pin) = name.digest() {
        let want = pin.trim_start_matches("sha256:").to_ascii_lowercase();
        let have = m.digest.trim_start_matches("sha256:").to_ascii_lowercase();
        if !have.starts_with(&want) {
            return Installed::OtherBuild {
                name: m.name.clone(),
                pin: pin.to_string(),
                digest: m.digest.clone(),
                tag: name.display_name(),
            };
        }
    }
    // A cloud model is a stub of a few hundred bytes: its weights are remote.
    if let Some(remote) = m.remote.describe() {
        return Installed::Cloud {
            name: m.name.clone(),
            digest: m.digest.clone(),
            remote,
        };
    }
    Installed::Installed {
        name: m.name.clone(),
        digest: m.digest.clone(),
        size: m.size,
        parameter_size: m.details.parameter_size.clone(),
        quantization: m.details.quantization_level.clone(),
    }
}

/// A digest as `ollama list` shows it: its first 12 hex digits.
fn short_digest(d: &str) -> String {
    d.trim_start_matches("sha256:").chars().take(12).collect()
}

impl Installed {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Installed::Unanswered(unanswered) => unanswered.outcome(),
            Installed::Unlisted(e) => Outcome::skip(format!(
                "the model list could not be read (see {see}): {e}",
                see = CheckId::ApiTags
            )),
            Installed::OtherBuild {
                name,
                pin,
                digest,
                tag,
            } => {
                let digest = short_digest(digest);
                let fix = format!("`ollama pull {tag}` fetches the tag's current build; where that is not the pinned one, pin the digest `ollama list` shows");
                Outcome::fail(format!(
                    "expected {name} at digest {pin}, the installed one has digest {digest}: another build of that tag. {fix}"
                ))
                .with_value(digest)
            }
            Installed::Cloud {
                name,
                digest,
                remote,
            } => Outcome::pass(format!(
                "{name} is installed as a cloud model (digest {}): it runs as {remote}, with no weights on this machine, so it is never loaded here",
                short_digest(digest)
            ))
            .with_value("cloud model"),
            Installed::Installed {
                name,
                digest,
                size,
                parameter_size,
                quantization,
            } => {
                let mut value = human_bytes(*size);
                if !parameter_size.is_empty() {
                    value = format!("{value}, {parameter_size} {quantization}");
                }
                Outcome::pass(format!(
                    "{name} is installed (digest {})",
                    short_digest(digest)
                ))
                .with_value(value)
            }
            Installed::Missing {
                wanted,
                installed,
                remedy,
            } => {
                let have = if installed.is_empty() {
                    "none".to_string()
                } else {
                    installed.join(", ")
                };
                Outcome::fail(format!(
                    "expected {wanted} in `ollama list`; installed: {have}. {remedy}"
                ))
            }
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
        let list = tags(&["llama3.2:3b"]);
        let remedy = pull_remedy("qwen2.5-coder:7b");
        let found = installed_finding(&list, "qwen2.5-coder:7b", &remedy, None);
        assert!(
            matches!(
                &found,
                Installed::Missing { wanted, installed, remedy: r }
                    if wanted == "qwen2.5-coder:7b" && installed == &["llama3.2:3b"] && r == &remedy
            ),
            "{found:?}"
        );
        let o = installed(&list, "qwen2.5-coder:7b", &remedy, None);
        assert_eq!(o.status, Status::Fail);
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
        let found = installed_finding(&tags, "gpt-oss:20b-cloud", "", None);
        assert!(
            matches!(
                &found,
                Installed::Cloud { name, remote, .. }
                    if name == "gpt-oss:20b-cloud" && remote == "gpt-oss:20b on https://ollama.com:443"
            ),
            "{found:?}"
        );
        let o = installed(&tags, "gpt-oss:20b-cloud", "", None);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.value.as_deref(), Some("cloud model"));
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
        let other = "qwen2.5-coder:7b@sha256:2d4eaafa2eee";
        let found = installed_finding(&tags(&["qwen2.5-coder:7b"]), other, "", None);
        assert!(
            matches!(
                &found,
                Installed::OtherBuild { name, pin, digest, tag }
                    if name == "qwen2.5-coder:7b"
                        && pin == "sha256:2d4eaafa2eee"
                        && digest == "dae161e27b0e"
                        && tag == "qwen2.5-coder:7b"
            ),
            "{found:?}"
        );
        assert_eq!(pinned(other).status, Status::Fail);
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
        let found = installed_finding(&hosted, "gpt-oss:120b", "", None);
        assert!(
            matches!(&found, Installed::Installed { digest, .. } if short_digest(digest) == "d98fe6ba01e6"),
            "{found:?}"
        );
    }

    /// Ollama refuses a name with `@` (its model part is invalid): the remedy does not
    /// pass the pin on.
    #[test]
    fn remedies_leave_the_pin_out() {
        assert_eq!(
            pull_remedy("qwen2.5-coder:7b@sha256:2d4e"),
            "Try `ollama pull qwen2.5-coder:7b`"
        );
        assert_eq!(
            create_remedy("my-coder@sha256:2d4e"),
            "Try `ollama create my-coder -f setup/coding-assistant.Modelfile` (or your own Modelfile)"
        );
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let refused = ClientError::ConnectionRefused {
            addr: "127.0.0.1:11434".into(),
            next: Default::default(),
        };
        let found = [
            Installed::Unanswered(Unanswered::RootDown(
                "the API does not answer (see api.root)".into(),
            )),
            Installed::Unanswered(Unanswered::Failed(refused.clone())),
            Installed::Unlisted(refused),
            Installed::OtherBuild {
                name: "qwen2.5-coder:7b".into(),
                pin: "sha256:2d4eaafa2eee".into(),
                digest: "sha256:dae161e27b0e8cf8".into(),
                tag: "qwen2.5-coder:7b".into(),
            },
            Installed::Cloud {
                name: "gpt-oss:20b-cloud".into(),
                digest: "dae161e27b0e".into(),
                remote: "gpt-oss:20b on https://ollama.com:443".into(),
            },
            Installed::Installed {
                name: "qwen2.5-coder:7b".into(),
                digest: "sha256:dae161e27b0e8cf8".into(),
                size: 4_683_087_332,
                parameter_size: "7.6B".into(),
                quantization: "Q4_K_M".into(),
            },
            Installed::Installed {
                name: "gpt-oss:120b".into(),
                digest: "d98fe6ba01e6".into(),
                size: 65_290_000_000,
                parameter_size: String::new(),
                quantization: String::new(),
            },
            Installed::Missing {
                wanted: "qwen2.5-coder:7b".into(),
                installed: vec![],
                remedy: pull_remedy("qwen2.5-coder:7b"),
            },
            Installed::Missing {
                wanted: "my-coder:latest".into(),
                installed: vec!["llama3.2:3b".into(), "qwen2.5-coder:7b".into()],
                remedy: create_remedy("my-coder"),
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
