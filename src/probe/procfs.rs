//! Facts from the host's /proc, read through the [`Host`] backend with `cat` and
//! `find` (read-only): who listens on the API port, and the kernel side of the
//! NVIDIA driver (nvidia_uvm, WSL2's driver libraries).

use super::host::{CmdOutput, Host, HostError};
use super::probe_error::ProbeError;
use std::collections::BTreeMap;
use std::time::Duration;

/// A process, as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
}

impl ProcessInfo {
    /// An Ollama server: `ollama serve` (or a stand-in named like it).
    pub fn is_ollama_server(&self) -> bool {
        let mut words = self.cmdline.split_whitespace();
        let program = words.next().unwrap_or_default();
        let base = program.rsplit('/').next().unwrap_or_default();
        base.starts_with("ollama") && words.any(|w| w == "serve")
    }
}

/// A listening TCP socket from /proc/net/tcp{,6}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    pub uid: u32,
    pub inode: u64,
}

/// Who listens on the API's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOwners {
    pub port: u16,
    pub listeners: Vec<Listener>,
    /// The processes holding those sockets (empty where /proc/<pid>/fd is not readable).
    pub owners: Vec<ProcessInfo>,
    /// User names of the sockets' owners (from /etc/passwd), by uid.
    pub users: BTreeMap<u32, String>,
    /// Every Ollama server listening on this host, on any port.
    pub ollama_servers: Vec<ProcessInfo>,
}

/// The LISTEN sockets of `/proc/net/tcp` (and tcp6) text.
pub fn parse_net_tcp(text: &str) -> Vec<Listener> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                return None;
            }
            let port = u16::from_str_radix(f[1].rsplit(':').next()?, 16).ok()?;
            Some(Listener {
                port,
                uid: f[7].parse().ok()?,
                inode: f[9].parse().ok()?,
            })
        })
        .collect()
}

/// `find ... -printf '%p %l\n'` lines (`/proc/42/fd/7 socket:[1234]`): inode → pids.
pub fn parse_socket_fds(text: &str) -> BTreeMap<u64, Vec<u32>> {
    let mut out: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for line in text.lines() {
        let Some((path, link)) = line.split_once(' ') else {
            continue;
        };
        let pid = path
            .strip_prefix("/proc/")
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse::<u32>().ok());
        let inode = link
            .trim()
            .strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|i| i.parse::<u64>().ok());
        if let (Some(pid), Some(inode)) = (pid, inode) {
            let pids = out.entry(inode).or_default();
            if !pids.contains(&pid) {
                pids.push(pid);
            }
        }
    }
    out
}

/// `/etc/passwd` text: uid → user name.
pub fn parse_passwd(text: &str) -> BTreeMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.get(2)?.parse().ok()?, f.first()?.to_string()))
        })
        .collect()
}

/// Runs `program args` on `host`; stdout even when the exit code is not 0 (`cat` of
/// a missing tcp6, `find` meeting unreadable folders). `Err` says why it cannot run.
async fn read(
    host: &dyn Host,
    program: &'static str,
    args: &[&str],
    timeout: Duration,
) -> Result<CmdOutput, ProbeError> {
    match host.run(program, args, timeout).await {
        Ok(out) => Ok(out),
        Err(HostError::NotFound { host, .. }) => Err(ProbeError::MissingTool {
            what: "/proc",
            host,
            tool: program,
            package: None,
        }),
        Err(e) => Err(e.into()),
    }
}

async fn cmdline(host: &dyn Host, pid: u32, timeout: Duration) -> Option<ProcessInfo> {
    let path = format!("/proc/{pid}/cmdline");
    let out = host.run("cat", &[&path], timeout).await.ok()?;
    let cmdline = out
        .stdout
        .split('\0')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!cmdline.is_empty()).then_some(ProcessInfo { pid, cmdline })
}

