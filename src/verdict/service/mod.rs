//! `service.active`, `service.enabled`, `service.override`, `service.host`,
//! `service.flash_attention`: the systemd unit and its environment, or, on the docker
//! target, the container that stands in its place (running, restart policy, health,
//! environment). Each verdict finds what the facts show (a typed finding), and one
//! renderer words it.

mod env;
mod subject;

pub use env::{env_equals, env_equals_finding, host, host_finding, Assignment, EnvEquals, Host};
pub use subject::{Holder, MayBeSet, Unseen};

use crate::check::Outcome;
use crate::probe::service::{ContainerState, ServiceFacts};
use crate::probe::ProbeError;
use crate::text::short_id as short;
use subject::{configured_subject, subject, Subject};

/// The unit's ActiveState and SubState, as `systemctl status` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub active: String,
    pub sub: String,
}

impl std::fmt::Display for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.active, self.sub)
    }
}

/// The container as `docker ps` shows it: its id, status and health.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: String,
    pub status: String,
    pub health: Option<String>,
}

impl Container {
    fn of(c: &ContainerState) -> Self {
        Container {
            id: c.id.clone(),
            status: c.status.clone(),
            health: c.health.clone(),
        }
    }

    fn value(&self) -> String {
        match &self.health {
            Some(h) => format!("{} ({h})", self.status),
            None => self.status.clone(),
        }
    }
}

/// What `service.active` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Active {
    Unseen(Unseen),
    /// systemd has no such unit: its LoadState.
    NotLoaded {
        unit: String,
        load_state: String,
    },
    /// The unit runs.
    Running {
        unit: String,
        state: Activity,
    },
    /// Masked, so systemd refuses to start it.
    Masked {
        unit: String,
        state: Activity,
        load_state: String,
        unit_file_state: String,
    },
    /// Not active, for another reason.
    Stopped {
        unit: String,
        state: Activity,
    },
    /// The container does not run; `kept` (--keep): its log outlives the run.
    ContainerStopped {
        container: Container,
        kept: bool,
    },
    /// It runs, but its healthcheck fails.
    ContainerUnhealthy(Container),
    /// It runs, and is not unhealthy.
    ContainerRunning(Container),
}

/// `service.active`: the unit runs (the container runs and is not unhealthy).
pub fn active(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    active_finding(facts).outcome()
}

pub fn active_finding(facts: &Result<ServiceFacts, ProbeError>) -> Active {
    let u = match subject(facts, false) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => {
            let container = Container::of(c);
            return if !c.running {
                Active::ContainerStopped {
                    container,
                    kept: c.kept,
                }
            } else if c.health.as_deref() == Some("unhealthy") {
                Active::ContainerUnhealthy(container)
            } else {
                Active::ContainerRunning(container)
            };
        }
        Err(unseen) => return Active::Unseen(unseen),
    };
    let unit = u.unit.clone();
    if !u.exists() {
        return Active::NotLoaded {
            unit,
            load_state: u.load_state.clone(),
        };
    }
    let state = Activity {
        active: u.active_state.clone(),
        sub: u.sub_state.clone(),
    };
    if u.active_state == "active" {
        Active::Running { unit, state }
    } else if u.masked() {
        Active::Masked {
            unit,
            state,
            load_state: u.load_state.clone(),
            unit_file_state: u.unit_file_state.clone(),
        }
    } else {
        Active::Stopped { unit, state }
    }
}

impl Active {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Active::Unseen(unseen) => unseen.outcome(),
            Active::NotLoaded { unit, load_state } => Outcome::fail(format!(
                "expected a loaded {unit}.service, systemd says LoadState={load_state}. Install Ollama with its official installer, which creates the unit"
            )),
            Active::Running { unit, state } => {
                Outcome::pass(format!("{unit}.service is active")).with_value(state.to_string())
            }
            Active::Masked {
                unit,
                state,
                load_state,
                unit_file_state,
            } => Outcome::fail(format!(
                "expected ActiveState=active, saw {state}: {unit}.service is masked (LoadState={load_state}, UnitFileState={unit_file_state}), linked to /dev/null, so systemd refuses to start it. Try `sudo systemctl unmask {unit}`, then `sudo systemctl start {unit}`"
            ))
            .with_value(state.to_string()),
            Active::Stopped { unit, state } => Outcome::fail(format!(
                "expected ActiveState=active, saw {state}. Try `sudo systemctl start {unit}`, then `journalctl -u {unit} -e` for why it stopped"
            ))
            .with_value(state.to_string()),
            Active::ContainerStopped { container, kept } => {
                let log = crate::target::Advice::Docker {
                    id: container.id.clone(),
                    kept: *kept,
                }
                .see_log();
                Outcome::fail(format!(
                    "expected the container {} running, it is {}. To see why, {log}",
                    short(&container.id),
                    container.status,
                ))
                .with_value(container.value())
            }
            Active::ContainerUnhealthy(container) => Outcome::fail(format!(
                "the container runs but its healthcheck fails; see `docker inspect --format '{{{{json .State.Health}}}}' {}`",
                short(&container.id)
            ))
            .with_value(container.value()),
            Active::ContainerRunning(container) => {
                Outcome::pass(format!("container {} is running", short(&container.id)))
                    .with_value(container.value())
            }
        }
    }
}

