//! `api.openai`: the OpenAI-compatible API that Open WebUI, Continue and Aider use
//! lists the model (`GET /v1/models`) and answers it in OpenAI's shape, whole
//! (`chat.completion`) and streamed (`chat.completion.chunk` events up to
//! `data: [DONE]`). The verdict finds what the answers show (a typed finding), and
//! one renderer words it.

use super::Unanswered;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{ChatCompletion, ChatCompletionChunk, ModelList};
use crate::ClientError;

/// What the check gathered: the model list, one whole answer and one streamed answer.
#[derive(Debug)]
pub struct OpenAiFacts {
    pub models: Result<ModelList, ClientError>,
    pub whole: Result<ChatCompletion, ClientError>,
    /// Every chunk up to `data: [DONE]`: a stream that ends early is an error.
    pub streamed: Result<Vec<ChatCompletionChunk>, ClientError>,
}

/// What is wrong with a whole answer's shape.
#[derive(Debug, Clone, PartialEq)]
pub enum WholeFault {
    /// `object` is not `chat.completion`: what it is.
    Object(String),
    /// `choices` is empty.
    NoChoices,
    /// `choices[0].message.role` is not `assistant`: what it is, if anything.
    Role(Option<String>),
    /// `choices[0].message` holds neither text nor thoughts.
    NoText,
    /// No `usage`: Ollama always sends it, and clients count tokens with it.
    NoUsage,
    /// `usage` does not add up.
    UsageSum {
        prompt: u64,
        completion: u64,
        total: u64,
    },
}

/// What is wrong with a stream's chunks.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamFault {
    /// No event before `data: [DONE]`.
    NoEvents,
    /// An event's `object` is not `chat.completion.chunk`: what it is.
    Object(String),
    /// None of its `events` carried text.
    NoText { events: usize },
    /// No event carried a `finish_reason`.
    NoFinish,
}

/// What `api.openai` found.
#[derive(Debug, Clone)]
pub enum OpenAi {
    Unanswered(Unanswered),
    /// `GET /v1/models` does not list the model: what it lists.
    NotListed {
        model: String,
        listed: Vec<String>,
    },
    /// The whole answer is not in OpenAI's shape.
    Whole {
        model: String,
        fault: WholeFault,
    },
    /// The streamed answer is not in OpenAI's shape.
    Stream {
        model: String,
        fault: StreamFault,
    },
    /// Listed as `id`, answered `text` (or thoughts) whole, and streamed `chunks`;
    /// `completion_tokens` from the whole answer's `usage`.
    Answered {
        id: String,
        text: String,
        chunks: usize,
        completion_tokens: Option<u64>,
    },
}

/// `api.openai`.
pub fn openai(model: &str, facts: &OpenAiFacts, unreachable: Option<&str>) -> Outcome {
    openai_finding(model, facts, unreachable).outcome()
}

pub fn openai_finding(model: &str, facts: &OpenAiFacts, unreachable: Option<&str>) -> OpenAi {
    let unanswered = |e| OpenAi::Unanswered(Unanswered::of(e, unreachable));
    let model = model.to_string();
    let list = match &facts.models {
        Ok(l) => l,
        Err(e) => return unanswered(e),
    };
    let Some(listed) = list.find(&model) else {
        return OpenAi::NotListed {
            model,
            listed: list.data.iter().map(|m| m.id.clone()).collect(),
        };
    };
    let whole = match &facts.whole {
        Ok(c) => c,
        Err(e) => return unanswered(e),
    };
    if let Err(fault) = whole_shape(whole) {
        return OpenAi::Whole { model, fault };
    }
    let chunks = match &facts.streamed {
        Ok(c) => c,
        Err(e) => return unanswered(e),
    };
    if let Err(fault) = stream_shape(chunks) {
        return OpenAi::Stream { model, fault };
    }
    let message = &whole.choices[0].message;
    let text = if message.content.trim().is_empty() {
        message.reasoning.as_deref().unwrap_or_default()
    } else {
        &message.content
    };
    OpenAi::Answered {
        id: listed.id.clone(),
        text: text.to_string(),
        chunks: chunks.len(),
        completion_tokens: whole.usage.map(|u| u.completion_tokens),
    }
}