/// Who listens on `port` on `host`, and every Ollama server listening there.
pub async fn port_owners(
    host: &dyn Host,
    port: u16,
    timeout: Duration,
) -> Result<PortOwners, ProbeError> {
    let tcp = read(host, "cat", &["/proc/net/tcp", "/proc/net/tcp6"], timeout).await?;
    if tcp.stdout.trim().is_empty() {
        return Err(ProbeError::Unreadable {
            what: "/proc/net/tcp",
            host: host.describe(),
            said: tcp.stderr.trim().to_string(),
        });
    }
    let all = parse_net_tcp(&tcp.stdout);
    let fds = read(
        host,
        "find",
        &[
            "/proc",
            "-maxdepth",
            "3",
            "-path",
            "/proc/[0-9]*/fd/*",
            "-lname",
            "socket:*",
            "-printf",
            "%p %l\\n",
        ],
        timeout,
    )
    .await?;
    let by_inode = parse_socket_fds(&fds.stdout);
    let users = match host.run("cat", &["/etc/passwd"], timeout).await {
        Ok(out) => parse_passwd(&out.stdout),
        Err(_) => BTreeMap::new(),
    };
    let listeners: Vec<Listener> = all.iter().filter(|l| l.port == port).cloned().collect();
    let mut owners: Vec<ProcessInfo> = Vec::new();
    let mut servers = Vec::new();
    // Each pid's command line is read once (at most 64), but a process that listens on
    // several ports owns every one of them.
    let mut known: BTreeMap<u32, Option<ProcessInfo>> = BTreeMap::new();
    // The port's own listeners first, so that the cap never leaves them unread.
    let (mine, others): (Vec<&Listener>, Vec<&Listener>) = all.iter().partition(|l| l.port == port);
    for l in mine.into_iter().chain(others) {
        let on_port = listeners.iter().any(|x| x.inode == l.inode);
        for pid in by_inode.get(&l.inode).into_iter().flatten() {
            if !known.contains_key(pid) {
                if known.len() >= 64 {
                    continue;
                }
                let p = cmdline(host, *pid, timeout).await;
                if let Some(p) = p.as_ref().filter(|p| p.is_ollama_server()) {
                    servers.push(p.clone());
                }
                known.insert(*pid, p);
            }
            if let Some(Some(p)) = known.get(pid).filter(|_| on_port) {
                if !owners.contains(p) {
                    owners.push(p.clone());
                }
            }
        }
    }
    Ok(PortOwners {
        port,
        listeners,
        owners,
        users,
        ollama_servers: servers,
    })
}

/// The kernel side of the NVIDIA driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// Native Linux: is nvidia_uvm loaded, does /dev/nvidia-uvm exist.
    Linux { uvm_loaded: bool, uvm_device: bool },
    /// WSL2: the driver libraries `ldconfig -p` finds, (library, path).
    Wsl2 { libraries: Vec<(String, String)> },
}

/// WSL2's driver libraries come from Windows, in this folder.
pub const WSL_LIB_DIR: &str = "/usr/lib/wsl/lib";

/// The `libcuda.so*` and `libnvidia-ml.so*` entries of `ldconfig -p`, in its order.
pub fn parse_ldconfig(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let name = l.split_whitespace().next()?;
            if !(name.starts_with("libcuda.so") || name.starts_with("libnvidia-ml.so")) {
                return None;
            }
            let path = l.rsplit_once("=> ")?.1.trim();
            Some((name.to_string(), path.to_string()))
        })
        .collect()
}

