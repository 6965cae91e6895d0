//! `security.exposure`, `security.remote_reachable`, `security.masking`: the API has no
//! authentication, so who can reach it is the whole of its security. Each verdict finds
//! what the facts show (a typed finding), and one renderer words it.

mod origins;

pub use origins::RefusedOrigin;

use super::service::MayBeSet;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::network::AddressProbe;
use crate::probe::service::{ServiceFacts, UnitState};
use crate::probe::ProbeError;
use crate::secrets::name_matches;
use origins::{every_origin, origin_entries, refused_origin};

const RESTART: &str = "then `sudo systemctl daemon-reload && sudo systemctl restart ollama`";

/// Why the unit's environment cannot be judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Unjudged {
    /// The unit could not be read: the probe's error.
    Unread(ProbeError),
    /// Neither systemd nor a unit here: the reason.
    Unavailable(String),
    /// systemd has no such unit.
    NoUnit { unit: String },
    /// Linked to /dev/null: no environment to judge, and whatever answers on the port
    /// was not started by it (diagnose.port_owner says what does).
    Masked { unit: String },
    /// Something else stands in for the unit (a container).
    NotAUnit,
}

impl Unjudged {
    /// The finding in words, with its status.
    pub fn outcome(&self) -> Outcome {
        let see = CheckId::ServiceActive;
        match self {
            Unjudged::Unread(e) => {
                Outcome::skip(format!("the unit could not be read (see {see}): {e}"))
            }
            Unjudged::Unavailable(reason) => Outcome::skip(reason.clone()),
            Unjudged::NoUnit { unit } => {
                Outcome::skip(format!("there is no {unit}.service (see {see})"))
            }
            Unjudged::Masked { unit } => Outcome::skip(format!(
                "{unit}.service is masked, so it has no environment to read (see {see}): unmask it first (`sudo systemctl unmask {unit}`)"
            )),
            Unjudged::NotAUnit => Outcome::skip(
                "there is no systemd unit here whose OLLAMA_HOST and OLLAMA_ORIGINS could be read",
            ),
        }
    }
}

/// The unit, or why its environment cannot be judged.
fn unit(facts: &Result<ServiceFacts, ProbeError>) -> Result<&UnitState, Unjudged> {
    match facts {
        Err(e) => Err(Unjudged::Unread(e.clone())),
        Ok(ServiceFacts::Unavailable(reason)) => Err(Unjudged::Unavailable(reason.clone())),
        Ok(ServiceFacts::Unit(u)) if !u.exists() => Err(Unjudged::NoUnit {
            unit: u.unit.clone(),
        }),
        Ok(ServiceFacts::Unit(u)) if u.masked() => Err(Unjudged::Masked {
            unit: u.unit.clone(),
        }),
        Ok(ServiceFacts::Unit(u)) => Ok(u),
        #[allow(unreachable_patterns)] // other stand-ins for the unit (a container)
        Ok(_) => Err(Unjudged::NotAUnit),
    }
}

/// Whether an `OLLAMA_HOST` value makes the server listen beyond loopback: all
/// interfaces, a network address, or a host name other than localhost.
pub fn binds_beyond_loopback(ollama_host: &str) -> bool {
    crate::client::bind_addr(ollama_host).map_or(true, |a| !a.ip().is_loopback())
}

/// How the API is reachable from the network.
#[derive(Debug, Clone, PartialEq)]
pub enum Network {
    /// `OLLAMA_HOST` binds beyond loopback: its value.
    Binds(String),
    /// The server was seen answering at these non-loopback URLs.
    Answers(Vec<String>),
}

/// What `security.exposure` found. `host` is `OLLAMA_HOST` where set (`None`: Ollama's
/// loopback default), `origins` the value of `OLLAMA_ORIGINS` as written, `wide` its
/// entries that let every origin call the API, and `in_file` each of the two set in an
/// environment file (key, path), where a drop-in would not win.
#[derive(Debug, Clone, PartialEq)]
pub enum Exposure {
    Unjudged(Unjudged),
    MayBeSet(MayBeSet),
    /// OLLAMA_ORIGINS keeps Ollama from starting.
    Refused {
        origins: String,
        refused: RefusedOrigin,
        in_file: Vec<(String, String)>,
    },
    /// Reachable from the network and open to every origin.
    Open {
        network: Network,
        host: Option<String>,
        origins: String,
        wide: Vec<String>,
        in_file: Vec<(String, String)>,
    },
    /// Reachable from the network; the origins are narrow.
    Network {
        network: Network,
        host: Option<String>,
        origins: String,
    },
    /// Loopback only, but open to every origin: pages in this machine's browser.
    LoopbackOpen {
        host: Option<String>,
        origins: String,
        wide: Vec<String>,
    },
    /// Loopback only.
    Loopback {
        host: Option<String>,
    },
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
    exposure_finding(facts, any_origin, answered_at).outcome()
}

