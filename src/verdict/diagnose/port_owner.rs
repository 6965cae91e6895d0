//! `diagnose.port_owner`: an Ollama server owns the API's port.

use crate::check::Outcome;
use crate::probe::procfs::PortOwners;
use crate::probe::ProbeError;

/// `diagnose.port_owner`: an Ollama server owns the API's port; another program there
/// fails, two Ollama servers on this host warn.
pub fn port_owner(owners: &Result<PortOwners, ProbeError>, unreachable: Option<&str>) -> Outcome {
    let o = match owners {
        Err(reason) => return Outcome::skip(reason.to_string()),
        Ok(o) => o,
    };
    let port = o.port;
    if o.listeners.is_empty() {
        return match unreachable {
            Some(reason) => Outcome::skip(format!("nothing listens on port {port} here: {reason}")),
            None => Outcome::warn(format!(
                "no process of this Linux listens on port {port}, yet the API answered: the server answering is elsewhere (on WSL2: Ollama for Windows, through localhost forwarding; or a container's port). Next: stop the one you do not mean to use, or point --host at the right one"
            ))
            .with_value("not this machine's"),
        };
    }
    let servers = &o.ollama_servers;
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
        if users.iter().any(|u| u.contains("ollama")) {
            return Outcome::pass(format!(
                "port {port} is held by a socket of user {} (the service's user; its process cannot be read without root)",
                users.join(", ")
            ))
            .with_value(format!("user {}", users[0]));
        }
        return Outcome::skip(format!(
            "port {port} is held by a socket of {}, whose process cannot be read without root; run with sudo to see which program it is",
            users.join(", ")
        ));
    }
    let strangers: Vec<String> = o
        .owners
        .iter()
        .filter(|p| !p.is_ollama_server())
        .map(|p| format!("pid {} `{}`", p.pid, p.cmdline))
        .collect();
    if !strangers.is_empty() {
        if strangers.iter().any(|s| s.contains("docker-proxy")) {
            return Outcome::warn(format!(
                "port {port} is published by Docker ({}): a container answers there, not a native server. Next: `docker ps --filter publish={port}`; stop one of the two if a native service is meant to serve",
                strangers.join(", ")
            ))
            .with_value("docker-proxy");
        }
        return Outcome::fail(format!(
            "port {port} is held by {}, not Ollama: requests meant for Ollama go to that program. Next: stop it, or move Ollama to another port with OLLAMA_HOST and use --host",
            strangers.join(", ")
        ))
        .with_value(strangers[0].clone());
    }
    let owner = &o.owners[0];
    if servers.len() > 1 {
        let list: Vec<String> = servers
            .iter()
            .map(|p| format!("pid {} `{}`", p.pid, p.cmdline))
            .collect();
        return Outcome::warn(format!(
            "{} Ollama servers listen on this host: {}; each has its own models and settings, and only pid {} answers on port {port}. Next: stop the one you do not use (`systemctl status ollama`, `ps -fp <pid>`)",
            servers.len(),
            list.join(", "),
            owner.pid
        ))
        .with_value(format!("{} servers", servers.len()));
    }
    Outcome::pass(format!(
        "pid {} `{}` listens on port {port}",
        owner.pid, owner.cmdline
    ))
    .with_value(format!("pid {}", owner.pid))
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
        assert_eq!(
            port_owner(&owners(&["python3 -m http.server 11434"], &[]), None).status,
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
}
