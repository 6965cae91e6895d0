use super::*;
use crate::check::Status;
use crate::probe::service::parse_show;
use rstest::rstest;

fn facts(text: &str) -> Result<ServiceFacts, ProbeError> {
    Ok(ServiceFacts::Unit(parse_show("ollama", text)))
}

const GOOD: &str = "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nDropInPaths=/etc/systemd/system/ollama.service.d/override.conf\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1\n";

/// The unit `ollama`, as the advice on its environment names it.
fn unit_holder(env_file: Option<&str>, need_daemon_reload: bool) -> Holder {
    Holder::Unit {
        unit: "ollama".into(),
        env_file: env_file.map(str::to_string),
        need_daemon_reload,
    }
}

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
fn a_boolean_setting_is_compared_by_what_ollama_reads(#[case] env: &str, #[case] status: Status) {
    let text = GOOD.replace(
        "\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1",
        env,
    );
    let o = env_equals(&facts(&text), "OLLAMA_FLASH_ATTENTION", "1");
    assert_eq!(o.status, status, "{env}: {}", o.detail);
}

#[rstest]
#[case("enabled", Status::Pass)]
#[case("generated", Status::Pass)]
#[case("enabled-runtime", Status::Fail)] // gone after a reboot
#[case("static", Status::Fail)] // no [Install]
#[case("disabled", Status::Fail)]
#[case("", Status::Fail)]
#[case("alias", Status::Warn)] // up to the unit it names
#[case("masked", Status::Fail)]
#[case("masked-runtime", Status::Fail)]
fn enabled_means_it_starts_at_the_next_boot(#[case] state: &str, #[case] status: Status) {
    let f = facts(&GOOD.replace("UnitFileState=enabled", &format!("UnitFileState={state}")));
    let (unit, unit_file_state) = ("ollama".to_string(), state.to_string());
    let expected = match state {
        "enabled" | "generated" => Enabled::AtBoot {
            unit,
            unit_file_state,
        },
        "alias" => Enabled::Alias { unit },
        s if s.starts_with("masked") => Enabled::Masked {
            unit,
            unit_file_state,
            load_state: "loaded".into(),
        },
        _ => Enabled::NotAtBoot {
            unit,
            unit_file_state,
        },
    };
    assert_eq!(enabled_finding(&f), expected);
    assert_eq!(enabled(&f).status, status);
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
        assert_eq!(
            host_finding(&f, expected),
            Host::BadPort {
                expected: expected.into(),
                actual: actual.into(),
                port: "abc".into(),
                listens: "0.0.0.0:11434".into(),
                holder: unit_holder(None, false),
            }
        );
    }
}

/// Either unspecified address is every interface: the pass says so.
#[test]
fn the_other_unspecified_address_binds_every_interface() {
    let f = facts("LoadState=loaded\nEnvironment=OLLAMA_HOST=[::]:11434\n");
    assert_eq!(
        host_finding(&f, "0.0.0.0"),
        Host::Binds {
            actual: "[::]:11434".into(),
            every_interface: true
        }
    );
    assert_eq!(
        host_finding(&f, "[::]"),
        Host::Binds {
            actual: "[::]:11434".into(),
            every_interface: false
        }
    );
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
        let f = facts(&format!("LoadState=loaded\nEnvironment={env}\n"));
        let holder = unit_holder(None, false);
        let found = host_finding(&f, expected);
        if status == Status::Pass {
            assert_eq!(found, Host::Default { holder }, "{env}");
        } else {
            let expected = expected.to_string();
            assert_eq!(found, Host::Unset { expected, holder }, "{env}");
        }
        assert_eq!(host(&f, expected).status, status, "{env}");
    }
}

