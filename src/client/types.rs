//! Request and response bodies of the Ollama API, shaped like the real server's JSON.
//! Fields a check relies on are required, so a server that omits them is reported as
//! "wrong shape at `field`"; the rest default, so newer servers with extra fields parse.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod openai;
pub use openai::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionResponse {
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelDetails {
    #[serde(default)]
    pub parent_model: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub families: Option<Vec<String>>,
    #[serde(default)]
    pub parameter_size: String,
    #[serde(default)]
    pub quantization_level: String,
}

/// Where a cloud (remote) model runs: `remote_model` and `remote_host` of `/api/tags`,
/// `/api/show` and a chat's answer. Ollama leaves both out for a local model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Remote {
    /// The model's name there (`gpt-oss:20b` for `gpt-oss:20b-cloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_model: Option<String>,
    /// `https://ollama.com:443`, say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_host: Option<String>,
}

impl Remote {
    /// The model's name there and its host, each where set (blank counts as unset, as a
    /// local model's answer has them).
    pub fn parts(&self) -> (Option<&str>, Option<&str>) {
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        (set(&self.remote_model), set(&self.remote_host))
    }

    /// For a remote model, where it runs (`gpt-oss:20b on https://ollama.com:443`);
    /// `None` for a local one.
    pub fn describe(&self) -> Option<String> {
        match self.parts() {
            (None, None) => None,
            (Some(m), Some(h)) => Some(format!("{m} on {h}")),
            (Some(m), None) => Some(format!("{m} on a remote host")),
            (None, Some(h)) => Some(format!("on {h}")),
        }
    }
}

/// One installed model, as `/api/tags` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub modified_at: String,
    pub size: u64,
    pub digest: String,
    #[serde(default)]
    pub details: ModelDetails,
    /// Set for a cloud model, which has no weights here.
    #[serde(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagsResponse {
    pub models: Vec<ModelInfo>,
}

impl TagsResponse {
    /// The installed model `model` names, in any spelling.
    pub fn find(&self, model: &str) -> Option<&ModelInfo> {
        let name = crate::ModelName::parse(model);
        self.models.iter().find(|m| name.matches(&m.name))
    }
}

/// One loaded model, as `/api/ps` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningModel {
    pub name: String,
    #[serde(default)]
    pub model: String,
    pub size: u64,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub details: ModelDetails,
    #[serde(default)]
    pub expires_at: String,
    /// Bytes held in VRAM. Ollama 0.1.38 to 0.1.41 wrote it `omitempty`, so a model
    /// held wholly on the CPU came without it: absent, it is exactly 0 (Go omits only
    /// zero), which is why it defaults rather than being `Option`.
    #[serde(default)]
    pub size_vram: u64,
    /// The loaded context in tokens; Ollama sends it from 0.10.0 on. `None` is "not
    /// reported", never a context of 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
}

/// Where a loaded model sits, by the `ollama ps` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `100% GPU`: `size_vram == size`.
    Gpu,
    /// `100% CPU`: nothing in VRAM.
    Cpu,
    /// `NN%/MM% CPU/GPU`: the percentage held in VRAM.
    Split { gpu_percent: u8 },
    /// `Unknown`: more in VRAM than the whole (or a size of 0), figures that do not add up.
    Unknown,
}

