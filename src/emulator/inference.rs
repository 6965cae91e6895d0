//! The inference endpoints: `/api/chat`, `/api/generate` and `/api/embed` (the
//! OpenAI-compatible ones share [`prepare`], in `openai.rs`). Each loads its model
//! (paying the cold load time), waits for one of its parallel slots, reads the prompt
//! and answers with paced tokens and honest statistics.
// Handlers return a ready `Response` as their error: that is the answer to send.
#![allow(clippy::result_large_err)]

use super::generate::{self, nanos, Pacer};
use super::log;
use super::respond::{error, json_response, ndjson, parse, wants_stream, S};
use super::scheduler::{cache_prompt, mark_loaded, touch, Answering};
use super::state::{requested_keep_alive, timestamp, Shared};
use crate::client::types::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a generation needs once the model is loaded and the prompt processed.
pub(super) struct Prepared {
    /// The model as the request named it, which the answer repeats.
    pub(super) model: String,
    pub(super) request_start: Instant,
    pub(super) load: Duration,
    pub(super) prompt_tokens: u64,
    pub(super) prompt_eval: Duration,
    pub(super) tokens: u64,
    pub(super) done_reason: &'static str,
    pub(super) rate: f64,
    /// How much each other stream generating beside this one slows it.
    pub(super) slowdown: f64,
    /// The model is busy until this ends; its keep-alive then starts over, and its
    /// slot goes to the next request.
    pub(super) answering: Answering,
    /// The first tokens that are thoughts (`message.thinking`), not content.
    pub(super) thinking: u64,
}

/// What a request asks the model to read: a system prompt of its own, which replaces
/// the model's (`None`: the model's `SYSTEM`), then its text.
pub(super) struct Prompt<'a> {
    system: Option<&'a str>,
    text: String,
}

impl<'a> Prompt<'a> {
    /// A chat's messages: a leading system message replaces the model's, as Ollama's
    /// chat handler does.
    pub(super) fn of_chat(messages: &'a [Message]) -> Self {
        let (system, rest) = match messages.split_first() {
            Some((first, rest)) if first.role == "system" => (Some(first.content.as_str()), rest),
            _ => (None, messages),
        };
        let text: Vec<&str> = rest.iter().map(|m| m.content.as_str()).collect();
        Prompt {
            system,
            text: text.join("\n"),
        }
    }
}

/// Looks the model up, loads it (paying the cold load time), waits for a parallel slot
/// and processes the prompt. Like Ollama, a loaded model keeps the last prompt in its
/// KV cache: the tokens a new prompt shares with it from the start are not processed
/// again, so they cost no `prompt_eval_duration`, while `prompt_eval_count` still
/// counts the whole prompt.
pub(super) async fn prepare(
    s: &Arc<Shared>,
    name: &str,
    prompt: Prompt<'_>,
    options: Option<&Value>,
    keep_alive_value: Option<&Value>,
    // What the request asks of the model ("chat", "generate"); `None` for embeddings.
    completion: Option<&str>,
) -> Result<Prepared, Response> {
    let request_start = Instant::now();
    let config = s.config.lock().unwrap().clone();
    let requested =
        requested_keep_alive(keep_alive_value).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let (model, cold, system, number) = {
        let mut models = s.models.lock().unwrap();
        models.running(); // drop expired loads

        // As Ollama's chat, generate and embed handlers answer a model it does not
        // have (GetModel: os.ErrNotExist), naming it as the request did.
        let Some(m) = models.get(name).cloned() else {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("model '{name}' not found"),
            ));
        };
        if let Some(verb) = completion.filter(|_| m.base.embedding_only) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("\"{}\" does not support {verb}", m.name),
            ));
        }
        let key = crate::ModelName::parse(&m.name).canonical();
        let cold = !models.loaded.contains_key(&key);
        models.generations += 1;
        let number = models.generations;
        (m, cold, models.installed[&key].system.clone(), number)
    };
    if cold {
        tokio::time::sleep(config.load_time()).await;
        for line in log::load(
            &config,
            &model,
            model.context_length(config.default_context()),
        ) {
            s.server_log.push(line);
        }
    }
    let mut answering = Answering::begin(s, &model, &config, requested);
    let load = request_start.elapsed();
    // Every slot busy: wait for one, first come first served. As in Ollama, where the
    // runner's slots are taken after the scheduler hands the request over, the wait
    // is in neither load_duration nor prompt_eval_duration, only in total_duration.
    answering.take_slot().await;

    let system = prompt.system.map(str::to_string).or(system);
    let text = &prompt.text;
    let prompt_tokens = generate::count_tokens(text)
        + system
            .as_deref()
            .filter(|s| !s.is_empty())
            .map_or(0, generate::count_tokens)
        + 8;
    let full = format!("{}\n{text}", system.unwrap_or_default());
    let cached = (prompt_tokens as f64 * cache_prompt(s, &model.name, full)) as u64;
    let cached = cached.min(prompt_tokens - 1);
    let prompt_start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(
        (prompt_tokens - cached) as f64 / config.prompt_rate,
    ))
    .await;
    let prompt_eval = prompt_start.elapsed();

    let num_predict = options
        .and_then(|o| o.get("num_predict"))
        .and_then(Value::as_i64)
        .filter(|n| *n >= 0)
        .map(|n| n as u64);
    let uncapped = config.answer_tokens_for(text);
    let (tokens, done_reason) = match num_predict {
        Some(n) if n < uncapped => (n, "length"),
        _ => (uncapped, "stop"),
    };
    Ok(Prepared {
        // Ollama's handlers answer with the name as the request spelled it (req.Model).
        model: name.to_string(),
        request_start,
        load,
        prompt_tokens,
        prompt_eval,
        tokens,
        done_reason,
        rate: config.token_rate_of(number),
        slowdown: config.parallel_slowdown,
        answering,
        thinking: 0,
    })
}

