//! The typed client against the in-process emulator: every endpoint's happy path,
//! honest timing, keep-alive, every injected fault mapped to its `ErrorKind`, and the
//! emulator's request log.

use futures_util::StreamExt;
use ollama_verify::client::types::*;
use ollama_verify::client::{ChunkStream, Phase};
use ollama_verify::emulator::{
    Answer, Emulator, EmulatorConfig, Fault, FaultKind, SETUP_MODELFILE,
};
use ollama_verify::modelfile::Modelfile;
use ollama_verify::{Client, ClientError, ErrorKind, Timeouts};
use rstest::rstest;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::time::{Duration, Instant};

const BASE: &str = "qwen2.5-coder:7b";
const CUSTOM: &str = "my-coder";
const PROMPT: &str = "Write a thread-safe counter in Go.";

/// Longest any test body may take: a hang fails the test instead of blocking the run.
const GUARD: Duration = Duration::from_secs(4);

/// Generous deadlines for happy paths (a busy test machine must not fail them).
fn relaxed() -> Timeouts {
    Timeouts::default().capped(Duration::from_secs(5))
}

/// Short deadlines for fault tests: each well under the emulator's 5 s stalls and GUARD.
fn impatient(request_ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(request_ms),
        first_byte: Duration::from_secs(1),
        idle: Duration::from_millis(300),
        generation: Duration::from_secs(3),
    }
}

async fn guarded<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, fut)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {GUARD:?}: a hang"))
}

async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("the emulator starts")
}

fn chat_request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user(PROMPT)],
        ..Default::default()
    }
}

fn generate_request(model: &str) -> GenerateRequest {
    GenerateRequest {
        model: model.into(),
        prompt: PROMPT.into(),
        ..Default::default()
    }
}

fn options(value: Value) -> Option<Map<String, Value>> {
    value.as_object().cloned()
}

/// Every item of a stream, errors included, until it ends.
async fn drain<T>(mut stream: ChunkStream<T>) -> Vec<Result<T, ClientError>> {
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    items
}

/// Every item of a stream that must succeed.
async fn collect_ok<T: std::fmt::Debug>(stream: ChunkStream<T>) -> Vec<T> {
    drain(stream)
        .await
        .into_iter()
        .map(|item| item.expect("every chunk of a healthy stream parses"))
        .collect()
}

/// Pulls a catalog model to the end, returning its progress lines.
async fn pull_ok(client: &Client, model: &str) -> Vec<ProgressChunk> {
    let progress = collect_ok(client.pull(model).await.expect("pull starts")).await;
    assert_eq!(
        progress.last().map(|p| p.status.as_str()),
        Some("success"),
        "a pull ends with `success`: {progress:?}"
    );
    progress
}

fn has_tag(tags: &TagsResponse, name: &str) -> bool {
    tags.models.iter().any(|m| m.name == name)
}

/// The `FROM` instruction of a generated Modelfile (not the `# FROM` comment).
fn from_line(modelfile: &str) -> String {
    modelfile
        .lines()
        .find(|l| l.starts_with("FROM "))
        .unwrap_or_else(|| panic!("no FROM line in:\n{modelfile}"))
        .to_string()
}

/// A stream must end with exactly one final chunk, after at least one partial one.
fn assert_one_final<T: std::fmt::Debug>(chunks: &[T], is_done: impl Fn(&T) -> bool) {
    assert!(chunks.len() > 2, "several chunks expected: {chunks:?}");
    let done: Vec<usize> = (0..chunks.len()).filter(|&i| is_done(&chunks[i])).collect();
    assert_eq!(
        done,
        vec![chunks.len() - 1],
        "exactly one final chunk, the last one"
    );
}

fn assert_stats(stats: &Stats) {
    assert!(stats.eval_count.unwrap_or(0) > 0, "eval_count: {stats:?}");
    assert!(
        stats.eval_duration.unwrap_or(0) > 0,
        "eval_duration: {stats:?}"
    );
    assert!(
        stats.total_duration.unwrap_or(0) > 0,
        "total_duration: {stats:?}"
    );
    assert!(
        stats.prompt_eval_count.unwrap_or(0) > 0,
        "prompt_eval_count: {stats:?}"
    );
    assert!(stats.load_duration.is_some(), "load_duration: {stats:?}");
}

/// An error message must exist and, as a target words its next step (a native
/// install's here; every target's are in the advice snapshot), suggest what to look at
/// or do next.
fn assert_actionable(e: &ClientError) {
    let text = ollama_verify::target::Advice::Native
        .advise(e.clone())
        .to_string();
    assert!(!text.trim().is_empty(), "empty message for {e:?}");
    let lower = text.to_lowercase();
    let advice = ["check", "try", "is", "see", "raise", "compare", "log"];
    let advises = lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| advice.contains(&w));
    let names_command = text.matches('`').count() >= 2;
    assert!(
        advises || names_command,
        "the message gives no next step: {text}"
    );
}