impl RunningModel {
    pub fn placement(&self) -> Placement {
        if self.size_vram == 0 {
            Placement::Cpu
        } else if self.size_vram == self.size {
            Placement::Gpu
        } else if self.size_vram > self.size || self.size == 0 {
            Placement::Unknown
        } else {
            // ollama ps: cpuPercent = round((size - size_vram) / size * 100)
            let cpu = ((self.size - self.size_vram) as f64 / self.size as f64 * 100.0).round();
            Placement::Split {
                gpu_percent: (100.0 - cpu).clamp(0.0, 100.0) as u8,
            }
        }
    }
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Placement::Gpu => f.write_str("100% GPU"),
            Placement::Cpu => f.write_str("100% CPU"),
            Placement::Unknown => f.write_str("Unknown"),
            Placement::Split { gpu_percent } => {
                write!(f, "{}%/{}% CPU/GPU", 100 - gpu_percent, gpu_percent)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsResponse {
    pub models: Vec<RunningModel>,
}

impl PsResponse {
    /// The loaded model `model` names, in any spelling (`my-coder`, `my-coder:latest`).
    pub fn find(&self, model: &str) -> Option<&RunningModel> {
        let name = crate::ModelName::parse(model);
        self.models.iter().find(|m| name.matches(&m.name))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowRequest {
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbose: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowResponse {
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub modelfile: String,
    /// One `key value` per line, values as Go's `%#v` prints them; `stop` repeats.
    #[serde(default)]
    pub parameters: String,
    #[serde(default)]
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Always sent (Go's `omitempty` never drops a struct): an answer without it is
    /// not `/api/show`'s, and is refused rather than read as a model with nothing set.
    pub details: ModelDetails,
    #[serde(default)]
    pub model_info: Map<String, Value>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub modified_at: String,
    /// Set for a cloud model: its `modelfile` names no weights blob.
    #[serde(flatten)]
    pub remote: Remote,
}

impl ShowResponse {
    /// A mixture-of-experts model's (experts used per token, experts per layer) from
    /// `model_info` (`qwen3moe.expert_used_count`, `….expert_count`), under the model's
    /// own `general.architecture` where it names one; `None` for a dense model.
    pub fn experts(&self) -> Option<(u64, u64)> {
        let arch = self
            .model_info
            .get("general.architecture")
            .and_then(Value::as_str);
        let field = |name: &str| {
            let suffix = format!(".{name}");
            arch.and_then(|a| self.model_info.get(&format!("{a}{suffix}")))
                .or_else(|| {
                    self.model_info
                        .iter()
                        .find(|(k, _)| k.ends_with(&suffix))
                        .map(|(_, v)| v)
                })
                .and_then(Value::as_u64)
        };
        let count = field("expert_count")?;
        let used = field("expert_used_count")?;
        (count > 1 && (1..count).contains(&used)).then_some((used, count))
    }

    /// `parameters` as (key, value) pairs, string values unquoted.
    pub fn parameter_pairs(&self) -> Vec<(String, String)> {
        self.parameters
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                let (k, v) = line.split_once(char::is_whitespace)?;
                let v = v.trim();
                let v = serde_json::from_str::<String>(v).unwrap_or_else(|_| v.to_string());
                Some((k.to_string(), v))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    #[serde(default)]
    pub content: String,
    /// A thinking model's reasoning, which Ollama sends apart from `content` (where
    /// `think` is not `false`): its tokens count in `eval_count` like the answer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: "user".into(),
            content: content.into(),
            thinking: None,
        }
    }

    /// Whether the model said anything here, thoughts included: a token arrived.
    pub fn has_text(&self) -> bool {
        !self.content.is_empty() || self.thinking.as_deref().is_some_and(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    /// A duration string ("30m") or seconds. A request that sets it replaces the loaded
    /// model's keep-alive from then on, so the checks leave it unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Whether a thinking model reasons first (`true`, `false`, or a level such as
    /// `"low"`); unset, a model that can think does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub model: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
}

/// The statistics of a final chunk. Durations are nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_duration: Option<u64>,
}

impl Stats {
    /// Generation speed in tokens/s: `eval_count / eval_duration * 1e9`.
    pub fn generation_rate(&self) -> Option<f64> {
        rate(self.eval_count?, self.eval_duration?)
    }

    /// Prompt processing speed in tokens/s.
    pub fn prompt_rate(&self) -> Option<f64> {
        rate(self.prompt_eval_count?, self.prompt_eval_duration?)
    }
}

fn rate(count: u64, nanos: u64) -> Option<f64> {
    (nanos > 0).then(|| count as f64 / nanos as f64 * 1e9)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    pub model: String,
    #[serde(default)]
    pub created_at: String,
    pub message: Message,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    #[serde(flatten)]
    pub stats: Stats,
    /// Set where a cloud model answered.
    #[serde(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateChunk {
    pub model: String,
    #[serde(default)]
    pub created_at: String,
    pub response: String,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<i64>>,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedRequest {
    pub model: String,
    /// A string or a list of strings.
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedResponse {
    pub model: String,
    pub embeddings: Vec<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub model: String,
    #[serde(default = "yes")]
    pub stream: bool,
}

/// Structured create, as the CLI sends it after parsing a Modelfile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    #[serde(default = "yes")]
    pub stream: bool,
}

fn yes() -> bool {
    true
}

/// A progress line of `pull` or `create`; the last one says `success`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressChunk {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<u64>,
}

/// An error body: Ollama's native `{"error": "..."}`, or the OpenAI shape its `/v1`
/// endpoints (and ollama.com's) answer, `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorDetail {
    Text(String),
    Object {
        message: String,
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
    },
}

impl ErrorBody {
    /// The error's words, whichever shape carried them.
    pub fn message(&self) -> &str {
        match &self.error {
            ErrorDetail::Text(m) | ErrorDetail::Object { message: m, .. } => m,
        }
    }
}

/// Chunks of a stream that ends with a known last chunk.
pub trait Final {
    fn is_final(&self) -> bool;
}

impl Final for ChatChunk {
    fn is_final(&self) -> bool {
        self.done
    }
}

impl Final for GenerateChunk {
    fn is_final(&self) -> bool {
        self.done
    }
}

impl Final for ProgressChunk {
    fn is_final(&self) -> bool {
        self.status == "success"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn show(info: Value) -> ShowResponse {
        serde_json::from_value(json!({"details": {}, "model_info": info})).unwrap()
    }

    #[test]
    fn experts_of_a_mixture_and_none_of_a_dense_model() {
        let of = |info| show(info).experts();
        assert_eq!(
            of(
                json!({"general.architecture": "qwen3moe", "qwen3moe.expert_count": 128, "qwen3moe.expert_used_count": 8})
            ),
            Some((8, 128))
        );
        // Mixtral is a llama by its architecture.
        assert_eq!(
            of(
                json!({"general.architecture": "llama", "llama.expert_count": 8, "llama.expert_used_count": 2})
            ),
            Some((2, 8))
        );
        assert_eq!(
            of(
                json!({"general.architecture": "gptoss", "gptoss.expert_count": 32, "gptoss.expert_used_count": 4})
            ),
            Some((4, 32))
        );
        // The model's own architecture wins over another's keys.
        assert_eq!(
            of(
                json!({"general.architecture": "qwen2", "qwen2.expert_count": 0, "qwen2.expert_used_count": 0, "clip.expert_count": 8, "clip.expert_used_count": 2})
            ),
            None
        );
        for dense in [
            json!({"general.architecture": "qwen2", "qwen2.block_count": 28}),
            json!({"general.architecture": "llama", "llama.expert_count": 0, "llama.expert_used_count": 0}),
            json!({"general.architecture": "llama", "llama.expert_count": 1, "llama.expert_used_count": 1}),
            json!({"general.architecture": "llama", "llama.expert_count": 8}),
            json!({}),
        ] {
            assert_eq!(of(dense.clone()), None, "{dense}");
        }
    }
}
