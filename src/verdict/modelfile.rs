//! `modelfile.parameters`, `modelfile.system`, `modelfile.weights`: the custom model on
//! the server against the Modelfile it should have been created from.

use crate::check::Outcome;
use crate::client::types::ShowResponse;
use crate::modelfile::{typed_value, Modelfile};
use crate::ClientError;
use serde_json::Value;

/// Every `PARAMETER` of the Modelfile has the same value(s) in `/api/show`.
pub fn parameters(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    let show = match show {
        Ok(s) => s,
        Err(e) => return not_shown(e, unreachable),
    };
    let server = show.parameter_pairs();
    // Each key once, in the Modelfile's order (repeated keys such as `stop` need not
    // stand together).
    let mut keys: Vec<&str> = Vec::new();
    for (k, _) in &mf.parameters {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    let mut differences = Vec::new();
    for key in &keys {
        let want = normalised(key, mf.parameter(key));
        let have = normalised(
            key,
            server
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect(),
        );
        if want != have {
            differences.push(format!(
                "{key}: Modelfile {}, server {}",
                show_values(&want),
                if have.is_empty() {
                    "unset".into()
                } else {
                    show_values(&have)
                }
            ));
        }
    }
    if differences.is_empty() {
        Outcome::pass(format!("{} parameter(s) match", keys.len())).with_value(format!(
            "{}/{} match",
            keys.len(),
            keys.len()
        ))
    } else {
        Outcome::fail(format!(
            "expected the server's parameters to be the Modelfile's; {}. Recreate the model: `ollama create <name> -f <Modelfile>`",
            differences.join("; ")
        ))
        .with_value(format!("{}/{} match", keys.len() - differences.len(), keys.len()))
    }
}

/// A model the server does not have is reported by the models checks, once.
fn not_shown(e: &ClientError, unreachable: Option<&str>) -> Outcome {
    if let Some(skip) = super::echo_of_root(e, unreachable) {
        return skip;
    }
    match e.kind() {
        crate::ErrorKind::Status(404) => Outcome::skip(format!(
            "the model is not installed (see models.custom): {e}"
        )),
        _ => Outcome::fail(e.to_string()),
    }
}

/// Values typed as Ollama types them and compared at the float32 precision its runner
/// uses (0.30 == 0.3 == 0.30000001192092896), sorted so `stop` order is free.
fn normalised(key: &str, values: Vec<&str>) -> Vec<String> {
    let mut out: Vec<String> = values
        .into_iter()
        .map(|v| match typed_value(key, v) {
            Ok(Value::Number(n)) => n.as_f64().map_or(v.to_string(), |f| (f as f32).to_string()),
            _ => v.to_string(),
        })
        .collect();
    out.sort();
    out
}

fn show_values(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The server's system prompt is the Modelfile's `SYSTEM`.
pub fn system(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    let show = match show {
        Ok(s) => s,
        Err(e) => return not_shown(e, unreachable),
    };
    let want = mf.system.as_deref().map(str::trim);
    let have = show
        .system
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (want, have) {
        (Some(w), Some(h)) if w == h => {
            Outcome::pass("the system prompts are identical").with_value(format!("{} chars", h.chars().count()))
        }
        (None, None) => Outcome::pass("neither sets a system prompt"),
        (w, h) => Outcome::fail(format!(
            "expected the system prompt {}, the server has {}. Recreate the model from the Modelfile",
            w.map_or("to be unset".into(), |s| format!("\"{}\"", first_words(s))),
            h.map_or("none".into(), |s| format!("\"{}\"", first_words(s)))
        )),
    }
}

fn first_words(s: &str) -> String {
    crate::report::shorten(s, 60)
}

/// The weights blob a model's `modelfile` names in its `FROM` line.
pub fn weights_blob(show: &ShowResponse) -> Option<String> {
    show.modelfile.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("FROM ")?;
        let blob = rest.trim().rsplit('/').next()?;
        blob.starts_with("sha256")
            .then(|| blob.replace("sha256:", "sha256-"))
    })
}

