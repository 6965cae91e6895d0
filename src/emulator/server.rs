//! The emulator's HTTP API: the endpoints of ollama-facts.md with real-shaped JSON.
//! The router, the server's own endpoints and the control routes; the handlers of
//! models and of inference live beside it.

use super::respond::{error, json_response, S};
use super::state::Shared;
use super::{inference, models, openai};
use crate::client::types::VersionResponse;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use std::sync::Arc;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/api/version", get(version))
        .route("/api/tags", get(models::tags))
        .route("/api/ps", get(models::ps))
        .route("/api/show", post(models::show))
        .route("/api/chat", post(inference::chat))
        .route("/api/generate", post(inference::generate))
        .route("/api/embed", post(inference::embed))
        .route("/api/pull", post(models::pull))
        .route("/api/create", post(models::create))
        .route("/api/delete", axum::routing::delete(models::delete))
        .route("/v1/models", get(openai::models))
        .route("/v1/chat/completions", post(openai::chat_completions))
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
