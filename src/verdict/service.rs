//! `service.active`, `service.enabled`, `service.override`, `service.host`,
//! `service.flash_attention`: the systemd unit and its environment.

use crate::check::Outcome;
use crate::probe::service::{ServiceFacts, UnitState};

/// The unit, or the outcome that says why the check cannot look at it.
fn unit(facts: &Result<ServiceFacts, String>, needs_existing: bool) -> Result<&UnitState, Outcome> {
    match facts {
        Err(e) => Err(Outcome::fail(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Outcome::skip(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if needs_existing && !u.exists() => Err(Outcome::skip(format!(
            "there is no {}.service (see service.active)",
            u.unit
        ))),
        Ok(ServiceFacts::Unit(u)) => Ok(u),
    }
}

/// `service.active`: the unit runs.
pub fn active(facts: &Result<ServiceFacts, String>) -> Outcome {
    let u = match unit(facts, false) {
        Ok(u) => u,
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

/// `service.enabled`: the unit starts at boot.
pub fn enabled(facts: &Result<ServiceFacts, String>) -> Outcome {
    let u = match unit(facts, true) {
        Ok(u) => u,
        Err(o) => return o,
    };
    match u.unit_file_state.as_str() {
        s @ ("enabled" | "enabled-runtime" | "alias" | "static" | "indirect") => {
            Outcome::pass(format!("{}.service starts at boot", u.unit)).with_value(s)
        }
        s => Outcome::fail(format!(
            "expected the unit enabled, UnitFileState is {}. Try `sudo systemctl enable {}`",
            if s.is_empty() { "empty" } else { s },
            u.unit
        ))
        .with_value(s),
    }
}

/// `service.override`: a drop-in configures the unit.
pub fn r#override(facts: &Result<ServiceFacts, String>) -> Outcome {
    let u = match unit(facts, true) {
        Ok(u) => u,
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
/// `expected`, any port matches.
pub fn host(facts: &Result<ServiceFacts, String>, expected: &str) -> Outcome {
    let u = match unit(facts, true) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let Some(actual) = u.env("OLLAMA_HOST") else {
        return Outcome::fail(format!(
            "expected OLLAMA_HOST={expected} in the unit's environment, it is not set (Ollama then listens on 127.0.0.1:11434). Add `Environment=\"OLLAMA_HOST={expected}\"` to a drop-in, then `sudo systemctl daemon-reload && sudo systemctl restart {}`",
            u.unit
        ));
    };
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
            "expected OLLAMA_HOST to bind {expected}, the unit sets {actual}. Change it in the drop-in, then `sudo systemctl daemon-reload && sudo systemctl restart {}`",
            u.unit
        ))
        .with_value(actual)
    }
}

/// A variable of the unit's environment has the expected value
/// (`service.flash_attention`: `OLLAMA_FLASH_ATTENTION=1`).
pub fn env_equals(facts: &Result<ServiceFacts, String>, key: &str, expected: &str) -> Outcome {
    let u = match unit(facts, true) {
        Ok(u) => u,
        Err(o) => return o,
    };
    match u.env(key) {
        Some(v) if v == expected => Outcome::pass(format!("{key}={v}")).with_value(v),
        seen => Outcome::fail(format!(
            "expected {key}={expected} in the unit's environment, {}. Set `Environment=\"{key}={expected}\"` in a drop-in, then `sudo systemctl daemon-reload && sudo systemctl restart {}`",
            seen.map_or("it is not set".to_string(), |v| format!("it is {v}")),
            u.unit
        ))
        .with_value(seen.unwrap_or("unset")),
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
    #[case("0.0.0.0", "0.0.0.0:11434", Status::Pass)]
    #[case("0.0.0.0:11434", "0.0.0.0", Status::Pass)]
    #[case("0.0.0.0:11434", "0.0.0.0:8080", Status::Fail)]
    #[case("0.0.0.0", "127.0.0.1:11434", Status::Fail)]
    #[case("[::]:11434", "[::]:11434", Status::Pass)]
    fn host_compares_bind_addresses(
        #[case] expected: &str,
        #[case] actual: &str,
        #[case] status: Status,
    ) {
        let f = facts(&format!(
            "LoadState=loaded\nEnvironment=OLLAMA_HOST={actual}\n"
        ));
        assert_eq!(host(&f, expected).status, status);
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
        assert_eq!(o.value.as_deref(), Some("unset"));
    }
}
