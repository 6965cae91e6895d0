//! `service.active`, `service.enabled`, `service.override`, `service.host`,
//! `service.flash_attention`: the systemd unit and its environment, or, on the docker
//! target, the container that stands in its place (running, restart policy, health,
//! environment).

use crate::check::Outcome;
use crate::probe::logs::ollama_bool;
use crate::probe::service::{ContainerState, ServiceFacts, UnitState};

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

    /// Where a setting is changed, and what makes the change take effect.
    fn how_to_set(&self, key: &str, value: &str) -> String {
        match self {
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
    facts: &Result<ServiceFacts, String>,
    needs_existing: bool,
) -> Result<Subject<'_>, Outcome> {
    match facts {
        Err(e) => Err(Outcome::fail(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Outcome::skip(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if needs_existing && !u.exists() => Err(Outcome::skip(format!(
            "there is no {}.service (see service.active)",
            u.unit
        ))),
        Ok(ServiceFacts::Unit(u)) => Ok(Subject::Unit(u)),
        Ok(ServiceFacts::Container(c)) => Ok(Subject::Container(c)),
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// `service.active`: the unit runs (the container runs and is not unhealthy).
pub fn active(facts: &Result<ServiceFacts, String>) -> Outcome {
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
        return Outcome::fail(format!(
            "expected the container {} running, it is {}. See why with `docker logs {}`",
            short(&c.id),
            c.status,
            short(&c.id)
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
pub fn enabled(facts: &Result<ServiceFacts, String>) -> Outcome {
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
    // What each UnitFileState means for the next boot (systemctl(1), is-enabled).
    let why = match u.unit_file_state.as_str() {
        s @ ("enabled" | "alias" | "generated") => {
            return Outcome::pass(format!("{}.service starts at boot", u.unit)).with_value(s)
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
pub fn r#override(facts: &Result<ServiceFacts, String>) -> Outcome {
    let u = match subject(facts, true) {
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
    if u.drop_in_paths.is_empty() {
        Outcome::fail(format!(
            "expected a drop-in such as /etc/systemd/system/{0}.service.d/override.conf, found none. Install setup/'s with `sudo systemctl edit {0}` or setup/setup-native.sh",
            u.unit
        ))
    } else {
        Outcome::pass(format!("{} drop-in(s)", u.drop_in_paths.len()))
            .with_value(u.drop_in_paths.join(" "))
    }
}

/// `service.host`: `OLLAMA_HOST` binds the expected address. Without a port in
/// `expected`, any port matches, save one that is no port number: Ollama binds its
/// default port then, with only a warning, which this check says instead.
pub fn host(facts: &Result<ServiceFacts, String>, expected: &str) -> Outcome {
    let s = match subject(facts, true) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(actual) = s.env("OLLAMA_HOST") else {
        return Outcome::fail(format!(
            "expected OLLAMA_HOST={expected} in {} environment, it is not set (Ollama then listens on 127.0.0.1:11434). {}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected)
        ));
    };
    // Ollama takes a port it cannot read for its default, with only a warning.
    if let (Some(bad), Ok(addr)) = (
        crate::client::invalid_port(actual),
        crate::client::bind_addr(actual),
    ) {
        return Outcome::fail(format!(
            "expected OLLAMA_HOST to bind {expected}; {} environment sets {actual}, whose port `{bad}` is no port number (0-65535), so Ollama logs \"invalid port, using default\" and listens on {addr}. {}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected)
        ))
        .with_value(actual);
    }
    let bind = |s: &str| crate::client::bind_addr(s).ok();
    let same = match (bind(expected), bind(actual)) {
        (Some(e), Some(a)) if expected.contains("]:") || expected.matches(':').count() == 1 => {
            e == a
        }
        (Some(e), Some(a)) => e.ip() == a.ip(),
        _ => expected == actual,
    };
    if same {
        Outcome::pass(format!("the API binds {actual}")).with_value(actual)
    } else {
        Outcome::fail(format!(
            "expected OLLAMA_HOST to bind {expected}, {} environment sets {actual}. {}",
            s.whose(),
            s.how_to_set("OLLAMA_HOST", expected)
        ))
        .with_value(actual)
    }
}

/// A variable of the environment has the expected value
/// (`service.flash_attention`: `OLLAMA_FLASH_ATTENTION=1`).
pub fn env_equals(facts: &Result<ServiceFacts, String>, key: &str, expected: &str) -> Outcome {
    let s = match subject(facts, true) {
        Ok(s) => s,
        Err(o) => return o,
    };
    // A secret's value is compared, never shown.
    let shown = |v: &str| crate::report::mask_value(key, v).into_owned();
    // A boolean setting means what Ollama reads it as: `true` is `1`.
    let boolean = crate::probe::logs::BOOL_SETTINGS.contains(&key);
    let same = |v: &str| v == expected || boolean && ollama_bool(v) == ollama_bool(expected);
    match s.env(key) {
        Some(v) if v == expected => {
            Outcome::pass(format!("{key}={}", shown(v))).with_value(shown(v))
        }
        Some(v) if same(v) => Outcome::pass(format!(
            "{key}={v}, which Ollama reads as {}, as {expected} is",
            ollama_bool(v)
        ))
        .with_value(v),
        seen => Outcome::fail(format!(
            "expected {key}={} in {} environment, {}. {}{}",
            shown(expected),
            s.whose(),
            seen.map_or("it is not set".to_string(), |v| format!(
                "it is {}",
                shown(v)
            )),
            s.how_to_set(key, expected),
            unset_note(key, seen)
        ))
        .with_value(seen.map_or("unset".to_string(), shown)),
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

    fn facts(text: &str) -> Result<ServiceFacts, String> {
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
        let o = env_equals(&facts("LoadState=loaded\n"), "OLLAMA_NUM_PARALLEL", "1");
        assert!(!o.detail.contains("choose per model"), "{}", o.detail);
    }

    fn container(
        running: bool,
        health: Option<&str>,
        restart: &str,
    ) -> Result<ServiceFacts, String> {
        Ok(ServiceFacts::Container(ContainerState {
            id: "0123456789abcdef".into(),
            running,
            status: if running { "running" } else { "exited" }.into(),
            health: health.map(str::to_string),
            restart_policy: restart.into(),
            environment: vec![("OLLAMA_HOST".into(), "0.0.0.0:11434".into())],
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
}
