//! Steps of performance.feature.

use crate::world::VerifyWorld;
use cucumber::gherkin::Step;
use cucumber::{then, when};
use ollama_verify::check::Outcome;
use ollama_verify::verdict;

#[when(expr = "the model {string} answers at most {int} tokens to:")]
async fn answers(
    world: &mut VerifyWorld,
    step: &Step,
    model: String,
    num_predict: u64,
) -> Result<(), String> {
    let prompt = step
        .docstring
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or("the step needs the prompt as a doc string (between \"\"\" lines)")?;
    world.sample = Some(world.session.measure(&model, prompt, num_predict).await);
    Ok(())
}

#[then(expr = "generation runs at {float} tokens per second or more")]
async fn runs_at(world: &mut VerifyWorld, target: f64) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let sample = world
        .sample
        .as_ref()
        .ok_or("add `When the model \"...\" answers at most N tokens to:` first")?;
    let outcome = match world.chat_failed() {
        Some(reason) => Outcome::skip(reason),
        None => verdict::perf::generation(sample, target, unreachable.as_deref()),
    };
    world.conclude(outcome)
}
