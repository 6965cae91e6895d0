//! `api.root`, `api.tags`, `api.chat`.

use super::api_error;
use crate::check::Outcome;
use crate::client::types::{ChatChunk, TagsResponse};
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
            let tokens = c.stats.eval_count.unwrap_or(0);
            let secs = c.stats.total_duration.unwrap_or(0) as f64 / 1e9;
            let thoughts = c.message.thinking.as_deref().unwrap_or_default();
            // A thinking model reasons first: a capped answer may hold thoughts only.
            let said = if c.message.content.trim().is_empty() && !thoughts.trim().is_empty() {
                let why = match c.done_reason.as_deref() {
                    Some("length") => ", and the cap came first",
                    _ => "",
                };
                format!(
                    "{model} answered with its thoughts only (a thinking model reasons before it answers{why}): \"{}\"",
                    excerpt(thoughts)
                )
            } else {
                format!("{model} answered: \"{}\"", excerpt(&c.message.content))
            };
            Outcome::pass(said).with_value(format!("{tokens} tokens in {secs:.2} s"))
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
        };
        assert_eq!(
            tags(&Err(refused.clone()), Some("down")).status,
            Status::Skip
        );
        assert_eq!(tags(&Err(refused), None).status, Status::Fail);
    }
}