/// What `service.enabled` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Enabled {
    Unseen(Unseen),
    /// The container restarts with the Docker daemon: its restart policy.
    Restarts {
        policy: String,
    },
    /// It does not come back after a reboot: its restart policy.
    NoRestart {
        policy: String,
    },
    /// Masked: neither `enable` nor `start` acts on it.
    Masked {
        unit: String,
        unit_file_state: String,
        load_state: String,
    },
    /// It starts at boot (UnitFileState enabled or generated).
    AtBoot {
        unit: String,
        unit_file_state: String,
    },
    /// An alias of another unit, whose own UnitFileState (not read here) decides.
    Alias {
        unit: String,
    },
    /// It does not start at boot: its UnitFileState.
    NotAtBoot {
        unit: String,
        unit_file_state: String,
    },
}

/// `service.enabled`: the unit starts at boot (the container restarts with the daemon).
pub fn enabled(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    enabled_finding(facts).outcome()
}

pub fn enabled_finding(facts: &Result<ServiceFacts, ProbeError>) -> Enabled {
    let u = match subject(facts, true) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => {
            let policy = c.restart_policy.clone();
            return match policy.as_str() {
                "unless-stopped" | "always" => Enabled::Restarts { policy },
                _ => Enabled::NoRestart { policy },
            };
        }
        Err(unseen) => return Enabled::Unseen(unseen),
    };
    let unit = u.unit.clone();
    let unit_file_state = u.unit_file_state.clone();
    // Neither `enable` nor `start` acts on a masked unit.
    if u.masked() {
        return Enabled::Masked {
            unit,
            unit_file_state,
            load_state: u.load_state.clone(),
        };
    }
    // What each UnitFileState means for the next boot (systemctl(1), is-enabled).
    match unit_file_state.as_str() {
        "enabled" | "generated" => Enabled::AtBoot {
            unit,
            unit_file_state,
        },
        // The name is a symlink to another unit's file: that unit's state decides.
        "alias" => Enabled::Alias { unit },
        _ => Enabled::NotAtBoot {
            unit,
            unit_file_state,
        },
    }
}

impl Enabled {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Enabled::Unseen(unseen) => unseen.outcome(),
            Enabled::Restarts { policy } => {
                Outcome::pass("the container restarts with the Docker daemon")
                    .with_value(format!("restart: {policy}"))
            }
            Enabled::NoRestart { policy } => Outcome::fail(format!(
                "expected the restart policy unless-stopped, it is `{policy}`: the container will not come back after a reboot. Set `restart: unless-stopped` in setup/docker-compose.yml"
            ))
            .with_value(format!("restart: {policy}")),
            Enabled::Masked {
                unit,
                unit_file_state,
                load_state,
            } => {
                let until = match unit_file_state.as_str() {
                    "masked-runtime" => " under /run, until the next reboot",
                    _ => "",
                };
                let why = "linked to /dev/null, it starts neither at boot nor by hand, and `systemctl enable` refuses it";
                Outcome::fail(format!(
                    "expected the unit enabled, it is masked{until} (UnitFileState={unit_file_state}, LoadState={load_state}): {why}. Try `sudo systemctl unmask {unit}`, then `sudo systemctl enable --now {unit}`"
                ))
                .with_value(unit_file_state.as_str())
            }
            Enabled::AtBoot {
                unit,
                unit_file_state,
            } => Outcome::pass(format!("{unit}.service starts at boot"))
                .with_value(unit_file_state.as_str()),
            Enabled::Alias { unit } => Outcome::warn(format!(
                "expected the unit enabled, UnitFileState is alias: {unit}.service is an alias, another name for a unit whose own UnitFileState decides whether it starts at boot, and that is not read here. See which it is with `systemctl show -p Id {unit}`, then `systemctl is-enabled` on that name"
            ))
            .with_value("alias"),
            Enabled::NotAtBoot {
                unit,
                unit_file_state,
            } => {
                let why = match unit_file_state.as_str() {
                    "enabled-runtime" => "enabled-runtime: it is enabled under /run only, which is gone after a reboot",
                    "static" => "static: the unit file has no [Install] section, so it starts at boot only if another unit pulls it in; add `[Install]` with `WantedBy=multi-user.target`",
                    "indirect" => "indirect: it is enabled only through another unit's Also=",
                    "" => "empty",
                    other => other,
                };
                Outcome::fail(format!(
                    "expected the unit enabled, UnitFileState is {why}. Try `sudo systemctl enable {unit}`"
                ))
                .with_value(unit_file_state.as_str())
            }
        }
    }
}

