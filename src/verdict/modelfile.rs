//! `modelfile.parameters`, `modelfile.system`, `modelfile.weights`: the custom model on
//! the server against the Modelfile it should have been created from. Each verdict
//! finds what the facts show (a typed finding), and one renderer words it.

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::ShowResponse;
use crate::modelfile::{kind, parse_bool, Kind, Modelfile};
use crate::ClientError;

/// Why `/api/show` gave nothing to compare.
#[derive(Debug, Clone)]
pub enum Unshown {
    /// It only echoes a failed `GET /`: the reason api.root reports, once.
    RootDown(String),
    /// The model is not installed (HTTP 404): the models checks report it, once.
    NotInstalled(ClientError),
    /// Another error.
    Failed(ClientError),
}

impl Unshown {
    fn of(e: &ClientError, unreachable: Option<&str>) -> Self {
        if let Some(reason) = super::root_reason(e, unreachable) {
            return Unshown::RootDown(reason.to_string());
        }
        match e.kind() {
            crate::ErrorKind::Status(404) => Unshown::NotInstalled(e.clone()),
            _ => Unshown::Failed(e.clone()),
        }
    }

    /// The finding in words, with its status.
    pub fn outcome(&self) -> Outcome {
        match self {
            Unshown::RootDown(reason) => Outcome::skip(reason.clone()),
            Unshown::NotInstalled(e) => Outcome::skip(format!(
                "the model is not installed (see {see}): {e}",
                see = CheckId::ModelsCustom
            )),
            Unshown::Failed(e) => Outcome::fail(e.to_string()),
        }
    }
}

/// A parameter whose values differ: as the Modelfile and the server have them,
/// normalised and sorted (the server's empty where it does not set it).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub key: String,
    pub modelfile: Vec<String>,
    pub server: Vec<String>,
}

/// What `modelfile.parameters` found.
#[derive(Debug, Clone)]
pub enum Parameters {
    Unshown(Unshown),
    /// `compared` parameters, those that differ, and the deprecated ones not compared.
    Compared {
        compared: usize,
        differences: Vec<Difference>,
        deprecated: Vec<String>,
    },
}

/// Every `PARAMETER` of the Modelfile has the same value(s) in `/api/show`: the last
/// value of a repeated one, every `stop`; deprecated ones, which Ollama's CLI drops, are
/// not compared.
pub fn parameters(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    parameters_finding(mf, show, unreachable).outcome()
}

