//! What the emulated server holds: installed models, loaded models, the request log.

use super::catalog::{self, sha256_hex, CatalogModel};
use super::config::EmulatorConfig;
use crate::client::types::{ModelDetails, ModelInfo, RunningModel};
use crate::modelfile::Modelfile;
use crate::ModelName;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An installed model: catalog weights plus whatever a Modelfile layered on top.
#[derive(Debug, Clone)]
pub struct Installed {
    pub name: String,
    pub base: &'static CatalogModel,
    /// Set for a model created from another (`details.parent_model`).
    pub parent: Option<String>,
    pub digest: String,
    pub size: u64,
    pub modified_at: DateTime<Utc>,
    pub parameters: Map<String, Value>,
    pub system: Option<String>,
    pub template: String,
}

impl Installed {
    pub fn from_catalog(model: &'static CatalogModel) -> Self {
        Installed {
            name: ModelName::parse(model.name).display_name(),
            base: model,
            parent: None,
            digest: sha256_hex(&format!("manifest:{}", model.name)),
            size: model.size,
            modified_at: Utc::now(),
            parameters: Map::new(),
            system: None,
            template: model.template.to_string(),
        }
    }

    pub fn details(&self) -> ModelDetails {
        ModelDetails {
            parent_model: self.parent.clone().unwrap_or_default(),
            ..self.base.details()
        }
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.name.clone(),
            model: self.name.clone(),
            modified_at: timestamp(self.modified_at),
            size: self.size,
            digest: self.digest.clone(),
            // Ollama's ListHandler fills no parent_model; only /api/show does.
            details: self.base.details(),
            remote: Default::default(),
        }
    }

    /// The context a load gets: the model's `num_ctx`, else the server's `default`
    /// ([`EmulatorConfig::default_context`](super::config::EmulatorConfig::default_context)).
    pub fn context_length(&self, default: u64) -> u64 {
        // A float (16384.0) counts too: Ollama's options convert it.
        self.parameters
            .get("num_ctx")
            .and_then(Value::as_f64)
            .filter(|n| *n >= 1.0)
            .map_or(default, |n| n as u64)
    }
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub size: u64,
    pub size_vram: u64,
    /// `None`: kept loaded forever (negative keep_alive).
    pub expires: Option<Instant>,
    /// Its keep-alive, which each answer starts over: the last one a request set, or the
    /// server's default from its load.
    pub keep: Keep,
    /// Requests it is answering: while there are any, it does not expire.
    pub busy: u32,
    /// Which load this is: an answer that began on an earlier load of the same model
    /// (since deleted or unloaded) must not count against this one when it ends.
    pub load_id: u64,
    /// Not idle yet since it was loaded: Ollama's `/api/ps` shows now + its keep-alive
    /// for such a model, whose timer has never been set.
    pub fresh: bool,
    pub context_length: u64,
    /// The last prompt it read (system prompt, then the text): its KV cache.
    pub cached_prompt: String,
    /// Its parallel slots, which a load keeps until it is unloaded.
    pub slots: std::sync::Arc<super::slots::Slots>,
}

/// One request the emulator served.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    /// The request's `keep_alive`, if it set one (`0` unloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<serde_json::Value>,
    /// The request's `options.num_predict`, if it set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<i64>,
    /// When the request arrived, in milliseconds since the emulator started.
    #[serde(default)]
    pub arrived_ms: f64,
    /// When its answer ended (last byte sent, or the client gone), likewise; `None`
    /// while it is still answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_ms: Option<f64>,
}

impl RequestRecord {
    /// Whether this request was being answered at some moment in `from..to` (ms).
    pub fn overlaps(&self, from: f64, to: f64) -> bool {
        self.arrived_ms < to && self.done_ms.is_none_or(|done| done > from)
    }

    /// Whether this request changed what the server holds: installed models, or a
    /// loaded model unloaded on purpose.
    pub fn mutates(&self) -> bool {
        let unload = matches!(
            requested_keep_alive(self.keep_alive.as_ref()),
            Ok(Some(Some(d))) if d.is_zero()
        );
        [
            "/api/pull",
            "/api/create",
            "/api/delete",
            "/api/copy",
            "/api/push",
            "/api/blobs",
        ]
        .iter()
        .any(|p| self.path.starts_with(p))
            || unload
    }
}

#[derive(Debug, Default)]
pub struct Models {
    /// Keyed by canonical name.
    pub installed: BTreeMap<String, Installed>,
    pub loaded: BTreeMap<String, Loaded>,
    /// Loads so far: the next load's `load_id`.
    pub loads: u64,
    /// Generations so far: the next one's number, which its jittered speed follows.
    pub generations: u64,
}

