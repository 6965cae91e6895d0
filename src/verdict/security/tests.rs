use super::*;
use crate::check::Status;
use crate::probe::service::{parse_show, EnvironmentFile};
use rstest::rstest;

fn facts(env: &str) -> Result<ServiceFacts, ProbeError> {
    Ok(ServiceFacts::Unit(parse_show(
        "ollama",
        &format!("LoadState=loaded\nActiveState=active\nEnvironment={env}\n"),
    )))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A masked unit has no environment: `systemctl show` prints none, which would read
/// as the loopback default and no secrets.
#[test]
fn a_masked_unit_is_not_judged() {
    let masked = Ok(ServiceFacts::Unit(parse_show(
        "ollama",
        "LoadState=masked\nUnitFileState=masked\nActiveState=inactive\nSubState=dead\n",
    )));
    let unjudged = Unjudged::Masked {
        unit: "ollama".into(),
    };
    assert_eq!(
        exposure_finding(&masked, "*", &[]),
        Exposure::Unjudged(unjudged.clone())
    );
    assert_eq!(
        masking_finding(&masked, &["*_TOKEN".to_string()]),
        Masking::Unjudged(unjudged)
    );
    assert_eq!(exposure(&masked, "*", &[]).status, Status::Skip);
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

/// Which entries open the API is part of the finding: the wording names them where
/// they are not the whole value.
#[rstest]
#[case("*", &["*"])]
#[case("http://a,*", &["*"])]
#[case("http://*,https://*", &["http://*", "https://*"])]
fn exposure_names_what_opens_it(#[case] origins: &str, #[case] wide: &[&str]) {
    let f = facts(&format!("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS={origins}"));
    assert_eq!(
        exposure_finding(&f, "*", &[]),
        Exposure::Open {
            network: Network::Binds("0.0.0.0".into()),
            host: Some("0.0.0.0".into()),
            origins: origins.into(),
            wide: strings(wide),
            in_file: vec![],
        }
    );
    let loopback = facts(&format!("OLLAMA_ORIGINS={origins}"));
    assert_eq!(
        exposure_finding(&loopback, "*", &[]),
        Exposure::LoopbackOpen {
            host: None,
            origins: origins.into(),
            wide: strings(wide),
        }
    );
}

#[rstest]
#[case("OLLAMA_ORIGINS=example.com", RefusedOrigin::NoScheme("example.com".into()))]
#[case("OLLAMA_ORIGINS=OLLAMA_ORIGINS", RefusedOrigin::NoScheme("OLLAMA_ORIGINS".into()))] // ollama#8880
#[case(
    "\"OLLAMA_ORIGINS=http://a, http://b\"",
    RefusedOrigin::NoScheme(" http://b".into())
)] // the space after the comma is part of the entry
#[case("OLLAMA_ORIGINS=http://a,", RefusedOrigin::NoScheme(String::new()))] // an empty entry
#[case(
    "OLLAMA_ORIGINS=http://*.*.example",
    RefusedOrigin::Wildcards("http://*.*.example".into())
)]
fn origins_that_keep_ollama_from_starting_fail(#[case] env: &str, #[case] refused: RefusedOrigin) {
    // Whether it listens on the network or not: the server does not start.
    for host in ["OLLAMA_HOST=127.0.0.1", "OLLAMA_HOST=0.0.0.0"] {
        let f = facts(&format!("{host} {env}"));
        let Ok(ServiceFacts::Unit(u)) = &f else {
            unreachable!()
        };
        assert_eq!(
            exposure_finding(&f, "*", &[]),
            Exposure::Refused {
                origins: u.env("OLLAMA_ORIGINS").unwrap().into(),
                refused: refused.clone(),
                in_file: vec![],
            }
        );
        assert_eq!(exposure(&f, "*", &[]).status, Status::Fail);
    }
}

#[test]
fn narrow_origins_on_the_network_claim_no_protection() {
    let f = facts("OLLAMA_HOST=0.0.0.0 OLLAMA_ORIGINS=http://localhost:3000");
    assert_eq!(
        exposure_finding(&f, "*", &[]),
        Exposure::Network {
            network: Network::Binds("0.0.0.0".into()),
            host: Some("0.0.0.0".into()),
            origins: "http://localhost:3000".into(),
        }
    );
    assert_eq!(exposure(&f, "*", &[]).status, Status::Pass);
}

