//! Step definitions, one module per feature file. Each step gathers a fact through the
//! session or hands facts to a verdict in `ollama_verify::verdict`; none decides itself.

mod api;
mod diagnose;
mod gpu;
mod modelfile;
mod models;
mod performance;
mod security;
mod service;

use crate::world::VerifyWorld;
use cucumber::given;

/// Every feature's background: the target is chosen at run time (`--target`).
#[given("the Ollama install under verification")]
fn install(world: &mut VerifyWorld) {
    // The session already points at it; nothing to gather yet.
    let _ = &world.session;
}