#[rstest]
#[case("LoadState=masked\nUnitFileState=masked\nActiveState=inactive\nSubState=dead\n")]
#[case("LoadState=masked\nUnitFileState=masked-runtime\nActiveState=inactive\nSubState=dead\n")]
fn a_masked_unit_is_unmasked_first(#[case] text: &str) {
    let f = facts(text);
    assert!(
        matches!(active_finding(&f), Active::Masked { ref unit, .. } if unit == "ollama"),
        "{:?}",
        active_finding(&f)
    );
    assert_eq!(active(&f).status, Status::Fail);
    // Its settings are not read as "not set": a masked unit has none.
    let masked = Unseen::Masked {
        unit: "ollama".into(),
    };
    assert_eq!(host_finding(&f, "0.0.0.0"), Host::Unseen(masked.clone()));
    assert_eq!(
        env_equals_finding(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        EnvEquals::Unseen(masked.clone())
    );
    assert_eq!(override_finding(&f), Override::Unseen(masked));
    for o in [
        host(&f, "0.0.0.0"),
        env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        r#override(&f),
    ] {
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
    }
}

const OWN: &str = "/etc/systemd/system/ollama.service.d/override.conf";
const FEDORA: &str = "/usr/lib/systemd/system/service.d/10-timeout-abort.conf";

#[rstest]
#[case(&[OWN], &[], Status::Pass)]
#[case(&[], &[FEDORA], Status::Fail)]
#[case(&["/run/systemd/system/ollama.service.d/50-x.conf"], &[FEDORA], Status::Pass)]
#[case(&[], &["/etc/systemd/system/ollama-other.service.d/a.conf"], Status::Fail)]
fn only_the_units_own_drop_ins_count(
    #[case] own: &[&str],
    #[case] ignored: &[&str],
    #[case] status: Status,
) {
    let paths: Vec<&str> = ignored.iter().chain(own).copied().collect();
    let f = facts(&format!(
        "LoadState=loaded\nDropInPaths={}\n",
        paths.join(" ")
    ));
    let strings = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        override_finding(&f),
        Override::DropIns {
            unit: "ollama".into(),
            own: strings(own),
            ignored: strings(ignored),
            need_daemon_reload: false,
        }
    );
    assert_eq!(r#override(&f).status, status);
}

#[test]
fn changed_unit_files_ask_for_a_daemon_reload() {
    let f = facts(&format!("{GOOD}NeedDaemonReload=yes\n"));
    assert!(
        matches!(
            override_finding(&f),
            Override::DropIns {
                need_daemon_reload: true,
                ..
            }
        ),
        "{:?}",
        override_finding(&f)
    );
    assert_eq!(r#override(&f).status, Status::Warn);
    assert_eq!(
        host_finding(&f, "127.0.0.1"),
        Host::Differs {
            expected: "127.0.0.1".into(),
            actual: "0.0.0.0:11434".into(),
            holder: unit_holder(None, true),
        }
    );
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
    // A drop-in's `Environment=` would not win: the advice names the file.
    assert_eq!(
        env_equals_finding(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        EnvEquals::Differs {
            key: "OLLAMA_FLASH_ATTENTION".into(),
            expected: "1".into(),
            seen: Assignment::Value("0".into()),
            holder: unit_holder(Some("/etc/ollama/env"), false),
        }
    );
    assert_eq!(host(&f, "0.0.0.0").status, Status::Pass);
    let f = with_file("", Ok("OLLAMA_HOST=\"0.0.0.0\"\n"));
    assert_eq!(host(&f, "0.0.0.0").status, Status::Pass);
}

#[test]
fn an_unreadable_environment_file_leaves_its_settings_unknown() {
    let f = with_file("OLLAMA_FLASH_ATTENTION=1", Err("permission denied"));
    let unread = vec![(
        "/etc/ollama/env".to_string(),
        "permission denied".to_string(),
    )];
    assert_eq!(
        env_equals_finding(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        EnvEquals::MayBeSet(MayBeSet {
            key: "OLLAMA_FLASH_ATTENTION".into(),
            unread: unread.clone(),
            seen: Some("1".into()),
        })
    );
    // Not "not set": what the file sets is unknown.
    assert_eq!(
        host_finding(&f, "0.0.0.0"),
        Host::MayBeSet(MayBeSet {
            key: "OLLAMA_HOST".into(),
            unread,
            seen: None,
        })
    );
    for o in [
        env_equals(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        host(&f, "0.0.0.0"),
    ] {
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("unknown"));
    }
}

/// A secret's value is compared, never kept: what the unit sets is masked in the
/// finding, so no wording can show it.
#[test]
fn a_secret_setting_is_masked_in_the_finding() {
    let f = facts("LoadState=loaded\nEnvironment=HF_TOKEN=hf_live_1\n");
    let found = env_equals_finding(&f, "HF_TOKEN", "hf_other");
    assert!(
        matches!(&found, EnvEquals::Differs { seen: Assignment::Value(v), .. } if v == crate::secrets::MASK),
        "{found:?}"
    );
    assert!(matches!(
        env_equals_finding(&f, "HF_TOKEN", "hf_live_1"),
        EnvEquals::Same { value, .. } if value == crate::secrets::MASK
    ));
    let f = with_file("HF_TOKEN=hf_live_1", Err("permission denied"));
    assert!(matches!(
        env_equals_finding(&f, "HF_TOKEN", "x"),
        EnvEquals::MayBeSet(MayBeSet { seen: Some(v), .. }) if v == crate::secrets::MASK
    ));
}

#[test]
fn a_stopped_unit_fails_with_the_fix() {
    let f = facts("LoadState=loaded\nActiveState=inactive\nSubState=dead\n");
    assert_eq!(
        active_finding(&f),
        Active::Stopped {
            unit: "ollama".into(),
            state: Activity {
                active: "inactive".into(),
                sub: "dead".into()
            }
        }
    );
    assert_eq!(active(&f).status, Status::Fail);
}

#[test]
fn a_missing_unit_fails_once() {
    let f = facts("LoadState=not-found\nActiveState=inactive\n");
    assert_eq!(
        active_finding(&f),
        Active::NotLoaded {
            unit: "ollama".into(),
            load_state: "not-found".into()
        }
    );
    let no_unit = Unseen::NoUnit {
        unit: "ollama".into(),
    };
    assert_eq!(enabled_finding(&f), Enabled::Unseen(no_unit.clone()));
    assert_eq!(host_finding(&f, "0.0.0.0"), Host::Unseen(no_unit));
    assert_eq!(active(&f).status, Status::Fail);
    assert_eq!(enabled(&f).status, Status::Skip);
    assert_eq!(host(&f, "0.0.0.0").status, Status::Skip);
}

#[test]
fn no_systemd_skips_with_the_reason() {
    let f = Ok(ServiceFacts::Unavailable("no systemd here".into()));
    assert_eq!(
        active_finding(&f),
        Active::Unseen(Unseen::Unavailable("no systemd here".into()))
    );
    assert_eq!(active(&f).status, Status::Skip);
}

#[test]
fn unset_variables_say_so() {
    let differs = |key: &str, seen: Assignment| EnvEquals::Differs {
        key: key.into(),
        expected: "1".into(),
        seen,
        holder: unit_holder(None, false),
    };
    let key = "OLLAMA_FLASH_ATTENTION";
    assert_eq!(
        env_equals_finding(&facts("LoadState=loaded\n"), key, "1"),
        differs(key, Assignment::Unset)
    );
    // Empty is unset to Ollama (`BoolWithDefault`), not false.
    let empty = facts("LoadState=loaded\nEnvironment=OLLAMA_FLASH_ATTENTION=\n");
    assert_eq!(
        env_equals_finding(&empty, key, "1"),
        differs(key, Assignment::Empty(String::new()))
    );
    assert_eq!(env_equals(&empty, key, "1").status, Status::Fail);
    // Only an OLLAMA_ variable is read so: another's empty value is a value.
    let other = facts("LoadState=loaded\nEnvironment=OTHER=\n");
    assert_eq!(
        env_equals_finding(&other, "OTHER", "1"),
        differs("OTHER", Assignment::Value(String::new()))
    );
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
    // The advice names the compose file.
    assert!(matches!(
        env_equals_finding(&f, "OLLAMA_FLASH_ATTENTION", "1"),
        EnvEquals::Differs {
            holder: Holder::Container,
            ..
        }
    ));
}

/// A stopped container's log is gone once the run removes it: unless kept, the
/// next step says to run again with --keep.
#[test]
fn a_stopped_container_says_how_to_read_its_log() {
    let Ok(ServiceFacts::Container(mut c)) = container(false, None, "no") else {
        unreachable!()
    };
    let stopped = |kept| Active::ContainerStopped {
        container: Container {
            id: "0123456789abcdef".into(),
            status: "exited".into(),
            health: None,
        },
        kept,
    };
    let f = Ok(ServiceFacts::Container(c.clone()));
    assert_eq!(active_finding(&f), stopped(false));
    assert_eq!(active(&f).status, Status::Fail);
    c.kept = true;
    assert_eq!(
        active_finding(&Ok(ServiceFacts::Container(c))),
        stopped(true)
    );
}

/// Every finding of the five checks, as a person reads it.
#[test]
fn findings_read_so() {
    let unseen = [
        Unseen::Unprobed(ProbeError::MissingTool {
            what: "the unit",
            host: "this machine".into(),
            tool: "systemctl",
            package: None,
        }),
        Unseen::Unavailable("no systemd here".into()),
        Unseen::NoUnit {
            unit: "ollama".into(),
        },
        Unseen::Masked {
            unit: "ollama".into(),
        },
    ];
    let state = |active: &str, sub: &str| Activity {
        active: active.into(),
        sub: sub.into(),
    };
    let running = |health: Option<&str>| Container {
        id: "0123456789abcdef".into(),
        status: "running".into(),
        health: health.map(str::to_string),
    };
    let exited = Container {
        id: "0123456789abcdef".into(),
        status: "exited".into(),
        health: None,
    };
    let unit = || "ollama".to_string();
    let actives = [
        Active::NotLoaded {
            unit: unit(),
            load_state: "not-found".into(),
        },
        Active::Running {
            unit: unit(),
            state: state("active", "running"),
        },
        Active::Masked {
            unit: unit(),
            state: state("inactive", "dead"),
            load_state: "masked".into(),
            unit_file_state: "masked".into(),
        },
        Active::Stopped {
            unit: unit(),
            state: state("failed", "failed"),
        },
        Active::ContainerStopped {
            container: exited.clone(),
            kept: false,
        },
        Active::ContainerStopped {
            container: exited,
            kept: true,
        },
        Active::ContainerUnhealthy(running(Some("unhealthy"))),
        Active::ContainerRunning(running(Some("healthy"))),
        Active::ContainerRunning(running(None)),
    ];
    let not_at_boot = |s: &str| Enabled::NotAtBoot {
        unit: unit(),
        unit_file_state: s.into(),
    };
    let enableds = [
        Enabled::Restarts {
            policy: "unless-stopped".into(),
        },
        Enabled::NoRestart {
            policy: "no".into(),
        },
        Enabled::Masked {
            unit: unit(),
            unit_file_state: "masked".into(),
            load_state: "masked".into(),
        },
        Enabled::Masked {
            unit: unit(),
            unit_file_state: "masked-runtime".into(),
            load_state: "masked".into(),
        },
        Enabled::AtBoot {
            unit: unit(),
            unit_file_state: "enabled".into(),
        },
        Enabled::Alias { unit: unit() },
        not_at_boot("enabled-runtime"),
        not_at_boot("static"),
        not_at_boot("indirect"),
        not_at_boot(""),
        not_at_boot("disabled"),
    ];
    let drop_ins = |own: &[&str], ignored: &[&str], need_daemon_reload| Override::DropIns {
        unit: unit(),
        own: own.iter().map(|p| p.to_string()).collect(),
        ignored: ignored.iter().map(|p| p.to_string()).collect(),
        need_daemon_reload,
    };
    let overrides = [
        Override::Healthcheck {
            health: "healthy".into(),
        },
        Override::NoHealthcheck,
        drop_ins(&[OWN], &[], false),
        drop_ins(&[OWN], &[FEDORA], false),
        drop_ins(&[OWN], &[], true),
        drop_ins(&[], &[], false),
        drop_ins(&[], &[FEDORA], true),
    ];
    let may_be_set = |seen: Option<&str>, files: usize| MayBeSet {
        key: "OLLAMA_HOST".into(),
        unread: [
            ("/etc/ollama/env", "permission denied"),
            ("/etc/ollama/more", "no such file"),
        ][..files]
            .iter()
            .map(|(p, why)| (p.to_string(), why.to_string()))
            .collect(),
        seen: seen.map(str::to_string),
    };
    let hosts = [
        Host::MayBeSet(may_be_set(None, 1)),
        Host::MayBeSet(may_be_set(Some("0.0.0.0"), 2)),
        Host::Default {
            holder: unit_holder(None, false),
        },
        Host::Default {
            holder: Holder::Container,
        },
        Host::Unset {
            expected: "0.0.0.0".into(),
            holder: unit_holder(None, false),
        },
        Host::Unset {
            expected: "0.0.0.0".into(),
            holder: Holder::Container,
        },
        Host::BadPort {
            expected: "0.0.0.0".into(),
            actual: "0.0.0.0:abc".into(),
            port: "abc".into(),
            listens: "0.0.0.0:11434".into(),
            holder: unit_holder(None, false),
        },
        Host::Binds {
            actual: "0.0.0.0:11434".into(),
            every_interface: false,
        },
        Host::Binds {
            actual: "[::]:11434".into(),
            every_interface: true,
        },
        Host::Differs {
            expected: "0.0.0.0".into(),
            actual: "127.0.0.1:11434".into(),
            holder: unit_holder(Some("/etc/ollama/env"), true),
        },
    ];
    let differs =
        |key: &str, expected: &str, seen: Assignment, holder: Holder| EnvEquals::Differs {
            key: key.into(),
            expected: expected.into(),
            seen,
            holder,
        };
    let fa = "OLLAMA_FLASH_ATTENTION";
    let envs = [
        EnvEquals::Same {
            key: fa.into(),
            value: "1".into(),
        },
        EnvEquals::ReadsSame {
            key: fa.into(),
            value: "true".into(),
            expected: "1".into(),
        },
        differs(
            fa,
            "1",
            Assignment::Value("0".into()),
            unit_holder(None, false),
        ),
        differs(fa, "1", Assignment::Unset, unit_holder(None, false)),
        differs(fa, "1", Assignment::Empty("\"\"".into()), Holder::Container),
        differs(
            "OLLAMA_NUM_PARALLEL",
            "2",
            Assignment::Unset,
            unit_holder(None, true),
        ),
        differs(
            "OLLAMA_NUM_PARALLEL",
            "2",
            Assignment::Value("4".into()),
            unit_holder(Some("/etc/ollama/env"), false),
        ),
        // The statement masks the spec's secret; the advice repeats the value to write.
        differs(
            "HF_TOKEN",
            "hf_abc",
            Assignment::Value(crate::secrets::MASK.into()),
            unit_holder(None, false),
        ),
    ];
    let line = |o: Outcome| o.snapshot_line();
    let all: String = unseen
        .iter()
        .map(Unseen::outcome)
        .chain(actives.iter().map(Active::outcome))
        .chain(enableds.iter().map(Enabled::outcome))
        .chain(overrides.iter().map(Override::outcome))
        .chain(hosts.iter().map(Host::outcome))
        .chain(envs.iter().map(EnvEquals::outcome))
        .map(line)
        .collect();
    insta::assert_snapshot!(all);
}
