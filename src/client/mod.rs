//! Typed Ollama HTTP client: every call has a connect, first-byte and whole-request
//! deadline, and every failure comes back as a [`ClientError`] a check can report.

mod base_url;
mod error;
mod fields;
mod ndjson;
mod refusal;
mod sse;
pub mod types;

pub use base_url::{
    bind_addr, from_env as base_url_from_env, invalid_port, is_local, names_port,
    parse_ollama_host, BaseUrlError,
};
pub use base_url::{DEFAULT_BASE_URL, DEFAULT_PORT};

/// What every Ollama answers at `GET /`.
pub const GREETING: &str = "Ollama is running";
pub use error::{
    is_runner_failure, names_missing_model, Added, Budget, ClientError, ErrorKind, NextStep, Phase,
    StatusCase, FINAL_CHUNK,
};
pub use fields::{Field, NotReported};
pub use ndjson::ChunkStream;
pub use refusal::added;

use bytes::Bytes;
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};
use types::*;
use url::Url;

/// Deadlines for one client. Metadata calls (`/api/tags`, `/api/ps`, ...) must answer
/// within `request`; generation may take minutes, but must start within `first_byte`
/// and never go quiet for longer than `idle`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
    pub generation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            request: Duration::from_secs(15),
            // A cold load of a large model takes tens of seconds before the first token.
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(30),
            generation: Duration::from_secs(600),
        }
    }
}

impl Timeouts {
    /// Every deadline scaled to at most `limit` (tests and impatient users).
    pub fn capped(self, limit: Duration) -> Self {
        Timeouts {
            connect: self.connect.min(limit),
            request: self.request.min(limit),
            first_byte: self.first_byte.min(limit),
            idle: self.idle.min(limit),
            generation: self.generation.min(limit),
        }
    }
}

/// Largest body accepted from a server; real answers are kilobytes.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    timeouts: Timeouts,
}

/// The running deadlines of one exchange.
pub(crate) struct Deadline {
    pub(crate) endpoint: String,
    budget: Budget,
    start: Instant,
    total: Duration,
    idle: Duration,
}

impl Deadline {
    /// Awaits `fut` within the idle gap and what is left of the total; says which ran out.
    pub(crate) async fn within<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, ClientError> {
        let left = self.total.saturating_sub(self.start.elapsed());
        let (limit, phase) = if self.idle < left {
            (self.idle, Phase::Idle)
        } else {
            (left, Phase::Total)
        };
        tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: self.endpoint.clone(),
                next: NextStep::default(),
                budget: self.budget,
                phase,
                after: if phase == Phase::Idle {
                    limit
                } else {
                    self.total
                },
            })
    }

    /// The next piece of the body, `None` at its end.
    pub(crate) async fn next_chunk(
        &self,
        resp: &mut Response,
        seen: usize,
    ) -> Result<Option<Bytes>, ClientError> {
        self.within(resp.chunk())
            .await?
            .map_err(|_| ClientError::Interrupted {
                endpoint: self.endpoint.clone(),
                bytes: seen,
                next: NextStep::default(),
            })
    }
}

impl Client {
    pub fn new(base: Url) -> Self {
        Self::with_timeouts(base, Timeouts::default())
    }

    /// A client for `OLLAMA_HOST` (or the default address).
    pub fn from_env() -> Result<Self, ClientError> {
        Ok(Self::new(base_url::from_env()?))
    }

    /// A client for an `OLLAMA_HOST`-style address (`host:port`, URL, ...).
    pub fn for_host(host: &str) -> Result<Self, ClientError> {
        Ok(Self::new(parse_ollama_host(host)?))
    }

