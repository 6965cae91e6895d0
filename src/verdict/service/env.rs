//! `service.host`, `service.flash_attention`: the unit's (or the container's)
//! environment, as Ollama reads it.

use super::subject::{configured_subject, Holder, MayBeSet, Unseen};
use crate::check::Outcome;
use crate::probe::logs::ollama_bool;
use crate::probe::service::ServiceFacts;
use crate::probe::ProbeError;

/// What `service.host` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Host {
    Unseen(Unseen),
    MayBeSet(MayBeSet),
    /// Unset (or set empty): Ollama's default, 127.0.0.1:11434, as expected.
    Default {
        holder: Holder,
    },
    /// Unset, where another address is expected.
    Unset {
        expected: String,
        holder: Holder,
    },
    /// Set with a port that is no port number: Ollama warns and listens on `listens`.
    BadPort {
        expected: String,
        actual: String,
        port: String,
        listens: String,
        holder: Holder,
    },
    /// It binds the expected address; `every_interface`: through the other unspecified
    /// address, the same dual-stack socket.
    Binds {
        actual: String,
        every_interface: bool,
    },
    /// It binds another address.
    Differs {
        expected: String,
        actual: String,
        holder: Holder,
    },
}

/// `service.host`: `OLLAMA_HOST` binds the expected address. Without a port in
/// `expected`, any port matches, save one that is no port number: Ollama binds its
/// default port then, with only a warning, which this check says instead.
pub fn host(facts: &Result<ServiceFacts, ProbeError>, expected: &str) -> Outcome {
    host_finding(facts, expected).outcome()
}

pub fn host_finding(facts: &Result<ServiceFacts, ProbeError>, expected: &str) -> Host {
    const KEY: &str = "OLLAMA_HOST";
    let s = match configured_subject(facts) {
        Ok(s) => s,
        Err(unseen) => return Host::Unseen(unseen),
    };
    if let Some(unknown) = s.may_be_set(KEY) {
        return Host::MayBeSet(unknown);
    }
    let holder = s.holder(KEY);
    let expected_owned = expected.to_string();
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
        .env(KEY)
        .filter(|v| !crate::go::env_value(v).trim().is_empty())
    else {
        // Unset, Ollama binds its default, as an empty value does.
        return if same(expected, "") {
            Host::Default { holder }
        } else {
            Host::Unset {
                expected: expected_owned,
                holder,
            }
        };
    };
    // Ollama takes a port it cannot read for its default, with only a warning.
    if let (Some(port), Ok(addr)) = (
        crate::client::invalid_port(actual),
        crate::client::bind_addr(actual),
    ) {
        return Host::BadPort {
            expected: expected_owned,
            actual: actual.to_string(),
            port,
            listens: addr.to_string(),
            holder,
        };
    }
    if same(expected, actual) {
        let every_interface =
            matches!((bind(expected), bind(actual)), (Some(e), Some(a)) if e.ip() != a.ip());
        Host::Binds {
            actual: actual.to_string(),
            every_interface,
        }
    } else {
        Host::Differs {
            expected: expected_owned,
            actual: actual.to_string(),
            holder,
        }
    }
}

impl Host {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        const KEY: &str = "OLLAMA_HOST";
        match self {
            Host::Unseen(unseen) => unseen.outcome(),
            Host::MayBeSet(unknown) => unknown.outcome(),
            Host::Default { holder } => Outcome::pass(format!(
                "{KEY} is not set in {} environment, so Ollama's default applies: it binds 127.0.0.1:11434, as expected",
                holder.whose()
            ))
            .with_value("unset (127.0.0.1:11434)"),
            Host::Unset { expected, holder } => Outcome::fail(format!(
                "expected {KEY}={expected} in {} environment, it is not set (Ollama then listens on 127.0.0.1:11434). {}{}",
                holder.whose(),
                holder.how_to_set(KEY, expected),
                holder.stale_note()
            )),
            Host::BadPort {
                expected,
                actual,
                port,
                listens,
                holder,
            } => {
                let why = format!(
                    "whose port `{port}` is no port number (0-65535), so Ollama logs \"invalid port, using default\" and listens on {listens}"
                );
                Outcome::fail(format!(
                    "expected {KEY} to bind {expected}; {} environment sets {actual}, {why}. {}{}",
                    holder.whose(),
                    holder.how_to_set(KEY, expected),
                    holder.stale_note()
                ))
                .with_value(actual.as_str())
            }
            Host::Binds {
                actual,
                every_interface,
            } => {
                let every = if *every_interface {
                    " (every interface, as expected: Go listens on both IPv4 and IPv6 for either unspecified address)"
                } else {
                    ""
                };
                Outcome::pass(format!("the API binds {actual}{every}")).with_value(actual.as_str())
            }
            Host::Differs {
                expected,
                actual,
                holder,
            } => Outcome::fail(format!(
                "expected {KEY} to bind {expected}, {} environment sets {actual}. {}{}",
                holder.whose(),
                holder.how_to_set(KEY, expected),
                holder.stale_note()
            ))
            .with_value(actual.as_str()),
        }
    }
}