pub fn exposure_finding(
    facts: &Result<ServiceFacts, ProbeError>,
    any_origin: &str,
    answered_at: &[AddressProbe],
) -> Exposure {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(unjudged) => return Exposure::Unjudged(unjudged),
    };
    for key in ["OLLAMA_HOST", "OLLAMA_ORIGINS"] {
        if let Some(unknown) = MayBeSet::of(key, u) {
            return Exposure::MayBeSet(unknown);
        }
    }
    // Where a drop-in's `Environment=` would not win.
    let in_file: Vec<(String, String)> = ["OLLAMA_HOST", "OLLAMA_ORIGINS"]
        .iter()
        .filter_map(|k| u.env_file_of(k).map(|f| (k.to_string(), f.to_string())))
        .collect();
    let host = u
        .env("OLLAMA_HOST")
        .filter(|h| !crate::go::env_value(h).trim().is_empty());
    let origins = u.env("OLLAMA_ORIGINS").unwrap_or_default();
    let entries = origin_entries(origins);
    if let Some(refused) = refused_origin(&entries) {
        return Exposure::Refused {
            origins: origins.to_string(),
            refused,
            in_file,
        };
    }
    let wide: Vec<String> = entries
        .iter()
        .filter(|e| every_origin(e, any_origin))
        .map(|e| e.to_string())
        .collect();
    let answering: Vec<String> = answered_at
        .iter()
        .filter(|p| p.answered)
        .map(|p| p.url.clone())
        .collect();
    let network = match host {
        Some(h) if binds_beyond_loopback(h) => Some(Network::Binds(h.to_string())),
        _ if !answering.is_empty() => Some(Network::Answers(answering)),
        _ => None,
    };
    let (host, origins) = (host.map(str::to_string), origins.to_string());
    match network {
        Some(network) if !wide.is_empty() => Exposure::Open {
            network,
            host,
            origins,
            wide,
            in_file,
        },
        Some(network) => Exposure::Network {
            network,
            host,
            origins,
        },
        None if !wide.is_empty() => Exposure::LoopbackOpen {
            host,
            origins,
            wide,
        },
        None => Exposure::Loopback { host },
    }
}

impl Exposure {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let bind = |host: &Option<String>| {
            host.clone()
                .unwrap_or_else(|| "127.0.0.1:11434 (OLLAMA_HOST unset)".to_string())
        };
        let in_file = |in_file: &[(String, String)]| -> String {
            in_file
                .iter()
                .map(|(k, f)| {
                    format!(" ({k} is set in {f}, which overrides `Environment=`: change it there)")
                })
                .collect()
        };
        // Which entry opens it, where it is not the whole value.
        let by = |wide: &[String], origins: &str| {
            if wide == [origins] {
                String::new()
            } else {
                let wide: Vec<String> = wide.iter().map(|e| format!("`{e}`")).collect();
                format!(" (by {})", wide.join(", "))
            }
        };
        let network = |network: &Network| match network {
            Network::Binds(h) => format!("OLLAMA_HOST={h} binds beyond loopback"),
            Network::Answers(urls) => format!("the API answers at {}", urls.join(", ")),
        };
        match self {
            Exposure::Unjudged(unjudged) => unjudged.outcome(),
            Exposure::MayBeSet(unknown) => unknown.outcome(),
            Exposure::Refused {
                origins,
                refused,
                in_file: file,
            } => {
                let fix = "Ollama splits the value on `,` and keeps each entry as written: give each origin with its scheme, without spaces (`Environment=\"OLLAMA_ORIGINS=http://localhost:3000,https://app.example\"`) in the drop-in";
                Outcome::fail(format!(
                    "expected OLLAMA_ORIGINS to be origins Ollama accepts; OLLAMA_ORIGINS={origins} holds {}, so the server does not start. {fix}, {RESTART}{}",
                    refused.why(),
                    in_file(file)
                ))
                .with_value(format!("origins {origins}: Ollama does not start"))
            }
            Exposure::Open {
                network: seen,
                host,
                origins,
                wide,
                in_file: file,
            } => {
                let harm = "any web page the user visits (and anyone on the network) can call the model server, which has no authentication: run prompts, pull, copy or delete models";
                let fix = "Narrow one of the two: bind loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` if no other machine needs the API, or set OLLAMA_ORIGINS to the origins that need it (`Environment=\"OLLAMA_ORIGINS=http://localhost:3000\"`) in the drop-in";
                Outcome::fail(format!(
                    "{} and OLLAMA_ORIGINS={origins} lets every origin call it{}: {harm}. {fix}, {RESTART}{}",
                    network(seen),
                    by(wide, origins),
                    in_file(file)
                ))
                .with_value(format!("{}, origins {origins}", bind(host)))
            }
            Exposure::Network {
                network: seen,
                host,
                origins,
            } => {
                let narrow = "OLLAMA_ORIGINS does not let every origin call it, so the server refuses the requests web pages of other origins send";
                let rebinding = "That is no guard against the network, nor against DNS rebinding: bound beyond loopback, Ollama skips its check of the Host header, so a page whose name is made to resolve to this machine calls the API as its own origin";
                let origins = if origins.is_empty() { "default" } else { origins };
                Outcome::pass(format!(
                    "{}; {narrow}. {rebinding}. Bind loopback (`Environment=\"OLLAMA_HOST=127.0.0.1:11434\"`) if no other machine needs it",
                    network(seen)
                ))
                .with_value(format!("{}, origins {origins}", bind(host)))
            }
            Exposure::LoopbackOpen {
                host,
                origins,
                wide,
            } => Outcome::pass(format!(
                "the API binds loopback only ({}); OLLAMA_ORIGINS={origins} still lets pages in this machine's browser call it{}",
                bind(host),
                by(wide, origins)
            ))
            .with_value(format!("{}, origins {origins}", bind(host))),
            Exposure::Loopback { host } => {
                Outcome::pass(format!("the API binds loopback only ({})", bind(host)))
                    .with_value(bind(host))
            }
        }
    }
}