    pub fn with_timeouts(base: Url, timeouts: Timeouts) -> Self {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("ollama-verify/", env!("CARGO_PKG_VERSION")));
        // A proxy from the environment must not intercept a server on this machine.
        if is_loopback(&base) {
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .expect("a TLS backend is compiled in; building a client cannot fail");
        Client {
            http,
            base,
            timeouts,
        }
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// `GET /`: the server's greeting, "Ollama is running".
    pub async fn root(&self) -> Result<String, ClientError> {
        let (resp, deadline) = self.send(Method::GET, "", None, Budget::Metadata).await?;
        let body = read_body(resp, &deadline).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// `HEAD /`: the status code alone.
    pub async fn head_root(&self) -> Result<u16, ClientError> {
        let (resp, _) = self.send(Method::HEAD, "", None, Budget::Metadata).await?;
        Ok(resp.status().as_u16())
    }

    pub async fn version(&self) -> Result<VersionResponse, ClientError> {
        self.json(Method::GET, "api/version", None, Budget::Metadata)
            .await
    }

    pub async fn tags(&self) -> Result<TagsResponse, ClientError> {
        self.json(Method::GET, "api/tags", None, Budget::Metadata)
            .await
    }

    pub async fn ps(&self) -> Result<PsResponse, ClientError> {
        self.json(Method::GET, "api/ps", None, Budget::Metadata)
            .await
    }

    pub async fn show(&self, model: &str) -> Result<ShowResponse, ClientError> {
        let req = ShowRequest {
            model: model.to_string(),
            verbose: None,
        };
        self.json(
            Method::POST,
            "api/show",
            Some(to_value(&req)),
            Budget::Metadata,
        )
        .await
    }

    /// A whole chat answer in one object (`stream: false`).
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatChunk, ClientError> {
        let req = ChatRequest {
            stream: false,
            ..req.clone()
        };
        self.json(
            Method::POST,
            "api/chat",
            Some(to_value(&req)),
            Budget::Generation,
        )
        .await
    }

    /// A chat answer as it is generated, one typed chunk at a time.
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
    ) -> Result<ChunkStream<ChatChunk>, ClientError> {
        let req = ChatRequest {
            stream: true,
            ..req.clone()
        };
        self.stream("api/chat", to_value(&req)).await
    }

    pub async fn generate(&self, req: &GenerateRequest) -> Result<GenerateChunk, ClientError> {
        let req = GenerateRequest {
            stream: false,
            ..req.clone()
        };
        self.json(
            Method::POST,
            "api/generate",
            Some(to_value(&req)),
            Budget::Generation,
        )
        .await
    }

    pub async fn generate_stream(
        &self,
        req: &GenerateRequest,
    ) -> Result<ChunkStream<GenerateChunk>, ClientError> {
        let req = GenerateRequest {
            stream: true,
            ..req.clone()
        };
        self.stream("api/generate", to_value(&req)).await
    }

    pub async fn embed(&self, req: &EmbedRequest) -> Result<EmbedResponse, ClientError> {
        self.json(
            Method::POST,
            "api/embed",
            Some(to_value(req)),
            Budget::Generation,
        )
        .await
    }

    /// `POST /api/pull`: download progress, ending with `success`. Changes the server.
    pub async fn pull(&self, model: &str) -> Result<ChunkStream<ProgressChunk>, ClientError> {
        let req = PullRequest {
            model: model.to_string(),
            stream: true,
        };
        self.stream("api/pull", to_value(&req)).await
    }

    /// `POST /api/create`: build a model from a base and settings. Changes the server.
    pub async fn create(
        &self,
        req: &CreateRequest,
    ) -> Result<ChunkStream<ProgressChunk>, ClientError> {
        let req = CreateRequest {
            stream: true,
            ..req.clone()
        };
        self.stream("api/create", to_value(&req)).await
    }

    /// `DELETE /api/delete`: removes a model. Changes the server.
    pub async fn delete(&self, model: &str) -> Result<(), ClientError> {
        let body = serde_json::json!({ "model": model });
        let (resp, deadline) = self
            .send(Method::DELETE, "api/delete", Some(body), Budget::Metadata)
            .await?;
        read_body(resp, &deadline).await.map(|_| ())
    }

    /// `GET /v1/models`: the installed models in OpenAI's shape (Ollama 0.2.0 on).
    pub async fn openai_models(&self) -> Result<ModelList, ClientError> {
        self.json(Method::GET, "v1/models", None, Budget::Metadata)
            .await
    }

    /// `POST /v1/chat/completions`, the OpenAI-compatible endpoint, in one object.
    pub async fn chat_completion(
        &self,
        req: &ChatCompletionRequest,
    ) -> Result<ChatCompletion, ClientError> {
        let req = ChatCompletionRequest {
            stream: false,
            stream_options: None,
            ..req.clone()
        };
        self.json(
            Method::POST,
            "v1/chat/completions",
            Some(to_value(&req)),
            Budget::Generation,
        )
        .await
    }

    /// `POST /v1/chat/completions` with `"stream": true`: server-sent events up to
    /// `data: [DONE]`, one typed chunk each.
    pub async fn chat_completion_stream(
        &self,
        req: &ChatCompletionRequest,
    ) -> Result<ChunkStream<ChatCompletionChunk>, ClientError> {
        let req = ChatCompletionRequest {
            stream: true,
            ..req.clone()
        };
        let (resp, deadline) = self
            .send(
                Method::POST,
                "v1/chat/completions",
                Some(to_value(&req)),
                Budget::Generation,
            )
            .await?;
        Ok(sse::decode(resp, deadline))
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        budget: Budget,
    ) -> Result<T, ClientError> {
        let (resp, deadline) = self.send(method, path, body, budget).await?;
        let content_type = content_type(&resp);
        let bytes = read_body(resp, &deadline).await?;
        parse_json(&bytes, &deadline.endpoint, &content_type)
    }

    async fn stream<T>(&self, path: &str, body: Value) -> Result<ChunkStream<T>, ClientError>
    where
        T: DeserializeOwned + Final + Send + 'static,
    {
        let (resp, deadline) = self
            .send(Method::POST, path, Some(body), Budget::Generation)
            .await?;
        Ok(ndjson::decode(resp, deadline))
    }

    /// Sends one request and waits for its status line; non-2xx becomes `Status`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        budget: Budget,
    ) -> Result<(Response, Deadline), ClientError> {
        let url = format!("{}/{path}", self.base.as_str().trim_end_matches('/'));
        let endpoint = format!("{method} {url}");
        let t = self.timeouts;
        let (first_byte, idle, total) = match budget {
            Budget::Metadata => (t.request, t.request, t.request),
            Budget::Generation => (t.first_byte, t.idle, t.generation),
        };
        let mut rb = self.http.request(method, &url);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let deadline = Deadline {
            endpoint,
            budget,
            start: Instant::now(),
            total,
            idle,
        };
        let resp = match tokio::time::timeout(first_byte.min(total), rb.send()).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    endpoint: deadline.endpoint,
                    next: NextStep::default(),
                    budget,
                    phase: Phase::FirstByte,
                    after: first_byte.min(total),
                })
            }
            Ok(Err(e)) => return Err(send_error(e, &self.base, &deadline, t.connect)),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status();
        if status.is_success() {
            return Ok((resp, deadline));
        }
        // The body of an error says why; if it cannot be read, the status alone must do.
        let body = read_body(resp, &deadline).await.ok();
        Err(refusal::refusal(
            deadline.endpoint,
            path,
            status.as_u16(),
            body.as_deref(),
        ))
    }
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("request types serialise to JSON")
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