/// Reads the platform facts of `host`.
pub async fn platform(host: &dyn Host, timeout: Duration) -> Result<Platform, ProbeError> {
    let version = read(host, "cat", &["/proc/version"], timeout).await?;
    if !version.success() {
        return Err(ProbeError::NotLinux {
            host: host.describe(),
        });
    }
    if version.stdout.to_ascii_lowercase().contains("microsoft") {
        let ld = match host.run("ldconfig", &["-p"], timeout).await {
            Ok(out) => out,
            Err(HostError::NotFound { .. }) => {
                match host.run("/sbin/ldconfig", &["-p"], timeout).await {
                    Ok(out) => out,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        return Ok(Platform::Wsl2 {
            libraries: parse_ldconfig(&ld.stdout),
        });
    }
    let modules = read(host, "cat", &["/proc/modules"], timeout).await?;
    let uvm_loaded = modules
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("nvidia_uvm"));
    let uvm_device = matches!(
        host.run("ls", &["-d", "/dev/nvidia-uvm"], timeout).await,
        Ok(out) if out.success()
    );
    Ok(Platform::Linux {
        uvm_loaded,
        uvm_device,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2CAA 0100007F:C350 01 00000000:00000000 00:00000000 00000000   998        0 0 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1500 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn listening_sockets_only() {
        let l = parse_net_tcp(TCP);
        assert_eq!(
            l,
            [
                Listener {
                    port: 11434,
                    uid: 998,
                    inode: 41234
                },
                Listener {
                    port: 22,
                    uid: 0,
                    inode: 1500
                }
            ]
        );
    }

    #[test]
    fn socket_fds_by_inode() {
        let m = parse_socket_fds(
            "/proc/812/fd/3 socket:[41234]\n/proc/812/fd/9 socket:[41234]\n/proc/900/fd/1 pipe:[5]\n/proc/1/fd/4 socket:[1500]\n",
        );
        assert_eq!(m[&41234], [812]);
        assert_eq!(m[&1500], [1]);
        assert_eq!(m.len(), 2);
    }

    #[tokio::test]
    async fn a_process_on_several_ports_owns_each_of_them() {
        // A proxy listens on :80 first and on the API port second.
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 700 1 0000000000000000 100 0 0 10 0
   1: 00000000:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 701 1 0000000000000000 100 0 0 10 0
";
        let host = crate::probe::host::Scripted {
            name: "scripted",
            container: false,
            answer: Box::new(move |program, args| {
                let stdout = match (program, args.first().copied()) {
                    ("cat", Some("/proc/net/tcp")) => tcp.to_string(),
                    ("find", _) => {
                        "/proc/70/fd/3 socket:[700]\n/proc/70/fd/4 socket:[701]\n".into()
                    }
                    ("cat", Some("/proc/70/cmdline")) => "nginx: master process\0".into(),
                    _ => String::new(),
                };
                Ok(CmdOutput {
                    code: Some(0),
                    stdout,
                    stderr: String::new(),
                })
            }),
        };
        let o = port_owners(&host, 11434, Duration::from_secs(1))
            .await
            .unwrap();
        let owners: Vec<_> = o
            .owners
            .iter()
            .map(|p| (p.pid, p.cmdline.as_str()))
            .collect();
        assert_eq!(owners, [(70, "nginx: master process")]);
        assert!(o.ollama_servers.is_empty());
    }

    #[test]
    fn ollama_servers_by_command_line() {
        let p = |c: &str| ProcessInfo {
            pid: 1,
            cmdline: c.into(),
        };
        assert!(p("/usr/local/bin/ollama serve").is_ollama_server());
        assert!(p("/usr/bin/ollama-emulator serve").is_ollama_server());
        assert!(!p("/usr/bin/ollama runner --model x").is_ollama_server());
        assert!(!p("python3 -m http.server 11434").is_ollama_server());
    }

    #[test]
    fn ldconfig_lists_driver_libraries_in_order() {
        let text = "4 libs found in cache `/etc/ld.so.cache'
\tlibnvidia-ml.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1
\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1
\tlibcuda.so (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so
\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6
";
        let libs = parse_ldconfig(text);
        assert_eq!(libs.len(), 3);
        assert_eq!(
            libs[0],
            (
                "libnvidia-ml.so.1".into(),
                "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1".into()
            )
        );
    }

    #[test]
    fn passwd_names_uids() {
        let m = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nollama:x:998:998::/usr/share/ollama:/bin/false\n",
        );
        assert_eq!(m[&998], "ollama");
    }
}
