//! `api.root`, `api.tags`, `api.chat`: each verdict finds what the answer shows (a
//! typed finding), and one renderer words it.

use super::Unanswered;
use crate::check::Outcome;
use crate::client::types::{ChatChunk, TagsResponse};
use crate::client::{Field, NotReported};
use crate::ClientError;

/// What `api.root` found.
#[derive(Debug, Clone)]
pub enum Root {
    /// It answered the expected greeting: the answer, trimmed.
    Greets(String),
    /// It answered something else: the greeting expected, the answer.
    Other { expected: String, answer: String },
    /// It did not answer: the error.
    Failed(ClientError),
}

/// `api.root`: `GET /` answers the expected greeting.
pub fn root(answer: &Result<String, ClientError>, expected: &str) -> Outcome {
    root_finding(answer, expected).outcome()
}

pub fn root_finding(answer: &Result<String, ClientError>, expected: &str) -> Root {
    match answer {
        Ok(text) if text.trim() == expected => Root::Greets(text.trim().to_string()),
        Ok(text) => Root::Other {
            expected: expected.to_string(),
            answer: text.clone(),
        },
        Err(e) => Root::Failed(e.clone()),
    }
}

impl Root {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Root::Greets(text) => Outcome::pass("the server greets as Ollama does")
                .with_value(format!("\"{text}\"")),
            Root::Other { expected, answer } => Outcome::fail(format!(
                "expected \"{expected}\" at `GET /`, got \"{}\". Something other than Ollama may own this port; check with `ss -ltnp`",
                crate::client::excerpt(answer.as_bytes())
            )),
            Root::Failed(e) => Outcome::fail(e.to_string()),
        }
    }
}

/// What `api.tags` found.
#[derive(Debug, Clone)]
pub enum Tags {
    /// A well-formed list of `models` models.
    Listed {
        models: usize,
    },
    Unanswered(Unanswered),
}

/// `api.tags`: `GET /api/tags` answers a model list.
pub fn tags(answer: &Result<TagsResponse, ClientError>, unreachable: Option<&str>) -> Outcome {
    tags_finding(answer, unreachable).outcome()
}

pub fn tags_finding(answer: &Result<TagsResponse, ClientError>, unreachable: Option<&str>) -> Tags {
    match answer {
        Ok(t) => Tags::Listed {
            models: t.models.len(),
        },
        Err(e) => Tags::Unanswered(Unanswered::of(e, unreachable)),
    }
}

impl Tags {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Tags::Listed { models } => Outcome::pass("`GET /api/tags` answered a well-formed list")
                .with_value(format!("{models} model(s)")),
            Tags::Unanswered(unanswered) => unanswered.outcome(),
        }
    }
}

/// What a complete chat answer holds: tokens generated (`eval_count`, which Ollama
/// leaves out when 0), the time it took where reported, and why it ended (no
/// `done_reason` before 0.1.35).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub tokens: u64,
    pub total_duration_ns: Option<u64>,
    pub done_reason: Option<String>,
}

impl Answer {
    /// Tokens and time, as the outcome's value: a missing duration is not reported (a
    /// proxy's answer), never 0 s.
    fn value(&self) -> String {
        match self.total_duration_ns {
            Some(ns) => format!("{} tokens in {:.2} s", self.tokens, ns as f64 / 1e9),
            None => format!("{} tokens", self.tokens),
        }
    }
}

/// What `api.chat` found. `remote` is where a cloud model ran (`remote_model` on
/// `remote_host`), `None` for a local one.
#[derive(Debug, Clone)]
pub enum Chat {
    Unanswered(Unanswered),
    /// `done: false` to a request with `stream: false`.
    Incomplete {
        model: String,
    },
    /// `done: true` with no text, neither an answer nor thoughts.
    Empty {
        model: String,
        answer: Answer,
    },
    /// Thoughts only: a thinking model reasons before it answers.
    Thoughts {
        model: String,
        remote: Option<String>,
        thoughts: String,
        answer: Answer,
    },
    /// An answer: its text.
    Answered {
        model: String,
        remote: Option<String>,
        text: String,
        answer: Answer,
    },
}

/// `api.chat`: a non-streaming chat completes with `done: true`.
pub fn chat(
    model: &str,
    answer: &Result<ChatChunk, ClientError>,
    unreachable: Option<&str>,
) -> Outcome {
    chat_finding(model, answer, unreachable).outcome()
}

