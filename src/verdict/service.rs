//! `service.active`, `service.enabled`, `service.override`, `service.host`,
//! `service.flash_attention`: the systemd unit and its environment, or, on the docker
//! target, the container that stands in its place (running, restart policy, health,
//! environment).

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::logs::ollama_bool;
use crate::probe::service::{ContainerState, EnvironmentFile, ServiceFacts, UnitState};
use crate::probe::ProbeError;
use crate::text::short_id as short;

/// What the checks look at.
enum Subject<'a> {
    Unit(&'a UnitState),
    Container(&'a ContainerState),
}

impl Subject<'_> {
    fn env(&self, key: &str) -> Option<&str> {
        match self {
            Subject::Unit(u) => u.env(key),
            Subject::Container(c) => c.env(key),
        }
    }

    /// The environment files that could not be read and may set `key` over
    /// [`Subject::env`]'s value.
    fn unknown(&self, key: &str) -> Vec<&EnvironmentFile> {
        match self {
            Subject::Unit(u) => u.env_unknown(key),
            Subject::Container(_) => Vec::new(),
        }
    }

    /// What a verdict on the environment adds when the unit's files changed since
    /// systemd loaded them.
    fn stale_note(&self) -> String {
        match self {
            Subject::Unit(u) if u.need_daemon_reload => format!(
                " (systemd has not loaded the unit's latest files, NeedDaemonReload=yes: `sudo systemctl daemon-reload && sudo systemctl restart {}` applies them; see {see})",
                u.unit, see = CheckId::ServiceOverride
            ),
            _ => String::new(),
        }
    }

    /// Where a setting is changed, and what makes the change take effect.
    fn how_to_set(&self, key: &str, value: &str) -> String {
        match self {
            // A drop-in's `Environment=` would not win over the file.
            Subject::Unit(u) if u.env_file_of(key).is_some() => format!(
                "{key} is set in {}, which overrides `Environment=`: write `{key}={value}` there, then `sudo systemctl restart {}`",
                u.env_file_of(key).unwrap_or_default(),
                u.unit
            ),
            Subject::Unit(u) => format!(
                "Set `Environment=\"{key}={value}\"` in a drop-in, then `sudo systemctl daemon-reload && sudo systemctl restart {}`",
                u.unit
            ),
            Subject::Container(_) => format!(
                "Set `{key}: \"{value}\"` under environment in setup/docker-compose.yml; a container takes it when created again"
            ),
        }
    }

    fn whose(&self) -> &'static str {
        match self {
            Subject::Unit(_) => "the unit's",
            Subject::Container(_) => "the container's",
        }
    }
}

/// The unit or container, or the outcome that says why the check cannot look at it.
fn subject(
    facts: &Result<ServiceFacts, ProbeError>,
    needs_existing: bool,
) -> Result<Subject<'_>, Outcome> {
    match facts {
        Err(e) => Err(Outcome::fail(e.to_string())),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Outcome::skip(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if needs_existing && !u.exists() => Err(Outcome::skip(format!(
            "there is no {}.service (see {see})",
            u.unit,
            see = CheckId::ServiceActive
        ))),
        Ok(ServiceFacts::Unit(u)) => Ok(Subject::Unit(u)),
        Ok(ServiceFacts::Container(c)) => Ok(Subject::Container(c)),
    }
}

/// The subject of a check that reads the unit's configuration: a masked unit is linked
/// to /dev/null, so it has none to read (its own check, service.active, says so).
fn configured_subject(facts: &Result<ServiceFacts, ProbeError>) -> Result<Subject<'_>, Outcome> {
    match subject(facts, true)? {
        Subject::Unit(u) if u.masked() => Err(Outcome::skip(format!(
            "{}.service is masked, so it has no settings to read (see {see}): unmask it first (`sudo systemctl unmask {}`)",
            u.unit, u.unit, see = CheckId::ServiceActive
        ))),
        s => Ok(s),
    }
}