/// What `security.remote_reachable` found.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteReachable {
    /// The addresses cannot be asked here: why.
    Unasked(ProbeError),
    /// This host has no non-loopback address.
    NoAddress,
    /// No answer at any of these URLs.
    Quiet { urls: Vec<String> },
    /// It answers at `answered` of `asked` addresses, and the spec allows the network.
    Allowed {
        answered: Vec<AddressProbe>,
        asked: usize,
    },
    /// It answers at `answered` of `asked` addresses, where the spec says loopback only.
    Reachable {
        answered: Vec<AddressProbe>,
        asked: usize,
    },
}

/// `security.remote_reachable`: with `loopback_only`, the API answers on none of this
/// host's non-loopback addresses. `probes` is `Err` when they cannot be asked here.
pub fn remote_reachable(
    loopback_only: bool,
    probes: &Result<Vec<AddressProbe>, ProbeError>,
) -> Outcome {
    remote_reachable_finding(loopback_only, probes).outcome()
}

pub fn remote_reachable_finding(
    loopback_only: bool,
    probes: &Result<Vec<AddressProbe>, ProbeError>,
) -> RemoteReachable {
    let probes = match probes {
        Err(reason) => return RemoteReachable::Unasked(reason.clone()),
        Ok(p) if p.is_empty() => return RemoteReachable::NoAddress,
        Ok(p) => p,
    };
    let answered: Vec<AddressProbe> = probes.iter().filter(|p| p.answered).cloned().collect();
    let asked = probes.len();
    if answered.is_empty() {
        RemoteReachable::Quiet {
            urls: probes.iter().map(|p| p.url.clone()).collect(),
        }
    } else if loopback_only {
        RemoteReachable::Reachable { answered, asked }
    } else {
        RemoteReachable::Allowed { answered, asked }
    }
}

impl RemoteReachable {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let seen = |answered: &[AddressProbe]| {
            let seen: Vec<String> = answered
                .iter()
                .map(|p| format!("{} ({})", p.url, p.seen))
                .collect();
            seen.join(", ")
        };
        let value = |answered: &[AddressProbe], asked: &usize| {
            format!("answers on {} of {asked} address(es)", answered.len())
        };
        match self {
            RemoteReachable::Unasked(reason) => Outcome::skip(reason.to_string()),
            RemoteReachable::NoAddress => {
                Outcome::pass("this host has no non-loopback IPv4 or IPv6 address to answer on")
                    .with_value("loopback only")
            }
            RemoteReachable::Quiet { urls } => {
                Outcome::pass(format!("no answer at {}", urls.join(", ")))
                    .with_value("loopback only")
            }
            RemoteReachable::Allowed { answered, asked } => Outcome::pass(format!(
                "the API answers at {}; the spec allows the network",
                seen(answered)
            ))
            .with_value(value(answered, asked)),
            RemoteReachable::Reachable { answered, asked } => {
                let harm = "anyone who can reach this machine can use it, without authentication";
                let fix = format!("Bind it to loopback with `Environment=\"OLLAMA_HOST=127.0.0.1:11434\"` in the drop-in, {RESTART}");
                let firewall = "A firewall rule does not show here: these requests leave from this machine, and its traffic to its own addresses goes through loopback, which firewalls let pass; ask from another machine (`curl http://<address>:11434/`) to see what the firewall lets through";
                Outcome::fail(format!(
                    "expected the API to answer on loopback only, but it answers at {}: {harm}. {fix}. {firewall}",
                    seen(answered)
                ))
                .with_value(value(answered, asked))
            }
        }
    }
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

