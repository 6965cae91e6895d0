//! The emulator's OpenAI-compatible endpoints answer in the shape of the recorded
//! answers of real Ollama servers (tests/fixtures/api): the same keys at each level,
//! the same content types, SSE events up to `data: [DONE]` with the usage chunk, and
//! errors as OpenAI error objects. The typed client reads them too.

use futures_util::StreamExt;
use ollama_verify::client::types::*;
use ollama_verify::emulator::{Emulator, EmulatorConfig};
use ollama_verify::{ErrorKind, Timeouts};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

fn recorded(fixture: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/api/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// The keys of a JSON object.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// The `data:` events of an SSE body, `[DONE]` kept as a string.
fn events(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.into())))
        .collect()
}

async fn post(emu: &Emulator, body: Value) -> (String, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}v1/chat/completions", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, resp.text().await.unwrap())
}

fn thinking() -> EmulatorConfig {
    EmulatorConfig {
        thinking_tokens: 3,
        ..EmulatorConfig::fast()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_completion_has_the_recorded_shape() {
    let emu = Emulator::start(thinking()).await.unwrap();
    let (content_type, body) = tokio::time::timeout(
        GUARD,
        post(
            &emu,
            json!({"model": "my-coder", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(content_type, "application/json");
    let ours: Value = serde_json::from_str(&body).unwrap();
    // 031: a 0.11+ server's answer of a thinking model.
    let real: Value = serde_json::from_str(&recorded("031-v1-chat-qwen3-2026-06.json")).unwrap();
    assert_eq!(keys(&ours), keys(&real));
    assert_eq!(keys(&ours["choices"][0]), keys(&real["choices"][0]));
    assert_eq!(
        keys(&ours["choices"][0]["message"]),
        keys(&real["choices"][0]["message"])
    );
    assert_eq!(keys(&ours["usage"]), keys(&real["usage"]));
    assert_eq!(ours["object"], "chat.completion");
    assert_eq!(ours["system_fingerprint"], "fp_ollama");
    assert!(ours["id"].as_str().unwrap().starts_with("chatcmpl-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_has_the_recorded_events() {
    let emu = Emulator::start(thinking()).await.unwrap();
    let request = json!({
        "model": "my-coder", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8,
        "stream": true, "stream_options": {"include_usage": true}
    });
    let (content_type, body) = tokio::time::timeout(GUARD, post(&emu, request))
        .await
        .unwrap();
    assert_eq!(content_type, "text/event-stream");
    // Events are `data: …` lines with a blank line after each, as recorded.
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    assert!(body
        .split("\n\n")
        .all(|e| e.is_empty() || e.starts_with("data: ")));
    let ours = events(&body);
    let real = events(&recorded("033-v1-chat-stream-qwen3-2026-06.sse"));
    let n = ours.len();
    assert_eq!(ours[n - 1], "[DONE]");
    assert_eq!(real[real.len() - 1], "[DONE]");
    // A token chunk, the finish chunk and the usage chunk: keys as recorded.
    for (o, r) in [(&ours[0], &real[0]), (&ours[n - 3], &real[real.len() - 3])] {
        assert_eq!(keys(o), keys(r));
        assert_eq!(keys(&o["choices"][0]), keys(&r["choices"][0]));
    }
    assert_eq!(
        keys(&ours[0]["choices"][0]["delta"]),
        keys(&real[0]["choices"][0]["delta"])
    );
    // max_tokens came before the answer's end.
    assert_eq!(ours[n - 3]["choices"][0]["finish_reason"], "length");
    assert_eq!(keys(&ours[n - 2]), keys(&real[real.len() - 2]));
    assert_eq!(ours[n - 2]["choices"], json!([]));
    // Without include_usage there is no usage chunk.
    let (_, body) = post(
        &emu,
        json!({"model": "my-coder", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": true}),
    )
    .await;
    assert!(events(&body).iter().all(|e| e.get("usage").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_models_and_streams() {
    let emu = Emulator::start(EmulatorConfig::fast()).await.unwrap();
    let client = emu.client(Timeouts::default().capped(Duration::from_secs(5)));
    let run = async {
        let list = client.openai_models().await.unwrap();
        assert_eq!(list.object, "list");
        let listed = list.find("my-coder").expect("the custom model is listed");
        assert_eq!(
            (listed.object.as_str(), listed.owned_by.as_str()),
            ("model", "library")
        );
        assert!(listed.created > 0);
        let request = ChatCompletionRequest {
            model: "my-coder".into(),
            messages: vec![Message::user("hi")],
            max_tokens: Some(6),
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            ..Default::default()
        };
        let mut stream = client.chat_completion_stream(&request).await.unwrap();
        let mut chunks = Vec::new();
        while let Some(c) = stream.next().await {
            chunks.push(c.unwrap());
        }
        let text: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter().map(|c| c.delta.content.as_str()))
            .collect();
        assert!(!text.is_empty());
        let usage = chunks.last().unwrap().usage.expect("the usage chunk");
        assert_eq!(usage.completion_tokens, 6);
        // A missing model is Ollama's 404 in OpenAI's error shape, read as a status.
        let e = client
            .chat_completion(&ChatCompletionRequest {
                model: "no-such-model".into(),
                ..request
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Status(404));
        assert!(e.to_string().contains("no-such-model"), "{e}");
    };
    tokio::time::timeout(GUARD, run).await.unwrap();
}