/// `service.active`: the unit runs (the container runs and is not unhealthy).
pub fn active(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    let u = match subject(facts, false) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => return container_active(c),
        Err(o) => return o,
    };
    let state = format!("{} ({})", u.active_state, u.sub_state);
    if !u.exists() {
        return Outcome::fail(format!(
            "expected a loaded {0}.service, systemd says LoadState={1}. Install Ollama with its official installer, which creates the unit",
            u.unit, u.load_state
        ));
    }
    if u.active_state == "active" {
        Outcome::pass(format!("{}.service is active", u.unit)).with_value(state)
    } else if u.masked() {
        Outcome::fail(format!(
            "expected ActiveState=active, saw {state}: {0}.service is masked (LoadState={1}, UnitFileState={2}), linked to /dev/null, so systemd refuses to start it. Try `sudo systemctl unmask {0}`, then `sudo systemctl start {0}`",
            u.unit, u.load_state, u.unit_file_state
        ))
        .with_value(state)
    } else {
        Outcome::fail(format!(
            "expected ActiveState=active, saw {state}. Try `sudo systemctl start {0}`, then `journalctl -u {0} -e` for why it stopped",
            u.unit
        ))
        .with_value(state)
    }
}

fn container_active(c: &ContainerState) -> Outcome {
    let value = match &c.health {
        Some(h) => format!("{} ({h})", c.status),
        None => c.status.clone(),
    };
    if !c.running {
        let log = crate::target::Advice::Docker {
            id: c.id.clone(),
            kept: c.kept,
        }
        .see_log();
        return Outcome::fail(format!(
            "expected the container {} running, it is {}. To see why, {log}",
            short(&c.id),
            c.status,
        ))
        .with_value(value);
    }
    match c.health.as_deref() {
        Some("unhealthy") => Outcome::fail(format!(
            "the container runs but its healthcheck fails; see `docker inspect --format '{{{{json .State.Health}}}}' {}`",
            short(&c.id)
        ))
        .with_value(value),
        _ => Outcome::pass(format!("container {} is running", short(&c.id))).with_value(value),
    }
}

/// `service.enabled`: the unit starts at boot (the container restarts with the daemon).
pub fn enabled(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    let u = match subject(facts, true) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => {
            return match c.restart_policy.as_str() {
                p @ ("unless-stopped" | "always") => {
                    Outcome::pass("the container restarts with the Docker daemon").with_value(format!("restart: {p}"))
                }
                p => Outcome::fail(format!(
                    "expected the restart policy unless-stopped, it is `{p}`: the container will not come back after a reboot. Set `restart: unless-stopped` in setup/docker-compose.yml"
                ))
                .with_value(format!("restart: {p}")),
            }
        }
        Err(o) => return o,
    };
    // Neither `enable` nor `start` acts on a masked unit.
    if u.masked() {
        let until = match u.unit_file_state.as_str() {
            "masked-runtime" => " under /run, until the next reboot",
            _ => "",
        };
        return Outcome::fail(format!(
            "expected the unit enabled, it is masked{until} (UnitFileState={1}, LoadState={2}): linked to /dev/null, it starts neither at boot nor by hand, and `systemctl enable` refuses it. Try `sudo systemctl unmask {0}`, then `sudo systemctl enable --now {0}`",
            u.unit, u.unit_file_state, u.load_state
        ))
        .with_value(u.unit_file_state.as_str());
    }
    // What each UnitFileState means for the next boot (systemctl(1), is-enabled).
    let why = match u.unit_file_state.as_str() {
        s @ ("enabled" | "generated") => {
            return Outcome::pass(format!("{}.service starts at boot", u.unit)).with_value(s)
        }
        // The name is a symlink to another unit's file: that unit's state decides.
        "alias" => {
            return Outcome::warn(format!(
                "expected the unit enabled, UnitFileState is alias: {0}.service is an alias, another name for a unit whose own UnitFileState decides whether it starts at boot, and that is not read here. See which it is with `systemctl show -p Id {0}`, then `systemctl is-enabled` on that name",
                u.unit
            ))
            .with_value("alias")
        }
        "enabled-runtime" => "enabled-runtime: it is enabled under /run only, which is gone after a reboot",
        "static" => "static: the unit file has no [Install] section, so it starts at boot only if another unit pulls it in; add `[Install]` with `WantedBy=multi-user.target`",
        "indirect" => "indirect: it is enabled only through another unit's Also=",
        "" => "empty",
        other => other,
    };
    Outcome::fail(format!(
        "expected the unit enabled, UnitFileState is {why}. Try `sudo systemctl enable {}`",
        u.unit
    ))
    .with_value(u.unit_file_state.as_str())
}

