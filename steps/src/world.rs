//! The cucumber World: the run's shared [`Session`], which check the scenario decides,
//! and the facts its steps gathered.

use ollama_verify::catalog::CheckId;
use ollama_verify::check::{CheckResult, Outcome, Severity, Status};
use ollama_verify::client::types::{ChatChunk, PsResponse, Remote, ShowResponse};
use ollama_verify::modelfile::Modelfile;
use ollama_verify::perf::StreamTiming;
use ollama_verify::probe::logs::ServerLog;
use ollama_verify::probe::network::AddressProbe;
use ollama_verify::probe::procfs::{Platform, PortOwners};
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::probe::LogError;
use ollama_verify::probe::ProbeError;
use ollama_verify::session::Session;
use ollama_verify::verdict::cloud::{CloudModel, Reading};
use ollama_verify::ClientError;
use std::sync::{Arc, Mutex};

/// The session of the run in progress. A run sets it before scenarios start; each
/// scenario's World takes a handle.
static SESSION: Mutex<Option<Arc<Session>>> = Mutex::new(None);

pub fn install_session(session: Arc<Session>) {
    *SESSION.lock().unwrap() = Some(session);
}

/// Releases the session (and an emulator it started) once a run is over.
pub fn clear_session() {
    SESSION.lock().unwrap().take();
}

/// Which check a scenario decides, from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckMeta {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    /// When the scenario started: its check's time in the JUnit report.
    pub started: std::time::Instant,
}

impl CheckMeta {
    /// `@check.<id>` names the check; `@warn` lowers its severity.
    pub fn from_tags<'a>(name: &str, tags: impl IntoIterator<Item = &'a String>) -> Option<Self> {
        let mut id = None;
        let mut severity = Severity::Fail;
        for tag in tags {
            if let Some(rest) = tag.strip_prefix("check.") {
                id = Some(rest.to_string());
            } else if tag == "warn" {
                severity = Severity::Warn;
            }
        }
        Some(CheckMeta {
            id: id?,
            name: name.to_string(),
            severity,
            started: std::time::Instant::now(),
        })
    }

    /// The check's result, timed from the scenario's start.
    pub fn result(&self, outcome: Outcome) -> CheckResult {
        CheckResult::new(&self.id, &self.name, outcome).took(self.started.elapsed())
    }
}

#[derive(Debug, cucumber::World)]
#[world(init = Self::new)]
pub struct VerifyWorld {
    pub session: Arc<Session>,
    pub check: Option<CheckMeta>,
    /// Set once the scenario's check has an outcome.
    pub decided: bool,
    pub service: Option<Result<ServiceFacts, ProbeError>>,
    pub chat: Option<Result<ChatChunk, ClientError>>,
    /// Why the API cannot be asked (see `Session::unreachable`), read when the chat
    /// failed: the chat's error may only echo it.
    pub unreachable: Option<String>,
    pub ps: Option<Result<PsResponse, ClientError>>,
    /// The model the perf samples were taken of.
    pub model: Option<String>,
    pub prompt: Option<String>,
    /// Streamed answers: the client's timing and the server's statistics of each.
    pub samples: Option<Result<Vec<StreamTiming>, ClientError>>,
    /// The precision the samples were taken to, where the spec states one.
    pub precision: Option<ollama_verify::interval::Precision>,
    /// What the spec does with a figure worse than the baseline run's (`--baseline`).
    pub baseline_rule: Option<ollama_verify::verdict::baseline::Rule>,
    pub cold: Option<Result<ollama_verify::perf::ColdLoad, ClientError>>,
    /// One stream alone, then several at once (perf.parallel).
    pub streams: Option<Result<ollama_verify::perf::parallel::Streams, ClientError>>,
    /// The server's parallel slots as its settings say, or why they do not.
    pub slots: Option<Result<u64, String>>,
    pub modelfile: Option<Modelfile>,
    pub show: Option<Result<ShowResponse, ClientError>>,
    pub base_show: Option<Result<ShowResponse, ClientError>>,
    /// security.feature: the spec allows answers on loopback only.
    pub loopback_only: bool,
    /// security.feature: what answered on this host's non-loopback addresses, or why
    /// they could not be asked.
    pub reach: Option<Result<Vec<AddressProbe>, ProbeError>>,
    /// diagnostics.feature: the server's log, or why it cannot be read here.
    pub log: Option<Result<ServerLog, LogError>>,
    /// diagnostics.feature: a generation, and the GPUs sampled while it ran.
    pub watched: Option<ollama_verify::session::Watched>,
    /// diagnostics.feature: who listens on the API's port.
    pub owners: Option<Result<PortOwners, ProbeError>>,
    /// diagnostics.feature: the kernel side of the driver.
    pub platform: Option<Result<Platform, ProbeError>>,
}

impl VerifyWorld {
    async fn new() -> anyhow::Result<Self> {
        let session = SESSION.lock().unwrap().clone().ok_or_else(|| {
            anyhow::anyhow!(
                "no verification session: run the suite through ollama_verify_steps::run"
            )
        })?;
        Ok(Self::new_with(session))
    }

    /// A World with nothing gathered yet, on `session`.
    fn new_with(session: Arc<Session>) -> Self {
        VerifyWorld {
            session,
            check: None,
            decided: false,
            service: None,
            chat: None,
            unreachable: None,
            ps: None,
            model: None,
            prompt: None,
            samples: None,
            precision: None,
            baseline_rule: None,
            cold: None,
            streams: None,
            slots: None,
            modelfile: None,
            show: None,
            base_show: None,
            loopback_only: false,
            reach: None,
            log: None,
            watched: None,
            owners: None,
            platform: None,
        }
    }

