//! Every recorded answer of tests/fixtures/api, served byte for byte with its recorded
//! status and content type from a stub on 127.0.0.1, and read by the real client method
//! for its endpoint (the sidecar's `method` and `path`): no real answer is refused for
//! its shape, an error body becomes the typed error it should, and fields an older
//! release leaves out read as "not reported", never as a value.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use ollama_verify::client::types::*;
use ollama_verify::client::{Added, ChunkStream};
use ollama_verify::{Client, ClientError, ErrorKind, Timeouts};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Recorded answers in the folder; a new one must be added here and to the README.
const RECORDED: usize = 41;

#[derive(Debug, Clone, Deserialize)]
struct Sidecar {
    ollama_version: String,
    method: String,
    path: String,
    status: u16,
    content_type: String,
}

#[derive(Debug, Clone)]
struct Fixture {
    name: String,
    body: Vec<u8>,
    sidecar: Sidecar,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api")
}

/// Every sidecar with its body (the file of the same stem that is not the sidecar).
fn fixtures() -> Vec<Fixture> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|toml| {
            let stem = toml.file_stem().unwrap().to_str().unwrap().to_string();
            let body = std::fs::read_dir(dir())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_stem().is_some_and(|s| s == stem.as_str())
                        && p.extension().is_some_and(|e| e != "toml")
                })
                .unwrap_or_else(|| panic!("{stem} has a sidecar but no body"));
            Fixture {
                name: stem,
                body: std::fs::read(body).unwrap(),
                sidecar: toml::from_str(&std::fs::read_to_string(&toml).unwrap()).unwrap(),
            }
        })
        .collect()
}

fn fixture(prefix: &str) -> Fixture {
    fixtures()
        .into_iter()
        .find(|f| f.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no fixture {prefix}"))
}

/// A stub that answers every request with the recorded status, content type and body.
async fn serve(status: u16, content_type: &str, body: Vec<u8>) -> Client {
    let content_type = content_type.to_string();
    let app = axum::Router::new().fallback(move || {
        let (content_type, body) = (content_type.clone(), body.clone());
        async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, content_type)],
                body,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let base = url::Url::parse(&format!("http://{addr}")).unwrap();
    Client::with_timeouts(base, Timeouts::default().capped(Duration::from_secs(5)))
}

/// What a client method made of one answer.
#[derive(Debug)]
enum Read {
    Root(String),
    Version(VersionResponse),
    Tags(TagsResponse),
    Ps(PsResponse),
    Show(Box<ShowResponse>),
    Chat(Vec<ChatChunk>),
    Generate(Vec<GenerateChunk>),
    Pull(Vec<ProgressChunk>),
    Embed(EmbedResponse),
    Completion(ChatCompletion),
    CompletionStream(Vec<ChatCompletionChunk>),
}

async fn all<T>(stream: Result<ChunkStream<T>, ClientError>) -> Result<Vec<T>, ClientError> {
    let mut stream = stream?;
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item?);
    }
    Ok(out)
}

/// Calls the client method for the fixture's endpoint against a stub serving it.
async fn replay(f: &Fixture) -> Result<Read, ClientError> {
    let s = &f.sidecar;
    let client = serve(s.status, &s.content_type, f.body.clone()).await;
    let streamed = f.name.ends_with("ndjson") || s.content_type.contains("ndjson");
    let sse = s.content_type.contains("event-stream");
    let chat = ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    };
    let generate = GenerateRequest {
        model: "m".into(),
        prompt: "hi".into(),
        ..Default::default()
    };
    let completion = ChatCompletionRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    };
    let read = async {
        Ok(match (s.method.as_str(), s.path.as_str()) {
            ("GET", "/") => Read::Root(client.root().await?),
            ("GET", "/api/version") => Read::Version(client.version().await?),
            ("GET", "/api/tags") => Read::Tags(client.tags().await?),
            ("GET", "/api/ps") => Read::Ps(client.ps().await?),
            ("POST", "/api/show") => Read::Show(Box::new(client.show("m").await?)),
            ("POST", "/api/chat") if streamed => {
                Read::Chat(all(client.chat_stream(&chat).await).await?)
            }
            ("POST", "/api/chat") => Read::Chat(vec![client.chat(&chat).await?]),
            ("POST", "/api/generate") if streamed => {
                Read::Generate(all(client.generate_stream(&generate).await).await?)
            }
            ("POST", "/api/generate") => Read::Generate(vec![client.generate(&generate).await?]),
            ("POST", "/api/pull") => Read::Pull(all(client.pull("m").await).await?),
            // The client embeds at /api/embed; the stub answers any path alike.
            ("POST", "/api/embeddings" | "/api/embed") => Read::Embed(
                client
                    .embed(&EmbedRequest {
                        model: "m".into(),
                        input: "hi".into(),
                        keep_alive: None,
                    })
                    .await?,
            ),
            ("POST", "/v1/chat/completions") if sse => {
                Read::CompletionStream(all(client.chat_completion_stream(&completion).await).await?)
            }
            ("POST", "/v1/chat/completions") => {
                Read::Completion(client.chat_completion(&completion).await?)
            }
            (m, p) => panic!("{}: no client method for {m} {p}", f.name),
        })
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("{}: the replay hung", f.name))
}

