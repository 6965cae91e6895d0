//! `security.exposure`, `security.remote_reachable`, `security.masking`: the API has no
//! authentication, so who can reach it is the whole of its security.

use crate::check::Outcome;
use crate::probe::network::AddressProbe;
use crate::probe::service::{ServiceFacts, UnitState};
use crate::report::name_matches;

const RESTART: &str = "then `sudo systemctl daemon-reload && sudo systemctl restart ollama`";

/// The unit, or the outcome that says why its environment cannot be judged.
fn unit(facts: &Result<ServiceFacts, String>) -> Result<&UnitState, Outcome> {
    match facts {
        Err(e) => Err(Outcome::skip(format!(
            "the unit could not be read (see service.active): {e}"
        ))),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Outcome::skip(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if !u.exists() => Err(Outcome::skip(format!(
            "there is no {}.service (see service.active)",
            u.unit
        ))),
        Ok(ServiceFacts::Unit(u)) => Ok(u),
        #[allow(unreachable_patterns)] // other stand-ins for the unit (a container)
        Ok(_) => Err(Outcome::skip(
            "there is no systemd unit here whose OLLAMA_HOST and OLLAMA_ORIGINS could be read",
        )),
    }
}

/// Whether an `OLLAMA_HOST` value makes the server listen beyond loopback: all
/// interfaces, a network address, or a host name other than localhost.
pub fn binds_beyond_loopback(ollama_host: &str) -> bool {
    crate::client::bind_addr(ollama_host).map_or(true, |a| !a.ip().is_loopback())
}

/// `security.exposure`: not both reachable from the network (the unit's `OLLAMA_HOST`,
/// or the server seen answering on a non-loopback address) and open to every origin
/// (`OLLAMA_ORIGINS` holding `any_origin`, `*`).
pub fn exposure(
    facts: &Result<ServiceFacts, String>,
    any_origin: &str,
    answered_at: &[AddressProbe],
) -> Outcome {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let host = u.env("OLLAMA_HOST").filter(|h| !h.trim().is_empty());
    let origins = u.env("OLLAMA_ORIGINS").unwrap_or_default();
    let open = origins.split(',').any(|o| o.trim() == any_origin);
    let answering: Vec<&str> = answered_at
        .iter()
        .filter(|p| p.answered)
        .map(|p| p.url.as_str())
        .collect();
    let network = match host {
        Some(h) if binds_beyond_loopback(h) => {
            Some(format!("OLLAMA_HOST={h} binds beyond loopback"))
        }
        _ if !answering.is_empty() => Some(format!("the API answers at {}", answering.join(", "))),
        _ => None,
    };
    let bind = host.unwrap_or("127.0.0.1:11434 (OLLAMA_HOST unset)");
    match network {
        Some(network) if open => Outcome::fail(format!(
            "{network} and OLLAMA_ORIGINS={origins} lets every origin call it: any web page the user visits (and anyone on the network) can call the model server, which has no authentication: run prompts, pull, copy or delete models. Narrow one of the two: bind loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` if no other machine needs the API, or set OLLAMA_ORIGINS to the origins that need it (`Environment=\"OLLAMA_ORIGINS=http://localhost:3000\"`) in the drop-in, {RESTART}"
        ))
        .with_value(format!("{bind}, origins {origins}")),
        Some(network) => Outcome::pass(format!(
            "{network}, but OLLAMA_ORIGINS does not let every web page call it"
        ))
        .with_value(format!("{bind}, origins {}", if origins.is_empty() { "default" } else { origins })),
        None if open => Outcome::pass(format!(
            "the API binds loopback only ({bind}); OLLAMA_ORIGINS={origins} still lets pages in this machine's browser call it"
        ))
        .with_value(format!("{bind}, origins {origins}")),
        None => Outcome::pass(format!("the API binds loopback only ({bind})")).with_value(bind),
    }
}

/// `security.remote_reachable`: with `loopback_only`, the API answers on none of this
/// host's non-loopback addresses. `probes` is `Err` when they cannot be asked here.
pub fn remote_reachable(
    loopback_only: bool,
    probes: &Result<Vec<AddressProbe>, String>,
) -> Outcome {
    let probes = match probes {
        Err(reason) => return Outcome::skip(reason.clone()),
        Ok(p) => p,
    };
    if probes.is_empty() {
        return Outcome::pass("this host has no non-loopback IPv4 or IPv6 address to answer on")
            .with_value("loopback only");
    }
    let answered: Vec<&AddressProbe> = probes.iter().filter(|p| p.answered).collect();
    let asked = probes.len();
    let value = format!("answers on {} of {asked} address(es)", answered.len());
    if answered.is_empty() {
        let urls: Vec<&str> = probes.iter().map(|p| p.url.as_str()).collect();
        return Outcome::pass(format!("no answer at {}", urls.join(", ")))
            .with_value("loopback only");
    }
    let seen: Vec<String> = answered
        .iter()
        .map(|p| format!("{} ({})", p.url, p.seen))
        .collect();
    if !loopback_only {
        return Outcome::pass(format!(
            "the API answers at {}; the spec allows the network",
            seen.join(", ")
        ))
        .with_value(value);
    }
    Outcome::fail(format!(
        "expected the API to answer on loopback only, but it answers at {}: anyone who can reach this machine can use it, without authentication. Bind it to loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` in the drop-in, {RESTART}; or block the port in the firewall",
        seen.join(", ")
    ))
    .with_value(value)
}

/// `security.masking`: the unit's environment holds no variable whose name matches one
/// of `patterns` (`*_TOKEN`): `systemctl show` prints it to every local user. The
/// values are never shown.
pub fn masking(facts: &Result<ServiceFacts, String>, patterns: &[String]) -> Outcome {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let found: Vec<String> = u
        .environment
        .iter()
        .filter(|(k, _)| patterns.iter().any(|p| name_matches(k, p)))
        // Masked whatever the pattern, even one the reports do not know.
        .map(|(k, v)| {
            format!(
                "{k}={}",
                if v.is_empty() {
                    ""
                } else {
                    crate::report::MASK
                }
            )
        })
        .collect();
    if found.is_empty() {
        return Outcome::pass(format!(
            "no variable named like a secret ({}) in the unit's environment",
            patterns.join(", ")
        ))
        .with_value("none");
    }
    Outcome::fail(format!(
        "the unit's environment sets {}, readable by every local user with `systemctl show {}`. Move secrets to an `EnvironmentFile=` readable by root only (mode 0600) or to systemd credentials (`LoadCredential=`), {RESTART}",
        found.join(", "),
        u.unit
    ))
    .with_value(format!("{} secret-looking variable(s)", found.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::probe::service::parse_show;
    use rstest::rstest;

    fn facts(env: &str) -> Result<ServiceFacts, String> {
        Ok(ServiceFacts::Unit(parse_show(
            "ollama",
            &format!("LoadState=loaded\nActiveState=active\nEnvironment={env}\n"),
        )))
    }

    fn probe(url: &str, answered: bool) -> AddressProbe {
        AddressProbe {
            url: url.into(),
            answered,
            seen: if answered {
                "\"Ollama is running\"".into()
            } else {
                "connection refused".into()
            },
        }
    }

    #[rstest]
    #[case("\"OLLAMA_HOST=0.0.0.0:11434\" \"OLLAMA_ORIGINS=*\"", Status::Fail)]
    #[case("OLLAMA_HOST=[::]:11434 OLLAMA_ORIGINS=http://a,*", Status::Fail)]
    #[case("OLLAMA_HOST=192.168.1.20 OLLAMA_ORIGINS=*", Status::Fail)]
    #[case("OLLAMA_HOST=:11434 OLLAMA_ORIGINS=*", Status::Fail)] // Go's `:port` is every interface
    #[case(
        "OLLAMA_HOST=0.0.0.0:11434 OLLAMA_ORIGINS=http://localhost:3000",
        Status::Pass
    )]
    #[case("OLLAMA_HOST=127.0.0.1:11434 OLLAMA_ORIGINS=*", Status::Pass)]
    #[case("OLLAMA_ORIGINS=*", Status::Pass)]
    #[case("", Status::Pass)]
    fn exposure_needs_both_network_and_every_origin(#[case] env: &str, #[case] status: Status) {
        let o = exposure(&facts(env), "*", &[]);
        assert_eq!(o.status, status, "{}", o.detail);
    }

    #[test]
    fn exposure_says_what_and_how_to_narrow() {
        let o = exposure(&facts("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=*"), "*", &[]);
        for part in ["any web page", "127.0.0.1", "OLLAMA_ORIGINS to the origins"] {
            assert!(o.detail.contains(part), "{part}: {}", o.detail);
        }
    }

    #[test]
    fn answering_on_the_network_counts_as_bound_there() {
        let seen = [probe("http://172.17.0.2:11434/", true)];
        let o = exposure(&facts("OLLAMA_ORIGINS=*"), "*", &seen);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("172.17.0.2"), "{}", o.detail);
    }

    #[test]
    fn without_a_unit_the_security_checks_skip_with_the_reason() {
        let none = Ok(ServiceFacts::Unavailable("no systemd here".into()));
        for o in [exposure(&none, "*", &[]), masking(&none, &["*_KEY".into()])] {
            assert_eq!(
                (o.status, o.detail.as_str()),
                (Status::Skip, "no systemd here")
            );
        }
        let missing = facts("").map(|f| match f {
            ServiceFacts::Unit(mut u) => {
                u.load_state = "not-found".into();
                ServiceFacts::Unit(u)
            }
            other => other,
        });
        assert_eq!(exposure(&missing, "*", &[]).status, Status::Skip);
    }

    #[test]
    fn remote_reachable_warns_only_when_the_spec_says_loopback() {
        let seen = Ok(vec![
            probe("http://172.17.0.2:11434/", true),
            probe("http://10.0.0.5:11434/", false),
        ]);
        let o = remote_reachable(true, &seen);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("172.17.0.2") && !o.detail.contains("10.0.0.5"));
        assert_eq!(o.value.as_deref(), Some("answers on 1 of 2 address(es)"));
        assert_eq!(remote_reachable(false, &seen).status, Status::Pass);
        let quiet = Ok(vec![probe("http://10.0.0.5:11434/", false)]);
        assert_eq!(remote_reachable(true, &quiet).status, Status::Pass);
        assert_eq!(remote_reachable(true, &Ok(vec![])).status, Status::Pass);
        let o = remote_reachable(true, &Err("no ip".into()));
        assert_eq!((o.status, o.detail.as_str()), (Status::Skip, "no ip"));
    }

    #[test]
    fn masking_names_secrets_and_never_shows_them() {
        let patterns: Vec<String> = crate::report::SECRET_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .collect();
        let o = masking(
            &facts("HF_TOKEN=hf_live_123 \"DB_PASSWORD=p w\" OLLAMA_KEEP_ALIVE=30m"),
            &patterns,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("HF_TOKEN=****") && o.detail.contains("DB_PASSWORD=****"));
        assert!(!o.detail.contains("hf_live") && !o.detail.contains("p w"));
        assert!(!o.detail.contains("KEEP_ALIVE"));
        assert_eq!(
            masking(&facts("OLLAMA_HOST=0.0.0.0"), &patterns).status,
            Status::Pass
        );
    }
}