    /// Records the scenario's verdict; a failure fails the step, so cucumber's own
    /// output and JSON report agree with the summary.
    pub fn conclude(&mut self, outcome: Outcome) -> Result<(), String> {
        let meta = self
            .check
            .clone()
            .ok_or("this step decides a check, but its scenario has no @check.<id> tag")?;
        let outcome = outcome
            .under(meta.severity)
            .strict(self.session.strict)
            .past_selection(&self.session.unselected);
        self.session.record(meta.result(outcome.clone()));
        self.decided = true;
        match outcome.status {
            // Cucumber's output (`--steps`, on a terminal) and reports carry it: masked
            // and cut as the summary is, and printable.
            Status::Fail => {
                use ollama_verify::report::TEXT_LIMIT;
                use ollama_verify::secrets::mask_secrets;
                use ollama_verify::text::{cap, printable};
                Err(printable(&cap(&mask_secrets(&outcome.detail), TEXT_LIMIT)))
            }
            _ => Ok(()),
        }
    }

    /// Why the scenario's model cannot be inspected further, if its chat failed: as
    /// api.chat itself says, the server's own failure where the chat's only echoes it.
    pub fn chat_failed(&self) -> Option<String> {
        match &self.chat {
            Some(Err(e)) => Some(
                match ollama_verify::verdict::root_reason(e, self.unreachable.as_deref()) {
                    Some(reason) => reason.to_string(),
                    None => format!(
                        "the model could not answer a chat (see {see}): {e}",
                        see = CheckId::ApiChat
                    ),
                },
            ),
            _ => None,
        }
    }

    /// Where the scenario's chat ran, as its answer says (`remote_model`,
    /// `remote_host`): set for a cloud model.
    pub fn chat_remote(&self) -> Option<&Remote> {
        self.chat.as_ref()?.as_ref().ok().map(|c| &c.remote)
    }

    /// `model` as a cloud model, if it is one: by its name, or by where the scenario's
    /// chat ran. Such a model is neither measured nor inspected on this install.
    pub fn cloud_model(&self, model: &str) -> Option<CloudModel> {
        CloudModel::of(model, self.chat_remote())
    }

    /// Whether `model` is worth a request that measures it here (samples, a cold load,
    /// a watched generation): it answered its chat, and it is not a cloud model, whose
    /// answers would cost the user's cloud quota and time the remote host.
    pub fn measurable(&self, model: &str) -> bool {
        self.chat_failed().is_none() && self.cloud_model(model).is_none()
    }

    /// Why a check reading `reading` off `model` is skipped, if it is: the model could
    /// not answer its chat (api.chat reports that once), or it is a cloud model.
    pub fn unmeasured(&self, model: &str, reading: Reading) -> Option<Outcome> {
        if let Some(reason) = self.chat_failed() {
            return Some(Outcome::skip(reason));
        }
        self.cloud_model(model).map(|c| c.skip(reading))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_check_and_severity() {
        let tags = [
            "check.service.enabled".to_string(),
            "warn".into(),
            "host".into(),
        ];
        let meta = CheckMeta::from_tags("enabled", &tags).unwrap();
        assert_eq!(meta.id, "service.enabled");
        assert_eq!(meta.severity, Severity::Warn);
        assert!(CheckMeta::from_tags("x", &["gpu".to_string()]).is_none());
    }

    /// A World of its own, on a session that never connects (building the native
    /// target's client sends nothing).
    async fn world() -> VerifyWorld {
        let session = Session::start(ollama_verify::session::SessionOptions {
            host: Some("127.0.0.1:9".into()),
            ..Default::default()
        })
        .await
        .unwrap();
        VerifyWorld::new_with(Arc::new(session))
    }

    fn chat(extra: serde_json::Value) -> ChatChunk {
        let mut v = serde_json::json!({
            "model": "my-coder", "message": {"role": "assistant", "content": "ready"},
            "done": true,
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    /// The perf and diagnose steps ask the World whether to measure: a cloud model
    /// (by its name, or by where its chat ran, whatever its name) is not measured,
    /// and its checks skip saying where it ran.
    #[tokio::test]
    async fn a_model_whose_chat_ran_remotely_is_not_measured() {
        let mut w = world().await;
        w.chat = Some(Ok(chat(serde_json::json!({}))));
        assert!(w.measurable("my-coder"));
        assert!(w.unmeasured("my-coder", Reading::Speed).is_none());
        assert!(
            !w.measurable("gpt-oss:20b-cloud"),
            "a cloud model by its name"
        );

        w.chat = Some(Ok(chat(serde_json::json!({
            "remote_model": "gpt-oss:20b", "remote_host": "https://ollama.com:443",
        }))));
        assert!(!w.measurable("my-coder"));
        let skip = w.unmeasured("my-coder", Reading::Speed).unwrap();
        assert_eq!(skip.status, Status::Skip);
        assert!(
            skip.detail.starts_with(
                "my-coder:latest is a cloud model (it ran as gpt-oss:20b on https://ollama.com:443): its speed"
            ),
            "{}",
            skip.detail
        );

        // A failed chat is api.chat's to report, whatever the model.
        w.chat = Some(Err(ClientError::Status {
            endpoint: "/api/chat".into(),
            status: 404,
            message: Some("model \"gpt-oss:20b-cloud\" not found".into()),
            next: Default::default(),
        }));
        assert!(!w.measurable("my-coder"));
        let skip = w.unmeasured("gpt-oss:20b-cloud", Reading::Vram).unwrap();
        assert!(skip.detail.contains("see api.chat"), "{}", skip.detail);
    }
}
