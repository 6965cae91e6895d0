//! `security.exposure`, `security.remote_reachable`, `security.masking`: the API has no
//! authentication, so who can reach it is the whole of its security.

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::network::AddressProbe;
use crate::probe::service::{ServiceFacts, UnitState};
use crate::probe::ProbeError;
use crate::secrets::name_matches;

const RESTART: &str = "then `sudo systemctl daemon-reload && sudo systemctl restart ollama`";

/// The unit, or the outcome that says why its environment cannot be judged.
fn unit(facts: &Result<ServiceFacts, ProbeError>) -> Result<&UnitState, Outcome> {
    match facts {
        Err(e) => Err(Outcome::skip(format!(
            "the unit could not be read (see {see}): {e}", see = CheckId::ServiceActive
        ))),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Outcome::skip(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if !u.exists() => Err(Outcome::skip(format!(
            "there is no {}.service (see {see})",
            u.unit, see = CheckId::ServiceActive
        ))),
        // Linked to /dev/null: no environment to judge, and whatever answers on the
        // port was not started by it (diagnose.port_owner says what does).
        Ok(ServiceFacts::Unit(u)) if u.masked() => Err(Outcome::skip(format!(
            "{0}.service is masked, so it has no environment to read (see {see}): unmask it first (`sudo systemctl unmask {0}`)",
            u.unit, see = CheckId::ServiceActive
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

/// The schemes gin-contrib/cors (v1.7.2, as Ollama configures it: browser extensions
/// allowed) accepts in an origin without `*`.
const ORIGIN_SCHEMES: [&str; 6] = [
    "http://",
    "https://",
    "chrome-extension://",
    "safari-extension://",
    "moz-extension://",
    "ms-browser-extension://",
];

/// `OLLAMA_ORIGINS` as Ollama reads it (`envconfig.AllowedOrigins`): the value trimmed
/// of spaces, then quotes, split on `,`, each entry kept as written. Ollama adds its
/// own (localhost, 127.0.0.1, 0.0.0.0, app://, file://, tauri://, vscode-webview://
/// ...), none of which lets every page call it.
fn origin_entries(value: &str) -> Vec<&str> {
    match crate::go::env_value(value) {
        "" => Vec::new(),
        v => v.split(',').collect(),
    }
}

/// Why Ollama does not start with these origins: gin-contrib/cors panics in
/// `cors.New` on an entry without `*` and without an allowed scheme (`Validate`,
/// checked first), or with more than one `*` (`parseWildcardRules`).
fn refused_origin(entries: &[&str]) -> Option<String> {
    let shown = |e: &str| match e {
        "" => "an empty entry (a trailing or doubled comma)".to_string(),
        e if e.starts_with(char::is_whitespace) => {
            format!("`{e}` (the space after the comma is part of it)")
        }
        e => format!("`{e}`"),
    };
    if let Some(bad) = entries
        .iter()
        .find(|e| !e.contains('*') && !ORIGIN_SCHEMES.iter().any(|s| e.starts_with(s)))
    {
        return Some(format!(
            "{}, which is not `*`, holds no `*` and does not start with {}: Ollama panics at startup with \"bad origin: origins must contain '*' or include {}\"",
            shown(bad),
            ORIGIN_SCHEMES.join(", "),
            ORIGIN_SCHEMES.join(",")
        ));
    }
    entries
        .iter()
        .find(|e| e.matches('*').count() > 1)
        .map(|bad| {
            format!(
            "{}, with more than one `*`: Ollama panics at startup with \"only one * is allowed\"",
            shown(bad)
        )
        })
}

/// Whether an entry lets every web page call the API: `any_origin` (`*`), or a
/// wildcard gin-contrib/cors (`AllowWildcard`) matches against every page of a
/// scheme: one `*` at the end of a fixed part that is no more than the scheme
/// (`http://*`, `https://*`; `*` alone).
fn every_origin(entry: &str, any_origin: &str) -> bool {
    if entry == any_origin {
        return true;
    }
    match entry.strip_suffix('*') {
        Some(fixed) if !fixed.contains('*') => {
            "http://".starts_with(fixed) || "https://".starts_with(fixed)
        }
        _ => false,
    }
}

/// `security.exposure`: not both reachable from the network (the unit's `OLLAMA_HOST`,
/// or the server seen answering on a non-loopback address) and open to every origin
/// (`OLLAMA_ORIGINS` holding `any_origin`, `*`, or a wildcard as wide, such as
/// `http://*`). Origins that keep Ollama from starting fail.
pub fn exposure(
    facts: &Result<ServiceFacts, ProbeError>,
    any_origin: &str,
    answered_at: &[AddressProbe],
) -> Outcome {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(o) => return o,
    };
    for key in ["OLLAMA_HOST", "OLLAMA_ORIGINS"] {
        if let Some(unknown) = crate::verdict::service::MayBeSet::of(key, u) {
            return unknown.outcome();
        }
    }
    // Where a drop-in's `Environment=` would not win.
    let in_file: String = ["OLLAMA_HOST", "OLLAMA_ORIGINS"]
        .iter()
        .filter_map(|k| {
            u.env_file_of(k).map(|f| {
                format!(" ({k} is set in {f}, which overrides `Environment=`: change it there)")
            })
        })
        .collect();
    let host = u
        .env("OLLAMA_HOST")
        .filter(|h| !crate::go::env_value(h).trim().is_empty());
    let origins = u.env("OLLAMA_ORIGINS").unwrap_or_default();
    let entries = origin_entries(origins);
    if let Some(why) = refused_origin(&entries) {
        return Outcome::fail(format!(
            "expected OLLAMA_ORIGINS to be origins Ollama accepts; OLLAMA_ORIGINS={origins} holds {why}, so the server does not start. Ollama splits the value on `,` and keeps each entry as written: give each origin with its scheme, without spaces (`Environment=\"OLLAMA_ORIGINS=http://localhost:3000,https://app.example\"`) in the drop-in, {RESTART}{in_file}"
        ))
        .with_value(format!("origins {origins}: Ollama does not start"));
    }
    let wide: Vec<&str> = entries
        .iter()
        .copied()
        .filter(|e| every_origin(e, any_origin))
        .collect();
    let open = !wide.is_empty();
    // Which entry opens it, where it is not the whole value.
    let by = if open && wide != [origins] {
        format!(
            " (by {})",
            wide.iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
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
            "{network} and OLLAMA_ORIGINS={origins} lets every origin call it{by}: any web page the user visits (and anyone on the network) can call the model server, which has no authentication: run prompts, pull, copy or delete models. Narrow one of the two: bind loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` if no other machine needs the API, or set OLLAMA_ORIGINS to the origins that need it (`Environment=\"OLLAMA_ORIGINS=http://localhost:3000\"`) in the drop-in, {RESTART}{in_file}"
        ))
        .with_value(format!("{bind}, origins {origins}")),
        Some(network) => Outcome::pass(format!(
            "{network}; OLLAMA_ORIGINS does not let every origin call it, so the server refuses the requests web pages of other origins send. That is no guard against the network, nor against DNS rebinding: bound beyond loopback, Ollama skips its check of the Host header, so a page whose name is made to resolve to this machine calls the API as its own origin. Bind loopback (`Environment=\"OLLAMA_HOST=127.0.0.1:11434\"`) if no other machine needs it"
        ))
        .with_value(format!("{bind}, origins {}", if origins.is_empty() { "default" } else { origins })),
        None if open => Outcome::pass(format!(
            "the API binds loopback only ({bind}); OLLAMA_ORIGINS={origins} still lets pages in this machine's browser call it{by}"
        ))
        .with_value(format!("{bind}, origins {origins}")),
        None => Outcome::pass(format!("the API binds loopback only ({bind})")).with_value(bind),
    }
}

/// `security.remote_reachable`: with `loopback_only`, the API answers on none of this
/// host's non-loopback addresses. `probes` is `Err` when they cannot be asked here.
pub fn remote_reachable(
    loopback_only: bool,
    probes: &Result<Vec<AddressProbe>, ProbeError>,
) -> Outcome {
    let probes = match probes {
        Err(reason) => return Outcome::skip(reason.to_string()),
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
        "expected the API to answer on loopback only, but it answers at {}: anyone who can reach this machine can use it, without authentication. Bind it to loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` in the drop-in, {RESTART}. A firewall rule does not show here: these requests leave from this machine, and its traffic to its own addresses goes through loopback, which firewalls let pass; ask from another machine (`curl http://<address>:11434/`) to see what the firewall lets through",
        seen.join(", ")
    ))
    .with_value(value)
}

/// The assignments of `environment` that hold a secret, as a report may show them: a
/// name like one of `patterns` (the value masked), or a URL with a password in it.
fn secrets(environment: &[(String, String)], patterns: &[String]) -> Vec<String> {
    environment
        .iter()
        .filter_map(|(k, v)| {
            // Masked whatever the pattern, even one the reports do not know.
            if patterns.iter().any(|p| name_matches(k, p)) {
                let v = if v.is_empty() {
                    ""
                } else {
                    crate::secrets::MASK
                };
                return Some(format!("{k}={v}"));
            }
            crate::secrets::mask_url_credentials(v).map(|masked| format!("{k}={masked}"))
        })
        .collect()
}

/// `security.masking`: the unit's environment holds no variable whose name matches one
/// of `patterns` (`*_TOKEN`) or whose value is a URL with a password
/// (`HTTPS_PROXY=http://user:pass@proxy:3128`): `systemctl show` prints it to every
/// local user. Neither may an environment file every local user can read. The values
/// are never shown.
pub fn masking(facts: &Result<ServiceFacts, ProbeError>, patterns: &[String]) -> Outcome {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let mut found = secrets(&u.environment, patterns);
    let mut count = found.len();
    let mut problems = Vec::new();
    if !found.is_empty() {
        problems.push(format!(
            "the unit's environment sets {}, readable by every local user with `systemctl show {}`",
            found.join(", "),
            u.unit
        ));
    }
    let mut chmod = Vec::new();
    for f in u.environment_files.iter().filter(|f| f.world_readable()) {
        found = secrets(f.read.as_deref().unwrap_or_default(), patterns);
        if !found.is_empty() {
            count += found.len();
            problems.push(format!(
                "{} (mode {:o}, readable by every local user) sets {}",
                f.path,
                f.mode.unwrap_or_default(),
                found.join(", ")
            ));
            chmod.push(f.path.as_str());
        }
    }
    if problems.is_empty() {
        let unread: Vec<String> = u
            .environment_files
            .iter()
            .filter_map(|f| {
                f.read
                    .as_ref()
                    .err()
                    .map(|why| format!("{} ({why})", f.path))
            })
            .collect();
        let unread = if unread.is_empty() {
            String::new()
        } else {
            format!("; not read here: {}", unread.join(", "))
        };
        return Outcome::pass(format!(
            "no variable named like a secret ({}) or holding a URL with a password in the unit's environment{unread}",
            patterns.join(", ")
        ))
        .with_value("none");
    }
    let chmod = if chmod.is_empty() {
        String::new()
    } else {
        format!(
            "; or make the file root's alone: `sudo chmod 0600 {}`",
            chmod.join(" ")
        )
    };
    Outcome::fail(format!(
        "{}. Move secrets to an `EnvironmentFile=` readable by root only (mode 0600) or to systemd credentials (`LoadCredential=`), {RESTART}{chmod}",
        problems.join("; ")
    ))
    .with_value(format!("{count} secret-looking variable(s)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::probe::service::parse_show;
    use rstest::rstest;

    fn facts(env: &str) -> Result<ServiceFacts, ProbeError> {
        Ok(ServiceFacts::Unit(parse_show(
            "ollama",
            &format!("LoadState=loaded\nActiveState=active\nEnvironment={env}\n"),
        )))
    }

    /// A masked unit has no environment: `systemctl show` prints none, which would read
    /// as the loopback default and no secrets.
    #[test]
    fn a_masked_unit_is_not_judged() {
        let masked = Ok(ServiceFacts::Unit(parse_show(
            "ollama",
            "LoadState=masked\nUnitFileState=masked\nActiveState=inactive\nSubState=dead\n",
        )));
        for o in [
            exposure(&masked, "*", &[]),
            masking(&masked, &["*_TOKEN".to_string()]),
        ] {
            assert_eq!(o.status, Status::Skip, "{}", o.detail);
            assert!(
                o.detail.contains("ollama.service is masked"),
                "{}",
                o.detail
            );
            assert!(
                o.detail.contains("sudo systemctl unmask ollama"),
                "{}",
                o.detail
            );
        }
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
    // OLLAMA_ORIGINS as envconfig reads it: quotes off the whole value, entries untrimmed.
    #[case("OLLAMA_HOST=0.0.0.0 \"OLLAMA_ORIGINS='*'\"", Status::Fail)]
    #[case("OLLAMA_HOST=0.0.0.0 \"OLLAMA_ORIGINS=http://a, *\"", Status::Pass)] // ` *` is no `*`
    // Wildcards gin-contrib/cors matches against every page of a scheme.
    #[case("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=http://*", Status::Fail)]
    #[case("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=http://a,https://*", Status::Fail)]
    #[case("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=h*", Status::Fail)]
    #[case("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=*.example.com", Status::Pass)]
    #[case(
        "OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=https://*.example.com",
        Status::Pass
    )]
    #[case(
        "OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=chrome-extension://*",
        Status::Pass
    )]
    #[case("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=moz-extension://abc", Status::Pass)]
    // OLLAMA_HOST as envconfig.Host reads it: loopback however it is spelled.
    #[case("\"OLLAMA_HOST=' 127.0.0.1:11434'\" OLLAMA_ORIGINS=*", Status::Pass)]
    #[case("OLLAMA_HOST=LOCALHOST:11434 OLLAMA_ORIGINS=*", Status::Pass)]
    #[case("OLLAMA_HOST=[::ffff:127.0.0.1]:11434 OLLAMA_ORIGINS=*", Status::Pass)]
    #[case("OLLAMA_HOST=[::ffff:0.0.0.0]:11434 OLLAMA_ORIGINS=*", Status::Fail)]
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

    #[rstest]
    #[case("OLLAMA_ORIGINS=example.com", "`example.com`", "bad origin")]
    #[case("OLLAMA_ORIGINS=OLLAMA_ORIGINS", "`OLLAMA_ORIGINS`", "bad origin")] // ollama#8880
    #[case(
        "\"OLLAMA_ORIGINS=http://a, http://b\"",
        "the space after the comma",
        "bad origin"
    )]
    #[case("OLLAMA_ORIGINS=http://a,", "empty entry", "bad origin")]
    #[case(
        "OLLAMA_ORIGINS=http://*.*.example",
        "more than one `*`",
        "only one * is allowed"
    )]
    fn origins_that_keep_ollama_from_starting_fail(
        #[case] env: &str,
        #[case] entry: &str,
        #[case] panic: &str,
    ) {
        // Whether it listens on the network or not: the server does not start.
        for host in ["OLLAMA_HOST=127.0.0.1", "OLLAMA_HOST=0.0.0.0"] {
            let o = exposure(&facts(&format!("{host} {env}")), "*", &[]);
            assert_eq!(o.status, Status::Fail, "{}", o.detail);
            for part in [
                entry,
                panic,
                "does not start",
                "OLLAMA_ORIGINS=http://localhost:3000",
            ] {
                assert!(o.detail.contains(part), "{part}: {}", o.detail);
            }
        }
    }

    #[test]
    fn narrow_origins_on_the_network_claim_no_protection() {
        let o = exposure(
            &facts("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=http://localhost:3000"),
            "*",
            &[],
        );
        assert_eq!(o.status, Status::Pass);
        for part in ["DNS rebinding", "Host header", "127.0.0.1:11434"] {
            assert!(o.detail.contains(part), "{part}: {}", o.detail);
        }
        assert!(!o.detail.contains("but OLLAMA_ORIGINS"), "{}", o.detail);
    }

    #[test]
    fn an_unreadable_environment_file_leaves_exposure_unknown() {
        let Ok(ServiceFacts::Unit(mut u)) = facts("OLLAMA_HOST=127.0.0.1") else {
            unreachable!()
        };
        u.environment_files = vec![crate::probe::service::EnvironmentFile {
            path: "/etc/ollama/env".into(),
            optional: false,
            read: Err("permission denied".into()),
            mode: None,
        }];
        let o = exposure(&Ok(ServiceFacts::Unit(u.clone())), "*", &[]);
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        assert!(
            o.detail.contains("may be set in /etc/ollama/env"),
            "{}",
            o.detail
        );
        // Read, the file's settings count, and the advice names it.
        u.environment_files[0].read = Ok(vec![
            ("OLLAMA_HOST".into(), "0.0.0.0".into()),
            ("OLLAMA_ORIGINS".into(), "*".into()),
        ]);
        let o = exposure(&Ok(ServiceFacts::Unit(u)), "*", &[]);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail
                .contains("OLLAMA_ORIGINS is set in /etc/ollama/env, which overrides"),
            "{}",
            o.detail
        );
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
        let o = remote_reachable(true, &seen);
        // The probes come from this host: a firewall rule cannot be seen, nor advised.
        assert!(!o.detail.contains("block the port"), "{}", o.detail);
        assert!(
            o.detail.contains("firewall rule does not show here"),
            "{}",
            o.detail
        );
        let missing = ProbeError::MissingTool {
            what: "the addresses",
            host: "this machine".into(),
            tool: "ip",
            package: Some("iproute2"),
        };
        let o = remote_reachable(true, &Err(missing.clone()));
        assert_eq!((o.status, o.detail), (Status::Skip, missing.to_string()));
    }

    #[test]
    fn masking_names_secrets_and_never_shows_them() {
        let patterns: Vec<String> = crate::secrets::SECRET_PATTERNS
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

    #[rstest]
    #[case(
        "HTTPS_PROXY=http://user:s3cret@proxy:3128",
        Some("HTTPS_PROXY=http://****@proxy:3128")
    )]
    #[case(
        "HTTP_PROXY=http://proxy:3128 ALL_PROXY=socks5://u:p@10.0.0.1:1080/x",
        Some("ALL_PROXY=socks5://****@10.0.0.1:1080/x")
    )]
    #[case("NO_PROXY=a,https://b:pw@c", Some("NO_PROXY=a,https://****@c"))]
    #[case("HTTPS_PROXY=http://proxy:3128", None)]
    #[case("GIT_URL=ssh://git@github.com/x", None)] // a user, no password
    #[case("OLLAMA_ORIGINS=http://*", None)]
    fn urls_with_passwords_are_secrets(#[case] env: &str, #[case] shown: Option<&str>) {
        let o = masking(&facts(env), &["*_TOKEN".to_string()]);
        match shown {
            Some(shown) => {
                assert_eq!(o.status, Status::Fail, "{}", o.detail);
                assert!(o.detail.contains(shown), "{shown}: {}", o.detail);
                for secret in ["s3cret", "user:", "u:p", "b:pw"] {
                    assert!(!o.detail.contains(secret), "{secret}: {}", o.detail);
                }
            }
            None => assert_eq!(o.status, Status::Pass, "{}", o.detail),
        }
    }

    #[rstest]
    #[case(0o644, Status::Fail)]
    #[case(0o600, Status::Pass)]
    #[case(0o640, Status::Pass)]
    fn an_environment_file_every_user_reads_holds_no_secret(
        #[case] mode: u32,
        #[case] status: Status,
    ) {
        let Ok(ServiceFacts::Unit(mut u)) = facts("OLLAMA_HOST=0.0.0.0") else {
            unreachable!()
        };
        u.environment_files = vec![crate::probe::service::EnvironmentFile {
            path: "/etc/ollama/env".into(),
            optional: false,
            read: Ok(vec![("HF_TOKEN".into(), "hf_live_1".into())]),
            mode: Some(mode),
        }];
        let o = masking(&Ok(ServiceFacts::Unit(u)), &["*_TOKEN".to_string()]);
        assert_eq!(o.status, status, "{}", o.detail);
        assert!(!o.detail.contains("hf_live"), "{}", o.detail);
        if status == Status::Fail {
            assert!(
                o.detail.contains("/etc/ollama/env (mode 644"),
                "{}",
                o.detail
            );
            assert!(
                o.detail.contains("sudo chmod 0600 /etc/ollama/env"),
                "{}",
                o.detail
            );
        }
    }
}
