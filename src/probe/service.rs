//! The systemd unit, read with one machine-readable `systemctl show` call. The
//! `Environment` property merges the unit and every drop-in; `EnvironmentFiles` names
//! the files whose settings override it when the service starts, which are read too.

use super::host::{Host, HostError};
use super::probe_error::ProbeError;
use std::time::Duration;

/// The properties [`probe`] asks `systemctl show` for, and [`parse_show`] reads.
pub const SHOW_PROPERTIES: &str =
    "ActiveState,SubState,UnitFileState,LoadState,FragmentPath,DropInPaths,Environment,EnvironmentFiles,NeedDaemonReload,NRestarts,ExecMainStatus";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState {
    pub unit: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub unit_file_state: String,
    pub fragment_path: String,
    pub drop_in_paths: Vec<String>,
    /// `Environment=` of the unit and its drop-ins: what `systemctl show` prints.
    pub environment: Vec<(String, String)>,
    /// `EnvironmentFile=` of the unit and its drop-ins, in order: systemd reads them
    /// when it starts the service, over `Environment=`.
    pub environment_files: Vec<EnvironmentFile>,
    /// The unit's files changed on disk since systemd loaded them (`NeedDaemonReload`):
    /// what is shown, and what runs, is the older configuration.
    pub need_daemon_reload: bool,
    /// How often systemd restarted the unit since it was started by hand (`NRestarts`);
    /// `None` where systemd does not report it.
    pub n_restarts: Option<u32>,
    /// The exit status of the main process's last run (`ExecMainStatus`).
    pub exec_main_status: Option<i32>,
}

/// One `EnvironmentFile=` of the unit, and what reading it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentFile {
    pub path: String,
    /// `EnvironmentFile=-path`: systemd starts the service without it if it is missing
    /// (`systemctl show` prints `ignore_errors=yes`).
    pub optional: bool,
    /// What the file sets, in order (empty for an optional file that is absent); `Err`
    /// says why it could not be read here, where systemd, as root, may well read it.
    pub read: Result<Vec<(String, String)>, String>,
    /// Its permission bits (`0o644`), where known.
    pub mode: Option<u32>,
}

impl EnvironmentFile {
    /// Whether every local user may read it (`o+r`).
    pub fn world_readable(&self) -> bool {
        self.mode.is_some_and(|m| m & 0o004 != 0)
    }
}

impl UnitState {
    pub fn exists(&self) -> bool {
        self.load_state != "not-found" && !self.load_state.is_empty()
    }

    /// Whether the unit is masked: linked to /dev/null, so that nothing starts it.
    pub fn masked(&self) -> bool {
        self.load_state == "masked" || self.unit_file_state.starts_with("masked")
    }

    /// The value the service gets for `key`, as far as it is known here: the last
    /// `Environment=` assignment, overridden by the environment files read (the later
    /// the file, the more it wins, as in systemd). See [`UnitState::env_unknown`].
    pub fn env(&self, key: &str) -> Option<&str> {
        self.environment_files
            .iter()
            .rev()
            .filter_map(|f| f.read.as_ref().ok())
            .find_map(|set| last_value(set, key))
            .or_else(|| last_value(&self.environment, key))
    }

