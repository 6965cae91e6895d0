//! Steps of diagnostics.feature: why a check fails, from the log, NVML and the host.

use crate::world::VerifyWorld;
use cucumber::{then, when};
use ollama_verify::probe::logs::ServerLog;
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::probe::LogError;
use ollama_verify::probe::ProbeError;
use ollama_verify::verdict::cloud::Reading;
use ollama_verify::verdict::{self, diagnose};

/// The unit whose journal holds the server's log.
const UNIT: &str = "ollama";

#[when("the server log is read")]
async fn log_read(world: &mut VerifyWorld) {
    world.log = Some(world.session.server_log(UNIT).await);
}

fn log(world: &VerifyWorld) -> Result<&Result<ServerLog, LogError>, String> {
    world
        .log
        .as_ref()
        .ok_or_else(|| "add `When the server log is read` first".to_string())
}

fn unit(world: &VerifyWorld) -> Result<&Result<ServiceFacts, ProbeError>, String> {
    world
        .service
        .as_ref()
        .ok_or_else(|| "add `When the systemd unit \"ollama\" is inspected` first".to_string())
}

#[then("the log's inference compute lines name a CUDA device for every GPU")]
async fn discovered(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = diagnose::gpu_discovered(
        log(world)?,
        world.session.gpus().await,
        &world.session.advice,
    );
    world.conclude(outcome)
}

#[then(
    expr = "the NVIDIA driver is at least {int}, or {int} for compute capability {word} to {word}"
)]
async fn driver_floor(
    world: &mut VerifyWorld,
    floor: u32,
    old_floor: u32,
    from: String,
    to: String,
) -> Result<(), String> {
    let parse = |s: &str| {
        diagnose::parse_capability(s)
            .ok_or_else(|| format!("`{s}` is not a compute capability such as 5.0"))
    };
    let (from, to) = (parse(&from)?, parse(&to)?);
    let version = world.session.server_version().await.as_ref().ok().cloned();
    // The log, where it can be read, says whether the GPU really failed.
    if world.log.is_none() {
        world.log = Some(world.session.server_log(UNIT).await);
    }
    let outcome = diagnose::driver_floor(
        world.session.gpus().await,
        version.as_deref(),
        floor,
        old_floor,
        (from, to),
        world.log.as_ref(),
    );
    world.conclude(outcome)
}

#[when(expr = "the model {string} generates while the GPU is watched")]
async fn watched(world: &mut VerifyWorld, model: String) {
    // A cloud model generates on its remote host: this GPU has nothing to show.
    if world.measurable(&model) {
        world.watched = Some(world.session.gpus_during_generation(&model).await);
    }
    world.ps = Some(world.session.ps().await);
}

#[then(expr = "an Ollama process holds the VRAM that \\/api\\/ps claims for {string}")]
async fn offload_truth(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    if let Some(skip) = world.unmeasured(&model, Reading::Vram) {
        return world.conclude(skip);
    }
    let unreachable = world.session.unreachable().await;
    // The weights it runs on name its load in the log.
    let blob = world
        .session
        .show(&model)
        .await
        .as_ref()
        .ok()
        .and_then(verdict::modelfile::weights_blob);
    let outcome = match (&world.watched, &world.ps) {
        (Some((answered, samples)), Some(ps)) => diagnose::offload(
            ps,
            (&model, blob.as_deref()),
            answered,
            samples,
            log(world)?,
            unreachable.as_deref(),
            &world.session.advice,
        ),
        _ => {
            return Err(
                "add `When the model \"...\" generates while the GPU is watched` first".into(),
            )
        }
    };
    world.conclude(outcome)
}

#[then("the server config in the log matches the unit's environment")]
async fn settings(world: &mut VerifyWorld) -> Result<(), String> {
    let outcome = diagnose::settings(unit(world)?, log(world)?);
    world.conclude(outcome)
}

#[then(expr = "the unit has not restarted, and {int} restarts are a restart loop")]
async fn health(world: &mut VerifyWorld, loop_at: u32) -> Result<(), String> {
    let outcome = diagnose::service_health(unit(world)?, log(world)?, loop_at);
    world.conclude(outcome)
}

#[when("the owner of the API port is looked up")]
async fn owner_looked_up(world: &mut VerifyWorld) {
    world.owners = Some(world.session.port_owners().await);
}

#[then("it is a single Ollama server")]
async fn port_owner(world: &mut VerifyWorld) -> Result<(), String> {
    // Only a server that never answered: one that answered as no Ollama does is
    // exactly what this check explains.
    let silent = world
        .session
        .root()
        .await
        .as_ref()
        .is_err_and(|e| e.is_unresponsive());
    let unreachable = match silent {
        true => world.session.unreachable().await,
        false => None,
    };
    let owners = world
        .owners
        .as_ref()
        .ok_or("add `When the owner of the API port is looked up` first")?;
    let outcome = diagnose::port_owner(owners, unreachable.as_deref());
    world.conclude(outcome)
}

#[then(
    expr = "the context of {string} fits in VRAM and the log shows no truncated prompt or out-of-memory"
)]
async fn context(world: &mut VerifyWorld, model: String) -> Result<(), String> {
    if let Some(skip) = world.unmeasured(&model, Reading::Vram) {
        return world.conclude(skip);
    }
    let unreachable = world.session.unreachable().await;
    let outcome = match &world.ps {
        Some(ps) => diagnose::context(
            ps,
            &model,
            world.session.gpus().await,
            log(world)?,
            unreachable.as_deref(),
        ),
        None => return Err("add `When the loaded models are listed` first".into()),
    };
    world.conclude(outcome)
}

#[when("the host's kernel and driver libraries are inspected")]
async fn platform_inspected(world: &mut VerifyWorld) {
    world.platform = Some(world.session.platform().await);
}

#[then(
    "nvidia_uvm is loaded natively, and on WSL2 no Linux driver library shadows the Windows one"
)]
async fn platform(world: &mut VerifyWorld) -> Result<(), String> {
    let facts = world
        .platform
        .as_ref()
        .ok_or("add `When the host's kernel and driver libraries are inspected` first")?;
    let outcome = diagnose::platform(facts, world.session.gpus().await);
    world.conclude(outcome)
}

#[then(expr = "the server is at least version {string}, which fixes {string}")]
async fn not_vulnerable(
    world: &mut VerifyWorld,
    minimum: String,
    cve: String,
) -> Result<(), String> {
    let unreachable = world.session.unreachable().await;
    // Reachable beyond loopback: the unit's (container's) OLLAMA_HOST binds there, or
    // this run reaches the server at a network address.
    let bind = match unit(world)? {
        Ok(ServiceFacts::Unit(u)) if u.exists() => u.env("OLLAMA_HOST").map(str::to_string),
        Ok(ServiceFacts::Container(c)) => c.env("OLLAMA_HOST").map(str::to_string),
        _ => None,
    };
    let base = world.session.client.base_url().clone();
    let exposure = match bind {
        Some(h) if verdict::security::binds_beyond_loopback(&h) => {
            Some(format!("OLLAMA_HOST={h} binds beyond loopback"))
        }
        _ if !ollama_verify::client::is_local(&base) => {
            Some(format!("this run reaches it at {base}"))
        }
        _ => None,
    };
    let outcome = diagnose::vulnerable(
        world.session.server_version().await,
        &minimum,
        &cve,
        exposure.as_deref(),
        unreachable.as_deref(),
    );
    world.conclude(outcome)
}
