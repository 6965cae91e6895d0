//! NDJSON streams: one JSON object per line, the last one final. An `{"error": ...}`
//! line ends the stream with `StreamError`; an end without a final chunk is
//! `StreamIncomplete`.

use super::types::Final;
use super::{from_value, ClientError, Deadline, MAX_BODY};
use futures_util::Stream;
use reqwest::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::pin::Pin;

pub type ChunkStream<T> = Pin<Box<dyn Stream<Item = Result<T, ClientError>> + Send>>;

pub(crate) fn decode<T>(mut resp: Response, deadline: Deadline) -> ChunkStream<T>
where
    T: DeserializeOwned + Final + Send + 'static,
{
    Box::pin(async_stream::stream! {
        let mut buf: Vec<u8> = Vec::new();
        let mut seen = 0usize;
        let mut chunks = 0usize;
        let mut ended = false;
        while !ended {
            let piece = match deadline.next_chunk(&mut resp, seen).await {
                Ok(Some(piece)) => piece,
                Ok(None) => {
                    ended = true;
                    // A last line without its newline still counts.
                    bytes::Bytes::from_static(b"\n")
                }
                Err(e) => { yield Err(e); return; }
            };
            seen += piece.len();
            // The bytes held over hold no newline: only the new piece is searched, so a
            // long line arriving in small pieces costs linear time, not quadratic.
            let mut next = buf.len();
            buf.extend_from_slice(&piece);
            if buf.len() > MAX_BODY {
                yield Err(ClientError::TooLarge { endpoint: deadline.endpoint.clone(), limit: MAX_BODY });
                return;
            }
            let mut line_start = 0;
            while let Some(offset) = buf[next..].iter().position(|&b| b == b'\n') {
                let end = next + offset + 1;
                let decoded = decode_line::<T>(&buf[line_start..end], &deadline.endpoint, &deadline.server);
                (line_start, next) = (end, end);
                match decoded {
                    None => continue,
                    Some(Err(e)) => { yield Err(e); return; }
                    Some(Ok(item)) => {
                        chunks += 1;
                        let last = item.is_final();
                        yield Ok(item);
                        if last { return; }
                    }
                }
            }
            buf.drain(..line_start);
        }
        yield Err(ClientError::StreamIncomplete { endpoint: deadline.endpoint.clone(), chunks, server: deadline.server.clone() });
    })
}

/// One line: `None` if blank, an error line as `StreamError`.
pub(crate) fn decode_line<T: DeserializeOwned>(
    line: &[u8],
    endpoint: &str,
    server: &super::ServerKind,
) -> Option<Result<T, ClientError>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(_) => {
            return Some(Err(ClientError::NotJson {
                endpoint: endpoint.to_string(),
                content_type: "an NDJSON line".into(),
                excerpt: super::excerpt(line),
            }))
        }
    };
    if let Some(message) = value.get("error").and_then(Value::as_str) {
        return Some(Err(ClientError::StreamError {
            endpoint: endpoint.to_string(),
            message: message.to_string(),
            server: server.clone(),
        }));
    }
    Some(from_value(value, endpoint))
}
