//! One error type for every way talking to a server can fail. Each message says what
//! was expected, what was seen, and what to try next.

use std::time::Duration;

/// Which part of an exchange ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opening the TCP connection.
    Connect,
    /// Waiting for the response to begin (a cold model load happens here).
    FirstByte,
    /// Waiting for the next piece of a body or stream that had started.
    Idle,
    /// The whole request, from send to last byte.
    Total,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::FirstByte => "first byte",
            Phase::Idle => "idle gap in the body",
            Phase::Total => "whole request",
        })
    }
}

/// Which deadlines apply to one exchange, and so which flag raises them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `GET /`, `/api/tags`, `/api/ps`, `/api/show`...: `--request-timeout` in all.
    Metadata,
    /// Chat, generate, embed, pull: `--load-timeout` to begin, then
    /// `--generation-timeout` in all.
    Generation,
}

/// The kind of a [`ClientError`], for matching without the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidUrl,
    ConnectionRefused,
    Connect,
    Timeout(Phase),
    Status(u16),
    Interrupted,
    TooLarge,
    NotJson,
    Shape,
    StreamError,
    StreamIncomplete,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    InvalidUrl(#[from] super::base_url::BaseUrlError),

    #[error("connection refused at {addr}: nothing listens there. Is the server running? Try `systemctl status ollama` (or `ollama serve`), and set OLLAMA_HOST or --host if it listens elsewhere")]
    ConnectionRefused { addr: String },

    #[error("could not connect to {addr}: {message}. Check the host name and port in OLLAMA_HOST or --host")]
    Connect { addr: String, message: String },

    #[error("{}", timeout_message(endpoint, *phase, *after, *budget))]
    Timeout {
        endpoint: String,
        phase: Phase,
        after: Duration,
        budget: Budget,
    },

    #[error("{endpoint}: expected a 2xx answer, got HTTP {status}{}. {}", message.as_deref().map(|m| format!(" \"{m}\"")).unwrap_or_default(), status_hint(*status, message.as_deref()))]
    Status {
        endpoint: String,
        status: u16,
        /// Ollama's `{"error": ...}` message, or an excerpt of a non-JSON body.
        message: Option<String>,
    },

    #[error("{endpoint}: the connection closed after {bytes} bytes, before the body was complete. The server may have crashed or restarted; check its log (`journalctl -u ollama`)")]
    Interrupted { endpoint: String, bytes: usize },

    #[error("{endpoint}: the body passed {limit} bytes, more than any Ollama answer should be; is something other than Ollama serving this port?")]
    TooLarge { endpoint: String, limit: usize },

    #[error("{endpoint}: expected a JSON body, got {content_type} that does not parse as JSON: `{excerpt}`. Is something other than Ollama listening there (a proxy, another service)?")]
    NotJson {
        endpoint: String,
        content_type: String,
        excerpt: String,
    },

    #[error("{endpoint}: the JSON does not have the shape of an Ollama answer at `{path}`: {message}. The server's version may not be one this tool knows; compare `ollama --version`")]
    Shape {
        endpoint: String,
        path: String,
        message: String,
    },

    #[error(
        "{endpoint}: the server reported an error in the middle of the stream: \"{message}\". {}",
        stream_hint(message)
    )]
    StreamError { endpoint: String, message: String },

    #[error("{endpoint}: expected the stream to end with a final chunk (`done: true`), but it ended after {chunks} chunk(s) without one. The server stopped mid-answer; check its log")]
    StreamIncomplete { endpoint: String, chunks: usize },
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::InvalidUrl(_) => ErrorKind::InvalidUrl,
            ClientError::ConnectionRefused { .. } => ErrorKind::ConnectionRefused,
            ClientError::Connect { .. } => ErrorKind::Connect,
            ClientError::Timeout { phase, .. } => ErrorKind::Timeout(*phase),
            ClientError::Status { status, .. } => ErrorKind::Status(*status),
            ClientError::Interrupted { .. } => ErrorKind::Interrupted,
            ClientError::TooLarge { .. } => ErrorKind::TooLarge,
            ClientError::NotJson { .. } => ErrorKind::NotJson,
            ClientError::Shape { .. } => ErrorKind::Shape,
            ClientError::StreamError { .. } => ErrorKind::StreamError,
            ClientError::StreamIncomplete { .. } => ErrorKind::StreamIncomplete,
        }
    }

    /// True when the server could not be reached at all (nothing else will work either).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::ConnectionRefused | ErrorKind::Connect | ErrorKind::Timeout(Phase::Connect)
        )
    }

    /// An answer no working Ollama gives to a request it knows: not JSON, the wrong
    /// shape, too large, a 404 that names no model, or a 5xx. With `GET /` failed too,
    /// it is the same wrong server, not a fault of its own.
    pub fn is_foreign(&self) -> bool {
        match self {
            ClientError::NotJson { .. }
            | ClientError::Shape { .. }
            | ClientError::TooLarge { .. } => true,
            ClientError::Status {
                status: 404,
                message,
                ..
            } => !message.as_deref().is_some_and(|m| m.contains("model")),
            ClientError::Status { status, .. } => (500..600).contains(status),
            _ => false,
        }
    }

    /// Unreachable, or reached but silent past a deadline (a hung server): asking it
    /// anything else would only wait out the same deadline again.
    pub fn is_unresponsive(&self) -> bool {
        self.is_unreachable() || matches!(self.kind(), ErrorKind::Timeout(_))
    }
}