/// `service.override`: a drop-in configures the unit (the container has a healthcheck,
/// the part of its configuration compose adds).
pub fn r#override(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    let u = match configured_subject(facts) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => {
            return match &c.health {
                Some(h) => Outcome::pass("the container has the compose file's healthcheck").with_value(format!("health: {h}")),
                None => Outcome::fail(
                    "expected the container to carry a healthcheck (setup/docker-compose.yml has one: `ollama list`), it has none",
                ),
            }
        }
        Err(o) => return o,
    };
    // Drop-ins of every service (`service.d/`, such as Fedora's
    // /usr/lib/systemd/system/service.d/10-timeout-abort.conf) configure nothing of
    // Ollama's: only those in a `<unit>.service.d` folder count.
    let own_dir = format!("{}.service.d", u.unit.trim_end_matches(".service"));
    let (own, ignored): (Vec<&String>, Vec<&String>) = u.drop_in_paths.iter().partition(|p| {
        std::path::Path::new(p.as_str())
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|d| d == own_dir.as_str())
    });
    let join = |paths: &[&String]| {
        paths
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ignored_note = if ignored.is_empty() {
        String::new()
    } else {
        format!(
            " ({} ignored, not in a {own_dir} folder, so not {}'s own: {})",
            ignored.len(),
            u.unit,
            join(&ignored)
        )
    };
    let reload = u.need_daemon_reload.then(|| format!(
        "the unit's files changed on disk since systemd loaded them (NeedDaemonReload=yes): what it shows, and what runs, is the older configuration. Run `sudo systemctl daemon-reload && sudo systemctl restart {}`",
        u.unit
    ));
    if own.is_empty() {
        return Outcome::fail(format!(
            "expected a drop-in such as /etc/systemd/system/{0}.service.d/override.conf, found none{ignored_note}. Install setup/'s with `sudo systemctl edit {0}` or setup/setup-native.sh{1}",
            u.unit,
            reload.map_or(String::new(), |r| format!("; also, {r}"))
        ))
        .with_value(if ignored.is_empty() { "none".to_string() } else { format!("none ({} ignored)", ignored.len()) });
    }
    match reload {
        Some(reload) => Outcome::warn(format!(
            "{} drop-in(s) ({}){ignored_note}, but {reload}",
            own.len(),
            join(&own)
        )),
        None => Outcome::pass(format!("{} drop-in(s){ignored_note}", own.len())),
    }
    .with_value(join(&own))
}

/// The verdict on a setting that an environment file this user cannot read may set:
/// neither "unset" nor the value seen is certain.
pub(crate) fn may_be_set_in(
    key: &str,
    unknown: &[&EnvironmentFile],
    seen: Option<&str>,
    whose: &str,
) -> Outcome {
    let seen = match seen {
        Some(v) => format!("sets {key}={}", crate::secrets::mask_value(key, v)),
        None => "does not set it".to_string(),
    };
    let files: Vec<String> = unknown
        .iter()
        .map(|f| {
            format!(
                "{} ({})",
                f.path,
                f.read.as_ref().err().map_or("", String::as_str)
            )
        })
        .collect();
    let paths: Vec<&str> = unknown.iter().map(|f| f.path.as_str()).collect();
    Outcome::warn(format!(
        "{key} may be set in {}, which could not be read here, and systemd lets it override the unit's `Environment=`; apart from it, {whose} environment {seen}. See with `sudo cat {}`, or run the checks with sudo",
        files.join(", "),
        paths.join(" ")
    ))
    .with_value("unknown")
}