pub fn chat_finding(
    model: &str,
    answer: &Result<ChatChunk, ClientError>,
    unreachable: Option<&str>,
) -> Chat {
    let model = model.to_string();
    let c = match answer {
        Ok(c) if c.done => c,
        Ok(_) => return Chat::Incomplete { model },
        Err(e) => return Chat::Unanswered(Unanswered::of(e, unreachable)),
    };
    let answer = Answer {
        tokens: c.stats.eval_count.unwrap_or(0),
        total_duration_ns: c.stats.total_duration,
        done_reason: c.done_reason.clone(),
    };
    let thoughts = c.message.thinking.as_deref().unwrap_or_default();
    let text = &c.message.content;
    // A cloud model answers from its remote host, not from this machine.
    let remote = c.remote.describe();
    if text.trim().is_empty() && thoughts.trim().is_empty() {
        Chat::Empty { model, answer }
    } else if text.trim().is_empty() {
        // A thinking model reasons first: a capped answer may hold thoughts only.
        Chat::Thoughts {
            model,
            remote,
            thoughts: thoughts.to_string(),
            answer,
        }
    } else {
        Chat::Answered {
            model,
            remote,
            text: text.clone(),
            answer,
        }
    }
}

impl Chat {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let excerpt = |text: &str| -> String {
            let text: String = crate::client::excerpt(text.as_bytes())
                .chars()
                .take(60)
                .collect();
            text.trim().to_string()
        };
        let ran = |remote: &Option<String>| {
            remote
                .as_ref()
                .map(|r| format!(" (a cloud model: it ran as {r})"))
                .unwrap_or_default()
        };
        match self {
            Chat::Unanswered(unanswered) => unanswered.outcome(),
            Chat::Incomplete { model } => Outcome::fail(format!(
                "expected a complete answer (`done: true`) from {model}, got `done: false`; the server may be too old for `stream: false`"
            )),
            Chat::Empty { model, answer } => {
                let reason = answer.done_reason.as_deref();
                let said = match reason {
                    Some(r) => format!("done_reason \"{r}\""),
                    None => NotReported(Field::DoneReason).to_string(),
                };
                let why = match reason {
                    // What Ollama answers a chat without messages (or `keep_alive: 0`).
                    Some(r @ ("load" | "unload")) => format!(
                        "{said}: the server only {r}ed the model, as Ollama does for a chat without messages. Something between here and the server (a proxy) may have dropped the request's messages"
                    ),
                    _ => format!(
                        "{said}, after {} token(s): the model ended its answer before any text. Its TEMPLATE or a stop PARAMETER may end every answer at once; compare `ollama show {model} --modelfile` with its Modelfile",
                        answer.tokens
                    ),
                };
                Outcome::fail(format!(
                    "expected {model} to answer the chat, got `done: true` with no text; {why}"
                ))
                .with_value(answer.value())
            }
            Chat::Thoughts {
                model,
                remote,
                thoughts,
                answer,
            } => {
                let why = match answer.done_reason.as_deref() {
                    Some("length") => ", and the cap came first",
                    _ => "",
                };
                Outcome::pass(format!(
                    "{model}{} answered with its thoughts only (a thinking model reasons before it answers{why}): \"{}\"",
                    ran(remote),
                    excerpt(thoughts)
                ))
                .with_value(answer.value())
            }
            Chat::Answered {
                model,
                remote,
                text,
                answer,
            } => Outcome::pass(format!(
                "{model}{} answered: \"{}\"",
                ran(remote),
                excerpt(text)
            ))
            .with_value(answer.value()),
        }
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
        for reason in ["length", "stop"] {
            let found = chat_finding("qwen3", &answer(reason), None);
            assert!(
                matches!(
                    &found,
                    Chat::Thoughts { thoughts, answer, remote: None, .. }
                        if thoughts == "Okay, the user wants"
                            && answer.done_reason.as_deref() == Some(reason)
                ),
                "{found:?}"
            );
            assert_eq!(chat("qwen3", &answer(reason), None).status, Status::Pass);
        }
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
        let empty = |found: Chat| match found {
            Chat::Empty { answer, .. } => answer,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            empty(chat_finding("my-coder", &load, None)),
            Answer {
                tokens: 0,
                total_duration_ns: None,
                done_reason: Some("load".into())
            }
        );
        assert_eq!(chat("my-coder", &load, None).status, Status::Fail);
        let stop = answer(serde_json::json!({
            "model": "my-coder", "message": {"role": "assistant", "content": "  \n"},
            "done": true, "done_reason": "stop", "total_duration": 120_000_000
        }));
        assert_eq!(
            empty(chat_finding("my-coder", &stop, None)),
            Answer {
                tokens: 0,
                total_duration_ns: Some(120_000_000),
                done_reason: Some("stop".into())
            }
        );
        assert_eq!(chat("my-coder", &stop, None).status, Status::Fail);
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
        let found = chat_finding("gpt-oss:20b-cloud", &Ok(c.clone()), None);
        assert!(
            matches!(
                &found,
                Chat::Answered { remote: Some(r), text, .. }
                    if r == "gpt-oss:20b on https://ollama.com:443" && text == "def add(a, b): return a + b"
            ),
            "{found:?}"
        );
        assert_eq!(chat("gpt-oss:20b-cloud", &Ok(c), None).status, Status::Pass);
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
            let found = chat_finding(&c.model, &Ok(c.clone()), None);
            assert!(
                matches!(&found, Chat::Answered { answer, .. } if answer.total_duration_ns.is_some()),
                "{fixture}: {found:?}"
            );
            let o = chat(&c.model.clone(), &Ok(c), None);
            assert_eq!(o.status, Status::Pass, "{fixture}: {}", o.detail);
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
        assert!(matches!(
            chat_finding("llama2", &Ok(c.clone()), None),
            Chat::Empty {
                answer: Answer {
                    tokens: 3,
                    total_duration_ns: None,
                    done_reason: None
                },
                ..
            }
        ));
        let o = chat("llama2", &Ok(c), None);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.value.as_deref(), Some("3 tokens"));
    }

    #[test]
    fn root_compares_the_greeting() {
        assert_eq!(
            root(&Ok("Ollama is running".into()), "Ollama is running").status,
            Status::Pass
        );
        let nginx = Ok("<html>nginx</html>".into());
        assert!(matches!(
            root_finding(&nginx, "Ollama is running"),
            Root::Other { expected, answer } if expected == "Ollama is running" && answer == "<html>nginx</html>"
        ));
        assert_eq!(root(&nginx, "Ollama is running").status, Status::Fail);
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

    /// Every finding of the three checks, as a person reads it.
    #[test]
    fn findings_read_so() {
        let refused = ClientError::ConnectionRefused {
            addr: "127.0.0.1:11434".into(),
            next: Default::default(),
        };
        let down = || Unanswered::RootDown("the API does not answer (see api.root)".into());
        let roots = [
            Root::Greets("Ollama is running".into()),
            Root::Other {
                expected: "Ollama is running".into(),
                answer: "<html><body>nginx welcome page</body></html>\n".into(),
            },
            Root::Failed(refused.clone()),
        ];
        let tags = [
            Tags::Listed { models: 3 },
            Tags::Unanswered(down()),
            Tags::Unanswered(Unanswered::Failed(refused)),
        ];
        let answer = |tokens, ns, reason: Option<&str>| Answer {
            tokens,
            total_duration_ns: ns,
            done_reason: reason.map(str::to_string),
        };
        let model = || "my-coder".to_string();
        let cloud = || Some("gpt-oss:20b on https://ollama.com:443".to_string());
        let long =
            "Here is a function that adds two numbers:\n\ndef add(a, b):\n    return a + b\n";
        let chats = [
            Chat::Unanswered(down()),
            Chat::Incomplete { model: model() },
            Chat::Empty {
                model: model(),
                answer: answer(0, None, Some("load")),
            },
            Chat::Empty {
                model: model(),
                answer: answer(0, None, Some("unload")),
            },
            Chat::Empty {
                model: model(),
                answer: answer(0, Some(120_000_000), Some("stop")),
            },
            Chat::Empty {
                model: "llama2".into(),
                answer: answer(3, None, None),
            },
            Chat::Thoughts {
                model: "qwen3".into(),
                remote: None,
                thoughts: "Okay, the user wants".into(),
                answer: answer(32, Some(1_500_000_000), Some("length")),
            },
            Chat::Thoughts {
                model: "gpt-oss:20b-cloud".into(),
                remote: cloud(),
                thoughts: "Let me think.".into(),
                answer: answer(12, None, Some("stop")),
            },
            Chat::Answered {
                model: model(),
                remote: None,
                text: long.into(),
                answer: answer(46, Some(840_000_000), Some("stop")),
            },
            Chat::Answered {
                model: "gpt-oss:20b-cloud".into(),
                remote: cloud(),
                text: "def add(a, b): return a + b".into(),
                answer: answer(12, None, Some("stop")),
            },
        ];
        let all: String = roots
            .iter()
            .map(Root::outcome)
            .chain(tags.iter().map(Tags::outcome))
            .chain(chats.iter().map(Chat::outcome))
            .map(|o| o.snapshot_line())
            .collect();
        insta::assert_snapshot!(all);
    }
}
