//! Steps of models.feature.

use crate::world::VerifyWorld;
use cucumber::{then, when};
use ollama_verify::verdict;
use ollama_verify::verdict::models::{create_remedy, pull_remedy};

#[when("the installed models are listed")]
async fn models_listed(world: &mut VerifyWorld) {
    world.session.tags().await;
}

#[then(expr = "the base model {string} is installed")]
async fn base_installed(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::models::installed(
        world.session.tags().await,
        &model,
        &pull_remedy(&model),
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}

#[then(expr = "the custom model {string} is installed")]
async fn custom_installed(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::models::installed(
        world.session.tags().await,
        &model,
        &create_remedy(&model),
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}