impl OpenAi {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            OpenAi::Unanswered(unanswered) => unanswered.outcome(),
            OpenAi::NotListed { model, listed } => Outcome::fail(format!(
                "expected {model} in `GET /v1/models`, the list Open WebUI and Continue offer, got {}. It lists what `ollama list` does: see {see}",
                if listed.is_empty() { "none".into() } else { listed.join(", ") },
                see = CheckId::ModelsCustom
            )),
            OpenAi::Whole { model, fault } => Outcome::fail(format!(
                "expected `POST /v1/chat/completions` to answer {model} in OpenAI's shape, but {}. OpenAI clients cannot read this answer; is a proxy rewriting it, or is it not Ollama?",
                fault.why()
            )),
            OpenAi::Stream { model, fault } => Outcome::fail(format!(
                "expected the streamed `POST /v1/chat/completions` (`\"stream\": true`) to answer {model} in `chat.completion.chunk` events, but {}. Streaming clients (Open WebUI, Continue) show nothing; is a proxy buffering or rewriting the events?",
                fault.why()
            )),
            OpenAi::Answered {
                id,
                text,
                chunks,
                completion_tokens,
            } => {
                let excerpt: String = crate::client::excerpt(text.as_bytes())
                    .chars()
                    .take(60)
                    .collect();
                Outcome::pass(format!(
                    "`GET /v1/models` lists {id}; `POST /v1/chat/completions` answered in OpenAI's shape (\"{}\"), and streamed {chunks} chunk(s) ending with `data: [DONE]`",
                    excerpt.trim()
                ))
                .with_value(
                    completion_tokens
                        .map(|n| format!("{n} tokens"))
                        .unwrap_or_default(),
                )
            }
        }
    }
}

/// `api.openai` where `GET /` failed (`reason`, see [`super::root_reason`]): the
/// OpenAI-compatible API is not asked, as its answers would only echo that failure.
pub fn unasked(reason: &str) -> Outcome {
    Unanswered::RootDown(reason.to_string()).outcome()
}

/// What is wrong with a whole answer's shape, if anything.
fn whole_shape(c: &ChatCompletion) -> Result<(), WholeFault> {
    if c.object != "chat.completion" {
        return Err(WholeFault::Object(c.object.clone()));
    }
    let Some(first) = c.choices.first() else {
        return Err(WholeFault::NoChoices);
    };
    if first.message.role.as_deref() != Some("assistant") {
        return Err(WholeFault::Role(first.message.role.clone()));
    }
    let thoughts = first.message.reasoning.as_deref().unwrap_or_default();
    if first.message.content.trim().is_empty() && thoughts.trim().is_empty() {
        return Err(WholeFault::NoText);
    }
    match c.usage {
        // Ollama always sends it; clients count tokens with it.
        None => Err(WholeFault::NoUsage),
        Some(u) if u.total_tokens != u.prompt_tokens + u.completion_tokens => {
            Err(WholeFault::UsageSum {
                prompt: u.prompt_tokens,
                completion: u.completion_tokens,
                total: u.total_tokens,
            })
        }
        Some(_) => Ok(()),
    }
}

impl WholeFault {
    /// The fault, as the rest of a sentence.
    fn why(&self) -> String {
        match self {
            WholeFault::Object(object) => {
                format!("its `object` is \"{object}\", not \"chat.completion\"")
            }
            WholeFault::NoChoices => "its `choices` is empty".into(),
            WholeFault::Role(role) => format!(
                "`choices[0].message.role` is \"{}\", not \"assistant\"",
                role.as_deref().unwrap_or("(none)")
            ),
            WholeFault::NoText => "`choices[0].message` holds no text".into(),
            WholeFault::NoUsage => "it has no `usage`".into(),
            WholeFault::UsageSum {
                prompt,
                completion,
                total,
            } => format!(
                "its `usage` does not add up: {prompt} prompt + {completion} completion tokens, {total} in total"
            ),
        }
    }
}

