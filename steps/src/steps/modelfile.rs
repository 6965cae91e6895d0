//! Steps of modelfile.feature.

use crate::world::VerifyWorld;
use cucumber::{given, then, when};
use ollama_verify::modelfile::Modelfile;
use ollama_verify::verdict;

#[given(expr = "the Modelfile {string}")]
async fn the_modelfile(world: &mut VerifyWorld, path: String) -> Result<(), String> {
    let file = world.session.resolve(&path);
    let bytes = std::fs::read(&file)
        .map_err(|e| format!("cannot read the Modelfile {}: {e}", file.display()))?;
    let mf = Modelfile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    world.modelfile = Some(mf);
    Ok(())
}

fn modelfile(world: &VerifyWorld) -> Result<&Modelfile, String> {
    world
        .modelfile
        .as_ref()
        .ok_or_else(|| "add `Given the Modelfile \"...\"` first".to_string())
}

#[when(expr = "the server shows the model {string}")]
async fn shows(world: &mut VerifyWorld, model: String) {
    world.show = Some(world.session.show(&model).await);
}

#[when("the server shows the Modelfile's base model")]
async fn shows_base(world: &mut VerifyWorld) -> Result<(), String> {
    let base = modelfile(world)?.from.clone();
    world.base_show = Some(world.session.show(&base).await);
    Ok(())
}

fn shown(
    show: &Option<Result<ollama_verify::client::types::ShowResponse, ollama_verify::ClientError>>,
) -> Result<&Result<ollama_verify::client::types::ShowResponse, ollama_verify::ClientError>, String>
{
    show.as_ref()
        .ok_or_else(|| "add `When the server shows the model \"...\"` first".to_string())
}

#[then("every PARAMETER of the Modelfile has the same value on the server")]
async fn same_parameters(world: &mut VerifyWorld) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::modelfile::parameters(
        modelfile(world)?,
        shown(&world.show)?,
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}

#[then(
    "the server's system prompt is the Modelfile's SYSTEM, or the base model's where it sets none"
)]
async fn same_system(world: &mut VerifyWorld) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::modelfile::system(
        modelfile(world)?,
        shown(&world.show)?,
        world.base_show.as_ref(),
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}

#[then("both name the same weights blob")]
async fn same_weights(world: &mut VerifyWorld) -> Result<(), String> {
    let base = modelfile(world)?.from.clone();
    let unreachable = world.session.unreachable().await;
    let outcome = verdict::modelfile::weights(
        shown(&world.show)?,
        &base,
        shown(&world.base_show)?,
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}
