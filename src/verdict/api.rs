//! `api.root`, `api.tags`, `api.chat`.

use super::api_error;
use crate::check::Outcome;
use crate::client::types::{ChatChunk, TagsResponse};
use crate::client::{Field, NotReported};
use crate::ClientError;

/// `api.root`: `GET /` answers the expected greeting.
pub fn root(answer: &Result<String, ClientError>, expected: &str) -> Outcome {
    match answer {
        Ok(text) if text.trim() == expected => {
            Outcome::pass("the server greets as Ollama does").with_value(format!("\"{}\"", text.trim()))
        }
        Ok(text) => Outcome::fail(format!(
            "expected \"{expected}\" at `GET /`, got \"{}\". Something other than Ollama may own this port; check with `ss -ltnp`",
            crate::client::excerpt(text.as_bytes())
        )),
        Err(e) => Outcome::fail(e.to_string()),
    }
}

/// `api.tags`: `GET /api/tags` answers a model list.
pub fn tags(answer: &Result<TagsResponse, ClientError>, unreachable: Option<&str>) -> Outcome {
    match answer {
        Ok(t) => Outcome::pass("`GET /api/tags` answered a well-formed list")
            .with_value(format!("{} model(s)", t.models.len())),
        Err(e) => api_error(e, unreachable),
    }
}