fn content_type(resp: &Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_string()
}

/// Reads a whole body within the deadline and the size limit.
async fn read_body(mut resp: Response, deadline: &Deadline) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = deadline.next_chunk(&mut resp, body.len()).await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ClientError::TooLarge {
                endpoint: deadline.endpoint.clone(),
                limit: MAX_BODY,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn parse_json<T: DeserializeOwned>(
    bytes: &[u8],
    endpoint: &str,
    content_type: &str,
) -> Result<T, ClientError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| ClientError::NotJson {
        endpoint: endpoint.to_string(),
        content_type: content_type.to_string(),
        excerpt: excerpt(bytes),
    })?;
    from_value(value, endpoint)
}

/// Deserialises with the path of the first field that does not fit.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: Value,
    endpoint: &str,
) -> Result<T, ClientError> {
    serde_path_to_error::deserialize(value).map_err(|e| ClientError::Shape {
        endpoint: endpoint.to_string(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// The first 120 characters of a body, on one line.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(480)]);
    match crate::text::shorten(&text, 120) {
        flat if flat.is_empty() => "(empty body)".into(),
        flat => flat,
    }
}

fn send_error(
    e: reqwest::Error,
    base: &Url,
    deadline: &Deadline,
    connect: Duration,
) -> ClientError {
    let endpoint = &deadline.endpoint;
    let next = NextStep::default();
    let addr = format!(
        "{}:{}",
        base.host_str().unwrap_or("?"),
        base.port_or_known_default().unwrap_or(0)
    );
    if e.is_timeout() {
        // The only timeout reqwest itself enforces is the connect timeout.
        return ClientError::Timeout {
            endpoint: endpoint.to_string(),
            budget: deadline.budget,
            phase: Phase::Connect,
            after: connect,
            next,
        };
    }
    let refused = error_chain(&e).any(|s| {
        s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    if refused {
        return ClientError::ConnectionRefused { addr, next };
    }
    if e.is_connect() {
        let message = error_chain(&e)
            .last()
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string());
        return ClientError::Connect {
            addr,
            message,
            next,
        };
    }
    // Connected, then the server hung up before a status line.
    ClientError::Interrupted {
        endpoint: endpoint.to_string(),
        bytes: 0,
        next,
    }
}

fn error_chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}
