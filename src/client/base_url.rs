//! `OLLAMA_HOST` the way Ollama reads it: `host`, `host:port`, `[v6]:port`, or a URL.
//! A bind-all address (`0.0.0.0`, `::`) is where a server listens, not where a client
//! connects: it becomes loopback.

use std::net::IpAddr;
use url::Url;

pub const DEFAULT_PORT: u16 = 11434;
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}{value:?} is not a usable address: {reason}. Expected `host`, `host:port` or a URL such as `http://127.0.0.1:11434`")]
pub struct BaseUrlError {
    /// Where the value came from, written before it (`OLLAMA_HOST=`, `--host `).
    pub setting: &'static str,
    pub value: String,
    pub reason: String,
}

impl BaseUrlError {
    /// The same error, naming another source of the value.
    pub fn from_setting(self, setting: &'static str) -> Self {
        BaseUrlError { setting, ..self }
    }
}

/// Parses an `OLLAMA_HOST` value into the base URL a client connects to.
/// An empty value gives the default, `http://127.0.0.1:11434`.
pub fn parse_ollama_host(value: &str) -> Result<Url, BaseUrlError> {
    let err = |reason: String| BaseUrlError {
        setting: "OLLAMA_HOST=",
        value: value.to_string(),
        reason,
    };
    let p = parts(value).map_err(err)?;
    if !matches!(p.scheme, "http" | "https") {
        return Err(err(format!("unsupported scheme `{}`", p.scheme)));
    }
    // Where to connect is asked exactly: a typo in the port is not taken for 11434.
    if let Some(bad) = p.bad_port {
        return Err(err(format!("`{bad}` is not a port number (0-65535)")));
    }
    let host = match p.host {
        "" => "127.0.0.1".to_string(),
        h => connectable(h),
    };
    let (scheme, port) = (p.scheme, p.port);
    let path = p.path.trim_end_matches('/');
    let text = if path.is_empty() {
        format!("{scheme}://{host}:{port}")
    } else {
        format!("{scheme}://{host}:{port}/{path}")
    };
    Url::parse(&text).map_err(|e| err(e.to_string()))
}

/// An `OLLAMA_HOST` value split the way Ollama splits it.
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    /// Whether the value names a port; `:11434` (no host) then binds every interface.
    port_given: bool,
    port: u16,
    /// A port that is no port number (`host:abc`, `host:`): Ollama warns and takes the
    /// default `port` instead.
    bad_port: Option<&'a str>,
    path: &'a str,
}

fn parts(value: &str) -> Result<Parts<'_>, String> {
    // `envconfig.Host` trims spaces once more after `Var` took the quotes off: `' ::1'`.
    let s = crate::go::env_value(value).trim();
    // Like `envconfig.Host`: `http`/`https` set the default port (80/443); no scheme,
    // or any other, means 11434 (a server binds it all the same).
    let (scheme, rest, default_port) = match s.split_once("://") {
        None => ("http", s, DEFAULT_PORT),
        Some(("http", rest)) => ("http", rest, 80),
        Some(("https", rest)) => ("https", rest, 443),
        Some((other, rest)) => (other, rest, DEFAULT_PORT),
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = split_host_port(hostport)?;
    let number = port.map(|p| p.parse::<u16>().map_err(|_| p));
    Ok(Parts {
        scheme,
        host,
        port_given: port.is_some(),
        port: match number {
            Some(Ok(n)) => n,
            _ => default_port,
        },
        bad_port: number.and_then(Result::err),
        path,
    })
}

/// The base URL from the environment's `OLLAMA_HOST`, or the default.
pub fn from_env() -> Result<Url, BaseUrlError> {
    parse_ollama_host(&std::env::var("OLLAMA_HOST").unwrap_or_default())
}

/// The host and the port's text, if the value names one.
fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed `[` in an IPv6 address".to_string())?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(p))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected `{after}` after the IPv6 address")),
        };
    }
    // A bare IPv6 address has several colons and no port.
    if hostport.matches(':').count() > 1 {
        return match hostport.parse::<IpAddr>() {
            Ok(_) => Ok((hostport, None)),
            Err(_) => Err("an IPv6 address with a port must be written `[addr]:port`".into()),
        };
    }
    Ok(match hostport.split_once(':') {
        Some((host, p)) => (host, Some(p)),
        None => (hostport, None),
    })
}

fn connectable(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".into(),
        Ok(ip) if ip.is_unspecified() => "[::1]".into(),
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("", "http://127.0.0.1:11434/")]
    #[case("   ", "http://127.0.0.1:11434/")]
    #[case("127.0.0.1", "http://127.0.0.1:11434/")]
    #[case("0.0.0.0", "http://127.0.0.1:11434/")]
    #[case("0.0.0.0:11434", "http://127.0.0.1:11434/")]
    #[case(":8080", "http://127.0.0.1:8080/")]
    #[case("gpu-box", "http://gpu-box:11434/")]
    #[case("gpu-box:9999", "http://gpu-box:9999/")]
    #[case("::", "http://[::1]:11434/")]
    #[case("[::]:11434", "http://[::1]:11434/")]
    #[case("[::1]:4000", "http://[::1]:4000/")]
    #[case("fe80::1", "http://[fe80::1]:11434/")]
    #[case("http://example.com", "http://example.com/")] // scheme given: port 80, like Ollama
    #[case("https://example.com", "https://example.com/")]
    #[case("http://0.0.0.0:11434", "http://127.0.0.1:11434/")]
    #[case("https://proxy.lan:8443/ollama/", "https://proxy.lan:8443/ollama")]
    fn parses(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(parse_ollama_host(input).unwrap().as_str(), expected);
    }

    #[rstest]
    #[case("host:notaport", "not a port number")]
    #[case("host:70000", "not a port number")]
    #[case("ftp://host", "unsupported scheme")]
    #[case("[::1", "unclosed")]
    #[case("fe80::zz:1", "IPv6")]
    fn rejects(#[case] input: &str, #[case] reason: &str) {
        let e = parse_ollama_host(input).unwrap_err();
        assert!(e.reason.contains(reason), "{e}");
        assert!(e.to_string().contains("http://127.0.0.1:11434"), "{e}");
    }
}

