//! The server's log from the systemd journal: `journalctl -u <unit>`, read-only.

use super::host::{Host, HostError};
use super::log_error::LogError;
use super::logs::ServerLog;
use crate::server_log::TAIL_LINES;
use std::time::Duration;

/// The unit's last [`TAIL_LINES`] journal lines on `host`, or why they cannot be read
/// (no journalctl, a failing one, or no lines: each says what to try).
pub async fn tail(host: &dyn Host, unit: &str, timeout: Duration) -> Result<ServerLog, LogError> {
    let n = TAIL_LINES.to_string();
    let args = ["-u", unit, "-n", &n, "--no-pager", "-o", "cat"];
    let out = match host.run("journalctl", &args, timeout).await {
        Ok(out) => out,
        Err(HostError::NotFound { host, .. }) => return Err(LogError::NoJournalctl { host }),
        Err(e) => return Err(e.into()),
    };
    let text = out.stdout.trim();
    if !out.success() {
        return Err(LogError::JournalctlFailed {
            unit: unit.to_string(),
            code: out.code,
            stderr: out.stderr.trim().to_string(),
        });
    }
    if text.is_empty() || text == "-- No entries --" {
        return Err(LogError::EmptyJournal {
            unit: unit.to_string(),
            said: match out.stderr.trim() {
                "" => None,
                e => Some(e.lines().next().unwrap_or(e).to_string()),
            },
        });
    }
    Ok(ServerLog::new(format!("journalctl -u {unit}"), text))
}

#[cfg(test)]
mod tests {
    use crate::probe::host::Scripted;
    use crate::probe::CmdOutput;
    use std::time::Duration;

    /// An empty journal has two causes: the server is not the unit (started by hand,
    /// it logs to its terminal), or the journal is not readable; both are named.
    #[tokio::test]
    async fn an_empty_journal_names_a_server_started_by_hand() {
        let host = Scripted::always(
            "this machine",
            Ok(CmdOutput {
                code: Some(0),
                stdout: String::new(),
                stderr: String::new(),
            }),
        );
        let e = super::tail(&host, "ollama", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(e, super::LogError::EmptyJournal { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("`ollama serve`") && e.contains("systemd-journal group"),
            "{e}"
        );
    }
}