impl Prepared {
    /// The pace of this answer's tokens, sharing the GPU with whatever else generates
    /// on the model's slots.
    pub(super) fn pacer(&self) -> Pacer {
        Pacer::sharing(self.rate, self.answering.slots().clone(), self.slowdown)
    }
}

fn stats(p: &Prepared, eval: Duration, tokens: u64) -> Stats {
    Stats {
        total_duration: Some(nanos(p.request_start.elapsed())),
        load_duration: Some(nanos(p.load)),
        prompt_eval_count: Some(p.prompt_tokens),
        prompt_eval_duration: Some(nanos(p.prompt_eval)),
        eval_count: Some(tokens),
        eval_duration: Some(nanos(eval)),
    }
}

#[derive(Clone, Copy)]
enum Shape {
    Chat,
    Generate,
}

fn chunk(shape: Shape, model: &str, text: &str, done: bool) -> Value {
    let now = timestamp(Utc::now());
    match shape {
        Shape::Chat => json!({
            "model": model, "created_at": now,
            "message": {"role": "assistant", "content": text}, "done": done
        }),
        Shape::Generate => json!({
            "model": model, "created_at": now, "response": text, "done": done
        }),
    }
}

fn final_chunk(shape: Shape, p: &Prepared, text: &str, eval: Duration, tokens: u64) -> Value {
    let mut v = chunk(shape, &p.model, text, true);
    v["done_reason"] = p.done_reason.into();
    if let Shape::Generate = shape {
        v["context"] = json!([151644, 872, 198, 151645]);
    }
    let stats = serde_json::to_value(stats(p, eval, tokens)).expect("stats serialise");
    if let (Value::Object(out), Value::Object(st)) = (&mut v, stats) {
        out.extend(st);
    }
    v
}

/// Serves one generation: paced tokens, streamed or as one object.
async fn answer(mut p: Prepared, shape: Shape, stream: bool) -> Response {
    let mut pacer = p.pacer();
    let thought = p.thinking as usize;
    if !stream {
        pacer.wait_for(p.tokens).await;
        let eval = pacer.elapsed();
        let text: String = (thought..p.tokens as usize).map(generate::token).collect();
        p.answering.finish();
        let mut v = final_chunk(shape, &p, &text, eval, p.tokens);
        if thought > 0 {
            v["message"]["thinking"] = (0..thought).map(generate::token).collect::<String>().into();
        }
        return json_response(StatusCode::OK, &v);
    }
    let lines = async_stream::stream! {
        for i in 0..p.tokens {
            pacer.wait_for(i + 1).await;
            let mut v = chunk(shape, &p.model, generate::token(i as usize), false);
            if (i as usize) < thought {
                v["message"]["content"] = "".into();
                v["message"]["thinking"] = generate::token(i as usize).into();
            }
            yield v;
        }
        let eval = pacer.elapsed();
        p.answering.finish();
        yield final_chunk(shape, &p, "", eval, p.tokens);
    };
    ndjson(lines)
}

