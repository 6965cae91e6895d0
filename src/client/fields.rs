//! Fields older Ollama releases leave out, each with the release that added it (the
//! first tag whose `api/types.go` or `openai/openai.go` has it): a verdict that lacks
//! one says the server does not report it, instead of reading it as 0 or empty.

use super::types::RunningModel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `context_length` of `GET /api/ps`.
    PsContextLength,
    /// `done_reason` of a chat's or generation's last chunk.
    DoneReason,
    /// `model_info` of `POST /api/show`.
    ShowModelInfo,
    /// `capabilities` of `POST /api/show`.
    ShowCapabilities,
    /// `message.reasoning` of `/v1/chat/completions` (thoughts inline before it).
    CompletionReasoning,
}

impl Field {
    /// The field and where it is, as a reader finds it in the answer.
    pub fn name(self) -> &'static str {
        match self {
            Field::PsContextLength => "`context_length` in `GET /api/ps`",
            Field::DoneReason => "`done_reason` in the last chunk",
            Field::ShowModelInfo => "`model_info` in `POST /api/show`",
            Field::ShowCapabilities => "`capabilities` in `POST /api/show`",
            Field::CompletionReasoning => "`message.reasoning` in `/v1/chat/completions`",
        }
    }

    /// The first Ollama release that sends it.
    pub fn added(self) -> &'static str {
        match self {
            Field::PsContextLength => "0.10.0",
            Field::DoneReason => "0.1.35",
            Field::ShowModelInfo => "0.1.45",
            Field::ShowCapabilities => "0.6.4",
            Field::CompletionReasoning => "0.11.0",
        }
    }
}

/// A field the server's answer lacks: its release is older than the field's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server does not report {} (Ollama sends it from {} on, so the server is older or not Ollama)", .0.name(), .0.added())]
pub struct NotReported(pub Field);

impl RunningModel {
    /// The loaded context in tokens, where the server reports it (0.10.0 on).
    pub fn context(&self) -> Result<u64, NotReported> {
        self.context_length
            .ok_or(NotReported(Field::PsContextLength))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::types::PsResponse;

    fn ps(fixture: &str) -> PsResponse {
        let path = format!(
            "{}/tests/fixtures/api/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// A 2025 server before 0.10.0 and the 0.1.42 docs: no context, not a context of 0.
    #[test]
    fn a_ps_without_context_length_does_not_report_it() {
        for fixture in [
            "038-ps-gemma3-no-context-length-2025-08.json",
            "041-ps-docs-v0.1.42.json",
        ] {
            let e = ps(fixture).models[0].context().unwrap_err();
            assert_eq!(e, NotReported(Field::PsContextLength));
            assert!(e.to_string().contains("0.10.0"), "{e}");
        }
        assert_eq!(
            ps("019-ps-qwen2.5-coder-0.11.3.json").models[0].context(),
            Ok(4096)
        );
    }
}