    /// The service's environment as far as it is known here: each variable once, in the
    /// order first set, with [`UnitState::env`]'s value (environment files over
    /// `Environment=`).
    pub fn effective_environment(&self) -> Vec<(String, String)> {
        let mut keys: Vec<&str> = Vec::new();
        let files = self
            .environment_files
            .iter()
            .filter_map(|f| f.read.as_ref().ok())
            .flatten();
        for (k, _) in self.environment.iter().chain(files) {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        keys.into_iter()
            .filter_map(|k| Some((k.to_string(), self.env(k)?.to_string())))
            .collect()
    }

    /// The environment file [`UnitState::env`]'s value of `key` comes from; `None` for
    /// `Environment=` (or no value).
    pub fn env_file_of(&self, key: &str) -> Option<&str> {
        self.environment_files
            .iter()
            .rev()
            .find(|f| {
                f.read
                    .as_ref()
                    .is_ok_and(|set| last_value(set, key).is_some())
            })
            .map(|f| f.path.as_str())
    }

    /// The environment files that could not be read here and could set `key` over what
    /// [`UnitState::env`] found: empty when that value is certain.
    pub fn env_unknown(&self, key: &str) -> Vec<&EnvironmentFile> {
        let mut unknown = Vec::new();
        for f in self.environment_files.iter().rev() {
            match &f.read {
                Ok(set) if last_value(set, key).is_some() => break,
                Ok(_) => {}
                Err(_) => unknown.push(f),
            }
        }
        unknown.reverse();
        unknown
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
    /// `--keep`: the run leaves the container, so its log can be read afterwards.
    pub kept: bool,
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

/// Parses `systemctl show --property=...` output ([`SHOW_PROPERTIES`]: `Key=value`
/// lines, any order; one `EnvironmentFiles=` line per file). The environment files are
/// listed, not read: their `read` says so until [`probe`] reads them.
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
            // `EnvironmentFile=` in systemd before 209.
            "EnvironmentFiles" | "EnvironmentFile" if !value.is_empty() => s
                .environment_files
                .push(parse_environment_file_entry(value)),
            "NeedDaemonReload" => s.need_daemon_reload = value == "yes",
            "NRestarts" => s.n_restarts = value.parse().ok(),
            "ExecMainStatus" => s.exec_main_status = value.parse().ok(),
            _ => {}
        }
    }
    s
}

/// One `EnvironmentFiles` line of `systemctl show`: `path (ignore_errors=yes|no)`.
fn parse_environment_file_entry(value: &str) -> EnvironmentFile {
    let (path, optional) = match value.rsplit_once(" (ignore_errors=") {
        Some((path, flag)) => (path, flag.trim_end_matches(')') == "yes"),
        // The unit file's own spelling, `-path`.
        None => match value.strip_prefix('-') {
            Some(path) => (path, true),
            None => (value, false),
        },
    };
    EnvironmentFile {
        path: path.to_string(),
        optional,
        read: Err("it was not read".into()),
        mode: None,
    }
}

