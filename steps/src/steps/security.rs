//! Steps of security.feature: who can reach the API, and secrets in the unit.

use crate::world::VerifyWorld;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use ollama_verify::probe::network::{self, AddressProbe};
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::probe::{Host as _, LocalHost};
use ollama_verify::probe::{NativeProbe, ProbeError};
use ollama_verify::session::{Session, Target};
use ollama_verify::verdict;
use std::time::Duration;

/// The longest one address may take to answer `GET /`: an address of this machine
/// answers or refuses at once.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

fn unit(world: &VerifyWorld) -> Result<&Result<ServiceFacts, ProbeError>, String> {
    world
        .service
        .as_ref()
        .ok_or_else(|| "add `When the systemd unit \"ollama\" is inspected` first".to_string())
}

/// `GET /` on each of this machine's non-loopback addresses, or why not here.
async fn beyond_loopback(session: &Session) -> Result<Vec<AddressProbe>, ProbeError> {
    let host = session.host()?;
    // The probes leave from this process: the addresses must be this machine's.
    if host.describe() != LocalHost.describe() {
        return Err(ProbeError::NotThisMachine {
            host: host.describe(),
        });
    }
    if session.target != Target::Native {
        return Err(ProbeError::NativeOnly {
            target: session.target.to_string(),
            probe: NativeProbe::Addresses,
        });
    }
    let timeout = session.client.timeouts().request.min(PROBE_TIMEOUT);
    // A probe that reaches the server is a request like any other.
    let _turn = session.turn().await;
    network::beyond_loopback(
        host,
        session.client.base_url(),
        session.command_timeout,
        timeout,
    )
    .await
}

#[then(
    expr = "the API does not both listen beyond loopback and let OLLAMA_ORIGINS {string} call it"
)]
async fn not_exposed(world: &mut VerifyWorld, any_origin: String) -> Result<(), String> {
    // Seen answering on the network counts as listening there, whatever the unit says.
    let answered = match unit(world)? {
        Ok(ServiceFacts::Unit(_)) => beyond_loopback(&world.session).await.unwrap_or_default(),
        _ => Vec::new(),
    };
    let outcome = verdict::security::exposure(unit(world)?, &any_origin, &answered);
    world.conclude(outcome)
}

#[given("the API should answer on loopback only")]
fn loopback_only(world: &mut VerifyWorld) {
    world.loopback_only = true;
}

#[given("the API may answer on the network")]
fn network_allowed(world: &mut VerifyWorld) {
    world.loopback_only = false;
}

#[when("the API is requested on every non-loopback address of this host")]
async fn requested_everywhere(world: &mut VerifyWorld) {
    world.reach = Some(beyond_loopback(&world.session).await);
}

#[then("it answers on none of them")]
async fn answers_nowhere_else(world: &mut VerifyWorld) -> Result<(), String> {
    let reach = world.reach.as_ref().ok_or(
        "add `When the API is requested on every non-loopback address of this host` first",
    )?;
    let outcome = verdict::security::remote_reachable(world.loopback_only, reach);
    world.conclude(outcome)
}

#[then("the unit's environment holds no variable named like a secret:")]
async fn no_secrets(world: &mut VerifyWorld, step: &Step) -> Result<(), String> {
    let patterns: Vec<String> = step
        .table
        .as_ref()
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|r| r.first())
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && p != "pattern")
                .collect()
        })
        .unwrap_or_default();
    if patterns.is_empty() {
        return Err(
            "the step needs a table of name patterns (`| pattern |`, then `| *_TOKEN |` ...)"
                .into(),
        );
    }
    let outcome = verdict::security::masking(unit(world)?, &patterns);
    world.conclude(outcome)
}
