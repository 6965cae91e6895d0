//! `models.base`, `models.custom`: a model is in `/api/tags`.

use super::{api_error, human_bytes};
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
                "the model list could not be read (see api.tags): {e}"
            ))
        }
    };
    let name = ModelName::parse(wanted);
    match tags.find(wanted) {
        Some(m) => {
            let d = &m.details;
            let mut value = human_bytes(m.size);
            if !d.parameter_size.is_empty() {
                value = format!("{value}, {} {}", d.parameter_size, d.quantization_level);
            }
            Outcome::pass(format!(
                "{} is installed (digest {})",
                m.name,
                &m.digest.chars().take(12).collect::<String>()
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

/// How to install a base model.
pub fn pull_remedy(model: &str) -> String {
    format!("Try `ollama pull {model}`")
}

/// How to install a custom model.
pub fn create_remedy(model: &str) -> String {
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
            models: names
                .iter()
                .map(|n| ModelInfo {
                    name: n.to_string(),
                    model: n.to_string(),
                    modified_at: String::new(),
                    size: 4_683_087_332,
                    digest: "dae161e27b0e".into(),
                    details: ModelDetails::default(),
                })
                .collect(),
        })
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
}