/// An empty prompt only loads the model (or, with `keep_alive: 0`, unloads it).
fn load_only(s: &Shared, shape: Shape, name: &str, keep_value: Option<&Value>) -> Option<Response> {
    let requested = match requested_keep_alive(keep_value) {
        Ok(k) => k,
        Err(e) => return Some(error(StatusCode::BAD_REQUEST, e)),
    };
    let mut models = s.models.lock().unwrap();
    models.running(); // drop expired loads: one that ran out is loaded afresh
    let m = models.get(name)?.clone();
    drop(models);
    let reason = if requested == Some(Some(Duration::ZERO)) {
        touch(s, &m.name, Some(Some(Duration::ZERO)), None);
        "unload"
    } else {
        let config = s.config.lock().unwrap().clone();
        let key = crate::ModelName::parse(&m.name).canonical();
        if !s.models.lock().unwrap().loaded.contains_key(&key) {
            for line in log::load(&config, &m, m.context_length(config.default_context())) {
                s.server_log.push(line);
            }
        }
        mark_loaded(s, &m, &config, requested, false);
        "load"
    };
    let mut v = chunk(shape, name, "", true);
    v["done_reason"] = reason.into();
    Some(json_response(StatusCode::OK, &v))
}

pub async fn chat(State(s): S, body: Bytes) -> Response {
    let (req, value): (ChatRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.messages.is_empty() {
        if let Some(r) = load_only(&s, Shape::Chat, &req.model, value.get("keep_alive")) {
            return r;
        }
    }
    match prepare(
        &s,
        &req.model,
        Prompt::of_chat(&req.messages),
        value.get("options"),
        value.get("keep_alive"),
        Some("chat"),
    )
    .await
    {
        Ok(mut p) => {
            // A thinking model thinks unless told not to (`think` unset counts as true).
            if value.get("think") != Some(&Value::Bool(false)) {
                p.thinking = s.config.lock().unwrap().thinking_tokens.min(p.tokens);
            }
            answer(p, Shape::Chat, wants_stream(&value)).await
        }
        Err(r) => r,
    }
}

pub async fn generate(State(s): S, body: Bytes) -> Response {
    let (req, value): (GenerateRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.prompt.is_empty() {
        if let Some(r) = load_only(&s, Shape::Generate, &req.model, value.get("keep_alive")) {
            return r;
        }
    }
    let prompt = Prompt {
        system: req.system.as_deref(),
        text: req.prompt.clone(),
    };
    match prepare(
        &s,
        &req.model,
        prompt,
        value.get("options"),
        value.get("keep_alive"),
        Some("generate"),
    )
    .await
    {
        Ok(p) => answer(p, Shape::Generate, wants_stream(&value)).await,
        Err(r) => r,
    }
}

pub async fn embed(State(s): S, body: Bytes) -> Response {
    let (req, value): (EmbedRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let inputs: Vec<String> = match &req.input {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid input type: expected a string or a list of strings",
            )
        }
    };
    // Embeddings read the input alone, without a system prompt.
    let prompt = Prompt {
        system: Some(""),
        text: inputs.join("\n"),
    };
    let mut p = match prepare(&s, &req.model, prompt, None, value.get("keep_alive"), None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let dims = {
        let models = s.models.lock().unwrap();
        models
            .get(&req.model)
            .map_or(768, |m| m.base.embedding_length)
    };
    p.answering.finish();
    json_response(
        StatusCode::OK,
        &EmbedResponse {
            model: p.model.clone(),
            embeddings: inputs
                .iter()
                .map(|i| generate::embedding(i, dims))
                .collect(),
            total_duration: Some(nanos(p.request_start.elapsed())),
            load_duration: Some(nanos(p.load)),
            prompt_eval_count: Some(p.prompt_tokens),
        },
    )
}
