//! Why a host probe (service, network, /proc) cannot tell what it reads: one variant
//! per cause, the words in `Display` (what was expected, what was seen, what to try).
//! Verdicts match on the variant; the sentence is rendered only where a person reads it.

use super::host::HostError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// A tool the probe runs is not installed on the host.
    #[error("{what} cannot be read on {host}: `{tool}` is not installed{}", package.map(|p| format!(" (package {p})")).unwrap_or_default())]
    MissingTool {
        what: &'static str,
        host: String,
        tool: &'static str,
        package: Option<&'static str>,
    },
    /// The command ran and failed.
    #[error("`{command}` failed{} with {}: {stderr}", host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default(), code.map(|c| format!("exit code {c}")).unwrap_or_else(|| "no exit code (stopped by a signal)".into()))]
    CommandFailed {
        command: String,
        host: Option<String>,
        code: Option<i32>,
        stderr: String,
    },
    /// The command ran, but what it should have printed is not there.
    #[error("{what} cannot be read on {host}: {said}")]
    Unreadable {
        what: &'static str,
        host: String,
        said: String,
    },
    /// The host is not Linux.
    #[error("{host} has no /proc/version: not Linux, so the kernel side of the driver cannot be checked")]
    NotLinux { host: String },
    /// The server runs on another machine than the host the probes read.
    #[error("the server at {server} is not on {host}, so {what} cannot be read here; run ollama-verify on the server's machine")]
    NotHere {
        server: String,
        host: String,
        what: &'static str,
    },
    /// The host checks run somewhere this process cannot reach the way the network does.
    #[error("the host checks run on {host}, not on this machine, so its addresses cannot be asked from here as they would answer there")]
    NotThisMachine { host: String },
    /// The target has no host at all (the emulator).
    #[error(
        "the {target} target has no host to inspect; verify a real install with --target native"
    )]
    NoHost { target: String },
    /// The probe reads this machine only, and the target is not this machine.
    #[error("{}", probe.explain(target))]
    NativeOnly { target: String, probe: NativeProbe },
    /// The docker target's container is gone.
    #[error("the run has removed its container")]
    ContainerRemoved,
    /// The docker target's container could not be inspected.
    #[error("{0}")]
    Container(String),
    /// The command that reads it could not run.
    #[error("{0}")]
    Host(#[from] HostError),
}

/// The probes that read this machine only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeProbe {
    /// Who listens on the API's port.
    PortOwners,
    /// The kernel side of the NVIDIA driver.
    Platform,
    /// Which of this machine's addresses answer.
    Addresses,
}

impl NativeProbe {
    fn explain(self, target: &str) -> String {
        match self {
            NativeProbe::PortOwners => format!(
                "on the {target} target the port is not a port of this machine's processes; this check runs with --target native"
            ),
            NativeProbe::Platform => format!(
                "the {target} target is not this machine's Linux; kernel modules and driver libraries are checked with --target native"
            ),
            NativeProbe::Addresses => format!(
                "on the {target} target who can reach the server is set by how its port is published, not by this machine's addresses; this check runs with --target native"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_says_what_to_try_or_what_was_seen() {
        let all = [
            ProbeError::MissingTool {
                what: "the addresses",
                host: "this machine".into(),
                tool: "ip",
                package: Some("iproute2"),
            },
            ProbeError::CommandFailed {
                command: "systemctl show ollama".into(),
                host: None,
                code: Some(1),
                stderr: "Access denied".into(),
            },
            ProbeError::Unreadable {
                what: "/proc/net/tcp",
                host: "this machine".into(),
                said: "Permission denied".into(),
            },
            ProbeError::NotLinux {
                host: "this machine".into(),
            },
            ProbeError::NotHere {
                server: "http://10.0.0.2:11434/".into(),
                host: "this machine".into(),
                what: "who listens on its port",
            },
            ProbeError::NotThisMachine {
                host: "container 0123456789ab".into(),
            },
            ProbeError::NoHost {
                target: "emulator".into(),
            },
            ProbeError::NativeOnly {
                target: "docker".into(),
                probe: NativeProbe::PortOwners,
            },
            ProbeError::NativeOnly {
                target: "docker".into(),
                probe: NativeProbe::Platform,
            },
            ProbeError::NativeOnly {
                target: "docker".into(),
                probe: NativeProbe::Addresses,
            },
            ProbeError::ContainerRemoved,
        ];
        let words: Vec<String> = all.iter().map(|e| e.to_string()).collect();
        insta::assert_snapshot!(words.join("\n"));
    }
}