/// A variable of the environment as seen.
#[derive(Debug, Clone, PartialEq)]
pub enum Assignment {
    /// Set: its value, a secret masked.
    Value(String),
    /// Set empty (`KEY=`, `KEY=""`: as written), which Ollama reads as not set.
    Empty(String),
    /// Not set.
    Unset,
}

/// What `env_equals` (`service.flash_attention`) found.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvEquals {
    Unseen(Unseen),
    MayBeSet(MayBeSet),
    /// Set as expected: its value, a secret masked.
    Same {
        key: String,
        value: String,
    },
    /// A boolean set otherwise (`true` for `1`), which Ollama reads as it does the
    /// expected value.
    ReadsSame {
        key: String,
        value: String,
        expected: String,
    },
    /// Not the expected value: `expected` as the spec gives it, and what is seen.
    Differs {
        key: String,
        expected: String,
        seen: Assignment,
        holder: Holder,
    },
}

/// A variable of the environment has the expected value
/// (`service.flash_attention`: `OLLAMA_FLASH_ATTENTION=1`).
pub fn env_equals(facts: &Result<ServiceFacts, ProbeError>, key: &str, expected: &str) -> Outcome {
    env_equals_finding(facts, key, expected).outcome()
}

pub fn env_equals_finding(
    facts: &Result<ServiceFacts, ProbeError>,
    key: &str,
    expected: &str,
) -> EnvEquals {
    let s = match configured_subject(facts) {
        Ok(s) => s,
        Err(unseen) => return EnvEquals::Unseen(unseen),
    };
    // A secret's value is compared, never shown.
    let shown = |v: &str| crate::secrets::mask_value(key, v).into_owned();
    // A boolean setting means what Ollama reads it as: `true` is `1`.
    let boolean = crate::probe::logs::BOOL_SETTINGS.contains(&key);
    let same = |v: &str| v == expected || boolean && ollama_bool(v) == ollama_bool(expected);
    if let Some(unknown) = s.may_be_set(key) {
        return EnvEquals::MayBeSet(unknown);
    }
    let key_owned = key.to_string();
    // `envconfig` reads an empty value (`KEY=`, `KEY=""`) as not set.
    let seen = match s.env(key) {
        Some(v) if crate::go::env_value(v).is_empty() && key.starts_with("OLLAMA_") => {
            Assignment::Empty(v.to_string())
        }
        Some(v) if v == expected => {
            return EnvEquals::Same {
                key: key_owned,
                value: shown(v),
            }
        }
        Some(v) if same(v) => {
            return EnvEquals::ReadsSame {
                key: key_owned,
                value: v.to_string(),
                expected: expected.to_string(),
            }
        }
        Some(v) => Assignment::Value(shown(v)),
        None => Assignment::Unset,
    };
    EnvEquals::Differs {
        key: key_owned,
        expected: expected.to_string(),
        seen,
        holder: s.holder(key),
    }
}

impl EnvEquals {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (key, expected, seen, holder) = match self {
            EnvEquals::Unseen(unseen) => return unseen.outcome(),
            EnvEquals::MayBeSet(unknown) => return unknown.outcome(),
            EnvEquals::Same { key, value } => {
                return Outcome::pass(format!("{key}={value}")).with_value(value.as_str())
            }
            EnvEquals::ReadsSame {
                key,
                value,
                expected,
            } => {
                return Outcome::pass(format!(
                    "{key}={value}, which Ollama reads as {}, as {expected} is",
                    ollama_bool(value)
                ))
                .with_value(value.as_str())
            }
            EnvEquals::Differs {
                key,
                expected,
                seen,
                holder,
            } => (key, expected, seen, holder),
        };
        let said = match seen {
            Assignment::Value(v) => format!("it is {v}"),
            Assignment::Empty(raw) => {
                format!("it is set empty (`{key}={raw}`), which Ollama reads as not set")
            }
            Assignment::Unset => "it is not set".to_string(),
        };
        let unset = !matches!(seen, Assignment::Value(_));
        Outcome::fail(format!(
            "expected {key}={} in {} environment, {said}. {}{}{}",
            crate::secrets::mask_value(key, expected),
            holder.whose(),
            holder.how_to_set(key, expected),
            unset_note(key, unset),
            holder.stale_note()
        ))
        .with_value(match seen {
            Assignment::Value(v) => v.clone(),
            Assignment::Empty(_) => "unset (empty)".to_string(),
            Assignment::Unset => "unset".to_string(),
        })
    }
}

/// What an unset setting means where the server has a default of its own worth knowing.
fn unset_note(key: &str, unset: bool) -> &'static str {
    match (key, unset) {
        ("OLLAMA_FLASH_ATTENTION", true) => " (Unset, Ollama 0.12.4 and later choose per model and GPU, and turn it on where both support it; the server log's `server config` line still prints OLLAMA_FLASH_ATTENTION:false then. Setting it forces it.)",
        _ => "",
    }
}
