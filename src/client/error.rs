//! One error type for every way talking to a server can fail. Each message says what
//! was expected, what was seen, and what to try next.

use crate::catalog::CheckId;
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

/// What kind of server a client talks to, for the next step its errors name: where
/// the server's log is, and how to see whether it runs. Set once per target
/// ([`Client::on`](super::Client::on)); a native install's systemd service unless set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServerKind {
    /// A native install run by systemd (`--target native`): `journalctl -u ollama`.
    #[default]
    Service,
    /// The docker target's container (`docker logs <id>`); unless `kept` (--keep), the
    /// run removes it when it ends, and its log with it.
    Container { id: String, kept: bool },
    /// The emulator target's in-process emulator: what it answers is what
    /// --emulator-config tells it, a fault included (its log shows what it emulates,
    /// not why a fault answered).
    Emulator,
}

impl ServerKind {
    /// Where to read why the server failed, as the rest of a sentence ("…; check the
    /// server log (`journalctl -u ollama`)").
    pub fn see_log(&self) -> String {
        match self {
            ServerKind::Service => "check the server log (`journalctl -u ollama`)".into(),
            ServerKind::Container { id, kept: true } => {
                format!("check the container's log (`docker logs {}`)", short_id(id))
            }
            ServerKind::Container { id, kept: false } => format!(
                "check the container's log (run again with --keep, then `docker logs {}`: without --keep the run removes its container)",
                short_id(id)
            ),
            ServerKind::Emulator => {
                "check the `[[faults]]` of --emulator-config: the emulator target answers as they say".into()
            }
        }
    }

    /// What to check when the address itself does not connect, as the rest of a
    /// sentence: the user's OLLAMA_HOST or --host natively; on the other targets the
    /// address is the run's own.
    fn see_address(&self) -> String {
        match self {
            ServerKind::Service => "check the host name and port in OLLAMA_HOST or --host".into(),
            ServerKind::Container { id, .. } => format!(
                "the address is the port Docker published for the container on 127.0.0.1 (`docker port {}`): check that the container still runs (see {see})",
                short_id(id), see = CheckId::ServiceActive
            ),
            ServerKind::Emulator => "the address is the in-process emulator's own: run again, and report it if it recurs".into(),
        }
    }

    /// How a missing model gets onto this server, as a sentence.
    fn install_model(&self) -> String {
        match self {
            ServerKind::Service => "The model is not installed: see `ollama list`, then `ollama pull <model>` or `ollama create`".into(),
            ServerKind::Container { id, .. } => format!(
                "The model is not in the container's model volume: the docker target pulls and creates the models unless --no-provision is given (run without it), or add it by hand with --keep and `docker exec {} ollama pull <model>`",
                short_id(id)
            ),
            ServerKind::Emulator => "The model is not in the emulator's configuration: add it to `installed` (or as a `[[custom]]` model) of --emulator-config".into(),
        }
    }

    /// How to see whether the server runs at all.
    fn see_running(&self) -> String {
        match self {
            ServerKind::Service => "Is the server running? Try `systemctl status ollama` (or `ollama serve`), and set OLLAMA_HOST or --host if it listens elsewhere".into(),
            ServerKind::Container { .. } => format!(
                "The container may have stopped (see {see}); {}",
                self.see_log(), see = CheckId::ServiceActive
            ),
            ServerKind::Emulator => "The in-process emulator stopped listening; run again, and report it if it recurs".into(),
        }
    }

    /// Where to find `pattern` in the server's log, as the rest of a sentence ("…;
    /// read `journalctl -u ollama | grep offloaded`").
    pub fn grep_log(&self, pattern: &str) -> String {
        match self {
            ServerKind::Service => format!("read `journalctl -u ollama | grep {pattern}`"),
            ServerKind::Container { id, kept } => format!(
                "read `docker logs {} 2>&1 | grep {pattern}`{}",
                short_id(id),
                match kept {
                    true => "",
                    false => " (run again with --keep: without it the run removes its container)",
                }
            ),
            ServerKind::Emulator => EMULATED.into(),
        }
    }

    /// How a restarted server logs its start again, as the rest of a sentence.
    pub fn restart_logs(&self) -> &'static str {
        match self {
            ServerKind::Service => "`sudo systemctl restart ollama` logs it again",
            ServerKind::Container { .. } => "a new run starts a fresh container, which logs it",
            ServerKind::Emulator => "a new run logs it again",
        }
    }

    /// The check that names who owns the port, where it can run (native only).
    fn port_owner(&self) -> String {
        match self {
            ServerKind::Service => format!(
                " and what owns the port ({see})",
                see = CheckId::DiagnosePortOwner
            ),
            _ => String::new(),
        }
    }
}

/// What the emulator target's log shows: what its configuration emulates.
const EMULATED: &str = "check --emulator-config: the emulator target's log shows what it emulates (`gpu_discovered`, `vram_held`, `log_lines`)";