// ---------------------------------------------------------------- happy paths

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_head_and_version_answer() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    assert_eq!(client.root().await.unwrap(), "Ollama is running");
    assert_eq!(client.head_root().await.unwrap(), 200);
    let version = client.version().await.unwrap();
    assert_eq!(version.version, EmulatorConfig::fast().version);
    assert!(!version.version.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_list_the_base_and_the_custom_model() {
    let emu = start(EmulatorConfig::fast()).await;
    let tags = emu.client(relaxed()).tags().await.unwrap();
    let base = tags
        .models
        .iter()
        .find(|m| m.name == "qwen2.5-coder:7b")
        .unwrap_or_else(|| panic!("base model missing: {tags:?}"));
    let custom = tags
        .models
        .iter()
        .find(|m| m.name == "my-coder:latest")
        .unwrap_or_else(|| panic!("custom model missing: {tags:?}"));
    assert!(base.size > 0 && !base.digest.is_empty());
    // Ollama's ListHandler never fills parent_model; /api/show names the parent.
    assert!(base.details.parent_model.is_empty());
    assert!(custom.details.parent_model.is_empty(), "{custom:?}");
    assert_ne!(base.digest, custom.digest);
    let client = emu.client(relaxed());
    let shown = client.show(CUSTOM).await.unwrap();
    assert!(
        !shown.details.parent_model.is_empty(),
        "a created model names its parent: {shown:?}"
    );
    assert!(client
        .show(BASE)
        .await
        .unwrap()
        .details
        .parent_model
        .is_empty());
}

/// `/api/show`'s modelfile is written as Ollama writes it (`"..."` for text across
/// lines, bare values, numbers as Go prints them), so reading it back gives the model;
/// an integer of a million or more is printed as Go prints a float64 (`1.234567e+06`),
/// which Ollama's parser, and so this one, then refuses, as `ollama create` would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shown_modelfile_reads_back_as_the_model() {
    let custom = |name: &str, seed: u64| ollama_verify::emulator::CustomModel {
        name: name.into(),
        modelfile: Some(format!(
            "{SETUP_MODELFILE}\nPARAMETER seed {seed}\nPARAMETER use_mmap true\n"
        )),
        path: None,
    };
    let config = EmulatorConfig {
        custom: vec![custom("small-seed", 123456), custom("big-seed", 1234567)],
        ..EmulatorConfig::fast()
    };
    let emu = start(config).await;
    let client = emu.client(relaxed());
    let show = client.show("small-seed").await.unwrap();
    assert!(
        show.modelfile.contains("\nSYSTEM \"You are"),
        "{}",
        show.modelfile
    );
    let shown = Modelfile::parse(&show.modelfile).unwrap();
    assert_eq!(shown.system, show.system);
    assert_eq!(shown.template.as_deref(), Some(show.template.as_str()));
    let verdict = ollama_verify::verdict::modelfile::parameters(&shown, &Ok(show.clone()), None);
    assert_eq!(
        verdict.status,
        ollama_verify::check::Status::Pass,
        "{}",
        verdict.detail
    );
    assert_eq!(verdict.value.as_deref(), Some("7/7 match"));

    let show = client.show("big-seed").await.unwrap();
    assert!(
        show.parameters
            .contains("seed                           1.234567e+06"),
        "{}",
        show.parameters
    );
    let e = Modelfile::parse(&show.modelfile).unwrap_err();
    assert!(e.message.contains("got `1.234567e+06`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_reflects_the_setup_modelfile() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let setup = Modelfile::parse(SETUP_MODELFILE).unwrap();
    let custom = client.show(CUSTOM).await.unwrap();
    let base = client.show(BASE).await.unwrap();

    let pairs = custom.parameter_pairs();
    assert!(
        pairs.contains(&("num_ctx".into(), "16384".into())),
        "num_ctx 16384 in {:?}",
        custom.parameters
    );
    let stops: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "stop")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(stops, setup.parameter("stop"), "{}", custom.parameters);
    assert_eq!(
        custom
            .parameters
            .lines()
            .filter(|l| l.starts_with("stop"))
            .count(),
        2
    );
    assert_eq!(custom.system, setup.system);
    assert!(custom.system.as_deref().is_some_and(|s| !s.is_empty()));

    // my-coder shares the base's weights: both FROM lines name the same blob.
    let custom_from = from_line(&custom.modelfile);
    assert!(custom_from.contains("sha256-"), "{custom_from}");
    assert_eq!(custom_from, from_line(&base.modelfile));
    assert!(base.system.is_none());
}

/// The emulator caches a loaded model's last prompt as Ollama's KV cache does: a
/// prompt that starts with the same tokens processes only the rest (less
/// `prompt_eval_duration`, the same `prompt_eval_count`); a chat's own system message
/// takes the place of the model's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_cache_skips_what_the_last_prompt_shared() {
    // Slow enough that timer jitter on a busy machine cannot blur the difference.
    let rate = 200.0;
    let emu = start(EmulatorConfig {
        prompt_rate: rate,
        ..EmulatorConfig::fast()
    })
    .await;
    let at_rate = |tokens: u64| Duration::from_secs_f64(tokens as f64 / rate);
    let client = emu.client(relaxed());
    let stats = |r: &ChatChunk| {
        (
            r.stats.prompt_eval_count.unwrap(),
            Duration::from_nanos(r.stats.prompt_eval_duration.unwrap()),
        )
    };
    let (count, cold) = stats(&guarded(client.chat(&chat_request(CUSTOM))).await.unwrap());
    let (again, cached) = stats(&guarded(client.chat(&chat_request(CUSTOM))).await.unwrap());
    assert_eq!(count, again, "the whole prompt is counted");
    assert!(cold >= at_rate(count - 1), "{cold:?} for {count}");
    // All but one token came from the cache.
    assert!(cached * 4 < cold, "{cached:?} cached, {cold:?} cold");

    // The model's system prompt is its prompt's start: another system message shares
    // nothing with it, and it is counted in place of the model's.
    let own = |system: &str| ChatRequest {
        messages: vec![
            Message {
                role: "system".into(),
                content: system.into(),
                thinking: None,
            },
            Message::user(PROMPT),
        ],
        ..chat_request(CUSTOM)
    };
    let (short, fresh) = stats(&guarded(client.chat(&own("Be brief."))).await.unwrap());
    assert!(
        short < count,
        "{short} tokens with a short system prompt, {count} with the model's"
    );
    assert!(fresh >= at_rate(short - 1), "{fresh:?} for {short}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completes_and_the_model_sits_in_vram() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    assert!(
        client.ps().await.unwrap().models.is_empty(),
        "nothing loaded yet"
    );

    let answer = client.chat(&chat_request(CUSTOM)).await.unwrap();
    assert!(answer.done);
    assert_eq!(answer.message.role, "assistant");
    assert!(!answer.message.content.is_empty());
    assert_stats(&answer.stats);

    let ps = client.ps().await.unwrap();
    let loaded = ps
        .models
        .iter()
        .find(|m| m.name == "my-coder:latest")
        .unwrap_or_else(|| panic!("the chatted model is loaded: {ps:?}"));
    assert!(loaded.size > 0);
    assert_eq!(loaded.size_vram, loaded.size);
    assert_eq!(loaded.placement(), Placement::Gpu);
    assert_eq!(loaded.context_length, Some(16384));
}