/// Parses an environment file as systemd reads one (`parse_env_file_internal` in its
/// env-file.c): `KEY=value` lines; lines starting with `#` or `;` are comments; spaces
/// around the key and the value are dropped; a value may be single-quoted (verbatim),
/// double-quoted (`\"`, `\\`, `\$`, `` \` `` unescaped) or bare (`\x` is `x`), and a
/// backslash before the newline continues the line. An assignment whose name is no
/// variable name (`export KEY=value`) is ignored, as systemd ignores it.
pub fn parse_environment_file(text: &str) -> Vec<(String, String)> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
        Comment,
    }
    let mut out = Vec::new();
    let (mut key, mut value) = (String::new(), String::new());
    // Where trailing spaces begin, in the key and in a bare value.
    let (mut key_ws, mut value_ws): (Option<usize>, Option<usize>) = (None, None);
    let mut state = State::PreKey;
    let mut push = |key: &mut String, value: &mut String, key_ws: Option<usize>| {
        if let Some(at) = key_ws {
            key.truncate(at);
        }
        let name = std::mem::take(key);
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let value = std::mem::take(value);
        if valid {
            out.push((name, value));
        }
    };
    for c in text.chars() {
        let space = matches!(c, ' ' | '\t' | '\r');
        state = match state {
            State::PreKey if c == '#' || c == ';' => State::Comment,
            State::PreKey if space || c == '\n' => State::PreKey,
            State::PreKey => {
                key.push(c);
                key_ws = None;
                State::Key
            }
            State::Key if c == '\n' => {
                key.clear();
                State::PreKey
            }
            State::Key if c == '=' => {
                value_ws = None;
                State::PreValue
            }
            State::Key => {
                if !space {
                    key_ws = None;
                } else if key_ws.is_none() {
                    key_ws = Some(key.len());
                }
                key.push(c);
                State::Key
            }
            State::PreValue | State::Value if c == '\n' => {
                if state == State::Value {
                    if let Some(at) = value_ws {
                        value.truncate(at);
                    }
                }
                push(&mut key, &mut value, key_ws);
                State::PreKey
            }
            State::PreValue if c == '\'' => State::Single,
            State::PreValue if c == '"' => State::Double,
            State::PreValue if c == '\\' => State::ValueEscape,
            State::PreValue if space => State::PreValue,
            State::PreValue => {
                value.push(c);
                State::Value
            }
            State::Value if c == '\\' => {
                value_ws = None;
                State::ValueEscape
            }
            State::Value => {
                if !space {
                    value_ws = None;
                } else if value_ws.is_none() {
                    value_ws = Some(value.len());
                }
                value.push(c);
                State::Value
            }
            State::ValueEscape => {
                if c != '\n' {
                    value.push(c);
                }
                State::Value
            }
            State::Single if c == '\'' => State::PreValue,
            State::Single => {
                value.push(c);
                State::Single
            }
            State::Double if c == '"' => State::PreValue,
            State::Double if c == '\\' => State::DoubleEscape,
            State::Double => {
                value.push(c);
                State::Double
            }
            State::DoubleEscape => {
                if matches!(c, '"' | '\\' | '`' | '$') {
                    value.push(c);
                } else if c != '\n' {
                    value.push('\\');
                    value.push(c);
                }
                State::Double
            }
            // Since systemd 254 a backslash does not continue a comment.
            State::Comment if c == '\n' => State::PreKey,
            State::Comment => State::Comment,
        };
    }
    match state {
        State::Value => {
            if let Some(at) = value_ws {
                value.truncate(at);
            }
            push(&mut key, &mut value, key_ws);
        }
        State::PreValue
        | State::ValueEscape
        | State::Single
        | State::Double
        | State::DoubleEscape => push(&mut key, &mut value, key_ws),
        _ => {}
    }
    out
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
pub async fn probe(
    host: &dyn Host,
    unit: &str,
    timeout: Duration,
) -> Result<ServiceFacts, ProbeError> {
    let property = format!("--property={SHOW_PROPERTIES}");
    let out = match host.run("systemctl", &["show", unit, &property], timeout).await {
        Ok(out) => out,
        Err(HostError::NotFound { host, .. }) => {
            return Ok(ServiceFacts::Unavailable(format!(
                "no systemd on {host} (systemctl is not installed), so there is no service to check; run Ollama under systemd or use --target docker"
            )))
        }
        Err(e) => return Err(e.into()),
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
        return Err(ProbeError::CommandFailed {
            command: format!("systemctl show {unit}"),
            host: None,
            code: out.code,
            stderr: stderr.to_string(),
        });
    }
    let mut state = parse_show(unit, &out.stdout);
    for file in &mut state.environment_files {
        read_environment_file(host, file, timeout).await;
    }
    Ok(ServiceFacts::Unit(state))
}