#[test]
fn an_unreadable_environment_file_leaves_exposure_unknown() {
    let Ok(ServiceFacts::Unit(mut u)) = facts("OLLAMA_HOST=127.0.0.1") else {
        unreachable!()
    };
    u.environment_files = vec![EnvironmentFile {
        path: "/etc/ollama/env".into(),
        optional: false,
        read: Err("permission denied".into()),
        mode: None,
    }];
    let f = Ok(ServiceFacts::Unit(u.clone()));
    assert_eq!(
        exposure_finding(&f, "*", &[]),
        Exposure::MayBeSet(MayBeSet {
            key: "OLLAMA_HOST".into(),
            unread: vec![("/etc/ollama/env".into(), "permission denied".into())],
            seen: Some("127.0.0.1".into()),
        })
    );
    assert_eq!(exposure(&f, "*", &[]).status, Status::Warn);
    // Read, the file's settings count, and the advice names it.
    u.environment_files[0].read = Ok(vec![
        ("OLLAMA_HOST".into(), "0.0.0.0".into()),
        ("OLLAMA_ORIGINS".into(), "*".into()),
    ]);
    let in_file = ["OLLAMA_HOST", "OLLAMA_ORIGINS"]
        .map(|k| (k.to_string(), "/etc/ollama/env".to_string()))
        .to_vec();
    assert_eq!(
        exposure_finding(&Ok(ServiceFacts::Unit(u)), "*", &[]),
        Exposure::Open {
            network: Network::Binds("0.0.0.0".into()),
            host: Some("0.0.0.0".into()),
            origins: "*".into(),
            wide: strings(&["*"]),
            in_file,
        }
    );
}

#[test]
fn answering_on_the_network_counts_as_bound_there() {
    let seen = [
        probe("http://172.17.0.2:11434/", true),
        probe("http://10.0.0.5:11434/", false),
    ];
    let f = facts("OLLAMA_ORIGINS=*");
    assert_eq!(
        exposure_finding(&f, "*", &seen),
        Exposure::Open {
            network: Network::Answers(strings(&["http://172.17.0.2:11434/"])),
            host: None,
            origins: "*".into(),
            wide: strings(&["*"]),
            in_file: vec![],
        }
    );
    assert_eq!(exposure(&f, "*", &seen).status, Status::Fail);
}

#[test]
fn without_a_unit_the_security_checks_skip_with_the_reason() {
    let none = Ok(ServiceFacts::Unavailable("no systemd here".into()));
    let unavailable = Unjudged::Unavailable("no systemd here".into());
    assert_eq!(
        exposure_finding(&none, "*", &[]),
        Exposure::Unjudged(unavailable.clone())
    );
    assert_eq!(
        masking_finding(&none, &["*_KEY".into()]),
        Masking::Unjudged(unavailable)
    );
    let missing = facts("").map(|f| match f {
        ServiceFacts::Unit(mut u) => {
            u.load_state = "not-found".into();
            ServiceFacts::Unit(u)
        }
        other => other,
    });
    assert_eq!(
        exposure_finding(&missing, "*", &[]),
        Exposure::Unjudged(Unjudged::NoUnit {
            unit: "ollama".into()
        })
    );
    assert_eq!(exposure(&missing, "*", &[]).status, Status::Skip);
}

