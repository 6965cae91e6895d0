//! Server-sent events of the OpenAI-compatible endpoints: `data: {json}` events, a
//! blank line between, `data: [DONE]` last. An event carrying `error` ends the stream
//! with `StreamError`; an end before `[DONE]` is `StreamIncomplete`.

use super::error::DONE_EVENT;
use super::ndjson::{lines, Step};
use super::types::ErrorBody;
use super::{from_value, ChunkStream, ClientError, Deadline, NextStep};
use reqwest::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) fn decode<T>(resp: Response, deadline: Deadline) -> ChunkStream<T>
where
    T: DeserializeOwned + Send + 'static,
{
    lines(resp, deadline, DONE_EVENT, event_line::<T>)
}

/// One line of the stream: only `data:` lines carry anything.
pub(crate) fn event_line<T: DeserializeOwned>(line: &[u8], endpoint: &str) -> Step<T> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    // Blank lines end events; `event:`, `id:`, `retry:` and `:` comments say nothing here.
    let Some(data) = text.strip_prefix("data:") else {
        return Step::Skip;
    };
    let data = data.strip_prefix(' ').unwrap_or(data);
    if data.trim() == "[DONE]" {
        return Step::End;
    }
    let value: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(_) => {
            return Step::Fail(ClientError::NotJson {
                endpoint: endpoint.to_string(),
                content_type: "a `data:` event".into(),
                excerpt: super::excerpt(data.as_bytes()),
            })
        }
    };
    if value.get("error").is_some() {
        if let Ok(e) = serde_json::from_value::<ErrorBody>(value.clone()) {
            return Step::Fail(ClientError::StreamError {
                endpoint: endpoint.to_string(),
                message: e.message().to_string(),
                next: NextStep::default(),
            });
        }
    }
    match from_value(value, endpoint) {
        Ok(item) => Step::Item(item),
        Err(e) => Step::Fail(e),
    }
}