/// Reads one environment file on `host` (`cat`, then `stat` for its mode), as this
/// user: a file only root may read says why it could not be read.
async fn read_environment_file(host: &dyn Host, file: &mut EnvironmentFile, timeout: Duration) {
    let path = file.path.as_str();
    file.read = match host.run("cat", &["--", path], timeout).await {
        Ok(out) if out.success() => Ok(parse_environment_file(&out.stdout)),
        Ok(out) if out.stderr.contains("No such file or directory") => {
            if file.optional {
                // `-path`: systemd goes without it.
                Ok(Vec::new())
            } else {
                Err("it does not exist, and systemd does not start the service without it".into())
            }
        }
        Ok(out) if out.stderr.contains("Permission denied") => Err(
            "permission denied: systemd reads it as root; run the checks with sudo to read it too"
                .into(),
        ),
        Ok(out) => Err(format!(
            "`cat {path}` exited {:?}: {}",
            out.code,
            out.stderr.trim()
        )),
        Err(e) => Err(e.to_string()),
    };
    if file.read.is_ok() {
        file.mode = match host
            .run("stat", &["-L", "-c", "%a", "--", path], timeout)
            .await
        {
            Ok(out) if out.success() => u32::from_str_radix(out.stdout.trim(), 8).ok(),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::CmdOutput;
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

    const WITH_FILES: &str = "LoadState=loaded\nEnvironment=OLLAMA_HOST=0.0.0.0 OLLAMA_FLASH_ATTENTION=1\nEnvironmentFiles=/etc/ollama/env (ignore_errors=no)\nEnvironmentFiles=/etc/ollama/secret env (ignore_errors=yes)\nNeedDaemonReload=yes\n";

    #[test]
    fn lists_environment_files_and_a_pending_reload() {
        let s = parse_show("ollama", WITH_FILES);
        let files: Vec<(&str, bool)> = s
            .environment_files
            .iter()
            .map(|f| (f.path.as_str(), f.optional))
            .collect();
        assert_eq!(
            files,
            [("/etc/ollama/env", false), ("/etc/ollama/secret env", true)]
        );
        assert!(s.need_daemon_reload);
        assert!(
            !parse_show("ollama", "NeedDaemonReload=no\nEnvironmentFiles=\n").need_daemon_reload
        );
        assert!(parse_show("ollama", "EnvironmentFiles=\n")
            .environment_files
            .is_empty());
        // Not read yet: every variable may be set there.
        assert_eq!(s.env("OLLAMA_HOST"), Some("0.0.0.0"));
        assert_eq!(s.env_unknown("OLLAMA_HOST").len(), 2);
    }

    fn file(path: &str, read: Result<&[(&str, &str)], &str>) -> EnvironmentFile {
        EnvironmentFile {
            path: path.into(),
            optional: false,
            read: read
                .map(|set| {
                    set.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .map_err(str::to_string),
            mode: Some(0o600),
        }
    }

    #[test]
    fn environment_files_override_environment_in_order() {
        let mut s = parse_show(
            "ollama",
            "Environment=OLLAMA_HOST=0.0.0.0 OLLAMA_FLASH_ATTENTION=1\n",
        );
        s.environment_files = vec![
            file(
                "/etc/a",
                Ok(&[("OLLAMA_HOST", "127.0.0.1"), ("OLLAMA_ORIGINS", "*")]),
            ),
            file("/etc/locked", Err("permission denied")),
            file("/etc/b", Ok(&[("OLLAMA_HOST", "10.0.0.2")])),
        ];
        assert_eq!(s.env("OLLAMA_HOST"), Some("10.0.0.2"));
        assert_eq!(s.env_file_of("OLLAMA_HOST"), Some("/etc/b"));
        assert_eq!(s.env_file_of("OLLAMA_FLASH_ATTENTION"), None);
        assert!(
            s.env_unknown("OLLAMA_HOST").is_empty(),
            "the last file sets it"
        );
        assert_eq!(s.env("OLLAMA_ORIGINS"), Some("*"));
        let unknown: Vec<&str> = s
            .env_unknown("OLLAMA_ORIGINS")
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(unknown, ["/etc/locked"]);
        assert_eq!(s.env("OLLAMA_FLASH_ATTENTION"), Some("1"));
        assert_eq!(s.env_unknown("OLLAMA_FLASH_ATTENTION").len(), 1);
        let all = s.effective_environment();
        let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            all,
            [
                ("OLLAMA_HOST", "10.0.0.2"),
                ("OLLAMA_FLASH_ATTENTION", "1"),
                ("OLLAMA_ORIGINS", "*")
            ]
        );
    }

    #[rstest]
    #[case("A=1\nB=2\n", &[("A", "1"), ("B", "2")])]
    #[case("# comment\n; also\n\n  A = spaced  \n", &[("A", "spaced")])]
    #[case("A=\"two words\"\nB='it''s'\n", &[("A", "two words"), ("B", "its")])]
    #[case("A=\"say \\\"hi\\\" \\n\"", &[("A", "say \"hi\" \\n")])]
    #[case("A='$HOME \\x'", &[("A", "$HOME \\x")])]
    #[case("A=x\\\ny\n", &[("A", "xy")])] // a continued line
    #[case("A=a#b\n", &[("A", "a#b")])] // no comment after a value
    #[case("A=\nB", &[("A", "")])] // a line without `=` is ignored
    #[case("export A=1\nB=2", &[("B", "2")])] // systemd ignores `export`
    #[case("A=1\nA=2", &[("A", "1"), ("A", "2")])]
    #[case("A=\"1\"\r\nB=2\r\n", &[("A", "1"), ("B", "2")])]
    #[case("A=\"unterminated", &[("A", "unterminated")])]
    #[case("# not continued \\\nA=1", &[("A", "1")])] // since systemd 254
    fn parses_environment_files(#[case] text: &str, #[case] expected: &[(&str, &str)]) {
        let got = parse_environment_file(text);
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expected, "{text:?}");
    }

    #[tokio::test]
    async fn the_probe_reads_each_environment_file_on_the_host() {
        let host = crate::probe::host::Scripted {
            name: "scripted",
            container: false,
            answer: Box::new(|program, args| {
                let ok = |stdout: &str| {
                    Ok(CmdOutput {
                        code: Some(0),
                        stdout: stdout.into(),
                        stderr: String::new(),
                    })
                };
                let failed = |stderr: &str| {
                    Ok(CmdOutput {
                        code: Some(1),
                        stdout: String::new(),
                        stderr: stderr.into(),
                    })
                };
                match (program, args.last().copied()) {
                    ("systemctl", _) => ok("LoadState=loaded\nEnvironment=OLLAMA_FLASH_ATTENTION=1\nEnvironmentFiles=/etc/ollama/env (ignore_errors=no)\nEnvironmentFiles=/etc/ollama/root-only (ignore_errors=no)\nEnvironmentFiles=/etc/ollama/missing (ignore_errors=yes)\n"),
                    ("cat", Some("/etc/ollama/env")) => ok("OLLAMA_FLASH_ATTENTION=0\nHF_TOKEN=hf_1\n"),
                    ("stat", Some("/etc/ollama/env")) => ok("644\n"),
                    ("cat", Some("/etc/ollama/root-only")) => {
                        failed("cat: /etc/ollama/root-only: Permission denied\n")
                    }
                    ("cat", Some("/etc/ollama/missing")) => {
                        failed("cat: /etc/ollama/missing: No such file or directory\n")
                    }
                    _ => failed("unexpected"),
                }
            }),
        };
        let Ok(ServiceFacts::Unit(u)) = probe(&host, "ollama", Duration::from_secs(1)).await else {
            panic!("a unit");
        };
        let [env, root_only, missing] = &u.environment_files[..] else {
            panic!("{:?}", u.environment_files);
        };
        assert_eq!(env.read.as_ref().map(Vec::len), Ok(2));
        assert!(env.world_readable());
        assert!(root_only
            .read
            .as_ref()
            .unwrap_err()
            .contains("permission denied"));
        assert_eq!(
            missing.read,
            Ok(vec![]),
            "optional and absent: systemd goes without it"
        );
        assert_eq!(u.env("OLLAMA_FLASH_ATTENTION"), Some("0"));
        assert_eq!(u.env_unknown("OLLAMA_FLASH_ATTENTION").len(), 1);
    }

    #[test]
    fn later_assignments_win() {
        let s = parse_show("ollama", "Environment=OLLAMA_HOST=a OLLAMA_HOST=b\n");
        assert_eq!(s.env("OLLAMA_HOST"), Some("b"));
    }
}
