//! What a person is told to try next, on each target: where the server's log is, how
//! to see whether the server runs, how a missing model gets onto it, which flag raises
//! a deadline. The client's errors say what was expected and what was seen;
//! [`Advice::advise`] adds the next step, which only the target knows.

use super::Target;
use crate::catalog::CheckId;
use crate::client::{Budget, ClientError, Phase, StatusCase};
use crate::text::short_id;

/// The next steps of one target. Chosen once, when the target starts
/// ([`Backend::advice`](super::Backend::advice)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Advice {
    /// A native install run by systemd (`--target native`): `journalctl -u ollama`.
    #[default]
    Native,
    /// The docker target's container (`docker logs <id>`); unless `kept` (--keep), the
    /// run removes it when it ends, and its log with it.
    Docker { id: String, kept: bool },
    /// The emulator target's in-process emulator: what it answers is what
    /// --emulator-config tells it, a fault included (its log shows what it emulates,
    /// not why a fault answered).
    Emulator,
}

/// What the emulator target's log shows: what its configuration emulates.
const EMULATED: &str = "check --emulator-config: the emulator target's log shows what it emulates (`gpu_discovered`, `vram_held`, `log_lines`)";

impl Advice {
    pub fn target(&self) -> Target {
        match self {
            Advice::Native => Target::Native,
            Advice::Docker { .. } => Target::Docker,
            Advice::Emulator => Target::Emulator,
        }
    }

    /// `e` with the next step this target gives for it.
    pub fn advise(&self, e: ClientError) -> ClientError {
        let next = self.next_step(&e);
        e.advised(next)
    }