/// `text` with its first letter in capitals, to begin a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// A container id as `docker ps` shows it: its first 12 characters.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
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

    #[error("connection refused at {addr}: nothing listens there. {}", server.see_running())]
    ConnectionRefused { addr: String, server: ServerKind },

    #[error("could not connect to {addr}: {message}. {}", capitalized(&server.see_address()))]
    Connect {
        addr: String,
        message: String,
        server: ServerKind,
    },

    #[error("{}", timeout_message(endpoint, *phase, *after, *budget, server))]
    Timeout {
        endpoint: String,
        phase: Phase,
        after: Duration,
        budget: Budget,
        server: ServerKind,
    },

    #[error("{endpoint}: expected a 2xx answer, got HTTP {status}{}. {}", quoted(message), status_hint(*status, message.as_deref(), server))]
    Status {
        endpoint: String,
        status: u16,
        /// Ollama's `{"error": ...}` message, or an excerpt of a non-JSON body.
        message: Option<String>,
        server: ServerKind,
    },

    /// 401/403, which Ollama never sends: an authenticating proxy or gateway in front
    /// of it (ollama.com without an API key), or another server. Not the server's fault,
    /// so the words name no server log.
    #[error("{endpoint}: expected a 2xx answer, got HTTP {status}{}. Ollama has no authentication and never answers {status} itself: a proxy or gateway in front of it wants credentials (as ollama.com does without an API key), or this is not an Ollama server. This tool sends no credentials: point OLLAMA_HOST or --host at the Ollama server itself, or let this machine through the proxy", quoted(message))]
    AuthRequired {
        endpoint: String,
        status: u16,
        message: Option<String>,
    },

    /// 404 on a route, not a missing model: a release before the endpoint's, or not
    /// Ollama. `added` is the release that added it, where known.
    #[error("{endpoint}: got HTTP 404{}: the server does not serve this endpoint. {}", quoted(message), missing_endpoint(*added))]
    EndpointMissing {
        endpoint: String,
        message: Option<String>,
        added: Added,
    },

    #[error("{endpoint}: the connection closed after {bytes} bytes, before the body was complete. The server may have crashed or restarted; {}", server.see_log())]
    Interrupted {
        endpoint: String,
        bytes: usize,
        server: ServerKind,
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
        "{endpoint}: the server reported an error in the middle of the stream: \"{message}\". {}",
        stream_hint(message, server)
    )]
    StreamError {
        endpoint: String,
        message: String,
        server: ServerKind,
    },

    #[error("{endpoint}: expected the stream to end with {end}, but it ended after {chunks} chunk(s) without it. The server stopped mid-answer; {}", server.see_log())]
    StreamIncomplete {
        endpoint: String,
        chunks: usize,
        /// What ends a whole stream: [`FINAL_CHUNK`] or [`DONE_EVENT`].
        end: &'static str,
        server: ServerKind,
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
}

fn timeout_message(
    endpoint: &str,
    phase: Phase,
    after: Duration,
    budget: Budget,
    server: &ServerKind,
) -> String {
    let d = humanize(after);
    let log = server.see_log();
    match (phase, budget) {
        (Phase::Connect, _) => match server {
            ServerKind::Service => format!("{endpoint}: no connection within {d}. The host may be down or a firewall drops packets; {}, or raise the timeout (--connect-timeout)", server.see_address()),
            _ => format!("{endpoint}: no connection within {d}; {}, or raise the timeout (--connect-timeout)", server.see_address()),
        },
        // A metadata answer needs no model: silence is a hung server, or something
        // on the port that takes connections and never answers HTTP.
        (Phase::FirstByte, Budget::Metadata) => format!("{endpoint}: connected, but no answer began within {d}. The server is hung or busy, or what listens on this port does not answer HTTP; {log}{}, or raise the timeout (--request-timeout)", server.port_owner()),
        (Phase::FirstByte, Budget::Generation) => {
            // `ollama ps` shows a load in progress where the CLI is this machine's.
            let look = match server {
                ServerKind::Service => "check `ollama ps` and the server log (`journalctl -u ollama`)".into(),
                _ => log,
            };
            format!("{endpoint}: connected, but no answer began within {d}. A model may still be loading or the server is hung; {look}, or raise the timeout (--load-timeout)")
        }
        (Phase::Idle, Budget::Metadata) | (Phase::Total, Budget::Metadata) => format!("{endpoint}: the answer began but did not complete within {d}. The server is hung or overloaded; {log}, or raise the timeout (--request-timeout)"),
        (Phase::Idle, Budget::Generation) => format!("{endpoint}: the answer started but stalled, no data for {d}. The runner may be hung; {log}"),
        (Phase::Total, Budget::Generation) => format!("{endpoint}: the answer did not complete within {d}. The server is slow or stuck; raise the timeout (--generation-timeout) if the model is large"),
    }
}

/// What an error line means: a pull's missing manifest is a wrong name, not a crash.
fn stream_hint(message: &str, server: &ServerKind) -> String {
    if message.contains("file does not exist") {
        MISSING_MODEL.into()
    } else {
        format!("The runner failed mid-answer; {}", server.see_log())
    }
}

const MISSING_MODEL: &str = "The registry has no model or tag of that name: check the spelling against https://ollama.com/library";

/// Whether an error message is Ollama's missing model (`model 'x' not found`, `model
/// "x" not found, try pulling it first`); a plain "404 page not found" is a wrong path.
pub(crate) fn names_missing_model(message: &str) -> bool {
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

fn status_hint(status: u16, message: Option<&str>, server: &ServerKind) -> String {
    let not_found = message.is_some_and(names_missing_model);
    match status {
        500 if message.is_some_and(|m| m.contains("file does not exist")) => MISSING_MODEL.into(),
        503 => format!("The server is busy (its queue, OLLAMA_MAX_QUEUE, is full) or shutting down; retry when it is idle, or {}", server.see_log()),
        404 if not_found => server.install_model(),
        404 => "The server does not know this endpoint; it may be too old or not Ollama".into(),
        400 => "The server rejected the request; it may be a version this tool does not know".into(),
        500..=599 => format!("The server failed while answering; to see why, {}", server.see_log()),
        _ => format!("To see why, {}", server.see_log()),
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
