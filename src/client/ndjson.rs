//! NDJSON streams: one JSON object per line, the last one final. An `{"error": ...}`
//! line ends the stream with `StreamError`; an end without a final chunk is
//! `StreamIncomplete`.

use super::error::FINAL_CHUNK;
use super::types::Final;
use super::{from_value, ClientError, Deadline, NextStep, MAX_BODY};
use futures_util::Stream;
use reqwest::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::pin::Pin;

pub type ChunkStream<T> = Pin<Box<dyn Stream<Item = Result<T, ClientError>> + Send>>;

pub(crate) fn decode<T>(resp: Response, deadline: Deadline) -> ChunkStream<T>
where
    T: DeserializeOwned + Final + Send + 'static,
{
    lines(
        resp,
        deadline,
        FINAL_CHUNK,
        |line, endpoint| match decode_line::<T>(line, endpoint) {
            None => Step::Skip,
            Some(Err(e)) => Step::Fail(e),
            Some(Ok(item)) if item.is_final() => Step::Last(item),
            Some(Ok(item)) => Step::Item(item),
        },
    )
}

/// What one line of a stream is.
pub(crate) enum Step<T> {
    /// Nothing to yield (a blank line, an SSE comment).
    Skip,
    Item(T),
    /// The last item: the stream is whole.
    Last(T),
    /// The stream is whole, with nothing more to yield (SSE's `data: [DONE]`).
    End,
    Fail(ClientError),
}

/// A stream of the lines of a body, each decoded by `step`; a body that ends before a
/// `Last` or `End` is `StreamIncomplete`, which names `end`, what should have ended it.
pub(crate) fn lines<T, F>(
    mut resp: Response,
    deadline: Deadline,
    end: &'static str,
    step: F,
) -> ChunkStream<T>
where
    T: Send + 'static,
    F: Fn(&[u8], &str) -> Step<T> + Send + 'static,
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
                let stop = next + offset + 1;
                let decoded = step(&buf[line_start..stop], &deadline.endpoint);
                (line_start, next) = (stop, stop);
                match decoded {
                    Step::Skip => continue,
                    Step::Fail(e) => { yield Err(e); return; }
                    Step::End => return,
                    Step::Item(item) => { chunks += 1; yield Ok(item); }
                    Step::Last(item) => { yield Ok(item); return; }
                }
            }
            buf.drain(..line_start);
        }
        yield Err(ClientError::StreamIncomplete { endpoint: deadline.endpoint.clone(), chunks, end, next: NextStep::default() });
    })
}

/// One line: `None` if blank, an error line as `StreamError`.
pub(crate) fn decode_line<T: DeserializeOwned>(
    line: &[u8],
    endpoint: &str,
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
            next: NextStep::default(),
        }));
    }
    Some(from_value(value, endpoint))
}
