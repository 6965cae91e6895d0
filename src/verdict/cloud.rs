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

/// A model the spec names that runs on a remote host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudModel {
    /// As `ollama list` shows it.
    pub name: String,
    /// Where it ran (`it ran as gpt-oss:20b on https://ollama.com:443`), or, where its
    /// chat did not say, what its tag tells.
    pub ran: String,
}

impl CloudModel {
    /// `model` as a cloud model, if it is one: by its tag (`20b-cloud`, `cloud`; Ollama
    /// 0.18 on routes such a name to ollama.com by the name alone), or by `remote`,
    /// where its chat said it ran (`remote_model`, `remote_host`).
    pub fn of(model: &str, remote: Option<&Remote>) -> Option<CloudModel> {
        let name = ModelName::parse(model);
        let (there, host) = remote.map_or((None, None), Remote::parts);
        let ran = match (there, host) {
            (Some(m), Some(h)) => format!("it ran as {m} on {h}"),
            (Some(m), None) => format!("it ran as {m} on a remote host"),
            (None, Some(h)) => format!("it ran on {h}"),
            (None, None) if name.is_cloud() => {
                format!("by its tag `{}`, Ollama runs it on ollama.com", name.tag())
            }
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
    use crate::check::Status;

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
        assert_eq!(c.ran, "it ran as gpt-oss:20b on https://ollama.com:443");
        let c = CloudModel::of("my-alias", Some(&remote(None, Some("https://x:443")))).unwrap();
        assert_eq!(c.ran, "it ran on https://x:443");
        let c = CloudModel::of("my-alias", Some(&remote(Some("m:1"), None))).unwrap();
        assert_eq!(c.ran, "it ran as m:1 on a remote host");
        let c = CloudModel::of("gpt-oss:20b:cloud", None).unwrap();
        assert_eq!(c.name, "gpt-oss:20b-cloud");
        assert!(c.ran.contains("`20b-cloud`"), "{}", c.ran);
    }

    #[test]
    fn the_skip_names_the_model_where_it_ran_and_what_to_do() {
        let at = remote(Some("gpt-oss:20b"), Some("https://ollama.com:443"));
        let c = CloudModel::of("gpt-oss:20b-cloud", Some(&at)).unwrap();
        let o = c.skip(Reading::Speed);
        assert_eq!(o.status, Status::Skip);
        assert_eq!(
            o.detail,
            "gpt-oss:20b-cloud is a cloud model (it ran as gpt-oss:20b on https://ollama.com:443): its speed is the remote host's and the network's, not this GPU's; point the feature at a local model to measure this install"
        );
        assert!(c
            .skip(Reading::Load)
            .detail
            .contains("unloading or reloading"));
        let vram = c.skip(Reading::Vram).detail;
        assert!(
            vram.contains("never loaded in this server's VRAM")
                && vram.ends_with("to check this install"),
            "{vram}"
        );
    }
}
