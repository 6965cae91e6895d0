//! `modelfile.parameters`, `modelfile.system`, `modelfile.weights`: the custom model on
//! the server against the Modelfile it should have been created from.

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::ShowResponse;
use crate::modelfile::{kind, parse_bool, Kind, Modelfile};
use crate::ClientError;

/// Every `PARAMETER` of the Modelfile has the same value(s) in `/api/show`: the last
/// value of a repeated one, every `stop`; deprecated ones, which Ollama's CLI drops, are
/// not compared.
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
    let keys = mf.parameter_names();
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
    let dropped = if mf.deprecated.is_empty() {
        String::new()
    } else {
        format!(
            " ({} not compared: deprecated, Ollama's CLI drops it since 0.5.5)",
            mf.deprecated.join(", ")
        )
    };
    if differences.is_empty() {
        Outcome::pass(format!("{} parameter(s) match{dropped}", keys.len())).with_value(format!(
            "{}/{} match",
            keys.len(),
            keys.len()
        ))
    } else {
        Outcome::fail(format!(
            "expected the server's parameters to be the Modelfile's; {}{dropped}. Recreate the model: `ollama create <name> -f <Modelfile>`",
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
            "the model is not installed (see {see}): {e}",
            see = CheckId::ModelsCustom
        )),
        _ => Outcome::fail(e.to_string()),
    }
}

