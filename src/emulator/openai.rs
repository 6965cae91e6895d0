//! The OpenAI-compatible endpoints Open WebUI, Continue and Aider use: `GET /v1/models`
//! and `POST /v1/chat/completions`, one object or server-sent events. Shaped as
//! Ollama's `openai` middleware writes them (the recorded answers in
//! tests/fixtures/api): `fp_ollama`, `chatcmpl-N` ids, errors as OpenAI error objects,
//! thoughts in `reasoning` (Ollama 0.11.0 on), and a usage chunk of empty `choices`
//! before `data: [DONE]` where `stream_options.include_usage` asks for it.

use super::generate;
use super::inference::{prepare, Prepared, Prompt};
use super::respond::{parse, S};
use crate::client::types::*;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};

/// What Ollama's middleware sets on its JSON answers (no charset).
const JSON: &str = "application/json";
const SSE: &str = "text/event-stream";

/// A body as Go's `json.Encoder` writes it: the JSON, then a newline.
fn encoded(status: StatusCode, body: &impl Serialize) -> Response {
    let mut text = serde_json::to_vec(body).expect("emulator bodies serialise");
    text.push(b'\n');
    (status, [(header::CONTENT_TYPE, JSON)], text).into_response()
}

/// An error in OpenAI's shape; its `type` by status, as Ollama's `openai.NewError`.
fn openai_error(status: StatusCode, message: impl Into<String>) -> Response {
    let kind = match status {
        StatusCode::BAD_REQUEST => "invalid_request_error",
        StatusCode::NOT_FOUND => "not_found_error",
        _ => "api_error",
    };
    encoded(
        status,
        &json!({"error": {"message": message.into(), "type": kind, "param": null, "code": null}}),
    )
}

/// Ollama's native error answer, rewrapped in OpenAI's shape with its status.
async fn rewrapped(resp: Response) -> Response {
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<ErrorBody>(&body)
        .map(|e| e.message().to_string())
        .unwrap_or_default();
    openai_error(status, message)
}

pub async fn models(State(s): S) -> Response {
    let models = s.models.lock().unwrap();
    let mut list: Vec<_> = models.installed.values().collect();
    list.sort_by_key(|m| std::cmp::Reverse(m.modified_at));
    let data = list
        .into_iter()
        .map(|m| OpenAiModel {
            id: m.name.clone(),
            object: "model".into(),
            created: m.modified_at.timestamp(),
            // ParseName(name).Namespace: a library model's is `library`.
            owned_by: namespace(&m.name).into(),
        })
        .collect();
    encoded(
        StatusCode::OK,
        &ModelList {
            object: "list".into(),
            data,
        },
    )
}

/// The namespace of a model name (`library` unless `user/model` names one).
fn namespace(name: &str) -> &str {
    let path = name.split(':').next().unwrap_or(name);
    let parts: Vec<&str> = path.split('/').collect();
    match parts.len() {
        n if n >= 2 => parts[n - 2],
        _ => "library",
    }
}

pub async fn chat_completions(State(s): S, body: Bytes) -> Response {
    let (req, _): (ChatCompletionRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return rewrapped(r).await,
    };
    if req.messages.is_empty() {
        // Ollama's ChatMiddleware words it so.
        return openai_error(StatusCode::BAD_REQUEST, "[] is too short - 'messages'");
    }
    let options = req.max_tokens.map(|n| json!({ "num_predict": n }));
    let mut p = match prepare(
        &s,
        &req.model,
        Prompt::of_chat(&req.messages),
        options.as_ref(),
        None,
        Some("chat"),
    )
    .await
    {
        Ok(p) => p,
        Err(resp) => return rewrapped(resp).await,
    };
    p.thinking = s.config.lock().unwrap().thinking_tokens.min(p.tokens);
    let id = format!("chatcmpl-{}", s.log.lock().unwrap().len() % 1000);
    if req.stream {
        let usage = req.stream_options.is_some_and(|o| o.include_usage);
        return stream(p, id, usage);
    }
    let mut pacer = p.pacer();
    pacer.wait_for(p.tokens).await;
    p.answering.finish();
    let thought = p.thinking as usize;
    let mut message = CompletionMessage::assistant(
        (thought..p.tokens as usize)
            .map(generate::token)
            .collect::<String>(),
    );
    if thought > 0 {
        message.reasoning = Some((0..thought).map(generate::token).collect());
    }
    let completion = ChatCompletion {
        id,
        object: "chat.completion".into(),
        created: Utc::now().timestamp(),
        model: p.model.clone(),
        system_fingerprint: "fp_ollama".into(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(p.done_reason.into()),
        }],
        usage: Some(usage_of(&p)),
    };
    encoded(StatusCode::OK, &completion)
}

fn usage_of(p: &Prepared) -> Usage {
    Usage {
        prompt_tokens: p.prompt_tokens,
        completion_tokens: p.tokens,
        total_tokens: p.prompt_tokens + p.tokens,
    }
}

/// Paced `data:` events, one token each, then the finish chunk, the usage chunk where
/// asked for, and `data: [DONE]`.
fn stream(mut p: Prepared, id: String, with_usage: bool) -> Response {
    let mut pacer = p.pacer();
    let created = Utc::now().timestamp();
    let chunk =
        move |model: &str, delta: CompletionMessage, finish: Option<&str>| ChatCompletionChunk {
            id: id.clone(),
            object: "chat.completion.chunk".into(),
            created,
            model: model.to_string(),
            system_fingerprint: "fp_ollama".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish.map(str::to_string),
            }],
            usage: None,
        };
    let events = async_stream::stream! {
        for i in 0..p.tokens {
            pacer.wait_for(i + 1).await;
            let token = generate::token(i as usize);
            let delta = if i < p.thinking {
                CompletionMessage { reasoning: Some(token.into()), ..CompletionMessage::assistant("") }
            } else {
                CompletionMessage::assistant(token)
            };
            yield event(&chunk(&p.model, delta, None));
        }
        p.answering.finish();
        yield event(&chunk(&p.model, CompletionMessage::assistant(""), Some(p.done_reason)));
        if with_usage {
            let mut last = chunk(&p.model, CompletionMessage::default(), None);
            last.choices.clear();
            last.usage = Some(usage_of(&p));
            yield event(&last);
        }
        yield Bytes::from_static(b"data: [DONE]\n\n");
    };
    let body = Body::from_stream(futures_util::StreamExt::map(
        events,
        Ok::<_, std::io::Error>,
    ));
    ([(header::CONTENT_TYPE, SSE)], body).into_response()
}

fn event(chunk: &ChatCompletionChunk) -> Bytes {
    let json = serde_json::to_string(chunk).expect("emulator chunks serialise");
    Bytes::from(format!("data: {json}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::namespace;

    #[test]
    fn a_library_model_is_owned_by_library() {
        assert_eq!(namespace("my-coder:latest"), "library");
        assert_eq!(namespace("qwen2.5-coder:7b"), "library");
        assert_eq!(namespace("user/model:tag"), "user");
        assert_eq!(namespace("hf.co/bartowski/Qwen:IQ4_XS"), "bartowski");
    }
}