/// `api.chat`: a non-streaming chat completes with `done: true`.
pub fn chat(
    model: &str,
    answer: &Result<ChatChunk, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    match answer {
        Ok(c) if c.done => {
            let excerpt = |text: &str| -> String {
                let text: String = crate::client::excerpt(text.as_bytes())
                    .chars()
                    .take(60)
                    .collect();
                text.trim().to_string()
            };
            // Ollama leaves `eval_count` out when it is 0 (`omitempty`).
            let tokens = c.stats.eval_count.unwrap_or(0);
            // A missing duration is not reported (a proxy's answer), never 0 s.
            let value = match c.stats.total_duration {
                Some(ns) => format!("{tokens} tokens in {:.2} s", ns as f64 / 1e9),
                None => format!("{tokens} tokens"),
            };
            let thoughts = c.message.thinking.as_deref().unwrap_or_default();
            // Before 0.1.35 no answer says why it ended.
            let reason = c.done_reason.as_deref();
            let said = match reason {
                Some(r) => format!("done_reason \"{r}\""),
                None => NotReported(Field::DoneReason).to_string(),
            };
            if c.message.content.trim().is_empty() && thoughts.trim().is_empty() {
                let why = match reason {
                    // What Ollama answers a chat without messages (or `keep_alive: 0`).
                    Some(r @ ("load" | "unload")) => format!(
                        "{said}: the server only {r}ed the model, as Ollama does for a chat without messages. Something between here and the server (a proxy) may have dropped the request's messages"
                    ),
                    _ => format!(
                        "{said}, after {tokens} token(s): the model ended its answer before any text. Its TEMPLATE or a stop PARAMETER may end every answer at once; compare `ollama show {model} --modelfile` with its Modelfile"
                    ),
                };
                return Outcome::fail(format!(
                    "expected {model} to answer the chat, got `done: true` with no text; {why}"
                ))
                .with_value(value);
            }
            // A cloud model answers from its remote host, not from this machine.
            let remote = c
                .remote
                .describe()
                .map(|r| format!(" (a cloud model: it ran as {r})"))
                .unwrap_or_default();
            // A thinking model reasons first: a capped answer may hold thoughts only.
            let said = if c.message.content.trim().is_empty() {
                let why = match reason {
                    Some("length") => ", and the cap came first",
                    _ => "",
                };
                format!(
                    "{model}{remote} answered with its thoughts only (a thinking model reasons before it answers{why}): \"{}\"",
                    excerpt(thoughts)
                )
            } else {
                format!(
                    "{model}{remote} answered: \"{}\"",
                    excerpt(&c.message.content)
                )
            };
            Outcome::pass(said).with_value(value)
        }
        Ok(_) => Outcome::fail(format!(
            "expected a complete answer (`done: true`) from {model}, got `done: false`; the server may be too old for `stream: false`"
        )),
        Err(e) => api_error(e, unreachable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    /// A thinking model's capped chat holds thoughts only: it passes and says why.
    #[test]
    fn a_chat_of_thoughts_only_says_so() {
        let answer = |reason: &str| -> Result<ChatChunk, ClientError> {
            Ok(serde_json::from_value(serde_json::json!({
                "model": "qwen3", "done": true, "done_reason": reason, "eval_count": 32,
                "message": {"role": "assistant", "content": "", "thinking": "Okay, the user wants"}
            }))
            .unwrap())
        };
        let o = chat("qwen3", &answer("length"), None);
        assert_eq!(o.status, Status::Pass);
        assert!(o.detail.contains("thoughts only"), "{}", o.detail);
        assert!(o.detail.contains("the cap came first"), "{}", o.detail);
        assert!(o.detail.contains("Okay, the user wants"), "{}", o.detail);
        let o = chat("qwen3", &answer("stop"), None);
        assert!(!o.detail.contains("cap"), "{}", o.detail);
    }

    /// `done: true` without a word is no answer: Ollama's chat without messages
    /// answers so (done_reason "load", routes.go ChatHandler), and so does a model whose
    /// template or stop parameter ends it at once (done_reason "stop", no eval_count).
    #[test]
    fn a_chat_without_text_fails() {
        let answer = |body: serde_json::Value| -> Result<ChatChunk, ClientError> {
            Ok(serde_json::from_value(body).unwrap())
        };
        let load = answer(serde_json::json!({
            "model": "my-coder", "created_at": "2025-06-01T10:00:00.123456789Z",
            "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "load"
        }));
        let o = chat("my-coder", &load, None);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("no text") && o.detail.contains("\"load\""),
            "{}",
            o.detail
        );
        let stop = answer(serde_json::json!({
            "model": "my-coder", "message": {"role": "assistant", "content": "  \n"},
            "done": true, "done_reason": "stop", "total_duration": 120_000_000
        }));
        let o = chat("my-coder", &stop, None);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("0 token(s)")
                && o.detail.contains("ollama show my-coder --modelfile"),
            "{}",
            o.detail
        );
    }

    /// A cloud model's answer names where it ran (`remote_model`, `remote_host`).
    #[test]
    fn a_cloud_chat_says_where_it_ran() {
        let c: ChatChunk = serde_json::from_value(serde_json::json!({
            "model": "gpt-oss:20b-cloud", "remote_model": "gpt-oss:20b",
            "remote_host": "https://ollama.com:443", "done": true, "done_reason": "stop",
            "message": {"role": "assistant", "content": "def add(a, b): return a + b"},
            "eval_count": 12
        }))
        .unwrap();
        let o = chat("gpt-oss:20b-cloud", &Ok(c), None);
        assert_eq!(o.status, Status::Pass);
        assert!(
            o.detail.contains("cloud model") && o.detail.contains("https://ollama.com:443"),
            "{}",
            o.detail
        );
    }

    fn recorded<T: serde::de::DeserializeOwned>(fixture: &str) -> T {
        let path = format!(
            "{}/tests/fixtures/api/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Recorded chats of 2024 and 2025 servers pass with their token counts and time.
    #[test]
    fn recorded_chats_pass() {
        for fixture in [
            "002-chat-llama3-2024-05.json",
            "006-chat-after-tool-result-2024-09.json",
            "007-chat-llama3.2-2024-11.json",
            "012-chat-2025-08.json",
        ] {
            let c: ChatChunk = recorded(fixture);
            let o = chat(&c.model.clone(), &Ok(c), None);
            assert_eq!(o.status, Status::Pass, "{fixture}: {}", o.detail);
            assert!(o.value.as_deref().unwrap().ends_with(" s"), "{fixture}");
        }
    }

    /// Without `total_duration` the value has no time (not "0.00 s"); without
    /// `done_reason` (before 0.1.35) an empty answer says the server does not report
    /// why it ended, not `done_reason ""`.
    #[test]
    fn missing_figures_are_not_read_as_values() {
        let c: ChatChunk = serde_json::from_value(serde_json::json!({
            "model": "llama2", "done": true, "eval_count": 3,
            "message": {"role": "assistant", "content": ""}
        }))
        .unwrap();
        let o = chat("llama2", &Ok(c), None);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.value.as_deref(), Some("3 tokens"));
        assert!(
            o.detail.contains("does not report `done_reason`") && o.detail.contains("0.1.35"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn root_compares_the_greeting() {
        assert_eq!(
            root(&Ok("Ollama is running".into()), "Ollama is running").status,
            Status::Pass
        );
        let o = root(&Ok("<html>nginx</html>".into()), "Ollama is running");
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("nginx") && o.detail.contains("expected"));
    }

    #[test]
    fn unreachable_servers_skip_dependent_checks() {
        let refused = ClientError::ConnectionRefused {
            addr: "127.0.0.1:1".into(),
            next: Default::default(),
        };
        assert_eq!(
            tags(&Err(refused.clone()), Some("down")).status,
            Status::Skip
        );
        assert_eq!(tags(&Err(refused), None).status, Status::Fail);
    }
}
