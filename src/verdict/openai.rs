//! `api.openai`: the OpenAI-compatible API that Open WebUI, Continue and Aider use
//! lists the model (`GET /v1/models`) and answers it in OpenAI's shape, whole
//! (`chat.completion`) and streamed (`chat.completion.chunk` events up to
//! `data: [DONE]`).

use super::api_error;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{ChatCompletion, ChatCompletionChunk, ModelList};
use crate::ClientError;

/// What the check gathered: the model list, one whole answer and one streamed answer.
#[derive(Debug)]
pub struct OpenAiFacts {
    pub models: Result<ModelList, ClientError>,
    pub whole: Result<ChatCompletion, ClientError>,
    /// Every chunk up to `data: [DONE]`: a stream that ends early is an error.
    pub streamed: Result<Vec<ChatCompletionChunk>, ClientError>,
}

/// `api.openai`.
pub fn openai(model: &str, facts: &OpenAiFacts, unreachable: Option<&str>) -> Outcome {
    let list = match &facts.models {
        Ok(l) => l,
        Err(e) => return api_error(e, unreachable),
    };
    let Some(listed) = list.find(model) else {
        let have: Vec<&str> = list.data.iter().map(|m| m.id.as_str()).collect();
        return Outcome::fail(format!(
            "expected {model} in `GET /v1/models`, the list Open WebUI and Continue offer, got {}. It lists what `ollama list` does: see {see}",
            if have.is_empty() { "none".into() } else { have.join(", ") }, see = CheckId::ModelsCustom
        ));
    };
    let whole = match &facts.whole {
        Ok(c) => c,
        Err(e) => return api_error(e, unreachable),
    };
    if let Err(why) = whole_shape(whole) {
        return Outcome::fail(format!(
            "expected `POST /v1/chat/completions` to answer {model} in OpenAI's shape, but {why}. OpenAI clients cannot read this answer; is a proxy rewriting it, or is it not Ollama?"
        ));
    }
    let chunks = match &facts.streamed {
        Ok(c) => c,
        Err(e) => return api_error(e, unreachable),
    };
    if let Err(why) = stream_shape(chunks) {
        return Outcome::fail(format!(
            "expected the streamed `POST /v1/chat/completions` (`\"stream\": true`) to answer {model} in `chat.completion.chunk` events, but {why}. Streaming clients (Open WebUI, Continue) show nothing; is a proxy buffering or rewriting the events?"
        ));
    }
    let message = &whole.choices[0].message;
    let text = if message.content.trim().is_empty() {
        message.reasoning.as_deref().unwrap_or_default()
    } else {
        &message.content
    };
    let excerpt: String = crate::client::excerpt(text.as_bytes())
        .chars()
        .take(60)
        .collect();
    let value = whole
        .usage
        .map(|u| format!("{} tokens", u.completion_tokens))
        .unwrap_or_default();
    Outcome::pass(format!(
        "`GET /v1/models` lists {}; `POST /v1/chat/completions` answered in OpenAI's shape (\"{}\"), and streamed {} chunk(s) ending with `data: [DONE]`",
        listed.id,
        excerpt.trim(),
        chunks.len()
    ))
    .with_value(value)
}

/// `api.openai` where `GET /` failed (`reason`, see [`super::root_reason`]): the
/// OpenAI-compatible API is not asked, as its answers would only echo that failure.
pub fn unasked(reason: &str) -> Outcome {
    Outcome::skip(reason.to_string())
}

/// What is wrong with a whole answer's shape, if anything.
fn whole_shape(c: &ChatCompletion) -> Result<(), String> {
    if c.object != "chat.completion" {
        return Err(format!(
            "its `object` is \"{}\", not \"chat.completion\"",
            c.object
        ));
    }
    let Some(first) = c.choices.first() else {
        return Err("its `choices` is empty".into());
    };
    let role = first.message.role.as_deref().unwrap_or("(none)");
    if role != "assistant" {
        return Err(format!(
            "`choices[0].message.role` is \"{role}\", not \"assistant\""
        ));
    }
    let thoughts = first.message.reasoning.as_deref().unwrap_or_default();
    if first.message.content.trim().is_empty() && thoughts.trim().is_empty() {
        return Err("`choices[0].message` holds no text".into());
    }
    match c.usage {
        // Ollama always sends it; clients count tokens with it.
        None => Err("it has no `usage`".into()),
        Some(u) if u.total_tokens != u.prompt_tokens + u.completion_tokens => Err(format!(
            "its `usage` does not add up: {} prompt + {} completion tokens, {} in total",
            u.prompt_tokens, u.completion_tokens, u.total_tokens
        )),
        Some(_) => Ok(()),
    }
}

