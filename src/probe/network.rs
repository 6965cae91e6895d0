//! Where the API answers beyond loopback: this host's non-loopback IPv4 and IPv6
//! addresses (from `ip -o addr show`, run through the [`Host`] backend) and a short
//! `GET /` on each at the server's port. Only addresses of the machine itself are ever
//! asked.

use super::host::{Host, HostError};
use super::probe_error::ProbeError;
use crate::client::{Client, Timeouts};
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// What one address answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProbe {
    /// `http://172.17.0.2:11434/`
    pub url: String,
    /// Something answered HTTP there (Ollama's greeting, or any status).
    pub answered: bool,
    /// The greeting, an excerpt of the error, or why nothing answered.
    pub seen: String,
}

/// The addresses in `ip -o addr show` output (`inet` and `inet6`), in order, each once,
/// leaving out loopback and IPv6 link-local ones (`fe80::/10`: reachable only with an
/// interface named, and only from the same link).
pub fn parse_ip_addr(stdout: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            if w != "inet" && w != "inet6" {
                continue;
            }
            let Some(addr) = words.next() else { break };
            let ip = addr.split('/').next().unwrap_or_default();
            let Ok(ip) = ip.parse::<IpAddr>() else {
                continue;
            };
            let link_local = matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80);
            if ip.is_ipv4() == (w == "inet")
                && !ip.is_loopback()
                && !ip.is_unspecified()
                && !link_local
                && !found.contains(&ip)
            {
                found.push(ip);
            }
        }
    }
    found
}

/// This host's non-loopback addresses; `Err` says why they cannot be listed.
pub async fn host_addresses(host: &dyn Host, timeout: Duration) -> Result<Vec<IpAddr>, ProbeError> {
    match host.run("ip", &["-o", "addr", "show"], timeout).await {
        Ok(out) if out.success() => Ok(parse_ip_addr(&out.stdout)),
        Ok(out) => Err(ProbeError::CommandFailed {
            command: "ip -o addr show".into(),
            host: Some(host.describe()),
            code: out.code,
            stderr: out.stderr.trim().to_string(),
        }),
        Err(HostError::NotFound { host, .. }) => Err(ProbeError::MissingTool {
            what: "the addresses",
            host,
            tool: "ip",
            package: Some("iproute2"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// `GET /` on each address at `port`, side by side, each within `timeout`.
pub async fn answers_on(addrs: &[IpAddr], port: u16, timeout: Duration) -> Vec<AddressProbe> {
    let probes = addrs.iter().map(|ip| async move {
        let url = Url::parse(&format!("http://{}/", std::net::SocketAddr::new(*ip, port)))
            .expect("an address and a port make a URL");
        let client = Client::with_timeouts(url.clone(), Timeouts::default().capped(timeout));
        let (answered, seen) = match client.root().await {
            Ok(text) => (
                true,
                format!("\"{}\"", crate::client::excerpt(text.as_bytes())),
            ),
            // Refused, or no connection in time: nothing there for us.
            Err(e) if e.is_unreachable() => (false, e.to_string()),
            // Connected, then an error status or a stall: something listens.
            Err(e) => (true, e.to_string()),
        };
        AddressProbe {
            url: url.to_string(),
            answered,
            seen,
        }
    });
    futures_util::future::join_all(probes).await
}

/// Asks every non-loopback address of `host` whether the server at `base` answers
/// there too. `Err` says why this cannot be judged here: the addresses cannot be
/// listed, or the server is not on this machine.
pub async fn beyond_loopback(
    host: &dyn Host,
    base: &Url,
    command_timeout: Duration,
    timeout: Duration,
) -> Result<Vec<AddressProbe>, ProbeError> {
    let addrs = host_addresses(host, command_timeout).await?;
    let here = match base.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || addrs.contains(&IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || addrs.contains(&IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !here {
        return Err(ProbeError::NotHere {
            server: base.to_string(),
            host: host.describe(),
            what: "its other addresses",
        });
    }
    let port = base
        .port_or_known_default()
        .unwrap_or(crate::client::DEFAULT_PORT);
    Ok(answers_on(&addrs, port, timeout).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP_OUTPUT: &str = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0\\       valid_lft forever preferred_lft forever
3: wlan0    inet 192.168.1.20/24 brd 192.168.1.255 scope global dynamic wlan0\\       valid_lft 8000sec preferred_lft 8000sec
3: wlan0    inet 192.168.1.20/24 scope global secondary wlan0
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:db8::42/64 scope global dynamic \\       valid_lft 86000sec preferred_lft 14000sec
2: eth0    inet6 fe80::42:acff:fe11:2/64 scope link \\       valid_lft forever preferred_lft forever
";

    #[test]
    fn lists_non_loopback_addresses_once() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            parse_ip_addr(IP_OUTPUT),
            [ip("172.17.0.2"), ip("192.168.1.20"), ip("2001:db8::42")]
        );
        assert!(parse_ip_addr("").is_empty());
        assert!(parse_ip_addr("inet\ninet notanip/8\n2: x inet 300.1.1.1/8").is_empty());
        // A family word followed by the other family's address is not trusted.
        assert!(parse_ip_addr("2: x inet 2001:db8::1/64\n3: y inet6 10.0.0.1/8").is_empty());
    }

    /// Loopback addresses only: no test sends traffic anywhere else.
    #[tokio::test]
    async fn tells_answering_addresses_from_silent_ones() {
        let emulator = crate::emulator::Emulator::bind(
            crate::emulator::EmulatorConfig::fast(),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let port = emulator.addr().port();
        // 127.0.0.2 and ::1 are this machine too, but nothing listens there on that port.
        let probes = answers_on(
            &[
                "127.0.0.1".parse().unwrap(),
                "127.0.0.2".parse().unwrap(),
                "::1".parse().unwrap(),
            ],
            port,
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(probes[2].url, format!("http://[::1]:{port}/"));
        assert!(!probes[2].answered, "{probes:?}");
        assert!(probes[0].answered, "{probes:?}");
        assert_eq!(probes[0].seen, "\"Ollama is running\"");
        assert!(!probes[1].answered, "{probes:?}");
        assert!(probes[1].seen.contains("refused"), "{probes:?}");
    }

    use crate::probe::host::Scripted;

    #[tokio::test]
    async fn says_why_it_cannot_judge() {
        let missing = Scripted::always(
            "the test host",
            Err(HostError::NotFound {
                program: "ip".into(),
                host: "the test host".into(),
            }),
        );
        let base = Url::parse("http://127.0.0.1:11434").unwrap();
        let e = beyond_loopback(
            &missing,
            &base,
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                e,
                ProbeError::MissingTool {
                    tool: "ip",
                    package: Some("iproute2"),
                    ..
                }
            ),
            "{e:?}"
        );

        let listed = Scripted::always(
            "the test host",
            Ok(super::super::CmdOutput {
                code: Some(0),
                stdout: IP_OUTPUT.into(),
                stderr: String::new(),
            }),
        );
        let remote = Url::parse("http://gpu-box:11434").unwrap();
        let e = beyond_loopback(
            &listed,
            &remote,
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, ProbeError::NotHere { host, .. } if host == "the test host"),
            "{e:?}"
        );
        // An empty list asks nothing and says nothing answered.
        let none = Scripted::always(
            "the test host",
            Ok(super::super::CmdOutput {
                code: Some(0),
                stdout: "1: lo inet 127.0.0.1/8\n".into(),
                stderr: String::new(),
            }),
        );
        let probes = beyond_loopback(&none, &base, Duration::from_secs(1), Duration::from_secs(1))
            .await
            .unwrap();
        assert!(probes.is_empty());
    }
}