/// `service.host`: `OLLAMA_HOST` binds the expected address. Without a port in
/// `expected`, any port matches, save one that is no port number: Ollama binds its
/// default port then, with only a warning, which this check says instead.
pub fn host(facts: &Result<ServiceFacts, ProbeError>, expected: &str) -> Outcome {
    let s = match configured_subject(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let unknown = s.unknown("OLLAMA_HOST");
    if !unknown.is_empty() {
        return may_be_set_in("OLLAMA_HOST", &unknown, s.env("OLLAMA_HOST"), s.whose());
    }
    let bind = |s: &str| crate::client::bind_addr(s).ok();
    // Without a port in `expected` any port matches. Every interface is every
    // interface: Go's net.Listen on 0.0.0.0 opens the same dual-stack socket as on `::`.
    let same = |expected: &str, actual: &str| match (bind(expected), bind(actual)) {
        (Some(e), Some(a)) => {
            let ip = e.ip() == a.ip() || e.ip().is_unspecified() && a.ip().is_unspecified();
            ip && (!crate::client::names_port(expected) || e.port() == a.port())
        }
        _ => expected == actual,
    };
    // Set empty, it is unset to Ollama (`envconfig.Host` trims it to nothing).
    let Some(actual) = s
        .env("OLLAMA_HOST")
        .filter(|v| !crate::go::env_value(v).trim().is_empty())
    else {
        // Unset, Ollama binds its default, as an empty value does.
        if same(expected, "") {
            return Outcome::pass(format!(
                "OLLAMA_HOST is not set in {} environment, so Ollama's default applies: it binds 127.0.0.1:11434, as expected",
                s.whose()
            ))
            .with_value("unset (127.0.0.1:11434)");
        }
        return Outcome::fail(format!(
            "expected OLLAMA_HOST={expected} in {} environment, it is not set (Ollama then listens on 127.0.0.1:11434). {}{}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected),
            s.stale_note()
        ));
    };
    // Ollama takes a port it cannot read for its default, with only a warning.
    if let (Some(bad), Ok(addr)) = (
        crate::client::invalid_port(actual),
        crate::client::bind_addr(actual),
    ) {
        return Outcome::fail(format!(
            "expected OLLAMA_HOST to bind {expected}; {} environment sets {actual}, whose port `{bad}` is no port number (0-65535), so Ollama logs \"invalid port, using default\" and listens on {addr}. {}{}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected),
            s.stale_note()
        ))
        .with_value(actual);
    }
    if same(expected, actual) {
        let every = match (bind(expected), bind(actual)) {
            (Some(e), Some(a)) if e.ip() != a.ip() => " (every interface, as expected: Go listens on both IPv4 and IPv6 for either unspecified address)",
            _ => "",
        };
        Outcome::pass(format!("the API binds {actual}{every}")).with_value(actual)
    } else {
        Outcome::fail(format!(
            "expected OLLAMA_HOST to bind {expected}, {} environment sets {actual}. {}{}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected),
            s.stale_note()
        ))
        .with_value(actual)
    }
}

/// A variable of the environment has the expected value
/// (`service.flash_attention`: `OLLAMA_FLASH_ATTENTION=1`).
pub fn env_equals(facts: &Result<ServiceFacts, ProbeError>, key: &str, expected: &str) -> Outcome {
    let s = match configured_subject(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    // A secret's value is compared, never shown.
    let shown = |v: &str| crate::secrets::mask_value(key, v).into_owned();
    // A boolean setting means what Ollama reads it as: `true` is `1`.
    let boolean = crate::probe::logs::BOOL_SETTINGS.contains(&key);
    let same = |v: &str| v == expected || boolean && ollama_bool(v) == ollama_bool(expected);
    let unknown = s.unknown(key);
    if !unknown.is_empty() {
        return may_be_set_in(key, &unknown, s.env(key), s.whose());
    }
    // `envconfig` reads an empty value (`KEY=`, `KEY=""`) as not set.
    let raw = s.env(key);
    let empty =
        raw.is_some_and(|v| crate::go::env_value(v).is_empty()) && key.starts_with("OLLAMA_");
    let seen = raw.filter(|_| !empty);
    match seen {
        Some(v) if v == expected => {
            Outcome::pass(format!("{key}={}", shown(v))).with_value(shown(v))
        }
        Some(v) if same(v) => Outcome::pass(format!(
            "{key}={v}, which Ollama reads as {}, as {expected} is",
            ollama_bool(v)
        ))
        .with_value(v),
        seen => Outcome::fail(format!(
            "expected {key}={} in {} environment, {}. {}{}{}",
            shown(expected),
            s.whose(),
            match seen {
                Some(v) => format!("it is {}", shown(v)),
                None if empty => format!(
                    "it is set empty (`{key}={}`), which Ollama reads as not set",
                    raw.unwrap_or_default()
                ),
                None => "it is not set".to_string(),
            },
            s.how_to_set(key, expected),
            unset_note(key, seen),
            s.stale_note()
        ))
        .with_value(match seen {
            Some(v) => shown(v),
            None if empty => "unset (empty)".to_string(),
            None => "unset".to_string(),
        }),
    }
}

/// What an unset setting means where the server has a default of its own worth knowing.
fn unset_note(key: &str, seen: Option<&str>) -> &'static str {
    match (key, seen) {
        ("OLLAMA_FLASH_ATTENTION", None) => " (Unset, Ollama 0.12.4 and later choose per model and GPU, and turn it on where both support it; the server log's `server config` line still prints OLLAMA_FLASH_ATTENTION:false then. Setting it forces it.)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::probe::service::parse_show;
    use rstest::rstest;

    fn facts(text: &str) -> Result<ServiceFacts, ProbeError> {
        Ok(ServiceFacts::Unit(parse_show("ollama", text)))
    }

    const GOOD: &str = "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nDropInPaths=/etc/systemd/system/ollama.service.d/override.conf\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1\n";

    #[test]
    fn a_configured_unit_passes_everything() {
        let f = facts(GOOD);
        for o in [
            active(&f),
            enabled(&f),
            r#override(&f),
            host(&f, "0.0.0.0"),
            env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        ] {
            assert_eq!(o.status, Status::Pass, "{}", o.detail);
        }
    }

    #[rstest]
    #[case("OLLAMA_FLASH_ATTENTION=true", Status::Pass)]
    #[case("\"OLLAMA_FLASH_ATTENTION='1'\"", Status::Pass)]
    #[case("OLLAMA_FLASH_ATTENTION=yes", Status::Pass)] // Ollama turns it on
    #[case("OLLAMA_FLASH_ATTENTION=0", Status::Fail)]
    #[case("OLLAMA_FLASH_ATTENTION=false", Status::Fail)]
    #[case("OLLAMA_FLASH_ATTENTION=", Status::Fail)] // unset, not false
    #[case("OLLAMA_HOST=x", Status::Fail)]
    fn a_boolean_setting_is_compared_by_what_ollama_reads(
        #[case] env: &str,
        #[case] status: Status,
    ) {
        let text = GOOD.replace(
            "\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1",
            env,
        );
        let o = env_equals(&facts(&text), "OLLAMA_FLASH_ATTENTION", "1");
        assert_eq!(o.status, status, "{env}: {}", o.detail);
    }

    #[rstest]
    #[case("enabled", Status::Pass, "starts at boot")]
    #[case("generated", Status::Pass, "starts at boot")]
    #[case("enabled-runtime", Status::Fail, "gone after a reboot")]
    #[case("static", Status::Fail, "[Install]")]
    #[case("disabled", Status::Fail, "systemctl enable ollama")]
    #[case("", Status::Fail, "is empty")]
    #[case("alias", Status::Warn, "systemctl show -p Id ollama")] // up to the unit it names
    #[case("masked", Status::Fail, "sudo systemctl unmask ollama")]
    #[case("masked-runtime", Status::Fail, "sudo systemctl unmask ollama")]
    fn enabled_means_it_starts_at_the_next_boot(
        #[case] state: &str,
        #[case] status: Status,
        #[case] says: &str,
    ) {
        let o = enabled(&facts(
            &GOOD.replace("UnitFileState=enabled", &format!("UnitFileState={state}")),
        ));
        assert_eq!(o.status, status, "{}", o.detail);
        assert!(o.detail.contains(says), "{says}: {}", o.detail);
    }

    #[rstest]
    #[case("0.0.0.0", "0.0.0.0:11434", Status::Pass)]
    #[case("0.0.0.0:11434", "0.0.0.0", Status::Pass)]
    #[case("0.0.0.0:11434", "0.0.0.0:8080", Status::Fail)]
    #[case("0.0.0.0", "127.0.0.1:11434", Status::Fail)]
    #[case("[::]:11434", "[::]:11434", Status::Pass)]
    #[case("0.0.0.0", "0.0.0.0:abc", Status::Fail)] // Ollama listens on :11434, but warns
    #[case("0.0.0.0", "[::]:11434", Status::Pass)] // the same dual-stack socket
    #[case("[::]:11434", "0.0.0.0:11434", Status::Pass)]
    #[case("::", "0.0.0.0", Status::Pass)]
    #[case("[::]:11434", "0.0.0.0:8080", Status::Fail)]
    #[case("http://0.0.0.0:11434", "0.0.0.0:8080", Status::Fail)] // two colons, one port
    #[case("http://0.0.0.0:11434", "0.0.0.0:11434", Status::Pass)]
    #[case("127.0.0.1", "0.0.0.0", Status::Fail)]
    fn host_compares_bind_addresses(
        #[case] expected: &str,
        #[case] actual: &str,
        #[case] status: Status,
    ) {
        let f = facts(&format!(
            "LoadState=loaded\nEnvironment=OLLAMA_HOST={actual}\n"
        ));
        let o = host(&f, expected);
        assert_eq!(o.status, status, "{}", o.detail);
        if actual.ends_with(":abc") {
            assert!(
                o.detail.contains("listens on 0.0.0.0:11434"),
                "{}",
                o.detail
            );
        }
    }

    #[rstest]
    #[case("127.0.0.1", Status::Pass)]
    #[case("127.0.0.1:11434", Status::Pass)]
    #[case("http://127.0.0.1:11434", Status::Pass)]
    #[case("localhost", Status::Pass)]
    #[case("127.0.0.1:8080", Status::Fail)]
    #[case("0.0.0.0", Status::Fail)]
    fn an_unset_host_is_ollamas_default(#[case] expected: &str, #[case] status: Status) {
        // Unset, set empty, or set to spaces in quotes: Ollama's default each time.
        for env in ["", "OLLAMA_HOST=", "\"OLLAMA_HOST=' '\""] {
            let o = host(
                &facts(&format!("LoadState=loaded\nEnvironment={env}\n")),
                expected,
            );
            assert_eq!(o.status, status, "{env}: {}", o.detail);
            if status == Status::Pass {
                assert!(o.detail.contains("default applies"), "{}", o.detail);
            } else {
                assert!(o.detail.contains("not set"), "{}", o.detail);
            }
        }
    }

    #[rstest]
    #[case("LoadState=masked\nUnitFileState=masked\nActiveState=inactive\nSubState=dead\n")]
    #[case("LoadState=masked\nUnitFileState=masked-runtime\nActiveState=inactive\nSubState=dead\n")]
    fn a_masked_unit_is_unmasked_first(#[case] text: &str) {
        let o = active(&facts(text));
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("sudo systemctl unmask ollama"),
            "{}",
            o.detail
        );
        assert!(o.detail.contains("masked"), "{}", o.detail);
        // Its settings are not read as "not set": a masked unit has none.
        for o in [
            host(&facts(text), "0.0.0.0"),
            env_equals(&facts(text), "OLLAMA_FLASH_ATTENTION", "1"),
            r#override(&facts(text)),
        ] {
            assert_eq!(o.status, Status::Skip, "{}", o.detail);
            assert!(o.detail.contains("is masked"), "{}", o.detail);
        }
    }

    #[rstest]
    #[case(
        "/etc/systemd/system/ollama.service.d/override.conf",
        Status::Pass,
        "1 drop-in(s)"
    )]
    #[case(
        "/usr/lib/systemd/system/service.d/10-timeout-abort.conf",
        Status::Fail,
        "found none (1 ignored"
    )]
    #[case(
        "/usr/lib/systemd/system/service.d/10-timeout-abort.conf /run/systemd/system/ollama.service.d/50-x.conf",
        Status::Pass,
        "10-timeout-abort.conf"
    )]
    #[case(
        "/etc/systemd/system/ollama-other.service.d/a.conf",
        Status::Fail,
        "found none"
    )]
    fn only_the_units_own_drop_ins_count(
        #[case] paths: &str,
        #[case] status: Status,
        #[case] says: &str,
    ) {
        let o = r#override(&facts(&format!("LoadState=loaded\nDropInPaths={paths}\n")));
        assert_eq!(o.status, status, "{}", o.detail);
        assert!(o.detail.contains(says), "{says}: {}", o.detail);
    }

    #[test]
    fn changed_unit_files_ask_for_a_daemon_reload() {
        let f = facts(&format!("{GOOD}NeedDaemonReload=yes\n"));
        let o = r#override(&f);
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        assert!(
            o.detail
                .contains("sudo systemctl daemon-reload && sudo systemctl restart ollama"),
            "{}",
            o.detail
        );
        let o = host(&f, "127.0.0.1");
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("NeedDaemonReload=yes"), "{}", o.detail);
        assert_eq!(r#override(&facts(GOOD)).status, Status::Pass);
    }

    fn with_file(env: &str, read: Result<&str, &str>) -> Result<ServiceFacts, ProbeError> {
        let mut u = parse_show(
            "ollama",
            &format!("LoadState=loaded\nEnvironment={env}\nEnvironmentFiles=/etc/ollama/env (ignore_errors=no)\n"),
        );
        u.environment_files[0].read = read
            .map(crate::probe::service::parse_environment_file)
            .map_err(str::to_string);
        Ok(ServiceFacts::Unit(u))
    }

    #[test]
    fn environment_files_override_the_units_environment() {
        let f = with_file(
            "OLLAMA_HOST=0.0.0.0:11434 OLLAMA_FLASH_ATTENTION=1",
            Ok("OLLAMA_FLASH_ATTENTION=0\n"),
        );
        let o = env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1");
        assert_eq!(o.status, Status::Fail);
        // A drop-in's `Environment=` would not win: the advice names the file.
        assert!(o.detail.contains("it is 0"), "{}", o.detail);
        assert!(
            o.detail.contains("set in /etc/ollama/env, which overrides"),
            "{}",
            o.detail
        );
        assert_eq!(host(&f, "0.0.0.0").status, Status::Pass);
        let f = with_file("", Ok("OLLAMA_HOST=\"0.0.0.0\"\n"));
        assert_eq!(host(&f, "0.0.0.0").status, Status::Pass);
    }

    #[test]
    fn an_unreadable_environment_file_leaves_its_settings_unknown() {
        let f = with_file("OLLAMA_FLASH_ATTENTION=1", Err("permission denied"));
        for o in [
            env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1"),
            host(&f, "0.0.0.0"),
        ] {
            assert_eq!(o.status, Status::Warn, "{}", o.detail);
            assert!(
                o.detail
                    .contains("may be set in /etc/ollama/env (permission denied)"),
                "{}",
                o.detail
            );
            assert!(!o.detail.contains("it is not set"), "{}", o.detail);
            assert_eq!(o.value.as_deref(), Some("unknown"));
        }
    }

    #[test]
    fn a_stopped_unit_fails_with_the_fix() {
        let o = active(&facts(
            "LoadState=loaded\nActiveState=inactive\nSubState=dead\n",
        ));
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("systemctl start ollama"));
    }

    #[test]
    fn a_missing_unit_fails_once() {
        let f = facts("LoadState=not-found\nActiveState=inactive\n");
        assert_eq!(active(&f).status, Status::Fail);
        assert_eq!(enabled(&f).status, Status::Skip);
        assert_eq!(host(&f, "0.0.0.0").status, Status::Skip);
    }

    #[test]
    fn no_systemd_skips_with_the_reason() {
        let f = Ok(ServiceFacts::Unavailable("no systemd here".into()));
        let o = active(&f);
        assert_eq!(
            (o.status, o.detail.as_str()),
            (Status::Skip, "no systemd here")
        );
    }

    #[test]
    fn unset_variables_say_so() {
        let o = env_equals(&facts("LoadState=loaded\n"), "OLLAMA_FLASH_ATTENTION", "1");
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("not set"));
        assert!(
            o.detail.contains("choose per model and GPU"),
            "{}",
            o.detail
        );
        assert_eq!(o.value.as_deref(), Some("unset"));
        // Empty is unset to Ollama (`BoolWithDefault`), not false.
        let o = env_equals(
            &facts("LoadState=loaded\nEnvironment=OLLAMA_FLASH_ATTENTION=\n"),
            "OLLAMA_FLASH_ATTENTION",
            "1",
        );
        assert!(o.detail.contains("set empty"), "{}", o.detail);
        assert!(
            o.detail.contains("choose per model and GPU"),
            "{}",
            o.detail
        );
        assert_eq!(o.value.as_deref(), Some("unset (empty)"));
        let o = env_equals(&facts("LoadState=loaded\n"), "OLLAMA_NUM_PARALLEL", "1");
        assert!(!o.detail.contains("choose per model"), "{}", o.detail);
    }

    fn container(
        running: bool,
        health: Option<&str>,
        restart: &str,
    ) -> Result<ServiceFacts, ProbeError> {
        Ok(ServiceFacts::Container(ContainerState {
            id: "0123456789abcdef".into(),
            running,
            status: if running { "running" } else { "exited" }.into(),
            health: health.map(str::to_string),
            restart_policy: restart.into(),
            environment: vec![("OLLAMA_HOST".into(), "0.0.0.0:11434".into())],
            kept: false,
        }))
    }

    #[rstest]
    #[case(true, Some("healthy"), "unless-stopped", [Status::Pass, Status::Pass, Status::Pass])]
    #[case(true, Some("unhealthy"), "no", [Status::Fail, Status::Fail, Status::Pass])]
    #[case(false, None, "unless-stopped", [Status::Fail, Status::Pass, Status::Fail])]
    fn containers_stand_in_for_the_unit(
        #[case] running: bool,
        #[case] health: Option<&str>,
        #[case] restart: &str,
        #[case] expected: [Status; 3],
    ) {
        let f = container(running, health, restart);
        assert_eq!(
            [active(&f).status, enabled(&f).status, r#override(&f).status],
            expected
        );
        assert_eq!(host(&f, "0.0.0.0").status, Status::Pass);
        let o = env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1");
        assert!(o.detail.contains("docker-compose.yml"), "{}", o.detail);
    }

    /// A stopped container's log is gone once the run removes it: unless kept, the
    /// next step says to run again with --keep.
    #[test]
    fn a_stopped_container_says_how_to_read_its_log() {
        let Ok(ServiceFacts::Container(mut c)) = container(false, None, "no") else {
            unreachable!()
        };
        let o = active(&Ok(ServiceFacts::Container(c.clone())));
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail
                .contains("run again with --keep, then `docker logs 0123456789ab`"),
            "{}",
            o.detail
        );
        c.kept = true;
        let o = active(&Ok(ServiceFacts::Container(c)));
        assert!(
            o.detail.contains("(`docker logs 0123456789ab`)") && !o.detail.contains("--keep"),
            "{}",
            o.detail
        );
    }
}
