//! Cloud models (Ollama 0.12 on): a model that answers from a remote host (ollama.com),
//! never from this server's GPU. Not a check of its own: what the checks that measure
//! or inspect the model on this install (`gpu.offload`, `perf.*`, `diagnose.offload`,
//! `diagnose.context`) decide and say the same way when the spec names one.

use crate::check::Outcome;
use crate::client::types::Remote;
use crate::ModelName;

/// What a check reads off its model, which a cloud model's answers say nothing about
/// on this install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Speeds: generation, prompt processing, streaming, against the bandwidth limit.
    Speed,
    /// Load times, warm or cold.
    Load,
    /// What the model holds in this GPU's VRAM: placement, context, the room beside it.
    Vram,
}

impl Reading {
    /// Why the reading would not be this install's, and what pointing the feature at a
    /// local model would let the check do.
    fn why(self) -> (&'static str, &'static str) {
        match self {
            Reading::Speed => (
                "its speed is the remote host's and the network's, not this GPU's",
                "measure",
            ),
            Reading::Load => (
                "it is never loaded by this server, so there is no load here to time, and unloading or reloading it means nothing",
                "measure",
            ),
            Reading::Vram => (
                "it is never loaded in this server's VRAM (`/api/ps` does not list it, the log shows no runner for it), so there is nothing on this GPU to check",
                "check",
            ),
        }
    }
}

/// Where a cloud model ran, as its chat said (`remote_model`, `remote_host`), or,
/// where it did not, what its tag tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// As `model` on `host`.
    As { model: String, host: String },
    /// As `model`, on a host not named.
    AsModel(String),
    /// On `host`, as a model not named.
    On(String),
    /// Nothing said where: its tag (`20b-cloud`, `cloud`) routes it to ollama.com.
    ByTag(String),
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ran::As { model, host } => write!(f, "it ran as {model} on {host}"),
            Ran::AsModel(model) => write!(f, "it ran as {model} on a remote host"),
            Ran::On(host) => write!(f, "it ran on {host}"),
            Ran::ByTag(tag) => write!(f, "by its tag `{tag}`, Ollama runs it on ollama.com"),
        }
    }
}

/// A model the spec names that runs on a remote host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudModel {
    /// As `ollama list` shows it.
    pub name: String,
    /// Where it ran.
    pub ran: Ran,
}

impl CloudModel {
    /// `model` as a cloud model, if it is one: by its tag (`20b-cloud`, `cloud`; Ollama
    /// 0.18 on routes such a name to ollama.com by the name alone), or by `remote`,
    /// where its chat said it ran (`remote_model`, `remote_host`).
    pub fn of(model: &str, remote: Option<&Remote>) -> Option<CloudModel> {
        let name = ModelName::parse(model);
        let (there, host) = remote.map_or((None, None), Remote::parts);
        let ran = match (there, host) {
            (Some(m), Some(h)) => Ran::As {
                model: m.to_string(),
                host: h.to_string(),
            },
            (Some(m), None) => Ran::AsModel(m.to_string()),
            (None, Some(h)) => Ran::On(h.to_string()),
            (None, None) if name.is_cloud() => Ran::ByTag(name.tag().to_string()),
            (None, None) => return None,
        };
        Some(CloudModel {
            name: name.display_name(),
            ran,
        })
    }

    /// The skip of a check that would read `reading` off this model.
    pub fn skip(&self, reading: Reading) -> Outcome {
        let (why, verb) = reading.why();
        Outcome::skip(format!(
            "{} is a cloud model ({}): {why}; point the feature at a local model to {verb} this install",
            self.name, self.ran
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(model: Option<&str>, host: Option<&str>) -> Remote {
        Remote {
            remote_model: model.map(Into::into),
            remote_host: host.map(Into::into),
        }
    }

    #[test]
    fn a_local_model_is_not_a_cloud_one() {
        assert_eq!(CloudModel::of("my-coder", None), None);
        assert_eq!(CloudModel::of("my-coder", Some(&Remote::default())), None);
        // Blank fields are a local answer's, as Remote::describe reads them.
        let blank = remote(Some(" "), Some(""));
        assert_eq!(CloudModel::of("my-coder", Some(&blank)), None);
    }

    /// By where its chat ran, whatever the name; the name alone where the chat said
    /// nothing (or there was none).
    #[test]
    fn by_its_chat_or_its_tag() {
        let at = remote(Some("gpt-oss:20b"), Some("https://ollama.com:443"));
        let c = CloudModel::of("gpt-oss:20b-cloud", Some(&at)).unwrap();
        assert_eq!(c.name, "gpt-oss:20b-cloud");
        assert_eq!(
            c.ran,
            Ran::As {
                model: "gpt-oss:20b".into(),
                host: "https://ollama.com:443".into()
            }
        );
        let c = CloudModel::of("my-alias", Some(&remote(None, Some("https://x:443")))).unwrap();
        assert_eq!(c.ran, Ran::On("https://x:443".into()));
        let c = CloudModel::of("my-alias", Some(&remote(Some("m:1"), None))).unwrap();
        assert_eq!(c.ran, Ran::AsModel("m:1".into()));
        let c = CloudModel::of("gpt-oss:20b:cloud", None).unwrap();
        assert_eq!(c.name, "gpt-oss:20b-cloud");
        assert_eq!(c.ran, Ran::ByTag("20b-cloud".into()));
    }

    /// Every skip, for each way a model is known to be a cloud model, as a person
    /// reads it: it names the model, where it ran and what to do.
    #[test]
    fn findings_read_so() {
        let ran = [
            Ran::As {
                model: "gpt-oss:20b".into(),
                host: "https://ollama.com:443".into(),
            },
            Ran::AsModel("m:1".into()),
            Ran::On("https://x:443".into()),
            Ran::ByTag("20b-cloud".into()),
        ];
        let mut all = String::new();
        for ran in ran {
            let c = CloudModel {
                name: "gpt-oss:20b-cloud".into(),
                ran,
            };
            for reading in [Reading::Speed, Reading::Load, Reading::Vram] {
                let o = c.skip(reading);
                all.push_str(&format!("{:?} {}\n", o.status, o.detail));
            }
        }
        insta::assert_snapshot!(all);
    }
}
