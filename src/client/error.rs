//! One error type for every way talking to a server can fail: typed facts, what was
//! expected and what was seen. What to try next depends on the target (where its log
//! is, which flag sets a deadline): the edge that knows it adds it
//! ([`ClientError::advised`]); the client names no target, flag or check.

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

/// What to try next, as the target words it: the rest of an error's message from its
/// first punctuation on (`"; check the server log (…)"`). The client knows no target,
/// flag or check, so it leaves this empty; the edge that knows the target fills it
/// ([`ClientError::advised`]), and the message then says where to look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextStep(Option<std::sync::Arc<str>>);

impl NextStep {
    /// The advice, if a target gave one.
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl std::fmt::Display for NextStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or(""))
    }
}

/// What ends a whole NDJSON stream.
pub const FINAL_CHUNK: &str = "a final chunk (`done: true`)";
/// What ends a whole server-sent event stream of the OpenAI-compatible endpoints.
pub const DONE_EVENT: &str = "the event `data: [DONE]`";

/// The kind of a [`ClientError`], for matching without the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidUrl,
    ConnectionRefused,
    Connect,
    Timeout(Phase),
    Status(u16),
    /// 401 or 403: something in front of the server, or not Ollama.
    AuthRequired(u16),
    /// 404 on a route the server does not have (not a missing model).
    EndpointMissing,
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

    #[error("connection refused at {addr}: nothing listens there{next}")]
    ConnectionRefused { addr: String, next: NextStep },

    #[error("could not connect to {addr}: {message}{next}")]
    Connect {
        addr: String,
        message: String,
        next: NextStep,
    },

    #[error("{}{next}", timeout_facts(endpoint, *phase, *after, *budget))]
    Timeout {
        endpoint: String,
        phase: Phase,
        after: Duration,
        budget: Budget,
        next: NextStep,
    },

    #[error("{endpoint}: expected a 2xx answer, got HTTP {status}{}{}{next}", quoted(message), status_meaning(*status, message.as_deref()))]
    Status {
        endpoint: String,
        status: u16,
        /// Ollama's `{"error": ...}` message, or an excerpt of a non-JSON body.
        message: Option<String>,
        next: NextStep,
    },

    /// 401/403, which Ollama never sends: an authenticating proxy or gateway in front
    /// of it (ollama.com without an API key), or another server. Not the server's fault,
    /// so the words name no server log.
    #[error("{endpoint}: expected a 2xx answer, got HTTP {status}{}. Ollama has no authentication and never answers {status} itself: a proxy or gateway in front of it wants credentials (as ollama.com does without an API key), or this is not an Ollama server. This tool sends no credentials{next}", quoted(message))]
    AuthRequired {
        endpoint: String,
        status: u16,
        message: Option<String>,
        next: NextStep,
    },

    /// 404 on a route, not a missing model: a release before the endpoint's, or not
    /// Ollama. `added` is the release that added it, where known.
    #[error("{endpoint}: got HTTP 404{}: the server does not serve this endpoint. {}", quoted(message), missing_endpoint(*added))]
    EndpointMissing {
        endpoint: String,
        message: Option<String>,
        added: Added,
    },

    #[error("{endpoint}: the connection closed after {bytes} bytes, before the body was complete. The server may have crashed or restarted{next}")]
    Interrupted {
        endpoint: String,
        bytes: usize,
        next: NextStep,
    },

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
        "{endpoint}: the server reported an error in the middle of the stream: \"{message}\". {}{next}",
        stream_meaning(message)
    )]
    StreamError {
        endpoint: String,
        message: String,
        next: NextStep,
    },

    #[error("{endpoint}: expected the stream to end with {end}, but it ended after {chunks} chunk(s) without it. The server stopped mid-answer{next}")]
    StreamIncomplete {
        endpoint: String,
        chunks: usize,
        /// What ends a whole stream: [`FINAL_CHUNK`] or [`DONE_EVENT`].
        end: &'static str,
        next: NextStep,
    },
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::InvalidUrl(_) => ErrorKind::InvalidUrl,
            ClientError::ConnectionRefused { .. } => ErrorKind::ConnectionRefused,
            ClientError::Connect { .. } => ErrorKind::Connect,
            ClientError::Timeout { phase, .. } => ErrorKind::Timeout(*phase),
            ClientError::Status { status, .. } => ErrorKind::Status(*status),
            ClientError::AuthRequired { status, .. } => ErrorKind::AuthRequired(*status),
            ClientError::EndpointMissing { .. } => ErrorKind::EndpointMissing,
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
            | ClientError::TooLarge { .. }
            | ClientError::AuthRequired { .. }
            | ClientError::EndpointMissing { .. } => true,
            ClientError::Status {
                status: 404,
                message,
                ..
            } => !message.as_deref().is_some_and(names_missing_model),
            ClientError::Status { status, .. } => (500..600).contains(status),
            _ => false,
        }
    }

    /// Unreachable, or reached but silent past a deadline (a hung server): asking it
    /// anything else would only wait out the same deadline again.
    pub fn is_unresponsive(&self) -> bool {
        self.is_unreachable() || matches!(self.kind(), ErrorKind::Timeout(_))
    }

    /// The same error with what to try next, as the target words it (see
    /// [`NextStep`]); an error without a place for advice is returned as it is.
    pub fn advised(mut self, next: Option<String>) -> Self {
        if let (Some(slot), Some(text)) = (self.next_mut(), next) {
            *slot = NextStep(Some(text.into()));
        }
        self
    }

    /// What to try next, where a target gave it.
    pub fn next_step(&self) -> Option<&str> {
        match self {
            ClientError::ConnectionRefused { next, .. }
            | ClientError::Connect { next, .. }
            | ClientError::Timeout { next, .. }
            | ClientError::Status { next, .. }
            | ClientError::AuthRequired { next, .. }
            | ClientError::Interrupted { next, .. }
            | ClientError::StreamError { next, .. }
            | ClientError::StreamIncomplete { next, .. } => next.text(),
            _ => None,
        }
    }

    fn next_mut(&mut self) -> Option<&mut NextStep> {
        match self {
            ClientError::ConnectionRefused { next, .. }
            | ClientError::Connect { next, .. }
            | ClientError::Timeout { next, .. }
            | ClientError::Status { next, .. }
            | ClientError::AuthRequired { next, .. }
            | ClientError::Interrupted { next, .. }
            | ClientError::StreamError { next, .. }
            | ClientError::StreamIncomplete { next, .. } => Some(next),
            _ => None,
        }
    }
}