/// The custom model reuses its base model's weights blob.
pub fn weights(
    custom: &Result<ShowResponse, ClientError>,
    base_name: &str,
    base: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    if let Some(skip) = base
        .as_ref()
        .err()
        .and_then(|e| super::echo_of_root(e, unreachable))
    {
        return skip;
    }
    let (custom, base) = match (custom, base) {
        (Err(e), _) => return not_shown(e, unreachable),
        (_, Err(e)) if e.kind() == crate::ErrorKind::Status(404) => {
            return Outcome::skip(format!(
                "the base model {base_name} is not installed (see models.base)"
            ))
        }
        (_, Err(e)) => {
            return Outcome::fail(format!(
                "the base model {base_name} cannot be shown, so there is nothing to share weights with: {e}"
            ))
        }
        (Ok(c), Ok(b)) => (c, b),
    };
    match (weights_blob(custom), weights_blob(base)) {
        (Some(c), Some(b)) if c == b => {
            Outcome::pass(format!("built on {base_name}'s weights")).with_value(c.chars().take(19).collect::<String>())
        }
        (Some(c), Some(b)) => Outcome::fail(format!(
            "expected the custom model to reuse {base_name}'s weights blob {b}, it names {c}: a second copy on disk, or another base. Recreate it with `FROM {base_name}`"
        )),
        _ => Outcome::fail(
            "a FROM line naming a weights blob is missing from `/api/show`'s modelfile; the server's version may format it differently",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    fn show(
        parameters: &str,
        system: Option<&str>,
        from: &str,
    ) -> Result<ShowResponse, ClientError> {
        Ok(ShowResponse {
            license: None,
            modelfile: format!("# Modelfile generated by \"ollama show\"\nFROM {from}\n"),
            parameters: parameters.into(),
            template: String::new(),
            system: system.map(str::to_string),
            details: Default::default(),
            model_info: Default::default(),
            capabilities: vec![],
            modified_at: String::new(),
        })
    }

    const MF: &str = "FROM base\nPARAMETER temperature 0.3\nPARAMETER stop \"<|im_end|>\"\nPARAMETER stop <|endoftext|>\nSYSTEM \"\"\"Be brief.\"\"\"";
    const SERVER: &str = "stop                           \"<|endoftext|>\"\nstop                           \"<|im_end|>\"\ntemperature                    0.30000001192092896";

    #[test]
    fn parameters_compare_typed_and_unordered() {
        let mf = Modelfile::parse(MF).unwrap();
        // float32 on the server side: the same value, printed longer.
        let o = parameters(&mf, &show(SERVER, None, "x"), None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        let exact = SERVER.replace("0.30000001192092896", "0.3");
        assert_eq!(
            parameters(&mf, &show(&exact, None, "x"), None).status,
            Status::Pass
        );
    }

    #[test]
    fn a_different_value_is_named() {
        let mf = Modelfile::parse(MF).unwrap();
        let o = parameters(
            &mf,
            &show(&SERVER.replace("0.30000001192092896", "0.7"), None, "x"),
            None,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail
                .contains("temperature: Modelfile \"0.3\", server \"0.7\""),
            "{}",
            o.detail
        );
        assert_eq!(o.value.as_deref(), Some("1/2 match"));
    }

    #[test]
    fn a_repeated_key_counts_once_where_its_lines_stand() {
        let apart = "FROM base\nPARAMETER stop \"<|im_end|>\"\nPARAMETER temperature 0.3\nPARAMETER stop <|endoftext|>\n";
        let mf = Modelfile::parse(apart).unwrap();
        let o = parameters(
            &mf,
            &show(&SERVER.replace("<|im_end|>", "</s>"), None, "x"),
            None,
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.detail.matches("stop:").count(), 1, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("1/2 match"));
    }

    #[test]
    fn a_show_timeout_fails_unless_get_root_failed_too() {
        let mf = Modelfile::parse(MF).unwrap();
        let slow = Err(ClientError::Timeout {
            endpoint: "POST /api/show".into(),
            phase: crate::client::Phase::FirstByte,
            after: std::time::Duration::from_secs(15),
        });
        assert_eq!(parameters(&mf, &slow, None).status, Status::Fail);
        let o = parameters(&mf, &slow, Some("the API does not answer (see api.root)"));
        assert_eq!(
            (o.status, o.detail.as_str()),
            (Status::Skip, "the API does not answer (see api.root)")
        );
    }

    #[test]
    fn system_prompts() {
        let mf = Modelfile::parse(MF).unwrap();
        assert_eq!(
            system(&mf, &show("", Some("Be brief.\n"), "x"), None).status,
            Status::Pass
        );
        assert_eq!(system(&mf, &show("", None, "x"), None).status, Status::Fail);
    }

    #[test]
    fn weights_by_blob() {
        let blob = "/root/.ollama/models/blobs/sha256-abc";
        assert_eq!(
            weights(&show("", None, blob), "b", &show("", None, blob), None).status,
            Status::Pass
        );
        let other = "/root/.ollama/models/blobs/sha256-def";
        assert_eq!(
            weights(&show("", None, blob), "b", &show("", None, other), None).status,
            Status::Fail
        );
        assert_eq!(
            weights_blob(&show("", None, "qwen2.5-coder:7b").unwrap()),
            None
        );
    }
}
