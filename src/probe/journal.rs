//! The server's log from the systemd journal: `journalctl -u <unit>`, read-only.

use super::host::{Host, HostError};
use super::logs::ServerLog;
use crate::server_log::TAIL_LINES;
use std::time::Duration;

/// The unit's last [`TAIL_LINES`] journal lines on `host`, or why they cannot be read
/// (no journalctl, a failing one, or no lines: each says what to try).
pub async fn tail(host: &dyn Host, unit: &str, timeout: Duration) -> Result<ServerLog, String> {
    let n = TAIL_LINES.to_string();
    let args = ["-u", unit, "-n", &n, "--no-pager", "-o", "cat"];
    let out = match host.run("journalctl", &args, timeout).await {
        Ok(out) => out,
        Err(HostError::NotFound { host, .. }) => {
            return Err(format!(
                "the server's log cannot be read: no journalctl on {host} (Ollama logs to the systemd journal when it runs as a service)"
            ))
        }
        Err(e) => return Err(e.to_string()),
    };
    let text = out.stdout.trim();
    if !out.success() {
        return Err(format!(
            "`journalctl -u {unit}` failed with exit code {:?}: {}",
            out.code,
            out.stderr.trim()
        ));
    }
    if text.is_empty() || text == "-- No entries --" {
        return Err(format!(
            "`journalctl -u {unit}` shows no lines: the unit has not logged (a server started by hand, `ollama serve`, logs to its terminal, not the journal), or this user may not read the system journal (add it to the systemd-journal group, or run with sudo){}",
            match out.stderr.trim() {
                "" => String::new(),
                e => format!(": \"{}\"", e.lines().next().unwrap_or(e)),
            }
        ));
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
        assert!(
            e.contains("`ollama serve`") && e.contains("systemd-journal group"),
            "{e}"
        );
    }
}
