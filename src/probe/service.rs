//! The systemd unit, read with one machine-readable `systemctl show` call. The
//! `Environment` property merges the unit and every drop-in.

use super::host::{Host, HostError};
use std::time::Duration;

pub const SHOW_PROPERTIES: &str =
    "ActiveState,SubState,UnitFileState,LoadState,FragmentPath,DropInPaths,Environment,NRestarts,ExecMainStatus";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState {
    pub unit: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub unit_file_state: String,
    pub fragment_path: String,
    pub drop_in_paths: Vec<String>,
    pub environment: Vec<(String, String)>,
    /// How often systemd restarted the unit since it was started by hand (`NRestarts`);
    /// `None` where systemd does not report it.
    pub n_restarts: Option<u32>,
    /// The exit status of the main process's last run (`ExecMainStatus`).
    pub exec_main_status: Option<i32>,
}

impl UnitState {
    pub fn exists(&self) -> bool {
        self.load_state != "not-found" && !self.load_state.is_empty()
    }

    /// The last value the unit sets for `key` (later assignments win, as in systemd).
    pub fn env(&self, key: &str) -> Option<&str> {
        last_value(&self.environment, key)
    }
}

/// What `docker inspect` says of the container: the docker target's "service".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub running: bool,
    pub status: String,
    /// `healthy`, `unhealthy`, `starting`; `None` without a healthcheck.
    pub health: Option<String>,
    pub restart_policy: String,
    pub environment: Vec<(String, String)>,
}

impl ContainerState {
    pub fn env(&self, key: &str) -> Option<&str> {
        last_value(&self.environment, key)
    }
}

/// The last value an environment list sets for `key` (later assignments win, as in
/// systemd and Docker).
pub fn last_value<'a>(environment: &'a [(String, String)], key: &str) -> Option<&'a str> {
    environment
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What the service probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceFacts {
    Unit(UnitState),
    /// The docker target's container stands where the unit would.
    Container(ContainerState),
    /// Service checks cannot apply here; the reason says why.
    Unavailable(String),
}

/// Parses `systemctl show --property=...` output (`Key=value` lines, any order).
pub fn parse_show(unit: &str, text: &str) -> UnitState {
    let mut s = UnitState {
        unit: unit.to_string(),
        ..Default::default()
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "LoadState" => s.load_state = value.into(),
            "ActiveState" => s.active_state = value.into(),
            "SubState" => s.sub_state = value.into(),
            "UnitFileState" => s.unit_file_state = value.into(),
            "FragmentPath" => s.fragment_path = value.into(),
            "DropInPaths" => {
                s.drop_in_paths = value.split_whitespace().map(str::to_string).collect()
            }
            "Environment" => s.environment = parse_environment(value),
            "NRestarts" => s.n_restarts = value.parse().ok(),
            "ExecMainStatus" => s.exec_main_status = value.parse().ok(),
            _ => {}
        }
    }
    s
}

