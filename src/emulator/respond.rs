//! How the emulator reads requests and writes answers: JSON and NDJSON bodies, and
//! bad requests answered as Ollama answers them (a status with a JSON `error`).
// Handlers return a ready `Response` as their error: that is the answer to send.
#![allow(clippy::result_large_err)]

use super::state::Shared;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// What every handler extracts: the emulated server.
pub type S = State<Arc<Shared>>;

pub const JSON: &str = "application/json; charset=utf-8";
pub const NDJSON: &str = "application/x-ndjson";

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }))
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).expect("emulator bodies serialise");
    (status, [(header::CONTENT_TYPE, JSON)], text).into_response()
}

/// An NDJSON body whose lines come from `lines`, one body piece per line.
pub fn ndjson(lines: impl futures_util::Stream<Item = Value> + Send + 'static) -> Response {
    use futures_util::StreamExt;
    let body = lines.map(|v| {
        let mut line = serde_json::to_vec(&v).expect("emulator lines serialise");
        line.push(b'\n');
        Ok::<_, std::io::Error>(Bytes::from(line))
    });
    ([(header::CONTENT_TYPE, NDJSON)], Body::from_stream(body)).into_response()
}

/// Parses a request body the way Ollama answers bad ones: 400 with a JSON error.
pub fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Value), Response> {
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
pub fn wants_stream(value: &Value) -> bool {
    value.get("stream").and_then(Value::as_bool).unwrap_or(true)
}

/// The request's model (`model`, or the older `name`): 400 without one.
pub fn require_model(value: &Value) -> Result<String, Response> {
    value
        .get("model")
        .or_else(|| value.get("name"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "model is required"))
}