impl Models {
    pub fn get(&self, name: &str) -> Option<&Installed> {
        self.installed.get(&ModelName::parse(name).canonical())
    }

    pub fn insert(&mut self, model: Installed) {
        self.installed
            .insert(ModelName::parse(&model.name).canonical(), model);
    }

    /// Creates `name` from a base and a Modelfile's settings, sharing the base's weights.
    pub fn create(
        &mut self,
        name: &str,
        from: &str,
        parameters: Map<String, Value>,
        system: Option<String>,
        template: Option<String>,
    ) -> Result<&Installed, String> {
        let base = self
            .get(from)
            .cloned()
            .ok_or_else(|| format!("base model \"{from}\" not found, try pulling it first"))?;
        let mut merged = base.parameters.clone();
        merged.extend(parameters);
        let display = ModelName::parse(name).display_name();
        let config_text = format!("{display}|{merged:?}|{system:?}|{template:?}");
        let model = Installed {
            name: display,
            base: base.base,
            parent: Some(base.name.clone()),
            digest: sha256_hex(&format!("manifest:{config_text}")),
            // Weights are shared; only the small config layers are new.
            size: base.size + 1_000 + system.as_ref().map_or(0, |s| s.len() as u64),
            modified_at: Utc::now(),
            parameters: merged,
            // An empty SYSTEM or TEMPLATE is not stored: the base model's stays.
            system: system.filter(|s| !s.is_empty()).or(base.system.clone()),
            template: template
                .filter(|t| !t.is_empty())
                .unwrap_or(base.template.clone()),
        };
        let key = ModelName::parse(&model.name).canonical();
        self.installed.insert(key.clone(), model);
        Ok(&self.installed[&key])
    }

    /// Loaded models whose keep-alive has not run out.
    pub fn running(&mut self) -> Vec<RunningModel> {
        let now = Instant::now();
        self.loaded
            .retain(|_, l| l.busy > 0 || l.expires.is_none_or(|e| e > now));
        self.loaded
            .iter()
            .filter_map(|(key, l)| {
                let m = self.installed.get(key)?;
                // A busy model keeps the expiry it had (Ollama resets it once idle); one
                // busy since its load shows now + its keep-alive.
                let expires = match (l.busy, l.fresh) {
                    (1.., true) => l.keep.map(|k| now + k),
                    _ => l.expires,
                };
                let expires_at = match expires {
                    Some(e) => Utc::now() + (e - now),
                    // Ollama shows "Forever" as a far-future time.
                    None => Utc::now() + chrono::Duration::days(365 * 200),
                };
                Some(RunningModel {
                    name: m.name.clone(),
                    model: m.name.clone(),
                    size: l.size,
                    digest: m.digest.clone(),
                    // Ollama's /api/ps leaves parent_model out.
                    details: ModelDetails {
                        parent_model: String::new(),
                        ..m.details()
                    },
                    expires_at: timestamp(expires_at),
                    size_vram: l.size_vram,
                    context_length: Some(l.context_length),
                })
            })
            .collect()
    }
}

/// Seeds the installed models a configuration names.
pub fn seed(config: &EmulatorConfig) -> Result<Models, String> {
    let mut models = Models::default();
    for name in &config.installed {
        let m = catalog::find(name).ok_or_else(|| {
            format!(
                "`{name}` is not in the emulator's catalog; it knows {}",
                catalog::CATALOG
                    .iter()
                    .map(|m| m.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        models.insert(Installed::from_catalog(m));
    }
    for custom in &config.custom {
        let bytes = match (&custom.modelfile, &custom.path) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(path)) => std::fs::read(path)
                .map_err(|e| format!("cannot read Modelfile {}: {e}", path.display()))?,
            (None, None) => super::config::SETUP_MODELFILE.as_bytes().to_vec(),
        };
        let mf = Modelfile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", custom.name))?;
        // At start nothing can be pulled: the base is one of `installed`, or a
        // `[[custom]]` model above this one.
        if models.get(&mf.from).is_none() {
            return Err(format!(
                "[[custom]] {}: its base model \"{}\" is not installed at start; add it to `installed` (or define it in a [[custom]] before this one)",
                custom.name, mf.from
            ));
        }
        models.create(
            &custom.name,
            &mf.from,
            mf.parameters_json(),
            mf.system.clone(),
            mf.template.clone(),
        )?;
    }
    Ok(models)
}

pub struct Shared {
    pub models: Mutex<Models>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub config: Mutex<EmulatorConfig>,
    /// What the server logs (its journal), bounded.
    pub server_log: super::log_buffer::LogBuffer,
    /// When the emulator started: the request log's clock.
    pub started: std::time::Instant,
}

impl Shared {
    /// Milliseconds since the emulator started.
    pub fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3
    }
}

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// How long a model stays loaded after its last answer; `None`: forever.
pub type Keep = Option<Duration>;

/// A request's `keep_alive` as Ollama's `api.Duration` reads it: `Ok(None)` where the
/// request sets none, and the loaded model keeps its own (Ollama 0.2.0 on); seconds as
/// a number, or a Go duration string ("30m", "1h30m", "0"); negative is forever. What
/// Go cannot read ("300", `true`) is refused, as Ollama answers it with HTTP 400.
pub fn requested_keep_alive(value: Option<&Value>) -> Result<Option<Keep>, String> {
    let secs = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => crate::go::parse_duration(s)?,
        Some(Value::Bool(_)) => return Err("Unsupported type: 'bool'".into()),
        Some(Value::Array(_)) => return Err("Unsupported type: '[]interface {}'".into()),
        Some(Value::Object(_)) => return Err("Unsupported type: 'map[string]interface {}'".into()),
    };
    Ok(Some(keep_of(secs)))
}