/// Parses systemd's `Environment` value: space-separated `KEY=value` entries, quoted
/// where they hold spaces or special characters.
pub fn parse_environment(value: &str) -> Vec<(String, String)> {
    // Unbalanced quotes are not valid systemd output; fall back to plain words.
    let words = shell_words::split(value)
        .unwrap_or_else(|_| value.split_whitespace().map(str::to_string).collect());
    words
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Reads the unit on `host`. `Err` means the probe itself failed (a check fails);
/// `Unavailable` means there is no systemd to ask (checks are skipped).
pub async fn probe(host: &dyn Host, unit: &str, timeout: Duration) -> Result<ServiceFacts, String> {
    let property = format!("--property={SHOW_PROPERTIES}");
    let out = match host.run("systemctl", &["show", unit, &property], timeout).await {
        Ok(out) => out,
        Err(HostError::NotFound { host, .. }) => {
            return Ok(ServiceFacts::Unavailable(format!(
                "no systemd on {host} (systemctl is not installed), so there is no service to check; run Ollama under systemd or use --target docker"
            )))
        }
        Err(e) => return Err(e.to_string()),
    };
    let stderr = out.stderr.trim();
    if stderr.contains("not been booted with systemd")
        || stderr.contains("Failed to connect to bus")
    {
        return Ok(ServiceFacts::Unavailable(format!(
            "systemd is not running on {}: \"{}\". On WSL2, enable it with `[boot] systemd=true` in /etc/wsl.conf",
            host.describe(),
            stderr.lines().next().unwrap_or(stderr)
        )));
    }
    if !out.success() {
        return Err(format!(
            "`systemctl show {unit}` failed with exit code {:?}: {stderr}",
            out.code
        ));
    }
    Ok(ServiceFacts::Unit(parse_show(unit, &out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const CONFIGURED: &str = "ActiveState=active\nSubState=running\nUnitFileState=enabled\nLoadState=loaded\nFragmentPath=/etc/systemd/system/ollama.service\nDropInPaths=/etc/systemd/system/ollama.service.d/override.conf\nEnvironment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin \"OLLAMA_HOST=0.0.0.0:11434\" \"OLLAMA_ORIGINS=*\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m\n";

    #[test]
    fn parses_a_configured_unit() {
        let s = parse_show("ollama", CONFIGURED);
        assert!(s.exists());
        assert_eq!(s.active_state, "active");
        assert_eq!(s.sub_state, "running");
        assert_eq!(s.unit_file_state, "enabled");
        assert_eq!(
            s.drop_in_paths,
            ["/etc/systemd/system/ollama.service.d/override.conf"]
        );
        assert_eq!(s.env("OLLAMA_HOST"), Some("0.0.0.0:11434"));
        assert_eq!(s.env("OLLAMA_ORIGINS"), Some("*"));
        assert_eq!(s.env("OLLAMA_FLASH_ATTENTION"), Some("1"));
        assert_eq!(s.env("OLLAMA_KV_CACHE_TYPE"), None);
    }

    #[rstest]
    #[case("LoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nFragmentPath=\nDropInPaths=\nEnvironment=\n", false, "inactive", "")]
    #[case(
        "ActiveState=failed\nSubState=failed\nLoadState=loaded\nUnitFileState=disabled\n",
        true,
        "failed",
        "disabled"
    )]
    #[case(
        "ActiveState=active\nLoadState=loaded\nUnitFileState=enabled-runtime\n",
        true,
        "active",
        "enabled-runtime"
    )]
    #[case("garbage without equals\n", false, "", "")]
    fn parses_states(
        #[case] text: &str,
        #[case] exists: bool,
        #[case] active: &str,
        #[case] file_state: &str,
    ) {
        let s = parse_show("ollama", text);
        assert_eq!(s.exists(), exists);
        assert_eq!(s.active_state, active);
        assert_eq!(s.unit_file_state, file_state);
    }

    #[rstest]
    #[case("", &[])]
    #[case("A=1 B=2", &[("A", "1"), ("B", "2")])]
    #[case("\"A=with space\" B=x", &[("A", "with space"), ("B", "x")])]
    #[case("\"A=say \\\"hi\\\"\"", &[("A", "say \"hi\"")])]
    #[case("A=1 A=2", &[("A", "1"), ("A", "2")])]
    #[case("\"A=unbalanced B=2", &[("\"A", "unbalanced"), ("B", "2")])]
    #[case("NOEQUALS A=", &[("A", "")])]
    fn parses_environment(#[case] value: &str, #[case] expected: &[(&str, &str)]) {
        let got = parse_environment(value);
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[rstest]
    #[case("NRestarts=0\nExecMainStatus=0\n", Some(0), Some(0))]
    #[case("NRestarts=5\nExecMainStatus=1\n", Some(5), Some(1))]
    #[case("NRestarts=\nExecMainStatus=\n", None, None)]
    #[case("", None, None)]
    fn parses_restarts_and_exit_status(
        #[case] text: &str,
        #[case] restarts: Option<u32>,
        #[case] status: Option<i32>,
    ) {
        let s = parse_show("ollama", text);
        assert_eq!((s.n_restarts, s.exec_main_status), (restarts, status));
    }

    #[test]
    fn later_assignments_win() {
        let s = parse_show("ollama", "Environment=OLLAMA_HOST=a OLLAMA_HOST=b\n");
        assert_eq!(s.env("OLLAMA_HOST"), Some("b"));
    }
}
