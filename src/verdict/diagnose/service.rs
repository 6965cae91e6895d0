//! `diagnose.settings` and `diagnose.service_health`: the unit (container) runs as
//! configured, and does not crash. Each verdict finds what the unit and the log show
//! (a typed finding), and one renderer words it.

use super::quote;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::logs::{same_setting, ServerLog};
use crate::probe::service::{ServiceFacts, UnitState};
use crate::probe::LogError;
use crate::probe::ProbeError;
use crate::target::Advice;

/// Why there is no unit or container to diagnose.
#[derive(Debug, Clone, PartialEq)]
pub enum NoService {
    /// The unit could not be read: the probe's error.
    Unread(ProbeError),
    /// Neither systemd nor a container here: the reason.
    Unavailable(String),
    /// systemd has no such unit.
    NoUnit { unit: String },
}

impl NoService {
    /// The finding in words: a skip, since service.active reports it.
    pub fn outcome(&self) -> Outcome {
        let see = CheckId::ServiceActive;
        match self {
            NoService::Unread(e) => {
                Outcome::skip(format!("the unit could not be read (see {see}): {e}"))
            }
            NoService::Unavailable(reason) => Outcome::skip(reason.clone()),
            NoService::NoUnit { unit } => {
                Outcome::skip(format!("there is no {unit}.service (see {see})"))
            }
        }
    }
}

/// What runs the server: the unit, or the docker target's container.
#[derive(Debug, Clone, PartialEq)]
pub enum Runner {
    Unit(String),
    Container,
}

/// A setting that differs: as the unit (container) sets it, and as the server logged
/// it runs with; a secret's values masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Differs {
    pub key: String,
    pub set: String,
    pub logged: String,
}

/// What `diagnose.settings` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Settings {
    NoService(NoService),
    /// The server's log cannot be read: why.
    NoLog(LogError),
    /// No `server config` line since the server's last start in the log (`source`).
    NoConfigLine {
        source: String,
    },
    /// The `compared` settings the log prints, those that differ, and the environment
    /// files not read here (whose settings are not compared).
    Compared {
        runner: Runner,
        compared: usize,
        differ: Vec<Differs>,
        unreadable: Vec<String>,
        source: String,
    },
}

/// `diagnose.settings`: the unit's (container's) `OLLAMA_*` environment is what the
/// running server logged in its `server config` line, compared by meaning.
pub fn settings(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
) -> Outcome {
    settings_finding(facts, log).outcome()
}