/// Ollama's handlers answer with the model as the request spelled it (`req.Model`),
/// not the installed name: `my-coder` stays `my-coder`, `MY-CODER:latest` its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_name_the_model_as_requested() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    for name in [CUSTOM, "MY-CODER:latest"] {
        let chat = client.chat(&chat_request(name)).await.unwrap();
        assert_eq!(chat.model, name);
        let streamed = collect_ok(client.chat_stream(&chat_request(name)).await.unwrap()).await;
        assert!(streamed.iter().all(|c| c.model == name), "{streamed:?}");
        let generated = client.generate(&generate_request(name)).await.unwrap();
        assert_eq!(generated.model, name);
        let embedded = client
            .embed(&EmbedRequest {
                model: name.into(),
                input: json!("hello"),
                keep_alive: None,
            })
            .await
            .unwrap();
        assert_eq!(embedded.model, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_ends_with_one_final_chunk() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let chunks = collect_ok(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
    assert_one_final(&chunks, |c| c.done);
    let last = chunks.last().unwrap();
    assert_stats(&last.stats);
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c.stats.eval_count.is_none() && !c.message.content.is_empty()));
    assert_eq!(
        last.stats.eval_count,
        Some(chunks.len() as u64 - 1),
        "one partial chunk per generated token"
    );
}