/// What a timeout means, without the target's next step.
fn timeout_facts(endpoint: &str, phase: Phase, after: Duration, budget: Budget) -> String {
    let d = humanize(after);
    match (phase, budget) {
        (Phase::Connect, _) => format!("{endpoint}: no connection within {d}"),
        // A metadata answer needs no model: silence is a hung server, or something
        // on the port that takes connections and never answers HTTP.
        (Phase::FirstByte, Budget::Metadata) => format!("{endpoint}: connected, but no answer began within {d}. The server is hung or busy, or what listens on this port does not answer HTTP"),
        (Phase::FirstByte, Budget::Generation) => format!("{endpoint}: connected, but no answer began within {d}. A model may still be loading or the server is hung"),
        (Phase::Idle, Budget::Metadata) | (Phase::Total, Budget::Metadata) => format!("{endpoint}: the answer began but did not complete within {d}. The server is hung or overloaded"),
        (Phase::Idle, Budget::Generation) => format!("{endpoint}: the answer started but stalled, no data for {d}. The runner may be hung"),
        (Phase::Total, Budget::Generation) => format!("{endpoint}: the answer did not complete within {d}. The server is slow or stuck"),
    }
}

/// What an error line means: a pull's missing manifest is a wrong name, not a crash.
fn stream_meaning(message: &str) -> &'static str {
    if message.contains("file does not exist") {
        MISSING_MODEL
    } else {
        "The runner failed mid-answer"
    }
}

/// Whether a stream's error line is a failed runner, whose log says why (and not a
/// wrong model name).
pub fn is_runner_failure(message: &str) -> bool {
    !message.contains("file does not exist")
}

const MISSING_MODEL: &str = "The registry has no model or tag of that name: check the spelling against https://ollama.com/library";

/// Whether an error message is Ollama's missing model (`model 'x' not found`, `model
/// "x" not found, try pulling it first`); a plain "404 page not found" is a wrong path.
pub fn names_missing_model(message: &str) -> bool {
    message.contains("model") && message.contains("not found")
}

/// Which release added an endpoint, as far as known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The first release whose routes have it (`0.1.38` for `/api/ps`).
    In(&'static str),
    /// Every Ollama release this tool can meet serves it (added in 0.0.x).
    Always,
    /// Not an endpoint this tool knows the history of.
    Unknown,
}

fn missing_endpoint(added: Added) -> String {
    match added {
        Added::In(release) => format!("Ollama added it in {release}: the server is an older Ollama (`ollama --version` says which; upgrade to {release} or later), or it is not Ollama"),
        Added::Always => "Every Ollama release serves it: what answers here is not Ollama, or a proxy in front of it routes this path elsewhere; check what listens on the port".into(),
        Added::Unknown => "The server may be an Ollama too old for it, or not Ollama".into(),
    }
}

/// ` "message"` where the body said something.
fn quoted(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(" \"{m}\""))
        .unwrap_or_default()
}

/// What a status means, as far as the status and message tell without the target.
fn status_meaning(status: u16, message: Option<&str>) -> String {
    match StatusCase::of(status, message) {
        StatusCase::NoSuchModelInRegistry => format!(". {MISSING_MODEL}"),
        StatusCase::Busy => ". The server is busy (its queue, OLLAMA_MAX_QUEUE, is full) or shutting down; retry when it is idle".into(),
        StatusCase::ModelMissing => String::new(),
        StatusCase::UnknownEndpoint => ". The server does not know this endpoint; it may be too old or not Ollama".into(),
        StatusCase::Rejected => ". The server rejected the request; it may be a version this tool does not know".into(),
        StatusCase::ServerFailed => ". The server failed while answering".into(),
        StatusCase::Other => String::new(),
    }
}

/// What a non-2xx status says, for the words and for the target's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCase {
    /// 500 "file does not exist": the registry has no such model or tag.
    NoSuchModelInRegistry,
    /// 503: the queue is full, or the server shuts down.
    Busy,
    /// 404 naming a model: it is not installed.
    ModelMissing,
    /// Another 404.
    UnknownEndpoint,
    /// 400.
    Rejected,
    /// Another 5xx.
    ServerFailed,
    Other,
}

impl StatusCase {
    pub fn of(status: u16, message: Option<&str>) -> StatusCase {
        match status {
            500 if message.is_some_and(|m| m.contains("file does not exist")) => {
                StatusCase::NoSuchModelInRegistry
            }
            503 => StatusCase::Busy,
            404 if message.is_some_and(names_missing_model) => StatusCase::ModelMissing,
            404 => StatusCase::UnknownEndpoint,
            400 => StatusCase::Rejected,
            500..=599 => StatusCase::ServerFailed,
            _ => StatusCase::Other,
        }
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
mod tests;