pub fn settings_finding(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
) -> Settings {
    let (env, runner, unreadable) = match facts {
        Err(e) => return Settings::NoService(NoService::Unread(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => {
            return Settings::NoService(NoService::Unavailable(reason.clone()))
        }
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Settings::NoService(NoService::NoUnit {
                unit: u.unit.clone(),
            })
        }
        // Environment files this tool could not read (often root's): what they set
        // is not known here, so it is neither compared nor blamed.
        Ok(ServiceFacts::Unit(u)) => (
            u.effective_environment(),
            Runner::Unit(u.unit.clone()),
            u.environment_files
                .iter()
                .filter(|f| f.read.is_err())
                .map(|f| f.path.clone())
                .collect(),
        ),
        Ok(ServiceFacts::Container(c)) => (c.environment.clone(), Runner::Container, Vec::new()),
    };
    let log = match log {
        Ok(l) => l,
        Err(e) => return Settings::NoLog(e.clone()),
    };
    let Some((running, _)) = log.server_config() else {
        return Settings::NoConfigLine {
            source: log.source.clone(),
        };
    };
    let shown = |k: &str, v: &str| crate::secrets::mask_value(k, v).into_owned();
    let mut differ = Vec::new();
    let mut compared = 0;
    for (k, v) in env.iter().filter(|(k, _)| k.starts_with("OLLAMA_")) {
        let Some(logged) = running.get(k) else {
            continue; // a setting this server version does not know or print
        };
        compared += 1;
        if !same_setting(k, v, logged) {
            differ.push(Differs {
                key: k.clone(),
                set: shown(k, v),
                logged: shown(k, logged),
            });
        }
    }
    Settings::Compared {
        runner,
        compared,
        differ,
        unreadable,
        source: log.source.clone(),
    }
}

impl Settings {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (runner, compared, differ, unreadable, source) = match self {
            Settings::NoService(none) => return none.outcome(),
            Settings::NoLog(reason) => return Outcome::skip(reason.to_string()),
            Settings::NoConfigLine { source } => {
                return Outcome::skip(format!(
                    "{source} since the server's last start holds no `server config` line to compare with"
                ))
            }
            Settings::Compared {
                runner,
                compared,
                differ,
                unreadable,
                source,
            } => (runner, compared, differ, unreadable, source),
        };
        let (whose, fix) = match runner {
            Runner::Unit(unit) => (
                "the unit",
                format!(
                    "a change to the unit was not applied: run `sudo systemctl daemon-reload && sudo systemctl restart {unit}`"
                ),
            ),
            Runner::Container => (
                "the container",
                "the container runs with other settings than it was given: recreate it (`docker compose up -d --force-recreate ollama`)".to_string(),
            ),
        };
        let unread_note = if unreadable.is_empty() {
            String::new()
        } else {
            format!(
                "; {} could not be read here, so what it sets was not compared (try with sudo)",
                unreadable.join(", ")
            )
        };
        if differ.is_empty() {
            return Outcome::pass(format!(
                "the {compared} OLLAMA_* setting(s) of {whose} are what the server logged it runs with{unread_note}"
            ))
            .with_value(format!("{compared} applied"));
        }
        let differ_text: Vec<String> = differ
            .iter()
            .map(|d| {
                format!(
                    "{whose} sets {k}={} but the server runs with {k}:{}",
                    d.set,
                    d.logged,
                    k = d.key
                )
            })
            .collect();
        Outcome::fail(format!(
            "{} (the `server config` line of {source}): {fix}{unread_note}",
            differ_text.join("; ")
        ))
        .with_value(format!("{} of {compared} differ", differ.len()))
    }
}

/// The unit's restarts as systemd counts them, and the log's last error line.
#[derive(Debug, Clone, PartialEq)]
pub struct Restarts {
    pub unit: String,
    pub active_state: String,
    pub sub_state: String,
    /// `NRestarts` and `ExecMainStatus`, where systemd reports them.
    pub n_restarts: Option<u32>,
    pub exec_main_status: Option<i32>,
    pub last_error: Option<String>,
}

impl Restarts {
    fn of(u: &UnitState, log: &Result<ServerLog, LogError>) -> Self {
        let last_error = log.as_ref().ok().and_then(|l| {
            l.lines
                .iter()
                .rev()
                .find(|x| {
                    x.contains("level=ERROR") || x.starts_with("Error:") || x.contains("panic:")
                })
                .cloned()
        });
        Restarts {
            unit: u.unit.clone(),
            active_state: u.active_state.clone(),
            sub_state: u.sub_state.clone(),
            n_restarts: u.n_restarts,
            exec_main_status: u.exec_main_status,
            last_error,
        }
    }

    fn restarts(&self) -> u32 {
        self.n_restarts.unwrap_or(0)
    }

    fn status(&self) -> i32 {
        self.exec_main_status.unwrap_or(0)
    }
}

/// What `diagnose.service_health` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    NoService(NoService),
    /// The container keeps exiting; `kept` (--keep): its log outlives the run.
    ContainerRestarting {
        id: String,
        kept: bool,
    },
    /// The container is not restarting: its status.
    Container {
        status: String,
    },
    /// A restart loop: auto-restart or activating now, or `loop_at` restarts.
    Loop(Restarts),
    /// Restarted, or its last run failed: it crashed at least once.
    Crashed(Restarts),
    /// Neither.
    Steady(Restarts),
}