#[test]
fn remote_reachable_warns_only_when_the_spec_says_loopback() {
    let answered = probe("http://172.17.0.2:11434/", true);
    let seen = Ok(vec![
        answered.clone(),
        probe("http://10.0.0.5:11434/", false),
    ]);
    // Only the addresses that answered are named.
    assert_eq!(
        remote_reachable_finding(true, &seen),
        RemoteReachable::Reachable {
            answered: vec![answered.clone()],
            asked: 2
        }
    );
    assert_eq!(remote_reachable(true, &seen).status, Status::Fail);
    assert_eq!(
        remote_reachable_finding(false, &seen),
        RemoteReachable::Allowed {
            answered: vec![answered],
            asked: 2
        }
    );
    assert_eq!(remote_reachable(false, &seen).status, Status::Pass);
    let quiet = Ok(vec![probe("http://10.0.0.5:11434/", false)]);
    assert_eq!(
        remote_reachable_finding(true, &quiet),
        RemoteReachable::Quiet {
            urls: strings(&["http://10.0.0.5:11434/"])
        }
    );
    assert_eq!(remote_reachable(true, &quiet).status, Status::Pass);
    assert_eq!(
        remote_reachable_finding(true, &Ok(vec![])),
        RemoteReachable::NoAddress
    );
    assert_eq!(remote_reachable(true, &Ok(vec![])).status, Status::Pass);
    let missing = ProbeError::MissingTool {
        what: "the addresses",
        host: "this machine".into(),
        tool: "ip",
        package: Some("iproute2"),
    };
    assert_eq!(
        remote_reachable_finding(true, &Err(missing.clone())),
        RemoteReachable::Unasked(missing)
    );
}

/// The finding holds every secret masked, so no wording can show one.
#[test]
fn masking_names_secrets_and_never_shows_them() {
    let patterns: Vec<String> = crate::secrets::SECRET_PATTERNS
        .iter()
        .map(|p| p.to_string())
        .collect();
    let f = facts("HF_TOKEN=hf_live_123 \"DB_PASSWORD=p w\" OLLAMA_KEEP_ALIVE=30m");
    assert_eq!(
        masking_finding(&f, &patterns),
        Masking::Exposed {
            unit: "ollama".into(),
            in_unit: strings(&["HF_TOKEN=****", "DB_PASSWORD=****"]),
            in_files: vec![],
        }
    );
    assert_eq!(masking(&f, &patterns).status, Status::Fail);
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
    let patterns = ["*_TOKEN".to_string()];
    let expected = match shown {
        Some(shown) => Masking::Exposed {
            unit: "ollama".into(),
            in_unit: strings(&[shown]),
            in_files: vec![],
        },
        None => Masking::Clean {
            patterns: patterns.to_vec(),
            unread: vec![],
        },
    };
    assert_eq!(masking_finding(&facts(env), &patterns), expected);
}

#[rstest]
#[case(0o644, Status::Fail)]
#[case(0o600, Status::Pass)]
#[case(0o640, Status::Pass)]
fn an_environment_file_every_user_reads_holds_no_secret(#[case] mode: u32, #[case] status: Status) {
    let Ok(ServiceFacts::Unit(mut u)) = facts("OLLAMA_HOST=0.0.0.0") else {
        unreachable!()
    };
    u.environment_files = vec![EnvironmentFile {
        path: "/etc/ollama/env".into(),
        optional: false,
        read: Ok(vec![("HF_TOKEN".into(), "hf_live_1".into())]),
        mode: Some(mode),
    }];
    let f = Ok(ServiceFacts::Unit(u));
    let patterns = ["*_TOKEN".to_string()];
    let expected = match status {
        Status::Fail => Masking::Exposed {
            unit: "ollama".into(),
            in_unit: vec![],
            in_files: vec![ReadableFile {
                path: "/etc/ollama/env".into(),
                mode,
                secrets: strings(&["HF_TOKEN=****"]),
            }],
        },
        _ => Masking::Clean {
            patterns: patterns.to_vec(),
            unread: vec![],
        },
    };
    assert_eq!(masking_finding(&f, &patterns), expected);
    assert_eq!(masking(&f, &patterns).status, status);
}