/// Values compared as Ollama stores them, sorted so `stop` order is free. The server
/// shows numbers as Go prints a float64 (`1e+06` for 1000000, `0.30000001192092896`
/// for the float32 0.3): integers compare as float64, floats at float32 precision,
/// booleans by `strconv.ParseBool`.
fn normalised(key: &str, values: Vec<&str>) -> Vec<String> {
    let mut out: Vec<String> = values
        .into_iter()
        .map(|v| {
            let number = v.parse::<f64>().ok().filter(|f| f.is_finite());
            match (kind(key), number) {
                (Some(Kind::Int), Some(f)) => f.to_string(),
                (Some(Kind::Float), Some(f)) => (f as f32).to_string(),
                (Some(Kind::Bool), _) => parse_bool(v).map_or(v.to_string(), |b| b.to_string()),
                _ => v.to_string(),
            }
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

/// The server's system prompt is the Modelfile's `SYSTEM`; where the Modelfile sets
/// none (or an empty one, which `ollama create` does not store), the base model's, which
/// the model keeps.
pub fn system(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    base: Option<&Result<ShowResponse, ClientError>>,
    unreachable: Option<&str>,
) -> Outcome {
    let show = match show {
        Ok(s) => s,
        Err(e) => return not_shown(e, unreachable),
    };
    fn prompt(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let have = prompt(show.system.as_deref());
    let (want, whose) = match prompt(mf.system.as_deref()) {
        Some(w) => (Some(w), "the Modelfile's"),
        None => match base {
            Some(Ok(b)) => (
                prompt(b.system.as_deref()),
                "the base model's, which the model keeps where the Modelfile sets none",
            ),
            Some(Err(e)) if have.is_some() => {
                return Outcome::skip(format!(
                    "the Modelfile sets no SYSTEM, so the model keeps its base model's, and the base {} cannot be shown to compare: {e}",
                    mf.from
                ))
            }
            _ => (None, "none, as the Modelfile sets none"),
        },
    };
    match (want, have) {
        (Some(w), Some(h)) if w == h => Outcome::pass(format!("the system prompt is {whose}"))
            .with_value(format!("{} chars", h.chars().count())),
        (None, None) => Outcome::pass(format!("no system prompt: {whose}")),
        (w, h) => Outcome::fail(format!(
            "expected the system prompt {} ({whose}), the server has {}. Recreate the model from the Modelfile",
            w.map_or("to be unset".into(), |s| format!("\"{}\"", first_words(s))),
            h.map_or("none".into(), |s| format!("\"{}\"", first_words(s)))
        )),
    }
}

fn first_words(s: &str) -> String {
    crate::text::shorten(s, 60)
}

/// The weights blob a model's `modelfile` names in its `FROM` line.
pub fn weights_blob(show: &ShowResponse) -> Option<String> {
    show.modelfile.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("FROM ")?;
        // Ollama for Windows joins the path with backslashes.
        let blob = rest.trim().rsplit(['/', '\\']).next()?;
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
                "the base model {base_name} is not installed (see {see})", see = CheckId::ModelsBase
            ))
        }
        (_, Err(e)) => {
            return Outcome::fail(format!(
                "the base model {base_name} cannot be shown, so there is nothing to share weights with: {e}"
            ))
        }
        (Ok(c), Ok(b)) => (c, b),
    };
    // A cloud model's modelfile names no blob (`FROM` of an empty path): its weights
    // are on its remote host (`remote_host` of `/api/show`).
    let cloud = [(custom, "the custom model"), (base, base_name)]
        .into_iter()
        .find_map(|(show, who)| show.remote.describe().map(|r| (who, r)));
    if let Some((who, remote)) = cloud {
        return Outcome::skip(format!(
            "{who} is a cloud model (it runs as {remote}): its weights are on the remote host, not in a blob here, so there are no weights to share or compare"
        ));
    }
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
            remote: Default::default(),
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
            budget: crate::client::Budget::Metadata,
            next: Default::default(),
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
            system(&mf, &show("", Some("Be brief.\n"), "x"), None, None).status,
            Status::Pass
        );
        assert_eq!(
            system(&mf, &show("", None, "x"), None, None).status,
            Status::Fail
        );
    }

    /// Without a SYSTEM (or with an empty one, which `ollama create` does not store) the
    /// model keeps its base model's.
    #[rstest::rstest]
    #[case::inherited(
        "FROM base\n",
        Some("Base prompt."),
        Some("Base prompt."),
        Status::Pass
    )]
    #[case::empty(
        "FROM base\nSYSTEM \"\"\n",
        Some("Base prompt."),
        Some("Base prompt."),
        Status::Pass
    )]
    #[case::lost("FROM base\n", Some("Base prompt."), None, Status::Fail)]
    #[case::none("FROM base\n", None, None, Status::Pass)]
    #[case::added("FROM base\n", None, Some("Other."), Status::Fail)]
    fn without_a_system_the_base_models_applies(
        #[case] text: &str,
        #[case] base_system: Option<&str>,
        #[case] server: Option<&str>,
        #[case] status: Status,
    ) {
        let mf = Modelfile::parse(text).unwrap();
        let base = show("", base_system, "x");
        let o = system(&mf, &show("", server, "x"), Some(&base), None);
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Fail {
            assert!(o.detail.contains("base model's"), "{}", o.detail);
        }
        // A base that cannot be shown leaves a server prompt unexplained: skipped.
        let gone = Err(ClientError::Status {
            endpoint: "POST /api/show".into(),
            status: 500,
            message: None,
            next: Default::default(),
        });
        let o = system(&mf, &show("", Some("Base prompt."), "x"), Some(&gone), None);
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
    }

    /// Go prints the float64 a number decodes to: 1e+06, 1.234567e+06; integers compare
    /// exactly, booleans by ParseBool; a repeated parameter's last value counts.
    #[rstest::rstest]
    #[case::exponent(
        "PARAMETER seed 1234567",
        "seed                           1.234567e+06",
        Status::Pass
    )]
    #[case::million(
        "PARAMETER num_ctx 1000000",
        "num_ctx                        1e+06",
        Status::Pass
    )]
    #[case::off_by_one(
        "PARAMETER seed 16777217",
        "seed                           1.6777216e+07",
        Status::Fail
    )]
    #[case::bool(
        "PARAMETER use_mmap True",
        "use_mmap                       true",
        Status::Pass
    )]
    #[case::last_wins(
        "PARAMETER top_k 10\nPARAMETER top_k 20",
        "top_k                          20",
        Status::Pass
    )]
    #[case::no_escapes(
        "PARAMETER stop \"\\n\"",
        "stop                           \"\\\\n\"",
        Status::Pass
    )]
    fn parameters_compare_as_the_server_stores_them(
        #[case] line: &str,
        #[case] server: &str,
        #[case] status: Status,
    ) {
        let mf = Modelfile::parse(&format!("FROM base\n{line}\n")).unwrap();
        let o = parameters(&mf, &show(server, None, "x"), None);
        assert_eq!(o.status, status, "{}", o.detail);
    }

    #[test]
    fn deprecated_parameters_are_not_compared() {
        let mf = Modelfile::parse("FROM base\nPARAMETER mirostat 2\nPARAMETER top_k 5\n").unwrap();
        let o = parameters(
            &mf,
            &show("top_k                          5", None, "x"),
            None,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert!(
            o.detail.contains("mirostat not compared: deprecated"),
            "{}",
            o.detail
        );
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
        // Ollama for Windows joins the path with backslashes.
        let windows = r"C:\Users\me\.ollama\models\blobs\sha256-abc";
        assert_eq!(
            weights_blob(&show("", None, windows).unwrap()).as_deref(),
            Some("sha256-abc")
        );
    }

    /// A cloud model's `/api/show` has `FROM ` of an empty path (its `ModelPath`; Model
    /// String, server/images.go) and `remote_host`: nothing to compare, not a fault.
    #[test]
    fn a_cloud_base_has_no_weights_to_share() {
        let blob = "/root/.ollama/models/blobs/sha256-abc";
        let mut cloud = show("", None, "").unwrap();
        cloud.remote.remote_model = Some("gpt-oss:20b".into());
        cloud.remote.remote_host = Some("https://ollama.com:443".into());
        let o = weights(
            &show("", None, blob),
            "gpt-oss:20b-cloud",
            &Ok(cloud.clone()),
            None,
        );
        assert_eq!(o.status, Status::Skip);
        assert!(
            o.detail.contains("gpt-oss:20b-cloud is a cloud model")
                && o.detail.contains("https://ollama.com:443"),
            "{}",
            o.detail
        );
        let o = weights(&Ok(cloud), "gpt-oss:20b-cloud", &show("", None, ""), None);
        assert_eq!(o.status, Status::Skip);
        assert!(
            o.detail.contains("the custom model is a cloud model"),
            "{}",
            o.detail
        );
    }
}