/// `diagnose.service_health`: the unit does not restart over and over; restarts or a
/// failed last run warn, a restart loop (`loop_at` restarts, or activating /
/// auto-restart now) fails. The log's last error line is quoted.
pub fn service_health(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
    loop_at: u32,
) -> Outcome {
    service_health_finding(facts, log, loop_at).outcome()
}

pub fn service_health_finding(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
    loop_at: u32,
) -> Health {
    let u = match facts {
        Err(e) => return Health::NoService(NoService::Unread(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => {
            return Health::NoService(NoService::Unavailable(reason.clone()))
        }
        Ok(ServiceFacts::Container(c)) if c.status == "restarting" => {
            return Health::ContainerRestarting {
                id: c.id.clone(),
                kept: c.kept,
            }
        }
        Ok(ServiceFacts::Container(c)) => {
            return Health::Container {
                status: c.status.clone(),
            }
        }
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Health::NoService(NoService::NoUnit {
                unit: u.unit.clone(),
            })
        }
        Ok(ServiceFacts::Unit(u)) => u,
    };
    let restarts = Restarts::of(u, log);
    let looping = u.sub_state == "auto-restart" || u.active_state == "activating";
    if looping || restarts.restarts() >= loop_at {
        Health::Loop(restarts)
    } else if restarts.restarts() > 0 || restarts.status() != 0 {
        Health::Crashed(restarts)
    } else {
        Health::Steady(restarts)
    }
}

impl Health {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let value = |r: &Restarts| format!("{} restart(s), last exit {}", r.restarts(), r.status());
        let evidence = |r: &Restarts| {
            r.last_error
                .as_ref()
                .map(|x| format!(" The log's last error: {}.", quote(x)))
                .unwrap_or_default()
        };
        let next = |r: &Restarts| {
            format!(
                "Next: `systemctl status {0}` and `journalctl -u {0} -e` for why it exits",
                r.unit
            )
        };
        match self {
            Health::NoService(none) => none.outcome(),
            Health::ContainerRestarting { id, kept } => {
                // Its log, as this run can show it (it removes the container without --keep).
                let container = Advice::Docker {
                    id: id.clone(),
                    kept: *kept,
                };
                Outcome::fail(format!(
                    "the container {} is restarting: it keeps exiting. Next: {}",
                    crate::text::short_id(id),
                    container.see_log()
                ))
                .with_value("restarting")
            }
            Health::Container { status } => {
                Outcome::pass(format!("the container is {status}")).with_value(status.as_str())
            }
            Health::Loop(r) => Outcome::fail(format!(
                "{}.service is in a restart loop: ActiveState={} ({}), NRestarts={}, ExecMainStatus={}.{} {}",
                r.unit,
                r.active_state,
                r.sub_state,
                r.restarts(),
                r.status(),
                evidence(r),
                next(r)
            ))
            .with_value(value(r)),
            Health::Crashed(r) => Outcome::warn(format!(
                "{}.service has restarted {} time(s) and its main process last exited with {}: it crashed at least once.{} {}",
                r.unit,
                r.restarts(),
                r.status(),
                evidence(r),
                next(r)
            ))
            .with_value(value(r)),
            Health::Steady(r) => {
                let reported = |n: Option<String>| n.unwrap_or_else(|| "unreported".into());
                Outcome::pass(format!(
                    "{}.service has not restarted (NRestarts={}, ExecMainStatus={})",
                    r.unit,
                    reported(r.n_restarts.map(|n| n.to_string())),
                    reported(r.exec_main_status.map(|n| n.to_string()))
                ))
                .with_value(value(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    use crate::probe::service::parse_show;
    use rstest::rstest;

    #[rstest]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Pass
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Fail
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://127.0.0.1:11434",
        Status::Fail
    )]
    #[case("OLLAMA_HOST:http://0.0.0.0:11434", Status::Pass)]
    fn settings_are_compared_by_meaning(#[case] map: &str, #[case] status: Status) {
        let u = unit("LoadState=loaded\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m\n");
        let line = format!(
            "time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\""
        );
        let o = settings(&u, &log(&[&line]));
        assert_eq!(o.status, status, "{}", o.detail);
        // What differs is the unit's to apply.
        let found = settings_finding(&u, &log(&[&line]));
        assert!(
            matches!(
                &found,
                Settings::Compared { runner: Runner::Unit(unit), differ, .. }
                    if unit == "ollama" && differ.is_empty() == (status == Status::Pass)
            ),
            "{found:?}"
        );
    }

    /// An `EnvironmentFile=` setting is compared too (it wins over `Environment=`), and
    /// one that cannot be read is named as not compared.
    #[test]
    fn settings_from_environment_files_are_compared() {
        use crate::probe::service::EnvironmentFile;
        let mut u = parse_show(
            "ollama",
            "LoadState=loaded\nEnvironment=OLLAMA_KEEP_ALIVE=30m\n",
        );
        let set = |pairs: &[(&str, &str)]| {
            Ok(pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        };
        u.environment_files = vec![
            EnvironmentFile {
                path: "/etc/ollama.env".into(),
                optional: false,
                read: set(&[("OLLAMA_KEEP_ALIVE", "1h"), ("OLLAMA_FLASH_ATTENTION", "1")]),
                mode: Some(0o600),
            },
            EnvironmentFile {
                path: "/etc/root-only.env".into(),
                optional: false,
                read: Err("permission denied".into()),
                mode: None,
            },
        ];
        let facts = Ok(ServiceFacts::Unit(u));
        let line = |map: &str| {
            format!("time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\"")
        };
        let applied = log(&[&line(
            "OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:1h0m0s",
        )]);
        let compared = |found: Settings| match found {
            Settings::Compared {
                compared,
                differ,
                unreadable,
                ..
            } => (compared, differ, unreadable),
            other => panic!("{other:?}"),
        };
        let root_only = vec!["/etc/root-only.env".to_string()];
        assert_eq!(
            compared(settings_finding(&facts, &applied)),
            (2, vec![], root_only.clone())
        );
        assert_eq!(settings(&facts, &applied).status, Status::Pass);
        let stale = log(&[&line("OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:30m0s")]);
        let keep_alive = Differs {
            key: "OLLAMA_KEEP_ALIVE".into(),
            set: "1h".into(),
            logged: "30m0s".into(),
        };
        assert_eq!(
            compared(settings_finding(&facts, &stale)),
            (2, vec![keep_alive], root_only)
        );
        assert_eq!(settings(&facts, &stale).status, Status::Fail);
    }

    #[rstest]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=0\n",
        Status::Pass
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=1\nExecMainStatus=0\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=2\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=3\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case(
        "ActiveState=activating\nSubState=auto-restart\nNRestarts=1\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case("ActiveState=active\nSubState=running\n", Status::Pass)]
    fn restarts_warn_and_loops_fail(#[case] show: &str, #[case] status: Status) {
        let f = unit(&format!("LoadState=loaded\n{show}"));
        let error = "time=x level=ERROR source=server.go:1 msg=\"llama runner terminated\"";
        let o = service_health(&f, &log(&[error]), 3);
        assert_eq!(o.status, status, "{}", o.detail);
        // The log's last error is what the finding quotes.
        let (Health::Loop(r) | Health::Crashed(r) | Health::Steady(r)) =
            service_health_finding(&f, &log(&[error]), 3)
        else {
            panic!("a unit's health")
        };
        assert_eq!(r.last_error.as_deref(), Some(error));
    }

    /// A restarting container's log is gone once the run removes it: the next step
    /// says to keep it, unless it is kept.
    #[test]
    fn a_restarting_container_says_how_to_read_its_log() {
        use crate::probe::service::ContainerState;
        let facts = |kept| {
            Ok(ServiceFacts::Container(ContainerState {
                id: "0123456789abcdef".into(),
                running: true,
                status: "restarting".into(),
                health: None,
                restart_policy: "unless-stopped".into(),
                environment: vec![],
                kept,
            }))
        };
        let log = Ok(ServerLog::new("the container log", ""));
        for kept in [false, true] {
            assert_eq!(
                service_health_finding(&facts(kept), &log, 3),
                Health::ContainerRestarting {
                    id: "0123456789abcdef".into(),
                    kept
                }
            );
        }
        assert_eq!(service_health(&facts(false), &log, 3).status, Status::Fail);
    }

    /// Every finding of the two checks, as a person reads it.
    #[test]
    fn findings_read_so() {
        let none = [
            NoService::Unread(ProbeError::MissingTool {
                what: "the unit",
                host: "this machine".into(),
                tool: "systemctl",
                package: None,
            }),
            NoService::Unavailable("no systemd here".into()),
            NoService::NoUnit {
                unit: "ollama".into(),
            },
        ];
        let flash = Differs {
            key: "OLLAMA_FLASH_ATTENTION".into(),
            set: "1".into(),
            logged: "false".into(),
        };
        let compared = |runner, differ: Vec<Differs>, unreadable: &[&str]| Settings::Compared {
            runner,
            compared: 3,
            differ,
            unreadable: unreadable.iter().map(|s| s.to_string()).collect(),
            source: "journalctl -u ollama".into(),
        };
        let unit = || Runner::Unit("ollama".into());
        let settings = [
            Settings::NoLog(LogError::NoJournalctl {
                host: "this machine".into(),
            }),
            Settings::NoConfigLine {
                source: "journalctl -u ollama".into(),
            },
            compared(unit(), vec![], &[]),
            compared(Runner::Container, vec![], &[]),
            compared(unit(), vec![], &["/etc/root-only.env"]),
            compared(
                unit(),
                vec![
                    flash.clone(),
                    Differs {
                        key: "OLLAMA_KEEP_ALIVE".into(),
                        set: "1h".into(),
                        logged: "30m0s".into(),
                    },
                ],
                &["/etc/root-only.env"],
            ),
            compared(Runner::Container, vec![flash], &[]),
        ];
        let restarts = |active: &str, sub: &str, n, status, error: Option<&str>| Restarts {
            unit: "ollama".into(),
            active_state: active.into(),
            sub_state: sub.into(),
            n_restarts: n,
            exec_main_status: status,
            last_error: error.map(str::to_string),
        };
        let error = "time=x level=ERROR source=server.go:1 msg=\"llama runner terminated\"";
        let health = [
            Health::ContainerRestarting {
                id: "0123456789abcdef".into(),
                kept: false,
            },
            Health::ContainerRestarting {
                id: "0123456789abcdef".into(),
                kept: true,
            },
            Health::Container {
                status: "running".into(),
            },
            Health::Loop(restarts(
                "activating",
                "auto-restart",
                Some(1),
                Some(1),
                Some(error),
            )),
            Health::Loop(restarts("active", "running", Some(3), Some(1), None)),
            Health::Crashed(restarts("active", "running", Some(1), Some(0), Some(error))),
            Health::Crashed(restarts("active", "running", Some(0), Some(2), None)),
            Health::Steady(restarts("active", "running", Some(0), Some(0), None)),
            Health::Steady(restarts("active", "running", None, None, None)),
        ];
        let all: String = none
            .iter()
            .map(NoService::outcome)
            .chain(settings.iter().map(Settings::outcome))
            .chain(health.iter().map(Health::outcome))
            .map(|o| o.snapshot_line())
            .collect();
        insta::assert_snapshot!(all);
    }
}
