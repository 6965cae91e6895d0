//! Bodies of Ollama's OpenAI-compatible endpoints (`/v1/models`, `/v1/chat/completions`),
//! shaped like the recorded answers in tests/fixtures/api and Ollama's `openai` package.
//! Fields Ollama may leave out (`usage` on another server, `reasoning` before 0.11.0)
//! are `Option`, so their absence is never read as a value.

use super::Message;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `stream_options` of a streaming request: with `include_usage`, the stream ends with
/// a chunk of empty `choices` that carries `usage` (before `data: [DONE]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
}

/// `POST /v1/chat/completions` without streaming: `object` is `chat.completion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    pub id: String,
    pub object: String,
    pub created: i64,
    pub model: String,
    #[serde(default)]
    pub system_fingerprint: String,
    pub choices: Vec<Choice>,
    /// Ollama always sends it; an OpenAI-compatible server in front of it may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    pub message: CompletionMessage,
    /// `null` while unknown (Ollama sends `null` where it has no done reason).
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// A message (or a stream's `delta`) as the OpenAI shape has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionMessage {
    /// Every chunk of Ollama's stream repeats it; OpenAI sends it on the first only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `""` or `null` beside tool calls; absent in a delta that carries none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub content: String,
    /// A thinking model's thoughts (Ollama 0.11.0 on); before, they arrive inline in
    /// `content` as `<think>…</think>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<Value>>,
}

impl CompletionMessage {
    pub fn assistant(content: impl Into<String>) -> Self {
        CompletionMessage {
            role: Some("assistant".into()),
            content: content.into(),
            ..Default::default()
        }
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// One `data:` event of a streamed completion: `object` is `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    pub id: String,
    pub object: String,
    pub created: i64,
    pub model: String,
    #[serde(default)]
    pub system_fingerprint: String,
    /// Empty in the closing usage chunk.
    pub choices: Vec<ChunkChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: CompletionMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// `GET /v1/models` (Ollama 0.2.0 on): `object` is `list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    pub object: String,
    /// Go writes an empty list as `null`: read as no models.
    #[serde(default, deserialize_with = "null_as_none_list")]
    pub data: Vec<OpenAiModel>,
}

fn null_as_none_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OpenAiModel>, D::Error> {
    Ok(Option::<Vec<OpenAiModel>>::deserialize(d)?.unwrap_or_default())
}

/// One entry of `/v1/models`: `id` is the model's name as `/api/tags` lists it,
/// `created` its modification time, `owned_by` its namespace (`library`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiModel {
    pub id: String,
    pub object: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub owned_by: String,
}

impl ModelList {
    /// The listed model `model` names, in any spelling (`my-coder`, `my-coder:latest`).
    pub fn find(&self, model: &str) -> Option<&OpenAiModel> {
        let name = crate::ModelName::parse(model);
        self.data.iter().find(|m| name.matches(&m.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A tool call's message has `content: ""`; another server's has `null`.
    #[test]
    fn null_content_reads_as_empty() {
        let m: CompletionMessage =
            serde_json::from_value(json!({"role": "assistant", "content": null})).unwrap();
        assert_eq!(m.content, "");
        let m: CompletionMessage = serde_json::from_value(json!({})).unwrap();
        assert_eq!((m.role, m.content), (None, String::new()));
    }

    /// An Ollama without models answers `"data": null` (a nil Go slice).
    #[test]
    fn an_empty_model_list_is_null() {
        let l: ModelList = serde_json::from_value(json!({"object": "list", "data": null})).unwrap();
        assert!(l.data.is_empty());
    }
}