/// A thinking model streams its first tokens as `message.thinking` with `content`
/// empty, unless the request says `think: false`; `eval_count` counts both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thinking_model_thinks_unless_told_not_to() {
    let emu = start(EmulatorConfig {
        thinking_tokens: 5,
        ..EmulatorConfig::fast()
    })
    .await;
    let client = emu.client(relaxed());
    let chunks = collect_ok(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
    let partial = &chunks[..chunks.len() - 1];
    assert!(partial[..5]
        .iter()
        .all(|c| c.message.content.is_empty() && c.message.has_text()));
    assert!(partial[5..]
        .iter()
        .all(|c| !c.message.content.is_empty() && c.message.thinking.is_none()));
    assert_eq!(
        chunks.last().unwrap().stats.eval_count,
        Some(partial.len() as u64)
    );
    let whole = client.chat(&chat_request(CUSTOM)).await.unwrap();
    assert!(whole
        .message
        .thinking
        .as_deref()
        .is_some_and(|t| !t.is_empty()));
    let plain = client
        .chat(&ChatRequest {
            think: Some(json!(false)),
            ..chat_request(CUSTOM)
        })
        .await
        .unwrap();
    assert_eq!(plain.message.thinking, None);
    assert!(!plain.message.content.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_answers_whole_and_streamed() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let whole = client.generate(&generate_request(BASE)).await.unwrap();
    assert!(whole.done);
    assert!(!whole.response.is_empty());
    assert_stats(&whole.stats);

    let chunks = collect_ok(
        client
            .generate_stream(&generate_request(BASE))
            .await
            .unwrap(),
    )
    .await;
    assert_one_final(&chunks, |c| c.done);
    assert_stats(&chunks.last().unwrap().stats);
    let streamed: String = chunks.iter().map(|c| c.response.as_str()).collect();
    assert_eq!(streamed, whole.response, "the same prompt, the same answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn num_predict_caps_the_answer() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let chat = client
        .chat(&ChatRequest {
            options: options(json!({ "num_predict": 5 })),
            ..chat_request(CUSTOM)
        })
        .await
        .unwrap();
    assert_eq!(chat.stats.eval_count, Some(5));
    assert_eq!(chat.done_reason.as_deref(), Some("length"));

    let generated = client
        .generate(&GenerateRequest {
            options: options(json!({ "num_predict": 5 })),
            ..generate_request(BASE)
        })
        .await
        .unwrap();
    assert_eq!(generated.stats.eval_count, Some(5));
    assert_eq!(generated.done_reason.as_deref(), Some("length"));

    // Without the cap the answer runs to its natural end.
    let free = client.chat(&chat_request(CUSTOM)).await.unwrap();
    assert!(free.stats.eval_count.unwrap() > 5);
    assert_eq!(free.done_reason.as_deref(), Some("stop"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_returns_one_vector_per_input() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    pull_ok(&client, "nomic-embed-text").await;
    let embedded = client
        .embed(&EmbedRequest {
            model: "nomic-embed-text".into(),
            input: json!(["first text", "second text"]),
            keep_alive: None,
        })
        .await
        .unwrap();
    assert_eq!(embedded.embeddings.len(), 2);
    assert!(embedded.embeddings.iter().all(|e| e.len() == 768));
    assert_ne!(embedded.embeddings[0], embedded.embeddings[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_streams_progress_and_installs() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    assert!(!has_tag(&client.tags().await.unwrap(), "llama3.2:3b"));
    let progress = pull_ok(&client, "llama3.2:3b").await;
    assert!(progress.len() > 2, "progress lines: {progress:?}");
    assert!(
        progress
            .iter()
            .any(|p| p.total.is_some() && p.completed == p.total),
        "some layer completes: {progress:?}"
    );
    assert!(has_tag(&client.tags().await.unwrap(), "llama3.2:3b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_of_an_unknown_model_is_a_stream_error() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let items = drain(client.pull("no-such-model").await.unwrap()).await;
    let last = items.last().expect("the stream says something");
    let err = last
        .as_ref()
        .expect_err("an unknown model cannot be pulled");
    assert_eq!(err.kind(), ErrorKind::StreamError);
    assert_actionable(err);
    assert!(!has_tag(
        &client.tags().await.unwrap(),
        "no-such-model:latest"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_builds_a_model_that_show_reflects() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    let system = "You answer in one sentence.";
    let progress = collect_ok(
        client
            .create(&CreateRequest {
                model: "terse-coder".into(),
                from: Some(BASE.into()),
                parameters: options(json!({
                    "num_ctx": 8192,
                    "temperature": 0.2,
                    "stop": ["<|im_end|>"],
                })),
                system: Some(system.into()),
                ..Default::default()
            })
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(progress.last().map(|p| p.status.as_str()), Some("success"));

    let shown = client.show("terse-coder").await.unwrap();
    let pairs = shown.parameter_pairs();
    assert!(
        pairs.contains(&("num_ctx".into(), "8192".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("temperature".into(), "0.2".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("stop".into(), "<|im_end|>".into())),
        "{pairs:?}"
    );
    assert_eq!(shown.system.as_deref(), Some(system));
    assert_eq!(
        from_line(&shown.modelfile),
        from_line(&client.show(BASE).await.unwrap().modelfile)
    );

    let tags = client.tags().await.unwrap();
    let created = tags
        .models
        .iter()
        .find(|m| m.name == "terse-coder:latest")
        .unwrap_or_else(|| panic!("created model listed: {tags:?}"));
    assert!(created.details.parent_model.is_empty(), "{created:?}");
    let shown = client.show("terse-coder").await.unwrap();
    assert!(!shown.details.parent_model.is_empty(), "{shown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_completion_answers() {
    let emu = start(EmulatorConfig::fast()).await;
    let completion = emu
        .client(relaxed())
        .chat_completion(&ChatCompletionRequest {
            model: CUSTOM.into(),
            messages: vec![Message::user(PROMPT)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!completion.choices.is_empty());
    assert!(!completion.choices[0].message.content.is_empty());
    let usage = completion.usage.expect("Ollama always sends usage");
    assert!(usage.completion_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_with_an_unknown_model_is_404_not_found() {
    let emu = start(EmulatorConfig::fast()).await;
    let err = emu
        .client(relaxed())
        .chat(&chat_request("no-such-model"))
        .await
        .expect_err("an unknown model cannot chat");
    assert_eq!(err.kind(), ErrorKind::Status(404));
    match &err {
        // Ollama's ChatHandler words it so (routes.go, os.IsNotExist of GetModel).
        ClientError::Status { message, .. } => {
            assert_eq!(message.as_deref(), Some("model 'no-such-model' not found"))
        }
        other => panic!("expected Status, got {other:?}"),
    }
    assert_actionable(&err);
}

// ---------------------------------------------------------------- timing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_tell_the_truth_about_time() {
    let load = Duration::from_millis(100);
    let emu = start(EmulatorConfig {
        token_rate: 200.0,
        answer_tokens: 40,
        load_time_ms: load.as_millis() as u64,
        ..EmulatorConfig::fast()
    })
    .await;
    let client = emu.client(relaxed());

    // Cold: the first request pays the load.
    let started = Instant::now();
    let chunks = collect_ok(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
    let wall = started.elapsed();
    let cold = chunks.last().unwrap().stats.clone();
    assert_eq!(cold.eval_count, Some(40));
    let rate = cold.generation_rate().unwrap();
    assert!((rate - 200.0).abs() <= 200.0 * 0.05, "rate {rate:.1} tok/s");
    assert!(
        wall >= Duration::from_secs_f64(40.0 / 200.0),
        "40 tokens at 200 tok/s cannot arrive in {wall:?}"
    );
    let eval = Duration::from_nanos(cold.eval_duration.unwrap());
    assert!(
        wall >= eval,
        "eval {eval:?} longer than the wall time {wall:?}"
    );
    let cold_load = Duration::from_nanos(cold.load_duration.unwrap());
    assert!(cold_load >= load, "cold load {cold_load:?} < {load:?}");

    // Warm: the model is loaded, the load costs next to nothing.
    let warm = client.chat(&chat_request(CUSTOM)).await.unwrap().stats;
    let warm_load = Duration::from_nanos(warm.load_duration.unwrap());
    assert!(
        warm_load * 4 < cold_load && warm_load < load / 2,
        "warm load {warm_load:?} vs cold {cold_load:?}"
    );
    assert_eq!(warm.eval_count, Some(40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_as_long_as_the_prompt_asks() {
    let emu = start(EmulatorConfig {
        answer_tokens: 30,
        answers: vec![Answer {
            prompt_contains: "Say:".into(),
            tokens: 3,
        }],
        ..EmulatorConfig::fast()
    })
    .await;
    let client = emu.client(relaxed());
    let ask = |text: &str, num_predict: Option<u64>| ChatRequest {
        model: CUSTOM.into(),
        messages: vec![Message::user(text)],
        stream: false,
        options: num_predict.map(|n| {
            let mut m = Map::new();
            m.insert("num_predict".into(), n.into());
            m
        }),
        ..Default::default()
    };
    let stats = |r: ChatChunk| (r.stats.eval_count, r.done_reason);
    let short = client.chat(&ask("Say: done", None)).await.unwrap();
    assert_eq!(stats(short), (Some(3), Some("stop".into())));
    let long = client.chat(&ask("Write a counter", None)).await.unwrap();
    assert_eq!(stats(long), (Some(30), Some("stop".into())));
    // A cap below the answer's length cuts it; one above does not lengthen it.
    let capped = client
        .chat(&ask("Write a counter", Some(10)))
        .await
        .unwrap();
    assert_eq!(stats(capped), (Some(10), Some("length".into())));
    let roomy = client.chat(&ask("Say: done", Some(10))).await.unwrap();
    assert_eq!(stats(roomy), (Some(3), Some("stop".into())));
}

// ---------------------------------------------------------------- keep_alive

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_zero_unloads_after_the_answer() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    client.chat(&chat_request(CUSTOM)).await.unwrap();
    assert_eq!(
        client.ps().await.unwrap().models.len(),
        1,
        "default keeps it"
    );

    let answer = client
        .chat(&ChatRequest {
            keep_alive: Some(json!(0)),
            ..chat_request(CUSTOM)
        })
        .await
        .unwrap();
    assert!(answer.done);
    let ps = client.ps().await.unwrap();
    assert!(ps.models.is_empty(), "keep_alive 0 unloads: {ps:?}");
}

/// Seconds from now to a loaded model's `expires_at`.
async fn expires_in(client: &Client) -> f64 {
    let ps = client.ps().await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(&ps.models[0].expires_at).unwrap();
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() as f64 / 1e3
}

/// As Ollama's scheduler (0.2.0 on): a fresh load takes `OLLAMA_KEEP_ALIVE`, a request's
/// `keep_alive` replaces the loaded model's from then on, and a request without one
/// leaves it as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_keep_alive_keeps_the_models_own() {
    let mut config = EmulatorConfig::fast();
    config.env.insert("OLLAMA_KEEP_ALIVE".into(), "30m".into());
    let emu = start(config).await;
    let client = emu.client(relaxed());
    client.chat(&chat_request(CUSTOM)).await.unwrap();
    let left = expires_in(&client).await;
    assert!(
        (1790.0..=1800.0).contains(&left),
        "the server's default: {left}"
    );
    let hour = ChatRequest {
        keep_alive: Some(json!("1h")),
        ..chat_request(CUSTOM)
    };
    client.chat(&hour).await.unwrap();
    client.chat(&chat_request(CUSTOM)).await.unwrap();
    let left = expires_in(&client).await;
    assert!(
        (3590.0..=3600.0).contains(&left),
        "the last one set: {left}"
    );

    // A string Go's time.ParseDuration refuses is a bad request, as in Ollama.
    let bad = ChatRequest {
        keep_alive: Some(json!("300")),
        ..chat_request(CUSTOM)
    };
    match client.chat(&bad).await {
        Err(ClientError::Status {
            status: 400,
            message: Some(m),
            ..
        }) => assert!(m.contains("missing unit in duration"), "{m}"),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

/// A model does not expire while it answers: its keep-alive starts once the answer ends,
/// as Ollama's scheduler starts the timer only when the model is idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_shorter_than_the_answer_waits_for_its_end() {
    let mut config = EmulatorConfig {
        token_rate: 20.0,
        answer_tokens: 30,
        ..EmulatorConfig::fast()
    };
    config
        .env
        .insert("OLLAMA_KEEP_ALIVE".into(), "500ms".into());
    let emu = start(config).await;
    let client = emu.client(relaxed());
    let mut stream = client.chat_stream(&chat_request(CUSTOM)).await.unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(900) {
        assert!(!stream.next().await.unwrap().unwrap().done);
    }
    assert_eq!(
        client.ps().await.unwrap().models.len(),
        1,
        "loaded mid-answer"
    );
    while let Some(chunk) = stream.next().await {
        if chunk.unwrap().done {
            break;
        }
    }
    assert_eq!(
        client.ps().await.unwrap().models.len(),
        1,
        "kept after the answer"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        client.ps().await.unwrap().models.is_empty(),
        "expired 500 ms later"
    );
}

/// An answer that began before its model was deleted and pulled again belongs to the
/// old load: its end must not make the new load, still answering, expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_on_a_deleted_load_leaves_the_next_load_alone() {
    let mut config = EmulatorConfig {
        token_rate: 20.0,
        answer_tokens: 40,
        ..EmulatorConfig::fast()
    };
    config
        .env
        .insert("OLLAMA_KEEP_ALIVE".into(), "300ms".into());
    let emu = start(config).await;
    let client = emu.client(relaxed());
    let mut old = client.chat_stream(&chat_request(BASE)).await.unwrap();
    assert!(!old.next().await.unwrap().unwrap().done);

    client.delete(BASE).await.unwrap();
    let mut pull = client.pull(BASE).await.unwrap();
    while let Some(chunk) = pull.next().await {
        chunk.unwrap();
    }
    let mut new = client.chat_stream(&chat_request(BASE)).await.unwrap();
    assert!(!new.next().await.unwrap().unwrap().done);

    drop(old); // the old answer ends: the client is gone
    let until = Instant::now() + Duration::from_millis(700);
    while Instant::now() < until {
        assert!(!new.next().await.unwrap().unwrap().done);
    }
    assert_eq!(
        client.ps().await.unwrap().models.len(),
        1,
        "the new load is still answering, 700 ms after the old answer ended"
    );
}

/// A model without `num_ctx` loads with OLLAMA_CONTEXT_LENGTH when the server sets it;
/// one whose Modelfile sets it keeps its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_context_length_applies_where_the_model_sets_none() {
    let mut config = EmulatorConfig::fast();
    config
        .env
        .insert("OLLAMA_CONTEXT_LENGTH".into(), "8192".into());
    let emu = start(config).await;
    let client = emu.client(relaxed());
    for model in [BASE, CUSTOM] {
        client.chat(&chat_request(model)).await.unwrap();
    }
    let ps = client.ps().await.unwrap();
    let context = |name: &str| ps.find(name).and_then(|m| m.context_length);
    assert_eq!(context(BASE), Some(8192), "{ps:?}");
    assert_eq!(context(CUSTOM), Some(16384), "{ps:?}");
}

// ---------------------------------------------------------------- faults

async fn faulted(path: &str, kind: FaultKind, timeouts: Timeouts) -> (Emulator, Client) {
    let emu = start(EmulatorConfig::fast().with_fault(Fault::new(path, kind))).await;
    let client = emu.client(timeouts);
    (emu, client)
}

/// Faults on `/api/tags` (a metadata call) and the kind each must become.
#[rstest]
#[case::status(FaultKind::Status { status: 503, message: "overloaded".into() }, 2000, ErrorKind::Status(503))]
#[case::malformed(FaultKind::Malformed, 2000, ErrorKind::NotJson)]
#[case::wrong_shape(FaultKind::WrongShape, 2000, ErrorKind::Shape)]
#[case::wrong_content_type(FaultKind::WrongContentType, 2000, ErrorKind::NotJson)]
#[case::stall_before(FaultKind::StallBefore { seconds: 5.0 }, 300, ErrorKind::Timeout(Phase::FirstByte))]
#[case::close_mid_body(FaultKind::CloseMidBody { after_bytes: 10 }, 2000, ErrorKind::Interrupted)]
#[case::huge_body(FaultKind::HugeBody { bytes: 20 * 1024 * 1024 }, 3000, ErrorKind::TooLarge)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_fault_maps_to_its_kind(
    #[case] fault: FaultKind,
    #[case] request_ms: u64,
    #[case] expected: ErrorKind,
) {
    guarded(async {
        let (_emu, client) = faulted("/api/tags", fault, impatient(request_ms)).await;
        let err = client
            .tags()
            .await
            .expect_err("a faulted answer is an error");
        assert_eq!(err.kind(), expected, "{err}");
        assert_actionable(&err);
        // The fault is on /api/tags only: the same server still answers elsewhere.
        assert!(client.version().await.is_ok());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_500_on_chat_carries_the_message() {
    guarded(async {
        let message = "llama runner process has terminated: exit status 2";
        let (_emu, client) = faulted(
            "/api/chat",
            FaultKind::Status {
                status: 500,
                message: message.into(),
            },
            impatient(1000),
        )
        .await;
        let err = client.chat(&chat_request(CUSTOM)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status(500));
        match &err {
            ClientError::Status { message: m, .. } => assert_eq!(m.as_deref(), Some(message)),
            other => panic!("expected Status, got {other:?}"),
        }
        assert!(err.to_string().contains(message), "{err}");
        assert_actionable(&err);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_shape_names_the_field() {
    guarded(async {
        let (_emu, client) = faulted("/api/tags", FaultKind::WrongShape, impatient(2000)).await;
        match client.tags().await.unwrap_err() {
            ClientError::Shape { path, .. } => assert_eq!(path, "models"),
            other => panic!("expected Shape, got {other:?}"),
        }
    })
    .await;
}

/// A `/api/show` answer without `details` (which Ollama always sends) is refused, not
/// read as a model that has no parameters, template or system prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_show_answer_of_another_shape_is_refused() {
    guarded(async {
        let (_emu, client) = faulted("/api/show", FaultKind::WrongShape, impatient(2000)).await;
        let err = client.show("my-coder").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Shape, "{err}");
        assert!(err.to_string().contains("details"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_instead_of_json_names_the_content_type() {
    guarded(async {
        let (_emu, client) =
            faulted("/api/tags", FaultKind::WrongContentType, impatient(2000)).await;
        let err = client.tags().await.unwrap_err();
        match &err {
            ClientError::NotJson {
                content_type,
                excerpt,
                ..
            } => {
                assert!(content_type.contains("text/html"), "{content_type}");
                assert!(excerpt.contains("nginx"), "{excerpt}");
            }
            other => panic!("expected NotJson, got {other:?}"),
        }
        assert!(err.to_string().contains("text/html"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_before_answering_times_out_at_first_byte() {
    guarded(async {
        let (_emu, client) = faulted(
            "/api/tags",
            FaultKind::StallBefore { seconds: 5.0 },
            impatient(300),
        )
        .await;
        let started = Instant::now();
        let err = client.tags().await.unwrap_err();
        let waited = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte));
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "gave up after {waited:?}, the deadline was 300 ms"
        );
        assert_actionable(&err);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_mid_stream_times_out_idle_after_some_chunks() {
    guarded(async {
        let (_emu, client) = faulted(
            "/api/chat",
            FaultKind::StallDuring {
                after_bytes: 150,
                seconds: 5.0,
            },
            impatient(1000),
        )
        .await;
        let items = drain(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
        let (last, before) = items.split_last().expect("the stream yields something");
        assert!(!before.is_empty(), "some chunks arrive before the stall");
        assert!(before.iter().all(|i| i.as_ref().is_ok_and(|c| !c.done)));
        let err = last
            .as_ref()
            .expect_err("a stalled stream ends in an error");
        assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Idle));
        assert_actionable(err);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_line_mid_stream_is_a_stream_error() {
    guarded(async {
        let message = "CUDA error: out of memory";
        let (_emu, client) = faulted(
            "/api/chat",
            FaultKind::ErrorLine {
                after_chunks: 2,
                message: message.into(),
            },
            impatient(1000),
        )
        .await;
        let items = drain(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
        assert_eq!(items.len(), 3, "two chunks, then the error: {items:?}");
        assert!(items[..2].iter().all(|i| i.as_ref().is_ok_and(|c| !c.done)));
        match items[2].as_ref().unwrap_err() {
            ClientError::StreamError { message: m, .. } => assert_eq!(m, message),
            other => panic!("expected StreamError, got {other:?}"),
        }
        assert_actionable(items[2].as_ref().unwrap_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_ending_early_is_incomplete() {
    guarded(async {
        let (_emu, client) = faulted(
            "/api/chat",
            FaultKind::EndEarly { after_chunks: 3 },
            impatient(1000),
        )
        .await;
        let items = drain(client.chat_stream(&chat_request(CUSTOM)).await.unwrap()).await;
        assert_eq!(items.len(), 4, "three chunks, then the verdict: {items:?}");
        assert!(items[..3].iter().all(|i| i.as_ref().is_ok_and(|c| !c.done)));
        let err = items[3].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StreamIncomplete);
        match err {
            ClientError::StreamIncomplete { chunks, .. } => assert_eq!(*chunks, 3),
            other => panic!("expected StreamIncomplete, got {other:?}"),
        }
        assert_actionable(err);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_can_be_switched_on_a_running_emulator() {
    guarded(async {
        let emu = start(EmulatorConfig::fast()).await;
        let client = emu.client(impatient(2000));
        assert!(client.tags().await.is_ok());
        emu.configure(|c| c.faults = vec![Fault::new("/api/tags", FaultKind::Malformed)]);
        assert_eq!(client.tags().await.unwrap_err().kind(), ErrorKind::NotJson);
        emu.configure(|c| c.faults.clear());
        assert!(client.tags().await.is_ok());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_connection_refused() {
    guarded(async {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let base = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let client = Client::with_timeouts(base, impatient(1000));
        let err = client.version().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(err.is_unreachable());
        assert!(err.to_string().contains(&port.to_string()), "{err}");
        assert_actionable(&err);
    })
    .await;
}

// ---------------------------------------------------------------- request log

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_lists_calls_in_order() {
    let emu = start(EmulatorConfig::fast()).await;
    let client = emu.client(relaxed());
    client.version().await.unwrap();
    client.tags().await.unwrap();
    client.show(CUSTOM).await.unwrap();
    client.chat(&chat_request(BASE)).await.unwrap();
    client.ps().await.unwrap();

    let record = |method: &str, path: &str, model: Option<&str>| {
        (
            method.to_string(),
            path.to_string(),
            model.map(str::to_string),
        )
    };
    let log = emu.requests();
    let seen: Vec<_> = log
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.model.clone()))
        .collect();
    // Each is timed: it ended after it arrived, and the next arrived after that.
    for pair in log.windows(2) {
        let done = pair[0].done_ms.expect("answered");
        assert!(pair[0].arrived_ms <= done, "{pair:?}");
        assert!(pair[0].arrived_ms <= pair[1].arrived_ms, "{pair:?}");
    }
    assert_eq!(
        seen,
        vec![
            record("GET", "/api/version", None),
            record("GET", "/api/tags", None),
            record("POST", "/api/show", Some(CUSTOM)),
            record("POST", "/api/chat", Some(BASE)),
            record("GET", "/api/ps", None),
        ]
    );
}

// ---------------------------------------------------------------- parallel slots

/// One streamed chat timed from `t0`: when its first token and its end arrived, and
/// the server's statistics.
struct Timed {
    first: Duration,
    done: Duration,
    stats: Stats,
}

async fn timed_chat(client: &Client, text: &str, t0: Instant) -> Timed {
    let req = ChatRequest {
        model: CUSTOM.into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    };
    let mut stream = client.chat_stream(&req).await.unwrap();
    let mut first = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if chunk.done {
            return Timed {
                first: first.expect("a token before the end"),
                done: t0.elapsed(),
                stats: chunk.stats,
            };
        }
        first.get_or_insert_with(|| t0.elapsed());
    }
    panic!("the stream ended without its final chunk")
}

/// A loaded model answering 20 tokens at 200 tok/s (0.1 s each) on `slots` slots.
async fn slotted(slots: usize, slowdown: f64) -> Emulator {
    let emu = start(EmulatorConfig {
        token_rate: 200.0,
        answer_tokens: 20,
        num_parallel: slots,
        parallel_slowdown: slowdown,
        ..EmulatorConfig::fast()
    })
    .await;
    emu.client(relaxed())
        .chat(&chat_request(CUSTOM))
        .await
        .unwrap();
    emu
}

/// One slot: of two requests sent together, the second's first token waits for the
/// first's answer to end. Its wait shows in total_duration only: eval_duration counts
/// its own generation, load_duration the (warm) load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_slot_the_second_request_waits_for_the_first() {
    guarded(async {
        let emu = slotted(1, 0.1).await;
        let client = emu.client(relaxed());
        let t0 = Instant::now();
        let (a, b) = tokio::join!(
            timed_chat(&client, "one", t0),
            timed_chat(&client, "two", t0)
        );
        let (first, second) = if a.first <= b.first { (a, b) } else { (b, a) };
        assert!(
            second.first + Duration::from_millis(2) >= first.done,
            "the second's first token at {:?}, the first's answer ended at {:?}",
            second.first,
            first.done
        );
        let answer = Duration::from_millis(100);
        let total = Duration::from_nanos(second.stats.total_duration.unwrap());
        assert!(
            total >= answer * 2 - Duration::from_millis(5),
            "total {total:?} counts the wait"
        );
        let rate = second.stats.generation_rate().unwrap();
        assert!(
            (rate - 200.0).abs() < 10.0,
            "its own pace, not the wait: {rate:.1} tok/s"
        );
        let load = Duration::from_nanos(second.stats.load_duration.unwrap());
        assert!(load < Duration::from_millis(50), "a warm load: {load:?}");
        let prompt = Duration::from_nanos(second.stats.prompt_eval_duration.unwrap());
        assert!(
            prompt < Duration::from_millis(50),
            "the prompt alone: {prompt:?}"
        );
    })
    .await;
}

/// Two slots: two requests start at once, each a little slower than one alone, and
/// together they make more tokens per second than one alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_slots_both_start_at_once_and_together_outpace_one() {
    guarded(async {
        let emu = slotted(2, 0.25).await;
        let client = emu.client(relaxed());
        let t0 = Instant::now();
        let alone = timed_chat(&client, "alone", t0).await;
        let alone_rate = 20.0 / alone.done.as_secs_f64();
        assert!(
            (alone.stats.generation_rate().unwrap() - 200.0).abs() < 10.0,
            "alone, the configured pace: {:?}",
            alone.stats
        );
        let t0 = Instant::now();
        let (a, b) = tokio::join!(
            timed_chat(&client, "one", t0),
            timed_chat(&client, "two", t0)
        );
        for s in [&a, &b] {
            assert!(
                s.first < Duration::from_millis(50),
                "started at once: {:?}",
                s.first
            );
            // Each at 200 / (1 + 0.25) = 160 tok/s while both generate.
            let rate = s.stats.generation_rate().unwrap();
            assert!((rate - 160.0).abs() < 12.0, "shared pace {rate:.1} tok/s");
        }
        let together = 40.0 / a.done.max(b.done).as_secs_f64();
        assert!(
            together > alone_rate * 1.3,
            "together {together:.0} tok/s, one alone {alone_rate:.0} tok/s"
        );
    })
    .await;
}
