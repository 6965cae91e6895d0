//! Steps of api.feature (and the shared chat fact).

use crate::world::VerifyWorld;
use cucumber::{given, then, when};
use ollama_verify::verdict;

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
