//! Steps of api.feature (and the shared chat fact).

use crate::world::VerifyWorld;
use cucumber::{given, then, when};
use futures_util::StreamExt;
use ollama_verify::client::types::{ChatCompletionRequest, Message, StreamOptions};
use ollama_verify::verdict;
use ollama_verify::verdict::openai::OpenAiFacts;

#[when("the root URL is requested")]
async fn root_requested(world: &mut VerifyWorld) {
    world.session.root().await;
}

#[then(expr = "the answer is {string}")]
async fn answer_is(world: &mut VerifyWorld, expected: String) -> Result<(), String> {
    let outcome = verdict::api::root(world.session.root().await, &expected);
    world.conclude(outcome)
}

#[then("the answer is a list of models")]
async fn answer_is_model_list(world: &mut VerifyWorld) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::api::tags(world.session.tags().await, unreachable.as_deref());
    world.conclude(outcome)
}

#[given(expr = "the model {string} has answered a chat")]
async fn has_answered(world: &mut VerifyWorld, model: String) {
    let chat = world.session.chat(&model).await;
    if chat.is_err() {
        world.unreachable = world.session.unreachable().await;
    }
    world.chat = Some(chat);
}

#[then("the chat completed with \"done\": true")]
async fn chat_completed(world: &mut VerifyWorld) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let Some(chat) = &world.chat else {
        return Err("no chat was made: add `Given the model \"...\" has answered a chat`".into());
    };
    let model = chat
        .as_ref()
        .map(|c| c.model.clone())
        .unwrap_or_else(|_| "the model".into());
    let outcome = verdict::api::chat(&model, chat, unreachable.as_deref());
    world.conclude(outcome)
}

/// A short question: the check reads the answer's shape, not its quality.
const OPENAI_PROMPT: &str = "Write a Go function that adds two integers.";
const OPENAI_MAX_TOKENS: u64 = 16;

/// Gathers and judges in one step: the facts serve this check alone.
#[then(expr = "the OpenAI-compatible API lists {string} and answers it, whole and streamed")]
async fn openai_answers(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    // Where `GET /` failed, every request would only echo it (or wait out the load
    // timeout on a hung server): api.root reports it once.
    let outcome = match world.session.unreachable().await {
        Some(reason) => verdict::openai::unasked(&reason),
        None => verdict::openai::openai(&model, &openai_facts(world, &model).await, None),
    };
    world.conclude(outcome)
}

async fn openai_facts(world: &VerifyWorld, model: &str) -> OpenAiFacts {
    let session = world.session.clone();
    // In turn with the other requests, so no timing of another check overlaps it.
    let _turn = session.turn().await;
    let client = &session.client;
    let request = ChatCompletionRequest {
        model: model.to_string(),
        messages: vec![Message::user(OPENAI_PROMPT)],
        max_tokens: Some(OPENAI_MAX_TOKENS),
        ..Default::default()
    };
    let advice = &session.advice;
    let models = advice.advised(client.openai_models().await);
    let whole = advice.advised(client.chat_completion(&request).await);
    let streamed = async {
        let mut stream = client
            .chat_completion_stream(&ChatCompletionRequest {
                stream_options: Some(StreamOptions {
                    include_usage: true,
                }),
                ..request.clone()
            })
            .await?;
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk?);
        }
        Ok(chunks)
    }
    .await;
    OpenAiFacts {
        models,
        whole,
        streamed: advice.advised(streamed),
    }
}
