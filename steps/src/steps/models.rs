//! Steps of models.feature.

use crate::world::VerifyWorld;
use cucumber::{then, when};
use ollama_verify::session::Target;
use ollama_verify::verdict;
use ollama_verify::verdict::models::{create_remedy, pull_remedy};

/// How to install a missing model on the docker target, where the run installs the
/// models itself unless `--no-provision` is given: `how` is what it does
/// ("pulls it", "creates it from the compose file's Modelfile").
fn docker_remedy(how: &str) -> String {
    format!(
        "The docker target {how} in the container's volume unless --no-provision is given: run without --no-provision, or give --volume a volume that already holds it (a --fresh-volume starts empty)"
    )
}

/// How to install a missing base model on the session's target.
pub fn base_remedy(target: Target, model: &str) -> String {
    match target {
        Target::Docker => docker_remedy("pulls it"),
        _ => pull_remedy(model),
    }
}

/// How to install a missing custom model on the session's target.
pub fn custom_remedy(target: Target, model: &str) -> String {
    match target {
        Target::Docker => docker_remedy("creates it from the compose file's Modelfile"),
        _ => create_remedy(model),
    }
}

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
        &base_remedy(world.session.target, &model),
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
        &custom_remedy(world.session.target, &model),
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the docker target the run installs the models: the advice is the flag that
    /// stopped it, not an `ollama pull` on this machine.
    #[test]
    fn the_docker_target_names_no_provision() {
        for remedy in [
            base_remedy(Target::Docker, "qwen2.5-coder:7b"),
            custom_remedy(Target::Docker, "my-coder"),
        ] {
            assert!(remedy.contains("run without --no-provision"), "{remedy}");
            assert!(!remedy.contains("ollama pull"), "{remedy}");
        }
        assert!(base_remedy(Target::Native, "x").contains("ollama pull x"));
        assert!(custom_remedy(Target::Emulator, "y").contains("ollama create y"));
    }
}