pub fn parameters_finding(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Parameters {
    let show = match show {
        Ok(s) => s,
        Err(e) => return Parameters::Unshown(Unshown::of(e, unreachable)),
    };
    let server = show.parameter_pairs();
    let keys = mf.parameter_names();
    let differences = keys
        .iter()
        .filter_map(|key| {
            let modelfile = normalised(key, mf.parameter(key));
            let server = normalised(
                key,
                server
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
                    .collect(),
            );
            (modelfile != server).then(|| Difference {
                key: key.to_string(),
                modelfile,
                server,
            })
        })
        .collect();
    Parameters::Compared {
        compared: keys.len(),
        differences,
        deprecated: mf.deprecated.clone(),
    }
}

impl Parameters {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (compared, differences, deprecated) = match self {
            Parameters::Unshown(unshown) => return unshown.outcome(),
            Parameters::Compared {
                compared,
                differences,
                deprecated,
            } => (*compared, differences, deprecated),
        };
        let dropped = if deprecated.is_empty() {
            String::new()
        } else {
            format!(
                " ({} not compared: deprecated, Ollama's CLI drops it since 0.5.5)",
                deprecated.join(", ")
            )
        };
        let matching = compared - differences.len();
        let value = format!("{matching}/{compared} match");
        if differences.is_empty() {
            return Outcome::pass(format!("{compared} parameter(s) match{dropped}"))
                .with_value(value);
        }
        let differences: Vec<String> = differences
            .iter()
            .map(|d| {
                let server = if d.server.is_empty() {
                    "unset".into()
                } else {
                    show_values(&d.server)
                };
                format!(
                    "{}: Modelfile {}, server {server}",
                    d.key,
                    show_values(&d.modelfile)
                )
            })
            .collect();
        Outcome::fail(format!(
            "expected the server's parameters to be the Modelfile's; {}{dropped}. Recreate the model: `ollama create <name> -f <Modelfile>`",
            differences.join("; ")
        ))
        .with_value(value)
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

/// Whose system prompt the model should have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PromptSource {
    /// The Modelfile's `SYSTEM`.
    Modelfile,
    /// The base model's, which the model keeps where the Modelfile sets none.
    Base,
    /// None: neither the Modelfile nor the base model sets one.
    Neither,
}

/// What `modelfile.system` found.
#[derive(Debug, Clone)]
pub enum System {
    Unshown(Unshown),
    /// The Modelfile sets no SYSTEM, the server has one, and the base model (`from`)
    /// cannot be shown to compare.
    BaseUnshown {
        from: String,
        error: ClientError,
    },
    /// The prompt is the one expected: its length in characters.
    Same {
        source: PromptSource,
        chars: usize,
    },
    /// Neither is there a prompt, nor is one expected.
    None {
        source: PromptSource,
    },
    /// Another prompt (or none) than the one expected (`None`: unset).
    Differs {
        source: PromptSource,
        expected: Option<String>,
        seen: Option<String>,
    },
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
    system_finding(mf, show, base, unreachable).outcome()
}

pub fn system_finding(
    mf: &Modelfile,
    show: &Result<ShowResponse, ClientError>,
    base: Option<&Result<ShowResponse, ClientError>>,
    unreachable: Option<&str>,
) -> System {
    let show = match show {
        Ok(s) => s,
        Err(e) => return System::Unshown(Unshown::of(e, unreachable)),
    };
    fn prompt(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let have = prompt(show.system.as_deref());
    let (want, source) = match prompt(mf.system.as_deref()) {
        Some(w) => (Some(w), PromptSource::Modelfile),
        None => match base {
            Some(Ok(b)) => (prompt(b.system.as_deref()), PromptSource::Base),
            Some(Err(e)) if have.is_some() => {
                return System::BaseUnshown {
                    from: mf.from.clone(),
                    error: e.clone(),
                }
            }
            _ => (None, PromptSource::Neither),
        },
    };
    match (want, have) {
        (Some(w), Some(h)) if w == h => System::Same {
            source,
            chars: h.chars().count(),
        },
        (None, None) => System::None { source },
        (w, h) => System::Differs {
            source,
            expected: w.map(str::to_string),
            seen: h.map(str::to_string),
        },
    }
}

impl System {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let whose = |source: &PromptSource| match source {
            PromptSource::Modelfile => "the Modelfile's",
            PromptSource::Base => {
                "the base model's, which the model keeps where the Modelfile sets none"
            }
            PromptSource::Neither => "none, as the Modelfile sets none",
        };
        let quoted = |s: &str| format!("\"{}\"", crate::text::shorten(s, 60));
        match self {
            System::Unshown(unshown) => unshown.outcome(),
            System::BaseUnshown { from, error } => Outcome::skip(format!(
                "the Modelfile sets no SYSTEM, so the model keeps its base model's, and the base {from} cannot be shown to compare: {error}"
            )),
            System::Same { source, chars } => {
                Outcome::pass(format!("the system prompt is {}", whose(source)))
                    .with_value(format!("{chars} chars"))
            }
            System::None { source } => {
                Outcome::pass(format!("no system prompt: {}", whose(source)))
            }
            System::Differs {
                source,
                expected,
                seen,
            } => Outcome::fail(format!(
                "expected the system prompt {} ({}), the server has {}. Recreate the model from the Modelfile",
                expected.as_deref().map_or("to be unset".into(), quoted),
                whose(source),
                seen.as_deref().map_or("none".into(), quoted)
            )),
        }
    }
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

/// What `modelfile.weights` found; `base` is the base model's name.
#[derive(Debug, Clone)]
pub enum Weights {
    /// The custom model cannot be shown, or either only echoes a failed `GET /`.
    Unshown(Unshown),
    /// The base model is not installed (models.base reports it).
    BaseNotInstalled { base: String },
    /// The base model cannot be shown: the error.
    BaseFailed { base: String, error: ClientError },
    /// The custom model is a cloud model: where it runs.
    CustomCloud { remote: String },
    /// The base model is a cloud model: where it runs.
    BaseCloud { base: String, remote: String },
    /// Both name the same blob.
    Shared { base: String, blob: String },
    /// They name different blobs.
    Differs {
        base: String,
        base_blob: String,
        custom_blob: String,
    },
    /// A modelfile names no weights blob.
    NoBlob,
}

/// The custom model reuses its base model's weights blob.
pub fn weights(
    custom: &Result<ShowResponse, ClientError>,
    base_name: &str,
    base: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    weights_finding(custom, base_name, base, unreachable).outcome()
}

pub fn weights_finding(
    custom: &Result<ShowResponse, ClientError>,
    base_name: &str,
    base: &Result<ShowResponse, ClientError>,
    unreachable: Option<&str>,
) -> Weights {
    let base_name = base_name.to_string();
    if let Some(reason) = base
        .as_ref()
        .err()
        .and_then(|e| super::root_reason(e, unreachable))
    {
        return Weights::Unshown(Unshown::RootDown(reason.to_string()));
    }
    let (custom, base) = match (custom, base) {
        (Err(e), _) => return Weights::Unshown(Unshown::of(e, unreachable)),
        (_, Err(e)) if e.kind() == crate::ErrorKind::Status(404) => {
            return Weights::BaseNotInstalled { base: base_name }
        }
        (_, Err(e)) => {
            return Weights::BaseFailed {
                base: base_name,
                error: e.clone(),
            }
        }
        (Ok(c), Ok(b)) => (c, b),
    };
    // A cloud model's modelfile names no blob (`FROM` of an empty path): its weights
    // are on its remote host (`remote_host` of `/api/show`).
    if let Some(remote) = custom.remote.describe() {
        return Weights::CustomCloud { remote };
    }
    if let Some(remote) = base.remote.describe() {
        return Weights::BaseCloud {
            base: base_name,
            remote,
        };
    }
    match (weights_blob(custom), weights_blob(base)) {
        (Some(c), Some(b)) if c == b => Weights::Shared {
            base: base_name,
            blob: c,
        },
        (Some(c), Some(b)) => Weights::Differs {
            base: base_name,
            base_blob: b,
            custom_blob: c,
        },
        _ => Weights::NoBlob,
    }
}

impl Weights {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let cloud = |who: &str, remote: &str| {
            Outcome::skip(format!(
                "{who} is a cloud model (it runs as {remote}): its weights are on the remote host, not in a blob here, so there are no weights to share or compare"
            ))
        };
        match self {
            Weights::Unshown(unshown) => unshown.outcome(),
            Weights::BaseNotInstalled { base } => Outcome::skip(format!(
                "the base model {base} is not installed (see {see})",
                see = CheckId::ModelsBase
            )),
            Weights::BaseFailed { base, error } => Outcome::fail(format!(
                "the base model {base} cannot be shown, so there is nothing to share weights with: {error}"
            )),
            Weights::CustomCloud { remote } => cloud("the custom model", remote),
            Weights::BaseCloud { base, remote } => cloud(base, remote),
            Weights::Shared { base, blob } => Outcome::pass(format!("built on {base}'s weights"))
                .with_value(blob.chars().take(19).collect::<String>()),
            Weights::Differs {
                base,
                base_blob,
                custom_blob,
            } => Outcome::fail(format!(
                "expected the custom model to reuse {base}'s weights blob {base_blob}, it names {custom_blob}: a second copy on disk, or another base. Recreate it with `FROM {base}`"
            )),
            Weights::NoBlob => Outcome::fail(
                "a FROM line naming a weights blob is missing from `/api/show`'s modelfile; the server's version may format it differently",
            ),
        }
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
        let server = show(&SERVER.replace("0.30000001192092896", "0.7"), None, "x");
        assert_eq!(
            differences(parameters_finding(&mf, &server, None)),
            (
                2,
                vec![Difference {
                    key: "temperature".into(),
                    modelfile: vec!["0.3".into()],
                    server: vec!["0.7".into()],
                }]
            )
        );
        let o = parameters(&mf, &server, None);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.value.as_deref(), Some("1/2 match"));
    }

    /// How many parameters were compared, and those that differ.
    fn differences(found: Parameters) -> (usize, Vec<Difference>) {
        match found {
            Parameters::Compared {
                compared,
                differences,
                ..
            } => (compared, differences),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_repeated_key_counts_once_where_its_lines_stand() {
        let apart = "FROM base\nPARAMETER stop \"<|im_end|>\"\nPARAMETER temperature 0.3\nPARAMETER stop <|endoftext|>\n";
        let mf = Modelfile::parse(apart).unwrap();
        let server = show(&SERVER.replace("<|im_end|>", "</s>"), None, "x");
        assert_eq!(
            differences(parameters_finding(&mf, &server, None)),
            (
                2,
                vec![Difference {
                    key: "stop".into(),
                    modelfile: vec!["<|endoftext|>".into(), "<|im_end|>".into()],
                    server: vec!["</s>".into(), "<|endoftext|>".into()],
                }]
            )
        );
        assert_eq!(parameters(&mf, &server, None).status, Status::Fail);
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
        let down = "the API does not answer (see api.root)";
        assert!(matches!(
            parameters_finding(&mf, &slow, Some(down)),
            Parameters::Unshown(Unshown::RootDown(reason)) if reason == down
        ));
        assert_eq!(parameters(&mf, &slow, Some(down)).status, Status::Skip);
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
            // The prompt expected is the base model's, or none where it has none.
            let found = system_finding(&mf, &show("", server, "x"), Some(&base), None);
            assert!(
                matches!(
                    &found,
                    System::Differs { source: PromptSource::Base, expected, seen }
                        if expected.as_deref() == base_system && seen.as_deref() == server
                ),
                "{found:?}"
            );
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
        let server = show("top_k                          5", None, "x");
        assert!(matches!(
            parameters_finding(&mf, &server, None),
            Parameters::Compared { compared: 1, differences, deprecated }
                if differences.is_empty() && deprecated == ["mirostat"]
        ));
        assert_eq!(parameters(&mf, &server, None).status, Status::Pass);
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
        let remote = "gpt-oss:20b on https://ollama.com:443";
        let custom = show("", None, blob);
        assert!(matches!(
            weights_finding(&custom, "gpt-oss:20b-cloud", &Ok(cloud.clone()), None),
            Weights::BaseCloud { base, remote: r } if base == "gpt-oss:20b-cloud" && r == remote
        ));
        let o = weights(&custom, "gpt-oss:20b-cloud", &Ok(cloud.clone()), None);
        assert_eq!(o.status, Status::Skip);
        let base = show("", None, "");
        assert!(matches!(
            weights_finding(&Ok(cloud.clone()), "gpt-oss:20b-cloud", &base, None),
            Weights::CustomCloud { remote: r } if r == remote
        ));
        let o = weights(&Ok(cloud), "gpt-oss:20b-cloud", &base, None);
        assert_eq!(o.status, Status::Skip);
    }

    /// Every finding of the three checks, as a person reads it.
    #[test]
    fn findings_read_so() {
        let missing = ClientError::Status {
            endpoint: "POST /api/show".into(),
            status: 404,
            message: Some("model 'my-coder' not found".into()),
            next: Default::default(),
        };
        let failed = ClientError::Status {
            endpoint: "POST /api/show".into(),
            status: 500,
            message: None,
            next: Default::default(),
        };
        let unshown = [
            Unshown::RootDown("the API does not answer (see api.root)".into()),
            Unshown::NotInstalled(missing),
            Unshown::Failed(failed.clone()),
        ];
        let compared = |differences: Vec<Difference>, deprecated: &[&str]| Parameters::Compared {
            compared: 3,
            differences,
            deprecated: deprecated.iter().map(|d| d.to_string()).collect(),
        };
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let parameters = [
            compared(vec![], &[]),
            compared(vec![], &["mirostat", "mirostat_eta"]),
            compared(
                vec![
                    Difference {
                        key: "temperature".into(),
                        modelfile: strings(&["0.3"]),
                        server: strings(&["0.7"]),
                    },
                    Difference {
                        key: "stop".into(),
                        modelfile: strings(&["<|endoftext|>", "<|im_end|>"]),
                        server: vec![],
                    },
                ],
                &["mirostat"],
            ),
        ];
        let long =
            "You are a careful coding assistant. Answer with code first, then explain briefly.";
        let systems = [
            System::BaseUnshown {
                from: "qwen2.5-coder:7b".into(),
                error: failed.clone(),
            },
            System::Same {
                source: PromptSource::Modelfile,
                chars: 9,
            },
            System::Same {
                source: PromptSource::Base,
                chars: 12,
            },
            System::None {
                source: PromptSource::Neither,
            },
            System::None {
                source: PromptSource::Base,
            },
            System::Differs {
                source: PromptSource::Modelfile,
                expected: Some("Be brief.".into()),
                seen: Some(long.into()),
            },
            System::Differs {
                source: PromptSource::Base,
                expected: Some("Base prompt.".into()),
                seen: None,
            },
            System::Differs {
                source: PromptSource::Neither,
                expected: None,
                seen: Some("Other.".into()),
            },
        ];
        let base = || "qwen2.5-coder:7b".to_string();
        let weights = [
            Weights::BaseNotInstalled { base: base() },
            Weights::BaseFailed {
                base: base(),
                error: failed,
            },
            Weights::CustomCloud {
                remote: "gpt-oss:20b on https://ollama.com:443".into(),
            },
            Weights::BaseCloud {
                base: "gpt-oss:20b-cloud".into(),
                remote: "gpt-oss:20b on https://ollama.com:443".into(),
            },
            Weights::Shared {
                base: base(),
                blob: "sha256-60e05f2100071479f596b964f89f510f057ce397ea22f2833a0cfe029bfc2463"
                    .into(),
            },
            Weights::Differs {
                base: base(),
                base_blob: "sha256-60e05f210007".into(),
                custom_blob: "sha256-2d4eaafa2eee".into(),
            },
            Weights::NoBlob,
        ];
        let line = |o: Outcome| o.snapshot_line();
        let all: String = unshown
            .iter()
            .map(Unshown::outcome)
            .chain(parameters.iter().map(Parameters::outcome))
            .chain(systems.iter().map(System::outcome))
            .chain(weights.iter().map(Weights::outcome))
            .map(line)
            .collect();
        insta::assert_snapshot!(all);
    }
}
