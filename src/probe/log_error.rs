//! Why the server's log cannot be read here: one variant per cause, the words in
//! `Display` (what was expected, what was seen, what to try).

use super::host::HostError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogError {
    /// No `journalctl` on the host: the server does not log to a journal here.
    #[error("the server's log cannot be read: no journalctl on {host} (Ollama logs to the systemd journal when it runs as a service)")]
    NoJournalctl { host: String },
    /// `journalctl` ran and failed.
    #[error("`journalctl -u {unit}` failed with {}: {stderr}", code.map(|c| format!("exit code {c}")).unwrap_or_else(|| "no exit code (stopped by a signal)".into()))]
    JournalctlFailed {
        unit: String,
        code: Option<i32>,
        stderr: String,
    },
    /// The journal holds no line of the unit; `said` is journalctl's first line on
    /// stderr, if it said anything.
    #[error("`journalctl -u {unit}` shows no lines: the unit has not logged (a server started by hand, `ollama serve`, logs to its terminal, not the journal), or this user may not read the system journal (add it to the systemd-journal group, or run with sudo){}", said.as_deref().map(|e| format!(": \"{e}\"")).unwrap_or_default())]
    EmptyJournal { unit: String, said: Option<String> },
    /// The server runs on another machine than the host the checks read.
    #[error("the server at {server} is not on {host}, so its journal is not here; run ollama-verify on the server's machine")]
    NotHere { server: String, host: String },
    /// The docker target's container is gone, and its log with it.
    #[error("the run has removed its container")]
    ContainerRemoved,
    /// The command that reads it could not run.
    #[error("{0}")]
    Host(#[from] HostError),
    /// Any other reason, as said.
    #[error("{0}")]
    Other(String),
}

impl From<&str> for LogError {
    fn from(reason: &str) -> Self {
        LogError::Other(reason.to_string())
    }
}

impl From<String> for LogError {
    fn from(reason: String) -> Self {
        LogError::Other(reason)
    }
}