/// What is wrong with a stream's chunks, if anything.
fn stream_shape(chunks: &[ChatCompletionChunk]) -> Result<(), String> {
    if chunks.is_empty() {
        return Err("no event came before `data: [DONE]`".into());
    }
    if let Some(c) = chunks.iter().find(|c| c.object != "chat.completion.chunk") {
        return Err(format!(
            "an event's `object` is \"{}\", not \"chat.completion.chunk\"",
            c.object
        ));
    }
    let choices = || chunks.iter().flat_map(|c| c.choices.iter());
    let spoke = choices().any(|c| {
        !c.delta.content.is_empty() || c.delta.reasoning.as_deref().is_some_and(|r| !r.is_empty())
    });
    if !spoke {
        return Err(format!(
            "none of its {} event(s) carried text in `choices[0].delta`",
            chunks.len()
        ));
    }
    if !choices().any(|c| c.finish_reason.is_some()) {
        return Err("no event carried a `finish_reason`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::OpenAiModel;
    use crate::client::{Added, ErrorKind};

    fn text(fixture: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/api/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).unwrap()
    }

    /// A recorded whole answer.
    fn whole(fixture: &str) -> ChatCompletion {
        serde_json::from_str(&text(fixture)).unwrap()
    }

    /// A recorded stream's chunks, as the client yields them (up to `[DONE]`).
    fn streamed(fixture: &str) -> Vec<ChatCompletionChunk> {
        text(fixture)
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .take_while(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    fn listing(ids: &[&str]) -> ModelList {
        ModelList {
            object: "list".into(),
            data: ids
                .iter()
                .map(|id| OpenAiModel {
                    id: id.to_string(),
                    object: "model".into(),
                    created: 1_728_234_890,
                    owned_by: "library".into(),
                })
                .collect(),
        }
    }

    fn facts(whole_fixture: &str, stream_fixture: &str, model: &str) -> OpenAiFacts {
        OpenAiFacts {
            models: Ok(listing(&[&format!("{model}:latest")])),
            whole: Ok(whole(whole_fixture)),
            streamed: Ok(streamed(stream_fixture)),
        }
    }

    /// Recorded answers of 2024 to 2026 servers pass: plain, thoughts inline in
    /// `<think>` (before 0.11.0) and thoughts in `reasoning` (0.11.0 on).
    #[test]
    fn recorded_answers_pass() {
        for (whole, stream) in [
            (
                "028-v1-chat-qwen2.5-2024-10.json",
                "032-v1-chat-stream-qwen3-2025-06.sse",
            ),
            (
                "030-v1-chat-qwen3-2025-06.json",
                "032-v1-chat-stream-qwen3-2025-06.sse",
            ),
            (
                "031-v1-chat-qwen3-2026-06.json",
                "033-v1-chat-stream-qwen3-2026-06.sse",
            ),
        ] {
            let o = openai("qwen3", &facts(whole, stream, "qwen3"), None);
            assert_eq!(o.status, Status::Pass, "{whole}: {}", o.detail);
            assert!(o.value.as_deref().unwrap().ends_with("tokens"), "{whole}");
        }
    }

    #[test]
    fn a_model_missing_from_the_list_fails_and_names_the_list() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        f.models = Ok(listing(&["llama3.2:3b"]));
        let o = openai("my-coder", &f, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("llama3.2:3b"), "{}", o.detail);
    }

    /// A whole answer without `usage` (a proxy's) is not read as 0 tokens.
    #[test]
    fn an_answer_without_usage_fails() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        if let Ok(w) = &mut f.whole {
            w.usage = None;
        }
        let o = openai("qwen3", &f, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("no `usage`"), "{}", o.detail);
    }

    /// A stream of the native shape or without a finish is not OpenAI's.
    #[test]
    fn a_stream_without_chunks_or_finish_fails() {
        let mut f = facts(
            "031-v1-chat-qwen3-2026-06.json",
            "033-v1-chat-stream-qwen3-2026-06.sse",
            "qwen3",
        );
        if let Ok(chunks) = &mut f.streamed {
            chunks
                .iter_mut()
                .flat_map(|c| c.choices.iter_mut())
                .for_each(|c| c.finish_reason = None);
        }
        let o = openai("qwen3", &f, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("finish_reason"), "{}", o.detail);
        f.streamed = Ok(vec![]);
        assert_eq!(openai("qwen3", &f, None).status, Status::Fail);
    }

    /// A server before 0.2.0 has no `/v1/models`: the failure names the release.
    #[test]
    fn a_server_before_0_2_names_the_release() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        let missing = ClientError::EndpointMissing {
            endpoint: "GET http://127.0.0.1:11434/v1/models".into(),
            message: Some("404 page not found".into()),
            added: Added::In("0.2.0"),
        };
        assert_eq!(missing.kind(), ErrorKind::EndpointMissing);
        f.models = Err(missing);
        let o = openai("qwen3", &f, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("0.2.0"), "{}", o.detail);
    }
}
