//! Logs every request and injects the configured faults. Runs in front of every API
//! route; NDJSON handlers send one body piece per line, so counting pieces counts lines.

use super::config::FaultKind;
use super::respond::{error, JSON};
use super::state::{RequestRecord, Shared};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Request bodies the emulator reads; Ollama's are small.
const MAX_REQUEST: usize = 4 * 1024 * 1024;

pub async fn middleware(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let body = serde_json::from_slice::<Value>(&bytes).ok();
    let field = |name: &str| body.as_ref().and_then(|v| v.get(name)).cloned();
    let model = field("model")
        .or_else(|| field("name"))
        .and_then(|v| v.as_str().map(str::to_string));
    let keep_alive = field("keep_alive");
    let num_predict = field("options").and_then(|o| o.get("num_predict")?.as_i64());
    let path = parts.uri.path().to_string();
    let index = {
        let mut log = s.log.lock().unwrap();
        log.push(RequestRecord {
            method: parts.method.to_string(),
            path: path.clone(),
            model,
            keep_alive,
            num_predict,
            arrived_ms: s.now_ms(),
            done_ms: None,
        });
        log.len() - 1
    };
    let fault = {
        let config = s.config.lock().unwrap();
        config.faults.iter().find(|f| f.applies_to(&path)).cloned()
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    let resp = match fault {
        None => next.run(req).await,
        Some(fault) => with_fault(fault.kind, req, next).await,
    };
    let (parts, body) = resp.into_parts();
    let timed = Timed {
        body,
        _done: Done { s, index },
    };
    Response::from_parts(parts, Body::new(timed))
}

/// Marks its request answered when dropped: hyper drops a body once its last byte is
/// sent, or when the client goes.
struct Done {
    s: Arc<Shared>,
    index: usize,
}

impl Drop for Done {
    fn drop(&mut self) {
        let at = self.s.now_ms();
        if let Some(r) = self.s.log.lock().unwrap().get_mut(self.index) {
            r.done_ms = Some(at);
        }
    }
}

/// A response body that times its end; the rest is the inner body's (its size too, so
/// a fixed-length answer keeps its Content-Length).
struct Timed {
    body: Body,
    /// Only dropped: that is the end it marks.
    _done: Done,
}

impl axum::body::HttpBody for Timed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

async fn with_fault(kind: FaultKind, req: Request, next: Next) -> Response {
    match kind {
        FaultKind::Status { status, message } => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message,
        ),
        FaultKind::Malformed => body_of(JSON, "{\"models\": [{\"name\": \"qwen2.5-coder:7b\", "),
        FaultKind::WrongShape => body_of(JSON, "{\"models\": \"not a list\", \"status\": 1}"),
        FaultKind::WrongContentType => body_of(
            "text/html",
            "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>",
        ),
        FaultKind::HugeBody { bytes } => huge(bytes),
        FaultKind::StallBefore { seconds } => {
            tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
            next.run(req).await
        }
        kind => {
            let resp = next.run(req).await;
            rewrite_body(resp, kind)
        }
    }
}

fn body_of(content_type: &'static str, text: &'static str) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// A JSON object `bytes` long, sent in 64 KiB pieces.
fn huge(bytes: usize) -> Response {
    const PIECE: usize = 64 * 1024;
    let head = b"{\"pad\":\"".to_vec();
    let pieces = bytes.saturating_sub(head.len() + 2) / PIECE;
    let body = futures_util::stream::iter(
        std::iter::once(Bytes::from(head))
            .chain((0..pieces).map(|_| Bytes::from(vec![b'a'; PIECE])))
            .chain(std::iter::once(Bytes::from_static(b"\"}")))
            .map(Ok::<_, std::io::Error>),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, JSON)],
        Body::from_stream(body),
    )
        .into_response()
}

/// Applies a fault that acts on the body as it is sent.
fn rewrite_body(resp: Response, kind: FaultKind) -> Response {
    let (mut parts, body) = resp.into_parts();
    // The body's length changes or is never reached: send it chunked.
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut upstream = body.into_data_stream();
    let out = async_stream::stream! {
        let mut sent = 0usize;
        let mut lines = 0usize;
        let mut stalled = false;
        while let Some(piece) = upstream.next().await {
            let Ok(piece) = piece else {
                yield Err(std::io::Error::other("emulator body failed"));
                return;
            };
            match &kind {
                FaultKind::StallDuring { after_bytes, seconds } if !stalled && sent + piece.len() > *after_bytes => {
                    let cut = after_bytes - sent;
                    if cut > 0 {
                        yield Ok(piece.slice(..cut));
                    }
                    tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
                    stalled = true;
                    yield Ok(piece.slice(cut..));
                    sent += piece.len();
                    continue;
                }
                FaultKind::CloseMidBody { after_bytes } if sent + piece.len() > *after_bytes => {
                    let cut = after_bytes - sent;
                    if cut > 0 {
                        yield Ok(piece.slice(..cut));
                        // Pending a moment lets the server flush those bytes; an error
                        // at once would drop them with the connection.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    yield Err(std::io::Error::other("fault: connection closed mid-body"));
                    return;
                }
                FaultKind::ErrorLine { after_chunks, message } if lines == *after_chunks => {
                    let mut line = serde_json::to_vec(&serde_json::json!({ "error": message }))
                        .expect("error line serialises");
                    line.push(b'\n');
                    yield Ok(Bytes::from(line));
                    return;
                }
                FaultKind::EndEarly { after_chunks } if lines == *after_chunks => return,
                _ => {}
            }
            sent += piece.len();
            lines += 1;
            yield Ok(piece);
        }
    };
    Response::from_parts(parts, Body::from_stream(out))
}