fn timeout_message(endpoint: &str, phase: Phase, after: Duration, budget: Budget) -> String {
    let d = humanize(after);
    match (phase, budget) {
        (Phase::Connect, _) => format!("{endpoint}: no connection within {d}. The host may be down or a firewall drops packets; check the address in OLLAMA_HOST or --host, or raise the timeout (--connect-timeout)"),
        // A metadata answer needs no model: silence is a hung server, or something
        // on the port that takes connections and never answers HTTP.
        (Phase::FirstByte, Budget::Metadata) => format!("{endpoint}: connected, but no answer began within {d}. The server is hung or busy, or what listens on this port does not answer HTTP; check the server log (`journalctl -u ollama`) and what owns the port (diagnose.port_owner), or raise the timeout (--request-timeout)"),
        (Phase::FirstByte, Budget::Generation) => format!("{endpoint}: connected, but no answer began within {d}. A model may still be loading or the server is hung; check `ollama ps` and the server log, or raise the timeout (--load-timeout)"),
        (Phase::Idle, Budget::Metadata) | (Phase::Total, Budget::Metadata) => format!("{endpoint}: the answer began but did not complete within {d}. The server is hung or overloaded; check the server log (`journalctl -u ollama`), or raise the timeout (--request-timeout)"),
        (Phase::Idle, Budget::Generation) => format!("{endpoint}: the answer started but stalled, no data for {d}. The runner may be hung; check the server log (`journalctl -u ollama`)"),
        (Phase::Total, Budget::Generation) => format!("{endpoint}: the answer did not complete within {d}. The server is slow or stuck; raise the timeout (--generation-timeout) if the model is large"),
    }
}

/// What an error line means: a pull's missing manifest is a wrong name, not a crash.
fn stream_hint(message: &str) -> &'static str {
    if message.contains("file does not exist") {
        MISSING_MODEL
    } else {
        "Check the server log (`journalctl -u ollama`) for the runner's failure"
    }
}

const MISSING_MODEL: &str = "The registry has no model or tag of that name: check the spelling against https://ollama.com/library";

fn status_hint(status: u16, message: Option<&str>) -> &'static str {
    // Ollama's own 404 names the model; a plain "404 page not found" is a wrong path.
    let not_found = message.is_some_and(|m| m.contains("model") && m.contains("not found"));
    match status {
        500 if message.is_some_and(|m| m.contains("file does not exist")) => MISSING_MODEL,
        503 => "The server is busy (its queue, OLLAMA_MAX_QUEUE, is full) or shutting down; retry when it is idle, and see its log (`journalctl -u ollama`)",
        404 if not_found => "The model is not installed: see `ollama list`, then `ollama pull <model>` or `ollama create`",
        404 => "The server does not know this endpoint; it may be too old or not Ollama",
        400 => "The server rejected the request; it may be a version this tool does not know",
        500..=599 => "The server failed while answering; its log says why (`journalctl -u ollama`)",
        _ => "Check the server log for the reason",
    }
}

pub(crate) fn humanize(d: Duration) -> String {
    if d.as_secs() >= 1 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// Each timeout names the flag that sets the deadline that ran out: a silent `GET /`
    /// is `--request-timeout`'s (a model load has nothing to do with it).
    #[rstest]
    #[case(Phase::Connect, Budget::Metadata, "--connect-timeout")]
    #[case(Phase::Connect, Budget::Generation, "--connect-timeout")]
    #[case(Phase::FirstByte, Budget::Metadata, "--request-timeout")]
    #[case(Phase::FirstByte, Budget::Generation, "--load-timeout")]
    #[case(Phase::Idle, Budget::Metadata, "--request-timeout")]
    #[case(Phase::Total, Budget::Metadata, "--request-timeout")]
    #[case(Phase::Total, Budget::Generation, "--generation-timeout")]
    fn timeouts_name_their_flag(#[case] phase: Phase, #[case] budget: Budget, #[case] flag: &str) {
        let e = ClientError::Timeout {
            endpoint: "GET http://127.0.0.1:11434/".into(),
            phase,
            after: Duration::from_secs(15),
            budget,
        };
        let text = e.to_string();
        assert!(text.contains(&format!("({flag})")), "{text}");
        let flags = [
            "--connect-timeout",
            "--request-timeout",
            "--load-timeout",
            "--generation-timeout",
        ];
        for other in flags.iter().filter(|f| **f != flag) {
            assert!(!text.contains(other), "{text}");
        }
        if budget == Budget::Metadata {
            assert!(!text.contains("loading"), "{text}");
        }
    }
}
