//! What the service checks look at: the unit or the container, or why there is none
//! ([`Unseen`]); and what the advice on a setting names ([`Holder`], [`MayBeSet`]).

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::service::{ContainerState, EnvironmentFile, ServiceFacts, UnitState};
use crate::probe::ProbeError;

/// Why a check has no unit or container to look at.
#[derive(Debug, Clone, PartialEq)]
pub enum Unseen {
    /// The probe failed: its error.
    Unprobed(ProbeError),
    /// Neither a unit nor a container can be read here: the reason.
    Unavailable(String),
    /// systemd has no such unit (service.active says so, once).
    NoUnit { unit: String },
    /// The unit is masked: linked to /dev/null, it has no settings to read.
    Masked { unit: String },
}

impl Unseen {
    /// The finding in words, with its status.
    pub fn outcome(&self) -> Outcome {
        let see = CheckId::ServiceActive;
        match self {
            Unseen::Unprobed(e) => Outcome::fail(e.to_string()),
            Unseen::Unavailable(reason) => Outcome::skip(reason.clone()),
            Unseen::NoUnit { unit } => {
                Outcome::skip(format!("there is no {unit}.service (see {see})"))
            }
            Unseen::Masked { unit } => Outcome::skip(format!(
                "{unit}.service is masked, so it has no settings to read (see {see}): unmask it first (`sudo systemctl unmask {unit}`)"
            )),
        }
    }
}

/// What holds a setting, as the advice on changing it names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Holder {
    /// The unit. `env_file`: the environment file that sets the key, over
    /// `Environment=`; `need_daemon_reload`: its files changed since systemd loaded them.
    Unit {
        unit: String,
        env_file: Option<String>,
        need_daemon_reload: bool,
    },
    /// The docker target's container.
    Container,
}

impl Holder {
    pub(super) fn whose(&self) -> &'static str {
        match self {
            Holder::Unit { .. } => "the unit's",
            Holder::Container => "the container's",
        }
    }

    /// Where a setting is changed, and what makes the change take effect.
    pub(super) fn how_to_set(&self, key: &str, value: &str) -> String {
        match self {
            // A drop-in's `Environment=` would not win over the file.
            Holder::Unit {
                unit,
                env_file: Some(file),
                ..
            } => format!(
                "{key} is set in {file}, which overrides `Environment=`: write `{key}={value}` there, then `sudo systemctl restart {unit}`"
            ),
            Holder::Unit { unit, .. } => format!(
                "Set `Environment=\"{key}={value}\"` in a drop-in, then `sudo systemctl daemon-reload && sudo systemctl restart {unit}`"
            ),
            Holder::Container => format!(
                "Set `{key}: \"{value}\"` under environment in setup/docker-compose.yml; a container takes it when created again"
            ),
        }
    }

    /// What a verdict on the environment adds when the unit's files changed since
    /// systemd loaded them.
    pub(super) fn stale_note(&self) -> String {
        match self {
            Holder::Unit {
                unit,
                need_daemon_reload: true,
                ..
            } => format!(
                " (systemd has not loaded the unit's latest files, NeedDaemonReload=yes: `sudo systemctl daemon-reload && sudo systemctl restart {unit}` applies them; see {see})",
                see = CheckId::ServiceOverride
            ),
            _ => String::new(),
        }
    }
}

/// What the checks look at.
pub(super) enum Subject<'a> {
    Unit(&'a UnitState),
    Container(&'a ContainerState),
}

impl Subject<'_> {
    pub(super) fn env(&self, key: &str) -> Option<&str> {
        match self {
            Subject::Unit(u) => u.env(key),
            Subject::Container(c) => c.env(key),
        }
    }

    /// Where `key` is set, as the advice names it.
    pub(super) fn holder(&self, key: &str) -> Holder {
        match self {
            Subject::Unit(u) => Holder::Unit {
                unit: u.unit.clone(),
                env_file: u.env_file_of(key).map(str::to_string),
                need_daemon_reload: u.need_daemon_reload,
            },
            Subject::Container(_) => Holder::Container,
        }
    }

    /// What is known of `key` where environment files this user cannot read may set
    /// it over [`Subject::env`]'s value (a container has none).
    pub(super) fn may_be_set(&self, key: &str) -> Option<MayBeSet> {
        match self {
            Subject::Unit(u) => MayBeSet::of(key, u),
            Subject::Container(_) => None,
        }
    }
}

/// The unit or container, or why the check cannot look at it.
pub(super) fn subject(
    facts: &Result<ServiceFacts, ProbeError>,
    needs_existing: bool,
) -> Result<Subject<'_>, Unseen> {
    match facts {
        Err(e) => Err(Unseen::Unprobed(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Unseen::Unavailable(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if needs_existing && !u.exists() => Err(Unseen::NoUnit {
            unit: u.unit.clone(),
        }),
        Ok(ServiceFacts::Unit(u)) => Ok(Subject::Unit(u)),
        Ok(ServiceFacts::Container(c)) => Ok(Subject::Container(c)),
    }
}

/// The subject of a check that reads the unit's configuration: a masked unit is linked
/// to /dev/null, so it has none to read (its own check, service.active, says so).
pub(super) fn configured_subject(
    facts: &Result<ServiceFacts, ProbeError>,
) -> Result<Subject<'_>, Unseen> {
    match subject(facts, true)? {
        Subject::Unit(u) if u.masked() => Err(Unseen::Masked {
            unit: u.unit.clone(),
        }),
        s => Ok(s),
    }
}

/// A setting that an environment file this user cannot read may set: neither "unset"
/// nor the value seen is certain.
#[derive(Debug, Clone, PartialEq)]
pub struct MayBeSet {
    pub key: String,
    /// The files not read: each path, and why.
    pub unread: Vec<(String, String)>,
    /// The unit's value apart from them, a secret masked.
    pub seen: Option<String>,
}

impl MayBeSet {
    /// What is known of `key` in the unit's environment, where a file it could not
    /// read may set it; `None` where its value is certain.
    pub(crate) fn of(key: &str, unit: &UnitState) -> Option<MayBeSet> {
        let unknown: Vec<&EnvironmentFile> = unit.env_unknown(key);
        if unknown.is_empty() {
            return None;
        }
        Some(MayBeSet {
            key: key.to_string(),
            unread: unknown
                .iter()
                .map(|f| {
                    let why = f.read.as_ref().err().map_or("", String::as_str);
                    (f.path.clone(), why.to_string())
                })
                .collect(),
            seen: unit
                .env(key)
                .map(|v| crate::secrets::mask_value(key, v).into_owned()),
        })
    }

    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let key = &self.key;
        let seen = match &self.seen {
            Some(v) => format!("sets {key}={v}"),
            None => "does not set it".to_string(),
        };
        let files: Vec<String> = self
            .unread
            .iter()
            .map(|(path, why)| format!("{path} ({why})"))
            .collect();
        let paths: Vec<&str> = self.unread.iter().map(|(path, _)| path.as_str()).collect();
        Outcome::warn(format!(
            "{key} may be set in {}, which could not be read here, and systemd lets it override the unit's `Environment=`; apart from it, the unit's environment {seen}. See with `sudo cat {}`, or run the checks with sudo",
            files.join(", "),
            paths.join(" ")
        ))
        .with_value("unknown")
    }
}
