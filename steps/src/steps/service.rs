//! Steps of service.feature: the systemd unit and the `ollama` CLI.

use crate::world::VerifyWorld;
use cucumber::{then, when};
use ollama_verify::check::Outcome;
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::probe::HostError;
use ollama_verify::probe::ProbeError;
use ollama_verify::verdict;

#[when(expr = "the systemd unit {string} is inspected")]
async fn unit_inspected(world: &mut VerifyWorld, unit: String) {
    world.service = Some(world.session.service(&unit).await);
}

fn unit(world: &VerifyWorld) -> Result<&Result<ServiceFacts, ProbeError>, String> {
    world
        .service
        .as_ref()
        .ok_or_else(|| "add `When the systemd unit \"ollama\" is inspected` first".to_string())
}

#[then("the unit is active")]
async fn is_active(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = verdict::service::active(unit(world)?);
    world.conclude(outcome)
}

#[then("the unit is enabled")]
async fn is_enabled(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = verdict::service::enabled(unit(world)?);
    world.conclude(outcome)
}

#[then("the unit has a drop-in override")]
async fn has_override(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = verdict::service::r#override(unit(world)?);
    world.conclude(outcome)
}

#[then(expr = "the unit sets OLLAMA_HOST to bind {string}")]
async fn binds(world: &mut VerifyWorld, expected: String) -> Result<(), String> {
    let outcome = verdict::service::host(unit(world)?, &expected);
    world.conclude(outcome)
}

#[then(expr = "the unit sets {word} to {string}")]
async fn sets(world: &mut VerifyWorld, key: String, expected: String) -> Result<(), String> {
    let outcome = verdict::service::env_equals(unit(world)?, &key, &expected);
    world.conclude(outcome)
}

#[when("\"ollama --version\" runs")]
async fn cli_runs(world: &mut VerifyWorld) {
    let _ = world.session.cli_version().await;
}

#[then("it reports a version, the same as the server's")]
async fn cli_version(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = match world.session.cli_version().await {
        Err(no_host) => Outcome::skip(no_host.to_string()),
        Ok(run) => {
            let server = world.session.server_version().await.as_ref().ok();
            // Asked only for a CLI stopped by its deadline: was the server silent?
            let stopped = matches!(run, Err(HostError::TimedOut { .. }));
            let silent = match stopped {
                true if world
                    .session
                    .root()
                    .await
                    .as_ref()
                    .is_err_and(|e| e.is_unresponsive()) =>
                {
                    world.session.unreachable().await
                }
                _ => None,
            };
            verdict::cli::available(run, server.map(String::as_str), silent.as_deref())
        }
    };
    world.conclude(outcome)
}