/// Whether a server at `url` is on this machine: a loopback address or `localhost`.
pub fn is_local(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The port text of an `OLLAMA_HOST` value that names a port but no port number
/// (`0.0.0.0:abc`, `0.0.0.0:`): the server warns and listens on the default port.
pub fn invalid_port(value: &str) -> Option<String> {
    parts(value).ok()?.bad_port.map(str::to_string)
}

/// Whether an `OLLAMA_HOST` value names a port (`0.0.0.0:11434`,
/// `http://0.0.0.0:11434`, `[::]:80`), rather than leaving it to the default.
pub fn names_port(value: &str) -> bool {
    parts(value).is_ok_and(|p| p.port_given)
}

/// The address a server given this `OLLAMA_HOST` listens on (bind-all kept as is). A
/// port that is no number is the default port, as Ollama logs "invalid port, using
/// default" and listens there. `localhost`, in any case, is 127.0.0.1, and an
/// IPv4-mapped IPv6 address the IPv4 address it maps: Go opens an IPv4 socket for it.
pub fn bind_addr(value: &str) -> Result<std::net::SocketAddr, BaseUrlError> {
    let err = |reason: String| BaseUrlError {
        setting: "OLLAMA_HOST=",
        value: value.to_string(),
        reason,
    };
    let p = parts(value).map_err(err)?;
    let ip: IpAddr = match p.host {
        // Go listens on every interface for `:port`, and on loopback for an empty value.
        "" if p.port_given => [0, 0, 0, 0].into(),
        "" => [127, 0, 0, 1].into(),
        h if h.eq_ignore_ascii_case("localhost") => [127, 0, 0, 1].into(),
        h => h
            .parse::<IpAddr>()
            .map_err(|_| err(format!("a server binds to an IP address, not `{h}`")))?
            .to_canonical(),
    };
    Ok((ip, p.port).into())
}

#[cfg(test)]
mod bind_tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("", "127.0.0.1:11434")]
    #[case("0.0.0.0", "0.0.0.0:11434")]
    #[case("0.0.0.0:8080", "0.0.0.0:8080")]
    #[case("[::]:9000", "[::]:9000")]
    #[case("http://127.0.0.1:5000", "127.0.0.1:5000")]
    #[case(":11434", "0.0.0.0:11434")] // Go's `:port`: every interface
    #[case("http://:11434", "0.0.0.0:11434")] // as the server logs it
    #[case("127.0.0.1:abc", "127.0.0.1:11434")] // Ollama: invalid port, using default
    #[case("0.0.0.0:", "0.0.0.0:11434")]
    #[case("http://127.0.0.1:99999", "127.0.0.1:80")]
    #[case("localhost", "127.0.0.1:11434")]
    #[case("http://0.0.0.0", "0.0.0.0:80")] // a scheme sets the default port
    #[case("https://127.0.0.1", "127.0.0.1:443")]
    #[case("tcp://127.0.0.1", "127.0.0.1:11434")] // any other scheme: Ollama binds it
    #[case("\"127.0.0.1:5000\"", "127.0.0.1:5000")] // quotes trimmed, as envconfig.Var does
    #[case("' 127.0.0.1:5000'", "127.0.0.1:5000")] // and spaces again, as envconfig.Host does
    #[case("\" [::1]:5000 \"", "[::1]:5000")]
    #[case("LOCALHOST:5000", "127.0.0.1:5000")] // a name: resolved without regard to case
    #[case("[::ffff:127.0.0.1]:5000", "127.0.0.1:5000")] // Go binds an IPv4 socket
    #[case("::ffff:0.0.0.0", "0.0.0.0:11434")]
    fn binds(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(bind_addr(input).unwrap().to_string(), expected);
    }

    #[test]
    fn names_are_not_bindable() {
        assert!(bind_addr("gpu-box:1").is_err());
    }

    #[rstest]
    #[case("0.0.0.0", false)]
    #[case("0.0.0.0:11434", true)]
    #[case("http://0.0.0.0:11434", true)] // two colons, one port
    #[case("http://0.0.0.0", false)]
    #[case("[::]:11434", true)]
    #[case("::", false)]
    #[case(":11434", true)]
    #[case("0.0.0.0:abc", true)]
    fn says_whether_a_port_is_named(#[case] input: &str, #[case] named: bool) {
        assert_eq!(names_port(input), named);
    }
}