/// An environment file every local user can read, and the secrets it sets (masked).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadableFile {
    pub path: String,
    pub mode: u32,
    pub secrets: Vec<String>,
}

/// What `security.masking` found. Secrets are held masked, as a report may show them.
#[derive(Debug, Clone, PartialEq)]
pub enum Masking {
    Unjudged(Unjudged),
    /// None: the `patterns` looked for, and the environment files not read (path, why).
    Clean {
        patterns: Vec<String>,
        unread: Vec<(String, String)>,
    },
    /// Secrets every local user can read: in the unit's environment, and in files.
    Exposed {
        unit: String,
        in_unit: Vec<String>,
        in_files: Vec<ReadableFile>,
    },
}

/// `security.masking`: the unit's environment holds no variable whose name matches one
/// of `patterns` (`*_TOKEN`) or whose value is a URL with a password
/// (`HTTPS_PROXY=http://user:pass@proxy:3128`): `systemctl show` prints it to every
/// local user. Neither may an environment file every local user can read. The values
/// are never shown.
pub fn masking(facts: &Result<ServiceFacts, ProbeError>, patterns: &[String]) -> Outcome {
    masking_finding(facts, patterns).outcome()
}

pub fn masking_finding(facts: &Result<ServiceFacts, ProbeError>, patterns: &[String]) -> Masking {
    let u = match unit(facts) {
        Ok(u) => u,
        Err(unjudged) => return Masking::Unjudged(unjudged),
    };
    let in_unit = secrets(&u.environment, patterns);
    let in_files: Vec<ReadableFile> = u
        .environment_files
        .iter()
        .filter(|f| f.world_readable())
        .filter_map(|f| {
            let secrets = secrets(f.read.as_deref().unwrap_or_default(), patterns);
            (!secrets.is_empty()).then(|| ReadableFile {
                path: f.path.clone(),
                mode: f.mode.unwrap_or_default(),
                secrets,
            })
        })
        .collect();
    if in_unit.is_empty() && in_files.is_empty() {
        return Masking::Clean {
            patterns: patterns.to_vec(),
            unread: u
                .environment_files
                .iter()
                .filter_map(|f| {
                    let why = f.read.as_ref().err()?;
                    Some((f.path.clone(), why.clone()))
                })
                .collect(),
        };
    }
    Masking::Exposed {
        unit: u.unit.clone(),
        in_unit,
        in_files,
    }
}

impl Masking {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (unit, in_unit, in_files) = match self {
            Masking::Unjudged(unjudged) => return unjudged.outcome(),
            Masking::Clean { patterns, unread } => {
                let unread = if unread.is_empty() {
                    String::new()
                } else {
                    let files: Vec<String> = unread
                        .iter()
                        .map(|(p, why)| format!("{p} ({why})"))
                        .collect();
                    format!("; not read here: {}", files.join(", "))
                };
                return Outcome::pass(format!(
                    "no variable named like a secret ({}) or holding a URL with a password in the unit's environment{unread}",
                    patterns.join(", ")
                ))
                .with_value("none");
            }
            Masking::Exposed {
                unit,
                in_unit,
                in_files,
            } => (unit, in_unit, in_files),
        };
        let mut problems = Vec::new();
        if !in_unit.is_empty() {
            problems.push(format!(
                "the unit's environment sets {}, readable by every local user with `systemctl show {unit}`",
                in_unit.join(", ")
            ));
        }
        for f in in_files {
            problems.push(format!(
                "{} (mode {:o}, readable by every local user) sets {}",
                f.path,
                f.mode,
                f.secrets.join(", ")
            ));
        }
        let chmod = if in_files.is_empty() {
            String::new()
        } else {
            let paths: Vec<&str> = in_files.iter().map(|f| f.path.as_str()).collect();
            format!(
                "; or make the file root's alone: `sudo chmod 0600 {}`",
                paths.join(" ")
            )
        };
        let count = in_unit.len() + in_files.iter().map(|f| f.secrets.len()).sum::<usize>();
        let fix = "Move secrets to an `EnvironmentFile=` readable by root only (mode 0600) or to systemd credentials (`LoadCredential=`)";
        Outcome::fail(format!("{}. {fix}, {RESTART}{chmod}", problems.join("; ")))
            .with_value(format!("{count} secret-looking variable(s)"))
    }
}

#[cfg(test)]
mod tests;
