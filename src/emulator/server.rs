//! The emulator's HTTP API: the endpoints of ollama-facts.md with real-shaped JSON.
// Handlers return a ready `Response` as their error: that is the answer to send.
#![allow(clippy::result_large_err)]

use super::catalog::{self, sha256_hex};
use super::generate::{self, nanos, Pacer};
use super::state::{
    default_keep_alive, requested_keep_alive, timestamp, Installed, Keep, Loaded, Shared,
};
use crate::client::types::*;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

type S = State<Arc<Shared>>;

pub const JSON: &str = "application/json; charset=utf-8";
pub const NDJSON: &str = "application/x-ndjson";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/api/version", get(version))
        .route("/api/tags", get(tags))
        .route("/api/ps", get(ps))
        .route("/api/show", post(show))
        .route("/api/chat", post(chat))
        .route("/api/generate", post(generate))
        .route("/api/embed", post(embed))
        .route("/api/pull", post(pull))
        .route("/api/create", post(create))
        .route("/api/delete", axum::routing::delete(delete))
        .route("/v1/chat/completions", post(chat_completions))
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found") })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            super::faults::middleware,
        ))
        // Control routes: neither logged nor faulted.
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/faults", put(set_faults))
        .with_state(shared)
}

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }))
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).expect("emulator bodies serialise");
    (status, [(header::CONTENT_TYPE, JSON)], text).into_response()
}

/// An NDJSON body whose lines come from `lines`, one body piece per line.
fn ndjson(lines: impl futures_util::Stream<Item = Value> + Send + 'static) -> Response {
    use futures_util::StreamExt;
    let body = lines.map(|v| {
        let mut line = serde_json::to_vec(&v).expect("emulator lines serialise");
        line.push(b'\n');
        Ok::<_, std::io::Error>(Bytes::from(line))
    });
    ([(header::CONTENT_TYPE, NDJSON)], Body::from_stream(body)).into_response()
}

/// Parses a request body the way Ollama answers bad ones: 400 with a JSON error.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Value), Response> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("invalid request body: {e}"),
        )
    })?;
    let typed = serde_json::from_value(value.clone())
        .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok((typed, value))
}

/// Ollama streams unless told `"stream": false`.
fn wants_stream(value: &Value) -> bool {
    value.get("stream").and_then(Value::as_bool).unwrap_or(true)
}

async fn root() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        crate::client::GREETING,
    )
}

async fn version(State(s): S) -> Response {
    let version = s.config.lock().unwrap().version.clone();
    json_response(StatusCode::OK, &VersionResponse { version })
}

async fn tags(State(s): S) -> Response {
    let models = s.models.lock().unwrap();
    let mut list: Vec<&Installed> = models.installed.values().collect();
    list.sort_by_key(|m| std::cmp::Reverse(m.modified_at));
    let models = list.into_iter().map(Installed::info).collect();
    json_response(StatusCode::OK, &TagsResponse { models })
}

async fn ps(State(s): S) -> Response {
    let models = s.models.lock().unwrap().running();
    json_response(StatusCode::OK, &PsResponse { models })
}

async fn requests(State(s): S) -> Response {
    json_response(StatusCode::OK, &*s.log.lock().unwrap())
}