/// What `service.override` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    Unseen(Unseen),
    /// The container has the compose file's healthcheck: its health.
    Healthcheck {
        health: String,
    },
    /// The container has no healthcheck.
    NoHealthcheck,
    /// The unit's drop-ins: its `own` (in a `<unit>.service.d` folder), those
    /// `ignored` (of every service, such as `service.d/`), and whether systemd has yet
    /// to load changed files (NeedDaemonReload).
    DropIns {
        unit: String,
        own: Vec<String>,
        ignored: Vec<String>,
        need_daemon_reload: bool,
    },
}

/// The folder of a unit's own drop-ins.
fn own_dir(unit: &str) -> String {
    format!("{}.service.d", unit.trim_end_matches(".service"))
}

/// `service.override`: a drop-in configures the unit (the container has a healthcheck,
/// the part of its configuration compose adds).
pub fn r#override(facts: &Result<ServiceFacts, ProbeError>) -> Outcome {
    override_finding(facts).outcome()
}

pub fn override_finding(facts: &Result<ServiceFacts, ProbeError>) -> Override {
    let u = match configured_subject(facts) {
        Ok(Subject::Unit(u)) => u,
        Ok(Subject::Container(c)) => {
            return match &c.health {
                Some(h) => Override::Healthcheck { health: h.clone() },
                None => Override::NoHealthcheck,
            }
        }
        Err(unseen) => return Override::Unseen(unseen),
    };
    // Drop-ins of every service (`service.d/`, such as Fedora's
    // /usr/lib/systemd/system/service.d/10-timeout-abort.conf) configure nothing of
    // Ollama's: only those in a `<unit>.service.d` folder count.
    let own_dir = own_dir(&u.unit);
    let (own, ignored): (Vec<String>, Vec<String>) =
        u.drop_in_paths.iter().cloned().partition(|p| {
            std::path::Path::new(p.as_str())
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|d| d == own_dir.as_str())
        });
    Override::DropIns {
        unit: u.unit.clone(),
        own,
        ignored,
        need_daemon_reload: u.need_daemon_reload,
    }
}

impl Override {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (unit, own, ignored, need_daemon_reload) = match self {
            Override::Unseen(unseen) => return unseen.outcome(),
            Override::Healthcheck { health } => {
                return Outcome::pass("the container has the compose file's healthcheck")
                    .with_value(format!("health: {health}"))
            }
            Override::NoHealthcheck => {
                return Outcome::fail(
                    "expected the container to carry a healthcheck (setup/docker-compose.yml has one: `ollama list`), it has none",
                )
            }
            Override::DropIns {
                unit,
                own,
                ignored,
                need_daemon_reload,
            } => (unit, own, ignored, *need_daemon_reload),
        };
        let ignored_note = if ignored.is_empty() {
            String::new()
        } else {
            format!(
                " ({} ignored, not in a {} folder, so not {unit}'s own: {})",
                ignored.len(),
                own_dir(unit),
                ignored.join(" ")
            )
        };
        let reload = need_daemon_reload.then(|| format!(
            "the unit's files changed on disk since systemd loaded them (NeedDaemonReload=yes): what it shows, and what runs, is the older configuration. Run `sudo systemctl daemon-reload && sudo systemctl restart {unit}`"
        ));
        if own.is_empty() {
            let install = format!(
                "Install setup/'s with `sudo systemctl edit {unit}` or setup/setup-native.sh"
            );
            return Outcome::fail(format!(
                "expected a drop-in such as /etc/systemd/system/{unit}.service.d/override.conf, found none{ignored_note}. {install}{}",
                reload.map_or(String::new(), |r| format!("; also, {r}"))
            ))
            .with_value(if ignored.is_empty() {
                "none".to_string()
            } else {
                format!("none ({} ignored)", ignored.len())
            });
        }
        match reload {
            Some(reload) => Outcome::warn(format!(
                "{} drop-in(s) ({}){ignored_note}, but {reload}",
                own.len(),
                own.join(" ")
            )),
            None => Outcome::pass(format!("{} drop-in(s){ignored_note}", own.len())),
        }
        .with_value(own.join(" "))
    }
}

#[cfg(test)]
mod tests;
