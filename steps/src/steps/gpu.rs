//! Steps of gpu.feature.

use crate::world::VerifyWorld;
use cucumber::{then, when};
use ollama_verify::check::Outcome;
use ollama_verify::verdict;

#[when("the GPUs are listed through the driver")]
async fn gpus_listed(world: &mut VerifyWorld) {
    world.session.gpus().await;
}

#[then(expr = "at least {int} NVIDIA GPU is visible with its name, memory and driver version")]
async fn gpu_visible(world: &mut VerifyWorld, min: usize) -> Result<(), String> {
    let outcome = verdict::gpu::visible(world.session.gpus().await, min);
    world.conclude(outcome)
}

#[when("the loaded models are listed")]
async fn loaded_listed(world: &mut VerifyWorld) {
    world.ps = Some(world.session.ps().await);
}

#[then(expr = "the model {string} is loaded 100% on the GPU")]
async fn fully_on_gpu(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    let outcome = match (world.chat_failed(), &world.ps) {
        (Some(reason), _) => Outcome::skip(reason),
        // Where a cloud model's chat says it ran: it is never loaded here.
        (None, Some(ps)) => verdict::gpu::offload(ps, &model, world.chat_remote()),
        (None, None) => return Err("add `When the loaded models are listed` first".into()),
    };
    world.conclude(outcome)
}