/// The server's own keep-alive for a fresh load: `OLLAMA_KEEP_ALIVE` in `env` as
/// `envconfig.KeepAlive` reads it (a Go duration, else whole seconds), else 5 minutes.
pub fn default_keep_alive(env: &BTreeMap<String, String>) -> Keep {
    let secs = env
        .get("OLLAMA_KEEP_ALIVE")
        .map_or(300.0, |v| crate::go::env_duration(v, 300.0, false));
    keep_of(if secs.is_infinite() { -1.0 } else { secs })
}

/// Negative is forever, as is anything past a century (no timer holds 1e30 s).
fn keep_of(secs: f64) -> Keep {
    (0.0..=3.2e9)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A `[[custom]]` model on a base not installed cannot start: the message says to
    /// install it in the config, not to pull (nothing can be pulled before the start).
    #[test]
    fn a_custom_model_without_its_base_names_the_setting() {
        let config = EmulatorConfig {
            installed: vec![],
            ..EmulatorConfig::default()
        };
        let e = seed(&config).unwrap_err();
        assert!(
            e.contains("[[custom]] my-coder") && e.contains("add it to `installed`"),
            "{e}"
        );
        assert!(!e.contains("pulling"), "{e}");
    }

    #[test]
    fn a_request_keep_alive_as_ollama_reads_it() {
        let read = |v: Value| requested_keep_alive(Some(&v));
        assert_eq!(
            requested_keep_alive(None),
            Ok(None),
            "unset: the model keeps its own"
        );
        assert_eq!(read(Value::Null), Ok(None));
        assert_eq!(read(json!(90)), Ok(Some(Some(Duration::from_secs(90)))));
        assert_eq!(read(json!("10m")), Ok(Some(Some(Duration::from_secs(600)))));
        assert_eq!(read(json!(0)), Ok(Some(Some(Duration::ZERO))));
        assert_eq!(read(json!(-1)), Ok(Some(None)), "negative: forever");
        assert_eq!(read(json!("-1m")), Ok(Some(None)));
        assert_eq!(read(json!(1e30)), Ok(Some(None)));
        assert!(
            read(json!("300")).is_err(),
            "Go refuses a string without a unit"
        );
        assert!(read(json!(true)).is_err());
    }

    #[test]
    fn the_default_keep_alive_comes_from_ollama_keep_alive() {
        let env = |v: &str| BTreeMap::from([("OLLAMA_KEEP_ALIVE".to_string(), v.to_string())]);
        assert_eq!(
            default_keep_alive(&BTreeMap::new()),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            default_keep_alive(&env("30m")),
            Some(Duration::from_secs(1800))
        );
        // envconfig takes whole seconds too, and quotes are trimmed.
        assert_eq!(
            default_keep_alive(&env("\"600\"")),
            Some(Duration::from_secs(600))
        );
        assert_eq!(default_keep_alive(&env("-1")), None);
        assert_eq!(
            default_keep_alive(&env("soon")),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn only_an_unload_or_a_change_of_models_mutates() {
        let record = |path: &str, keep: Option<Value>| RequestRecord {
            method: "POST".into(),
            path: path.into(),
            model: Some("m".into()),
            keep_alive: keep,
            num_predict: None,
            arrived_ms: 0.0,
            done_ms: None,
        };
        assert!(record("/api/generate", Some(json!(0))).mutates());
        assert!(record("/api/generate", Some(json!("0m"))).mutates());
        assert!(record("/api/pull", None).mutates());
        assert!(!record("/api/chat", None).mutates());
        assert!(!record("/api/chat", Some(json!("5m"))).mutates());
    }
}
