//! `diagnose.port_owner`: an Ollama server owns the API's port. The verdict finds what
//! /proc shows (a typed finding), and one renderer words it.

use crate::check::Outcome;
use crate::probe::procfs::{PortOwners, ProcessInfo};
use crate::probe::ProbeError;

/// What `diagnose.port_owner` found on `port`.
#[derive(Debug, Clone, PartialEq)]
pub enum PortOwner {
    /// /proc could not be read: why.
    Unread(ProbeError),
    /// Nothing listens on it here, and the API does not answer: why.
    NothingHere { port: u16, unreachable: String },
    /// Nothing listens on it here, yet the API answered: the server is elsewhere.
    Elsewhere { port: u16 },
    /// A socket of the service's user, whose process cannot be read without root.
    ServiceUser { port: u16, users: Vec<String> },
    /// A socket of another user, whose process cannot be read without root.
    UnknownUser { port: u16, users: Vec<String> },
    /// Published by Docker: the processes holding it, docker-proxy among them.
    Docker {
        port: u16,
        holders: Vec<ProcessInfo>,
    },
    /// Held by other programs than Ollama.
    Stranger {
        port: u16,
        holders: Vec<ProcessInfo>,
    },
    /// Several Ollama servers on this host; `owner` answers on the port.
    Servers {
        port: u16,
        servers: Vec<ProcessInfo>,
        owner: ProcessInfo,
    },
    /// An Ollama server holds it.
    Ollama { port: u16, owner: ProcessInfo },
}

/// `diagnose.port_owner`: an Ollama server owns the API's port; another program there
/// fails, two Ollama servers on this host warn.
pub fn port_owner(owners: &Result<PortOwners, ProbeError>, unreachable: Option<&str>) -> Outcome {
    port_owner_finding(owners, unreachable).outcome()
}

pub fn port_owner_finding(
    owners: &Result<PortOwners, ProbeError>,
    unreachable: Option<&str>,
) -> PortOwner {
    let o = match owners {
        Err(reason) => return PortOwner::Unread(reason.clone()),
        Ok(o) => o,
    };
    let port = o.port;
    if o.listeners.is_empty() {
        return match unreachable {
            Some(reason) => PortOwner::NothingHere {
                port,
                unreachable: reason.to_string(),
            },
            None => PortOwner::Elsewhere { port },
        };
    }
    if o.owners.is_empty() {
        let users: Vec<String> = o
            .listeners
            .iter()
            .map(|l| {
                o.users
                    .get(&l.uid)
                    .cloned()
                    .unwrap_or(format!("uid {}", l.uid))
            })
            .collect();
        return if users.iter().any(|u| u.contains("ollama")) {
            PortOwner::ServiceUser { port, users }
        } else {
            PortOwner::UnknownUser { port, users }
        };
    }
    let holders: Vec<ProcessInfo> = o
        .owners
        .iter()
        .filter(|p| !p.is_ollama_server())
        .cloned()
        .collect();
    if holders.iter().any(|p| p.cmdline.contains("docker-proxy")) {
        return PortOwner::Docker { port, holders };
    }
    if !holders.is_empty() {
        return PortOwner::Stranger { port, holders };
    }
    let owner = o.owners[0].clone();
    if o.ollama_servers.len() > 1 {
        return PortOwner::Servers {
            port,
            servers: o.ollama_servers.clone(),
            owner,
        };
    }
    PortOwner::Ollama { port, owner }
}