/// The `error` words of a recorded error body, either shape.
fn recorded_error(f: &Fixture) -> String {
    serde_json::from_slice::<ErrorBody>(&f.body)
        .unwrap_or_else(|e| panic!("{}: the error body does not parse: {e}", f.name))
        .message()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_answer_replays() {
    let all = fixtures();
    assert_eq!(all.len(), RECORDED, "a fixture was added or lost");
    for f in &all {
        let read = replay(f).await;
        let status = f.sidecar.status;
        match (status, read) {
            (200, Ok(read)) => check_success(f, &read),
            (200, Err(e)) => panic!("{} ({}): refused: {e}", f.name, f.sidecar.ollama_version),
            (_, Ok(read)) => panic!("{}: HTTP {status} read as an answer: {read:?}", f.name),
            (_, Err(e)) => {
                let (kind, message) = match &e {
                    ClientError::Status {
                        status, message, ..
                    } => (ErrorKind::Status(*status), message.clone()),
                    ClientError::AuthRequired {
                        status, message, ..
                    } => (ErrorKind::AuthRequired(*status), message.clone()),
                    other => panic!("{}: HTTP {status} became {other:?}", f.name),
                };
                let expected = match status {
                    401 | 403 => ErrorKind::AuthRequired(status),
                    _ => ErrorKind::Status(status),
                };
                assert_eq!(kind, expected, "{}", f.name);
                assert_eq!(message, Some(recorded_error(f)), "{}", f.name);
            }
        }
    }
}

/// What each successful answer must read as: whole, and its figures as recorded.
fn check_success(f: &Fixture, read: &Read) {
    let json = || serde_json::from_slice::<serde_json::Value>(&f.body).unwrap();
    let name = &f.name;
    match read {
        Read::Root(text) => assert_eq!(text.as_bytes(), f.body.as_slice(), "{name}"),
        Read::Version(v) => assert_eq!(v.version, json()["version"], "{name}"),
        Read::Tags(t) => {
            assert_eq!(t.models.len(), json()["models"].as_array().unwrap().len())
        }
        Read::Ps(ps) => {
            let recorded = json();
            for (m, raw) in ps.models.iter().zip(recorded["models"].as_array().unwrap()) {
                assert_eq!(m.context_length, raw["context_length"].as_u64(), "{name}");
                assert_eq!(
                    m.size_vram,
                    raw["size_vram"].as_u64().unwrap_or(0),
                    "{name}"
                );
            }
        }
        Read::Show(s) => {
            let recorded = json();
            assert_eq!(
                s.capabilities.len(),
                recorded["capabilities"].as_array().map_or(0, Vec::len),
                "{name}"
            );
        }
        Read::Chat(chunks) => assert!(chunks.last().unwrap().done, "{name}"),
        Read::Generate(chunks) => assert!(chunks.last().unwrap().done, "{name}"),
        Read::Pull(lines) => assert_eq!(lines.last().unwrap().status, "success", "{name}"),
        Read::Embed(e) => assert!(!e.embeddings.is_empty(), "{name}"),
        Read::Completion(c) => {
            assert_eq!(c.object, "chat.completion", "{name}");
            assert!(c.usage.is_some(), "{name}");
        }
        Read::CompletionStream(chunks) => {
            assert!(
                chunks.iter().all(|c| c.object == "chat.completion.chunk"),
                "{name}"
            );
            let last = chunks.last().unwrap();
            assert!(last.choices.is_empty() && last.usage.is_some(), "{name}");
        }
    }
}

/// `/api/ps` before 0.10.0 has no `context_length`: not reported, not 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ps_before_0_10_reports_no_context() {
    for (prefix, context) in [
        ("038", None),
        ("041", None),
        ("018", Some(4096)),
        ("019", Some(4096)),
    ] {
        let Ok(Read::Ps(ps)) = replay(&fixture(prefix)).await else {
            panic!("{prefix} replays as ps");
        };
        assert_eq!(ps.models[0].context_length, context, "{prefix}");
    }
}

/// ollama.com's `/v1` errors are OpenAI error objects: their message is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_error_objects_are_read() {
    let e = replay(&fixture("035")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Status(400));
    assert!(e.to_string().contains("prompt too long"), "{e}");
    let e = replay(&fixture("034")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AuthRequired(401));
    assert!(!e.to_string().contains("journalctl"), "{e}");
}

/// Thoughts arrive in `reasoning` from 0.11.0; before, inline in `content`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_is_apart_from_0_11() {
    let Ok(Read::Completion(before)) = replay(&fixture("030")).await else {
        panic!("030 replays")
    };
    assert!(before.choices[0].message.reasoning.is_none());
    assert!(before.choices[0].message.content.contains("<think>"));
    let Ok(Read::Completion(after)) = replay(&fixture("031")).await else {
        panic!("031 replays")
    };
    assert!(after.choices[0].message.reasoning.is_some());
    let Ok(Read::CompletionStream(chunks)) = replay(&fixture("033")).await else {
        panic!("033 replays")
    };
    assert!(chunks.iter().any(|c| c
        .choices
        .first()
        .is_some_and(|c| c.delta.reasoning.is_some())));
}

/// An Ollama before 0.1.38 answers `/api/ps` with its router's plain 404: the error
/// names the release that added the endpoint, not a missing model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_an_old_release_lacks_names_the_release() {
    let client = serve(404, "text/plain", b"404 page not found".to_vec()).await;
    let e = client.ps().await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::EndpointMissing {
                added: Added::In("0.1.38"),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("0.1.38"), "{e}");
    let e = client.openai_models().await.unwrap_err();
    assert!(e.to_string().contains("0.2.0"), "{e}");
}