async fn set_faults(State(s): S, body: Bytes) -> Response {
    match serde_json::from_slice(&body) {
        Ok(faults) => {
            s.config.lock().unwrap().faults = faults;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn require_model(value: &Value) -> Result<String, Response> {
    value
        .get("model")
        .or_else(|| value.get("name"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "model is required"))
}

async fn show(State(s): S, body: Bytes) -> Response {
    let value: Value = match parse(&body) {
        Ok((v, _)) => v,
        Err(r) => return r,
    };
    let name = match require_model(&value) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let models = s.models.lock().unwrap();
    let Some(m) = models.get(&name) else {
        return error(StatusCode::NOT_FOUND, format!("model '{name}' not found"));
    };
    let weights = format!(
        "/root/.ollama/models/blobs/sha256-{}",
        m.base.weights_digest()
    );
    let parameters = go_parameters(&m.parameters);
    let mut modelfile = format!(
        "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM {}\n\nFROM {weights}\nTEMPLATE {}\n",
        m.name,
        modelfile_quote(&m.template)
    );
    if let Some(system) = m.system.as_deref().filter(|s| !s.is_empty()) {
        modelfile.push_str(&format!("SYSTEM {}\n", modelfile_quote(system)));
    }
    for (k, v) in &m.parameters {
        for item in list_items(v) {
            let value = modelfile_quote(&go_value(&item, false));
            modelfile.push_str(&format!("PARAMETER {k} {value}\n"));
        }
    }
    let family = m.base.family;
    let mut model_info = Map::new();
    model_info.insert("general.architecture".into(), family.into());
    model_info.insert(
        "general.parameter_count".into(),
        m.base.parameter_count.into(),
    );
    model_info.insert("general.file_type".into(), 15.into());
    model_info.insert(
        format!("{family}.context_length"),
        m.base.context_length.into(),
    );
    model_info.insert(
        format!("{family}.embedding_length"),
        m.base.embedding_length.into(),
    );
    model_info.insert(format!("{family}.block_count"), m.base.block_count.into());
    let capabilities = if m.base.embedding_only {
        vec!["embedding".to_string()]
    } else {
        vec!["completion".to_string()]
    };
    json_response(
        StatusCode::OK,
        &ShowResponse {
            license: None,
            modelfile,
            parameters,
            template: m.template.clone(),
            system: m.system.clone(),
            details: m.details(),
            model_info,
            capabilities,
            modified_at: timestamp(m.modified_at),
            remote: Default::default(),
        },
    )
}

/// `parameters` as `/api/show` prints them: Go's `%-30s %#v`, one line per list item;
/// numbers as Go prints the float64 they decode to.
fn go_parameters(params: &Map<String, Value>) -> String {
    let mut lines = Vec::new();
    for (k, v) in params {
        for item in list_items(v) {
            lines.push(format!("{k:<30} {}", go_value(&item, true)));
        }
    }
    lines.join("\n")
}

/// A list's items, or the value alone.
fn list_items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// A parameter's value as Go prints it: `%#v` (`quoted`) or `%v`.
fn go_value(v: &Value, quoted: bool) -> String {
    match v {
        Value::Number(n) => crate::go::format_float(n.as_f64().unwrap_or_default()),
        Value::String(s) if !quoted => s.clone(),
        other => other.to_string(),
    }
}

/// A Modelfile value as Ollama's `ollama show --modelfile` writes it (`parser.quote`):
/// bare, or in quotes where it spans lines or starts or ends with a space.
fn modelfile_quote(s: &str) -> String {
    if s.contains('\n') || s.starts_with(' ') || s.ends_with(' ') {
        if s.contains('"') {
            return format!("\"\"\"{s}\"\"\"");
        }
        return format!("\"{s}\"");
    }
    s.to_string()
}

/// What a generation needs once the model is loaded and the prompt processed.
struct Prepared {
    /// The model as the request named it, which the answer repeats.
    model: String,
    request_start: Instant,
    load: Duration,
    prompt_tokens: u64,
    prompt_eval: Duration,
    tokens: u64,
    done_reason: &'static str,
    rate: f64,
    /// The model is busy until this ends; its keep-alive then starts over.
    answering: Answering,
    /// The first tokens that are thoughts (`message.thinking`), not content.
    thinking: u64,
}

/// A model answering a request. As in Ollama, whose scheduler starts a model's
/// keep-alive timer only once no request uses it, the model does not expire while it
/// answers; when the answer ends (done, or the client gone) the timer starts over.
struct Answering {
    s: Arc<Shared>,
    model: String,
    /// The load it answers on (`Loaded::load_id`).
    load_id: u64,
    done: bool,
}

impl Answering {
    fn finish(&mut self) {
        if !std::mem::replace(&mut self.done, true) {
            touch(&self.s, &self.model, None, Some(self.load_id));
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.finish();
    }
}

/// What a request asks the model to read: a system prompt of its own, which replaces
/// the model's (`None`: the model's `SYSTEM`), then its text.
struct Prompt<'a> {
    system: Option<&'a str>,
    text: String,
}

impl<'a> Prompt<'a> {
    /// A chat's messages: a leading system message replaces the model's, as Ollama's
    /// chat handler does.
    fn of_chat(messages: &'a [Message]) -> Self {
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

/// Looks the model up, loads it (paying the cold load time) and processes the prompt.
/// Like Ollama, a loaded model keeps the last prompt in its KV cache: the tokens a new
/// prompt shares with it from the start are not processed again, so they cost no
/// `prompt_eval_duration`, while `prompt_eval_count` still counts the whole prompt.
async fn prepare(
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
    let (model, cold, system) = {
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
        (m, cold, models.installed[&key].system.clone())
    };
    if cold {
        tokio::time::sleep(config.load_time()).await;
        for line in super::log::load(
            &config,
            &model,
            model.context_length(config.default_context()),
        ) {
            s.server_log.push(line);
        }
    }
    let load_id = mark_loaded(s, &model, &config, requested, true);
    let answering = Answering {
        s: s.clone(),
        model: model.name.clone(),
        load_id,
        done: false,
    };
    let load = request_start.elapsed();

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
        rate: config.token_rate,
        answering,
        thinking: 0,
    })
}

/// Puts `full` in the loaded model's cache; returns the fraction of it that the prompt
/// cached before shares from the start.
fn cache_prompt(s: &Shared, model: &str, full: String) -> f64 {
    let key = crate::ModelName::parse(model).canonical();
    let mut models = s.models.lock().unwrap();
    let Some(loaded) = models.loaded.get_mut(&key) else {
        return 0.0;
    };
    let shared = loaded
        .cached_prompt
        .chars()
        .zip(full.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let fraction = shared as f64 / full.chars().count().max(1) as f64;
    loaded.cached_prompt = full;
    fraction
}

/// Loads `m` (or refreshes its load) for a request, `answering` it or not, and returns
/// the load's id. Its keep-alive is the one `requested`, else the loaded model's own,
/// else the server's default, as Ollama's scheduler does.
fn mark_loaded(
    s: &Shared,
    m: &Installed,
    config: &super::config::EmulatorConfig,
    requested: Option<Keep>,
    answering: bool,
) -> u64 {
    let context_length = m.context_length(config.default_context());
    // Weights plus a KV cache for the whole context, as the real server reports.
    let size = m.size + context_length * m.base.block_count * 2048;
    let size_vram = (size as f64 * config.effective_offload()).round() as u64;
    let key = crate::ModelName::parse(&m.name).canonical();
    let mut models = s.models.lock().unwrap();
    // A model already loaded keeps its cache and, unless asked otherwise, its keep-alive.
    let before = models.loaded.remove(&key);
    let keep = requested.unwrap_or_else(|| match &before {
        Some(l) => l.keep,
        None => default_keep_alive(&config.env),
    });
    let busy = before.as_ref().map_or(0, |l| l.busy) + u32::from(answering);
    let load_id = match &before {
        Some(l) => l.load_id,
        None => {
            models.loads += 1;
            models.loads
        }
    };
    // Idle after this request (a load-only one with nothing in flight): the keep-alive
    // starts now. Otherwise a loaded model keeps its expiry until it is idle again.
    let expires = match &before {
        Some(l) if busy > 0 => l.expires,
        _ => keep.map(|k| Instant::now() + k),
    };
    models.loaded.insert(
        key,
        Loaded {
            size,
            size_vram,
            expires,
            keep,
            busy,
            load_id,
            fresh: busy > 0 && before.as_ref().is_none_or(|l| l.fresh),
            context_length,
            cached_prompt: before.map(|l| l.cached_prompt).unwrap_or_default(),
        },
    );
    load_id
}

/// After an answer on the load `answered` (its `load_id`), or a request setting the
/// model's keep-alive to `keep`, the keep-alive starts over once no request is using the
/// model; a keep-alive of 0 then unloads it. An answer whose load is gone (the model was
/// deleted or unloaded meanwhile) leaves a later load alone.
fn touch(s: &Shared, model: &str, keep: Option<Keep>, answered: Option<u64>) {
    let key = crate::ModelName::parse(model).canonical();
    let mut models = s.models.lock().unwrap();
    let Some(l) = models.loaded.get_mut(&key) else {
        return;
    };
    if let Some(load_id) = answered {
        if load_id != l.load_id {
            return;
        }
        l.busy = l.busy.saturating_sub(1);
    }
    if let Some(keep) = keep {
        l.keep = keep;
    }
    if l.busy > 0 {
        return;
    }
    l.fresh = false;
    if l.keep == Some(Duration::ZERO) {
        models.loaded.remove(&key);
    } else {
        l.expires = l.keep.map(|k| Instant::now() + k);
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
    let pacer = Pacer::new(p.rate);
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
            for line in super::log::load(&config, &m, m.context_length(config.default_context())) {
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

async fn chat(State(s): S, body: Bytes) -> Response {
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

async fn generate(State(s): S, body: Bytes) -> Response {
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

async fn embed(State(s): S, body: Bytes) -> Response {
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

async fn chat_completions(State(s): S, body: Bytes) -> Response {
    let openai_error = |status: StatusCode, message: String| {
        json_response(
            status,
            &json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}),
        )
    };
    let (req, value): (ChatCompletionRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if value.get("stream").and_then(Value::as_bool) == Some(true) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "the emulator answers /v1/chat/completions without streaming only".into(),
        );
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
        // The OpenAI endpoint wraps Ollama's message in its own error shape.
        Err(resp) => {
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let message = serde_json::from_slice::<ErrorBody>(&body)
                .map(|e| e.error)
                .unwrap_or_default();
            return openai_error(status, message);
        }
    };
    Pacer::new(p.rate).wait_for(p.tokens).await;
    p.answering.finish();
    let content: String = (0..p.tokens as usize).map(generate::token).collect();
    let completion = ChatCompletion {
        id: format!("chatcmpl-{}", s.log.lock().unwrap().len()),
        object: "chat.completion".into(),
        created: Utc::now().timestamp(),
        model: p.model.clone(),
        system_fingerprint: "fp_ollama".into(),
        choices: vec![Choice {
            index: 0,
            message: Message {
                role: "assistant".into(),
                content,
                thinking: None,
            },
            finish_reason: Some(p.done_reason.into()),
        }],
        usage: Usage {
            prompt_tokens: p.prompt_tokens,
            completion_tokens: p.tokens,
            total_tokens: p.prompt_tokens + p.tokens,
        },
    };
    json_response(StatusCode::OK, &completion)
}

async fn pull(State(s): S, body: Bytes) -> Response {
    let (_, value): (Value, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let name = match require_model(&value) {
        Ok(n) => n,
        Err(r) => return r,
    };
    const MISSING: &str = "pull model manifest: file does not exist";
    let Some(model) = catalog::find(&name) else {
        return if wants_stream(&value) {
            // Ollama says what it does before the registry answers.
            ndjson(futures_util::stream::iter([
                json!({ "status": "pulling manifest" }),
                json!({ "error": MISSING }),
            ]))
        } else {
            error(StatusCode::INTERNAL_SERVER_ERROR, MISSING)
        };
    };
    let pull_time = Duration::from_millis(s.config.lock().unwrap().pull_time_ms);
    let install = move |s: &Shared| {
        s.models
            .lock()
            .unwrap()
            .insert(Installed::from_catalog(model))
    };
    if !wants_stream(&value) {
        tokio::time::sleep(pull_time).await;
        install(&s);
        return json_response(StatusCode::OK, &json!({"status": "success"}));
    }
    let digest = format!("sha256:{}", model.weights_digest());
    let lines = async_stream::stream! {
        yield json!({"status": "pulling manifest"});
        const STEPS: u64 = 5;
        for step in 0..=STEPS {
            yield json!({
                "status": format!("pulling {}", &model.weights_digest()[..12]),
                "digest": digest, "total": model.size, "completed": model.size * step / STEPS,
            });
            tokio::time::sleep(pull_time / STEPS as u32).await;
        }
        for layer in ["template", "params", "license"] {
            let d = sha256_hex(&format!("{layer}:{}", model.name));
            yield json!({"status": format!("pulling {}", &d[..12]), "digest": format!("sha256:{d}"), "total": 487, "completed": 487});
        }
        yield json!({"status": "verifying sha256 digest"});
        yield json!({"status": "writing manifest"});
        install(&s);
        yield json!({"status": "success"});
    };
    ndjson(lines)
}

async fn create(State(s): S, body: Bytes) -> Response {
    let (req, value): (CreateRequest, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.model.is_empty() {
        return error(StatusCode::BAD_REQUEST, "model is required");
    }
    // Older clients send the Modelfile text itself.
    let legacy = match value.get("modelfile").and_then(Value::as_str) {
        Some(text) => match crate::modelfile::Modelfile::parse(text) {
            Ok(mf) => Some(mf),
            Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        },
        None => None,
    };
    let from = req
        .from
        .clone()
        .or_else(|| legacy.as_ref().map(|m| m.from.clone()));
    let Some(from) = from else {
        return error(
            StatusCode::BAD_REQUEST,
            "neither 'from' or 'files' was specified",
        );
    };
    let parameters = req
        .parameters
        .clone()
        .or_else(|| legacy.as_ref().map(|m| m.parameters_json()))
        .unwrap_or_default();
    let system = req
        .system
        .clone()
        .or_else(|| legacy.as_ref().and_then(|m| m.system.clone()));
    let template = req
        .template
        .clone()
        .or_else(|| legacy.as_ref().and_then(|m| m.template.clone()));
    let created = s
        .models
        .lock()
        .unwrap()
        .create(&req.model, &from, parameters, system, template)
        .map(|m| (m.base.weights_digest(), m.digest.clone()));
    let stream = wants_stream(&value);
    match created {
        Err(message) if stream => ndjson(futures_util::stream::iter([json!({ "error": message })])),
        Err(message) => error(StatusCode::NOT_FOUND, message),
        Ok(_) if !stream => json_response(StatusCode::OK, &json!({"status": "success"})),
        Ok((weights, digest)) => ndjson(futures_util::stream::iter([
            json!({"status": format!("using existing layer sha256:{weights}")}),
            json!({"status": format!("creating new layer sha256:{}", sha256_hex(&digest))}),
            json!({"status": "writing manifest"}),
            json!({"status": "success"}),
        ])),
    }
}

async fn delete(State(s): S, body: Bytes) -> Response {
    let (value, _): (Value, Value) = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let name = match require_model(&value) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let key = crate::ModelName::parse(&name).canonical();
    let mut models = s.models.lock().unwrap();
    // Shared weights stay for the models built on them, as Ollama's blob store keeps them.
    match models.installed.remove(&key) {
        Some(_) => {
            models.loaded.remove(&key);
            StatusCode::OK.into_response()
        }
        None => error(StatusCode::NOT_FOUND, format!("model '{name}' not found")),
    }
}