impl PortOwner {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let process = |p: &ProcessInfo| format!("pid {} `{}`", p.pid, p.cmdline);
        let processes = |ps: &[ProcessInfo]| ps.iter().map(process).collect::<Vec<_>>().join(", ");
        match self {
            PortOwner::Unread(reason) => Outcome::skip(reason.to_string()),
            PortOwner::NothingHere { port, unreachable } => {
                Outcome::skip(format!("nothing listens on port {port} here: {unreachable}"))
            }
            PortOwner::Elsewhere { port } => {
                let next = "Next: stop the one you do not mean to use, or point --host at the right one";
                Outcome::warn(format!(
                    "no process of this Linux listens on port {port}, yet the API answered: the server answering is elsewhere (on WSL2: Ollama for Windows, through localhost forwarding; or a container's port). {next}"
                ))
                .with_value("not this machine's")
            }
            PortOwner::ServiceUser { port, users } => Outcome::pass(format!(
                "port {port} is held by a socket of user {} (the service's user; its process cannot be read without root)",
                users.join(", ")
            ))
            .with_value(format!("user {}", users.first().map_or("", String::as_str))),
            PortOwner::UnknownUser { port, users } => Outcome::skip(format!(
                "port {port} is held by a socket of {}, whose process cannot be read without root; run with sudo to see which program it is",
                users.join(", ")
            )),
            PortOwner::Docker { port, holders } => Outcome::warn(format!(
                "port {port} is published by Docker ({}): a container answers there, not a native server. Next: `docker ps --filter publish={port}`; stop one of the two if a native service is meant to serve",
                processes(holders)
            ))
            .with_value("docker-proxy"),
            PortOwner::Stranger { port, holders } => Outcome::fail(format!(
                "port {port} is held by {}, not Ollama: requests meant for Ollama go to that program. Next: stop it, or move Ollama to another port with OLLAMA_HOST and use --host",
                processes(holders)
            ))
            .with_value(holders.first().map(process).unwrap_or_default()),
            PortOwner::Servers {
                port,
                servers,
                owner,
            } => {
                let next = "Next: stop the one you do not use (`systemctl status ollama`, `ps -fp <pid>`)";
                Outcome::warn(format!(
                    "{} Ollama servers listen on this host: {}; each has its own models and settings, and only pid {} answers on port {port}. {next}",
                    servers.len(),
                    processes(servers),
                    owner.pid
                ))
                .with_value(format!("{} servers", servers.len()))
            }
            PortOwner::Ollama { port, owner } => {
                Outcome::pass(format!("{} listens on port {port}", process(owner)))
                    .with_value(format!("pid {}", owner.pid))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::Status;

    use crate::probe::procfs::{Listener, ProcessInfo};

    fn owners(cmds: &[&str], servers: &[&str]) -> Result<PortOwners, ProbeError> {
        let p = |(i, c): (usize, &&str)| ProcessInfo {
            pid: 100 + i as u32,
            cmdline: c.to_string(),
        };
        Ok(PortOwners {
            port: 11434,
            listeners: vec![Listener {
                port: 11434,
                uid: 998,
                inode: 1,
            }],
            owners: cmds.iter().enumerate().map(p).collect(),
            users: [(998, "ollama".to_string())].into(),
            ollama_servers: servers.iter().enumerate().map(p).collect(),
        })
    }

    #[test]
    fn the_port_owner_is_ollama() {
        let s = "/usr/local/bin/ollama serve";
        assert_eq!(port_owner(&owners(&[s], &[s]), None).status, Status::Pass);
        let python = "python3 -m http.server 11434";
        assert_eq!(
            port_owner_finding(&owners(&[python], &[]), None),
            PortOwner::Stranger {
                port: 11434,
                holders: vec![ProcessInfo {
                    pid: 100,
                    cmdline: python.into()
                }]
            }
        );
        assert_eq!(
            port_owner(&owners(&[python], &[]), None).status,
            Status::Fail
        );
        assert_eq!(
            port_owner(&owners(&[s], &[s, "/home/me/ollama serve"]), None).status,
            Status::Warn
        );
        // Not readable without root, but the socket is the ollama user's.
        assert_eq!(port_owner(&owners(&[], &[]), None).status, Status::Pass);
        assert_eq!(
            port_owner(
                &Err(ProbeError::NotLinux {
                    host: "this machine".into()
                }),
                None
            )
            .status,
            Status::Skip
        );
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let p = |pid: u32, cmdline: &str| ProcessInfo {
            pid,
            cmdline: cmdline.into(),
        };
        let serve = || p(812, "/usr/local/bin/ollama serve");
        let port = 11434;
        let found = [
            PortOwner::Unread(ProbeError::NotLinux {
                host: "this machine".into(),
            }),
            PortOwner::NothingHere {
                port,
                unreachable: "the API at http://127.0.0.1:11434/ does not answer (see api.root)"
                    .into(),
            },
            PortOwner::Elsewhere { port },
            PortOwner::ServiceUser {
                port,
                users: vec!["ollama".into()],
            },
            PortOwner::UnknownUser {
                port,
                users: vec!["www-data".into(), "uid 0".into()],
            },
            PortOwner::Docker {
                port,
                holders: vec![p(
                    2301,
                    "/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 11434",
                )],
            },
            PortOwner::Stranger {
                port,
                holders: vec![p(4242, "python3 -m http.server 11434")],
            },
            PortOwner::Servers {
                port,
                servers: vec![serve(), p(9001, "/home/me/ollama serve")],
                owner: serve(),
            },
            PortOwner::Ollama {
                port,
                owner: serve(),
            },
        ];
        let all: String = found
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