    /// `result` with its error advised (see [`Advice::advise`]).
    pub fn advised<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        result.map_err(|e| self.advise(e))
    }

    /// The rest of `e`'s message, from its first punctuation on: what to try next on
    /// this target; `None` where `e` needs no target to say it.
    pub fn next_step(&self, e: &ClientError) -> Option<String> {
        match e {
            ClientError::ConnectionRefused { .. } => Some(format!(". {}", self.see_running())),
            ClientError::Connect { .. } => Some(format!(". {}", capitalized(&self.see_address()))),
            ClientError::Timeout { phase, budget, .. } => Some(self.timeout(*phase, *budget)),
            ClientError::Status {
                status, message, ..
            } => match StatusCase::of(*status, message.as_deref()) {
                StatusCase::NoSuchModelInRegistry
                | StatusCase::UnknownEndpoint
                | StatusCase::Rejected => None,
                StatusCase::Busy => Some(format!(", or {}", self.see_log())),
                StatusCase::ModelMissing => Some(format!(". {}", self.install_model())),
                StatusCase::ServerFailed => Some(format!("; to see why, {}", self.see_log())),
                StatusCase::Other => Some(format!(". To see why, {}", self.see_log())),
            },
            ClientError::AuthRequired { .. } => Some(
                ": point OLLAMA_HOST or --host at the Ollama server itself, or let this machine through the proxy".into(),
            ),
            ClientError::Interrupted { .. } | ClientError::StreamIncomplete { .. } => {
                Some(format!("; {}", self.see_log()))
            }
            ClientError::StreamError { message, .. } => {
                crate::client::is_runner_failure(message).then(|| format!("; {}", self.see_log()))
            }
            ClientError::InvalidUrl(_)
            | ClientError::EndpointMissing { .. }
            | ClientError::TooLarge { .. }
            | ClientError::NotJson { .. }
            | ClientError::Shape { .. } => None,
        }
    }

    /// Where to read why the server failed, as the rest of a sentence ("…; check the
    /// server log (`journalctl -u ollama`)").
    pub fn see_log(&self) -> String {
        match self {
            Advice::Native => "check the server log (`journalctl -u ollama`)".into(),
            Advice::Docker { id, kept: true } => {
                format!("check the container's log (`docker logs {}`)", short_id(id))
            }
            Advice::Docker { id, kept: false } => format!(
                "check the container's log (run again with --keep, then `docker logs {}`: without --keep the run removes its container)",
                short_id(id)
            ),
            Advice::Emulator => {
                "check the `[[faults]]` of --emulator-config: the emulator target answers as they say".into()
            }
        }
    }

    /// What to check when the address itself does not connect, as the rest of a
    /// sentence: the user's OLLAMA_HOST or --host natively; on the other targets the
    /// address is the run's own.
    fn see_address(&self) -> String {
        match self {
            Advice::Native => "check the host name and port in OLLAMA_HOST or --host".into(),
            Advice::Docker { id, .. } => format!(
                "the address is the port Docker published for the container on 127.0.0.1 (`docker port {}`): check that the container still runs (see {see})",
                short_id(id), see = CheckId::ServiceActive
            ),
            Advice::Emulator => "the address is the in-process emulator's own: run again, and report it if it recurs".into(),
        }
    }

    /// How a missing model gets onto this server, as a sentence.
    fn install_model(&self) -> String {
        match self {
            Advice::Native => "The model is not installed: see `ollama list`, then `ollama pull <model>` or `ollama create`".into(),
            Advice::Docker { id, .. } => format!(
                "The model is not in the container's model volume: the docker target pulls and creates the models unless --no-provision is given (run without it), or add it by hand with --keep and `docker exec {} ollama pull <model>`",
                short_id(id)
            ),
            Advice::Emulator => "The model is not in the emulator's configuration: add it to `installed` (or as a `[[custom]]` model) of --emulator-config".into(),
        }
    }

    /// How to see whether the server runs at all.
    fn see_running(&self) -> String {
        match self {
            Advice::Native => "Is the server running? Try `systemctl status ollama` (or `ollama serve`), and set OLLAMA_HOST or --host if it listens elsewhere".into(),
            Advice::Docker { .. } => format!(
                "The container may have stopped (see {see}); {}",
                self.see_log(), see = CheckId::ServiceActive
            ),
            Advice::Emulator => "The in-process emulator stopped listening; run again, and report it if it recurs".into(),
        }
    }

    /// Where to find `pattern` in the server's log, as the rest of a sentence ("…;
    /// read `journalctl -u ollama | grep offloaded`").
    pub fn grep_log(&self, pattern: &str) -> String {
        match self {
            Advice::Native => format!("read `journalctl -u ollama | grep {pattern}`"),
            Advice::Docker { id, kept } => format!(
                "read `docker logs {} 2>&1 | grep {pattern}`{}",
                short_id(id),
                match kept {
                    true => "",
                    false => " (run again with --keep: without it the run removes its container)",
                }
            ),
            Advice::Emulator => EMULATED.into(),
        }
    }

    /// How a restarted server logs its start again, as the rest of a sentence.
    pub fn restart_logs(&self) -> &'static str {
        match self {
            Advice::Native => "`sudo systemctl restart ollama` logs it again",
            Advice::Docker { .. } => "a new run starts a fresh container, which logs it",
            Advice::Emulator => "a new run logs it again",
        }
    }

    /// The check that names who owns the port, where it can run (native only).
    fn port_owner(&self) -> String {
        match self {
            Advice::Native => format!(
                " and what owns the port ({see})",
                see = CheckId::DiagnosePortOwner
            ),
            _ => String::new(),
        }
    }

    /// What to try after a deadline ran out: where to look, and the flag that raises
    /// the deadline.
    fn timeout(&self, phase: Phase, budget: Budget) -> String {
        let log = self.see_log();
        match (phase, budget) {
            (Phase::Connect, _) => match self {
                Advice::Native => format!(". The host may be down or a firewall drops packets; {}, or raise the timeout (--connect-timeout)", self.see_address()),
                _ => format!("; {}, or raise the timeout (--connect-timeout)", self.see_address()),
            },
            (Phase::FirstByte, Budget::Metadata) => format!("; {log}{}, or raise the timeout (--request-timeout)", self.port_owner()),
            (Phase::FirstByte, Budget::Generation) => {
                // `ollama ps` shows a load in progress where the CLI is this machine's.
                let look = match self {
                    Advice::Native => "check `ollama ps` and the server log (`journalctl -u ollama`)".into(),
                    _ => log,
                };
                format!("; {look}, or raise the timeout (--load-timeout)")
            }
            (Phase::Idle, Budget::Metadata) | (Phase::Total, Budget::Metadata) => format!("; {log}, or raise the timeout (--request-timeout)"),
            (Phase::Idle, Budget::Generation) => format!("; {log}"),
            (Phase::Total, Budget::Generation) => "; raise the timeout (--generation-timeout) if the model is large".into(),
        }
    }
}

/// `text` with its first letter in capitals, to begin a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests;