/// What is wrong with a stream's chunks, if anything.
fn stream_shape(chunks: &[ChatCompletionChunk]) -> Result<(), StreamFault> {
    if chunks.is_empty() {
        return Err(StreamFault::NoEvents);
    }
    if let Some(c) = chunks.iter().find(|c| c.object != "chat.completion.chunk") {
        return Err(StreamFault::Object(c.object.clone()));
    }
    let choices = || chunks.iter().flat_map(|c| c.choices.iter());
    let spoke = choices().any(|c| {
        !c.delta.content.is_empty() || c.delta.reasoning.as_deref().is_some_and(|r| !r.is_empty())
    });
    if !spoke {
        return Err(StreamFault::NoText {
            events: chunks.len(),
        });
    }
    if !choices().any(|c| c.finish_reason.is_some()) {
        return Err(StreamFault::NoFinish);
    }
    Ok(())
}

impl StreamFault {
    /// The fault, as the rest of a sentence.
    fn why(&self) -> String {
        match self {
            StreamFault::NoEvents => "no event came before `data: [DONE]`".into(),
            StreamFault::Object(object) => {
                format!("an event's `object` is \"{object}\", not \"chat.completion.chunk\"")
            }
            StreamFault::NoText { events } => {
                format!("none of its {events} event(s) carried text in `choices[0].delta`")
            }
            StreamFault::NoFinish => "no event carried a `finish_reason`".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::OpenAiModel;
    use crate::client::{Added, ErrorKind};

    fn text(fixture: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/api/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).unwrap()
    }

    /// A recorded whole answer.
    fn whole(fixture: &str) -> ChatCompletion {
        serde_json::from_str(&text(fixture)).unwrap()
    }

    /// A recorded stream's chunks, as the client yields them (up to `[DONE]`).
    fn streamed(fixture: &str) -> Vec<ChatCompletionChunk> {
        text(fixture)
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .take_while(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    fn listing(ids: &[&str]) -> ModelList {
        ModelList {
            object: "list".into(),
            data: ids
                .iter()
                .map(|id| OpenAiModel {
                    id: id.to_string(),
                    object: "model".into(),
                    created: 1_728_234_890,
                    owned_by: "library".into(),
                })
                .collect(),
        }
    }

    fn facts(whole_fixture: &str, stream_fixture: &str, model: &str) -> OpenAiFacts {
        OpenAiFacts {
            models: Ok(listing(&[&format!("{model}:latest")])),
            whole: Ok(whole(whole_fixture)),
            streamed: Ok(streamed(stream_fixture)),
        }
    }

    /// Recorded answers of 2024 to 2026 servers pass: plain, thoughts inline in
    /// `<think>` (before 0.11.0) and thoughts in `reasoning` (0.11.0 on).
    #[test]
    fn recorded_answers_pass() {
        for (whole, stream) in [
            (
                "028-v1-chat-qwen2.5-2024-10.json",
                "032-v1-chat-stream-qwen3-2025-06.sse",
            ),
            (
                "030-v1-chat-qwen3-2025-06.json",
                "032-v1-chat-stream-qwen3-2025-06.sse",
            ),
            (
                "031-v1-chat-qwen3-2026-06.json",
                "033-v1-chat-stream-qwen3-2026-06.sse",
            ),
        ] {
            let f = facts(whole, stream, "qwen3");
            let found = openai_finding("qwen3", &f, None);
            assert!(
                matches!(
                    &found,
                    OpenAi::Answered { id, completion_tokens: Some(_), chunks, .. }
                        if id == "qwen3:latest" && *chunks > 0
                ),
                "{whole}: {found:?}"
            );
            assert_eq!(openai("qwen3", &f, None).status, Status::Pass, "{whole}");
        }
    }

    #[test]
    fn a_model_missing_from_the_list_fails_and_names_the_list() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        f.models = Ok(listing(&["llama3.2:3b"]));
        assert!(matches!(
            openai_finding("my-coder", &f, None),
            OpenAi::NotListed { model, listed } if model == "my-coder" && listed == ["llama3.2:3b"]
        ));
        assert_eq!(openai("my-coder", &f, None).status, Status::Fail);
    }

    /// A whole answer without `usage` (a proxy's) is not read as 0 tokens.
    #[test]
    fn an_answer_without_usage_fails() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        if let Ok(w) = &mut f.whole {
            w.usage = None;
        }
        assert!(matches!(
            openai_finding("qwen3", &f, None),
            OpenAi::Whole {
                fault: WholeFault::NoUsage,
                ..
            }
        ));
        assert_eq!(openai("qwen3", &f, None).status, Status::Fail);
    }

    /// A stream of the native shape or without a finish is not OpenAI's.
    #[test]
    fn a_stream_without_chunks_or_finish_fails() {
        let mut f = facts(
            "031-v1-chat-qwen3-2026-06.json",
            "033-v1-chat-stream-qwen3-2026-06.sse",
            "qwen3",
        );
        if let Ok(chunks) = &mut f.streamed {
            chunks
                .iter_mut()
                .flat_map(|c| c.choices.iter_mut())
                .for_each(|c| c.finish_reason = None);
        }
        assert!(matches!(
            openai_finding("qwen3", &f, None),
            OpenAi::Stream {
                fault: StreamFault::NoFinish,
                ..
            }
        ));
        assert_eq!(openai("qwen3", &f, None).status, Status::Fail);
        f.streamed = Ok(vec![]);
        assert!(matches!(
            openai_finding("qwen3", &f, None),
            OpenAi::Stream {
                fault: StreamFault::NoEvents,
                ..
            }
        ));
    }

    /// A server before 0.2.0 has no `/v1/models`: the failure names the release.
    #[test]
    fn a_server_before_0_2_names_the_release() {
        let mut f = facts(
            "028-v1-chat-qwen2.5-2024-10.json",
            "032-v1-chat-stream-qwen3-2025-06.sse",
            "qwen3",
        );
        let missing = ClientError::EndpointMissing {
            endpoint: "GET http://127.0.0.1:11434/v1/models".into(),
            message: Some("404 page not found".into()),
            added: Added::In("0.2.0"),
        };
        assert_eq!(missing.kind(), ErrorKind::EndpointMissing);
        f.models = Err(missing);
        // The client's error names the release; the verdict passes it on.
        assert!(matches!(
            openai_finding("qwen3", &f, None),
            OpenAi::Unanswered(Unanswered::Failed(ClientError::EndpointMissing {
                added: Added::In("0.2.0"),
                ..
            }))
        ));
        assert_eq!(openai("qwen3", &f, None).status, Status::Fail);
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let model = || "qwen3".to_string();
        let whole = |fault| OpenAi::Whole {
            model: model(),
            fault,
        };
        let stream = |fault| OpenAi::Stream {
            model: model(),
            fault,
        };
        let found = [
            OpenAi::Unanswered(Unanswered::RootDown(
                "the API does not answer (see api.root)".into(),
            )),
            OpenAi::Unanswered(Unanswered::Failed(ClientError::EndpointMissing {
                endpoint: "GET http://127.0.0.1:11434/v1/models".into(),
                message: Some("404 page not found".into()),
                added: Added::In("0.2.0"),
            })),
            OpenAi::NotListed {
                model: model(),
                listed: vec![],
            },
            OpenAi::NotListed {
                model: model(),
                listed: vec!["llama3.2:3b".into(), "my-coder:latest".into()],
            },
            whole(WholeFault::Object("chat.completion.chunk".into())),
            whole(WholeFault::NoChoices),
            whole(WholeFault::Role(None)),
            whole(WholeFault::Role(Some("user".into()))),
            whole(WholeFault::NoText),
            whole(WholeFault::NoUsage),
            whole(WholeFault::UsageSum {
                prompt: 18,
                completion: 295,
                total: 314,
            }),
            stream(StreamFault::NoEvents),
            stream(StreamFault::Object("chat.completion".into())),
            stream(StreamFault::NoText { events: 12 }),
            stream(StreamFault::NoFinish),
            OpenAi::Answered {
                id: "qwen3:latest".into(),
                text: "The answer to **2 + 2** is **4**. This is a basic arithmetic fact.".into(),
                chunks: 286,
                completion_tokens: Some(295),
            },
            OpenAi::Answered {
                id: "qwen3:latest".into(),
                text: "4".into(),
                chunks: 3,
                completion_tokens: None,
            },
        ];
        let all: String = found
            .iter()
            .map(OpenAi::outcome)
            .chain([unasked("the API does not answer (see api.root)")])
            .map(|o| o.snapshot_line())
            .collect();
        insta::assert_snapshot!(all);
    }
}