/// Every finding of the three checks, as a person reads it.
#[test]
fn findings_read_so() {
    let unjudged = [
        Unjudged::Unread(ProbeError::MissingTool {
            what: "the unit",
            host: "this machine".into(),
            tool: "systemctl",
            package: None,
        }),
        Unjudged::Unavailable("no systemd here".into()),
        Unjudged::NoUnit {
            unit: "ollama".into(),
        },
        Unjudged::Masked {
            unit: "ollama".into(),
        },
        Unjudged::NotAUnit,
    ];
    let in_file = vec![("OLLAMA_ORIGINS".to_string(), "/etc/ollama/env".to_string())];
    let refused = |origins: &str, refused: RefusedOrigin| Exposure::Refused {
        origins: origins.into(),
        refused,
        in_file: vec![],
    };
    let host = || Some("0.0.0.0".to_string());
    let exposures = [
        Exposure::MayBeSet(MayBeSet {
            key: "OLLAMA_ORIGINS".into(),
            unread: vec![("/etc/ollama/env".into(), "permission denied".into())],
            seen: Some("*".into()),
        }),
        refused("example.com", RefusedOrigin::NoScheme("example.com".into())),
        refused(
            "http://a, http://b",
            RefusedOrigin::NoScheme(" http://b".into()),
        ),
        refused("http://a,", RefusedOrigin::NoScheme(String::new())),
        Exposure::Refused {
            origins: "http://*.*.example".into(),
            refused: RefusedOrigin::Wildcards("http://*.*.example".into()),
            in_file: in_file.clone(),
        },
        Exposure::Open {
            network: Network::Binds("0.0.0.0".into()),
            host: host(),
            origins: "*".into(),
            wide: strings(&["*"]),
            in_file: vec![],
        },
        Exposure::Open {
            network: Network::Answers(strings(&[
                "http://172.17.0.2:11434/",
                "http://10.0.0.5:11434/",
            ])),
            host: None,
            origins: "http://a,http://*".into(),
            wide: strings(&["http://*"]),
            in_file,
        },
        Exposure::Network {
            network: Network::Binds("0.0.0.0".into()),
            host: host(),
            origins: "http://localhost:3000".into(),
        },
        Exposure::Network {
            network: Network::Answers(strings(&["http://172.17.0.2:11434/"])),
            host: None,
            origins: String::new(),
        },
        Exposure::LoopbackOpen {
            host: None,
            origins: "*".into(),
            wide: strings(&["*"]),
        },
        Exposure::LoopbackOpen {
            host: Some("127.0.0.1:11434".into()),
            origins: "http://*,https://*".into(),
            wide: strings(&["http://*", "https://*"]),
        },
        Exposure::Loopback { host: None },
        Exposure::Loopback {
            host: Some("127.0.0.1:11434".into()),
        },
    ];
    let answered = vec![
        probe("http://172.17.0.2:11434/", true),
        probe("http://10.0.0.6:11434/", true),
    ];
    let reachables = [
        RemoteReachable::Unasked(ProbeError::MissingTool {
            what: "the addresses",
            host: "this machine".into(),
            tool: "ip",
            package: Some("iproute2"),
        }),
        RemoteReachable::NoAddress,
        RemoteReachable::Quiet {
            urls: strings(&["http://10.0.0.5:11434/", "http://[fd00::5]:11434/"]),
        },
        RemoteReachable::Allowed {
            answered: answered.clone(),
            asked: 3,
        },
        RemoteReachable::Reachable {
            answered: answered[..1].to_vec(),
            asked: 2,
        },
    ];
    let maskings = [
        Masking::Clean {
            patterns: strings(&["*_TOKEN", "*_KEY"]),
            unread: vec![],
        },
        Masking::Clean {
            patterns: strings(&["*_TOKEN"]),
            unread: vec![
                ("/etc/ollama/env".into(), "permission denied".into()),
                ("/etc/ollama/more".into(), "no such file".into()),
            ],
        },
        Masking::Exposed {
            unit: "ollama".into(),
            in_unit: strings(&["HF_TOKEN=****", "HTTPS_PROXY=http://****@proxy:3128"]),
            in_files: vec![],
        },
        Masking::Exposed {
            unit: "ollama".into(),
            in_unit: strings(&["HF_TOKEN=****"]),
            in_files: vec![
                ReadableFile {
                    path: "/etc/ollama/env".into(),
                    mode: 0o644,
                    secrets: strings(&["X_TOKEN=****", "E_TOKEN="]),
                },
                ReadableFile {
                    path: "/etc/ollama/more".into(),
                    mode: 0o604,
                    secrets: strings(&["Y_TOKEN=****"]),
                },
            ],
        },
    ];
    let line = |o: Outcome| o.snapshot_line();
    let all: String = unjudged
        .iter()
        .map(Unjudged::outcome)
        .chain(exposures.iter().map(Exposure::outcome))
        .chain(reachables.iter().map(RemoteReachable::outcome))
        .chain(maskings.iter().map(Masking::outcome))
        .map(line)
        .collect();
    insta::assert_snapshot!(all);
}
