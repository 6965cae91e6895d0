//! The `ollama` service of setup/docker-compose.yml: the one source of truth for the
//! docker target's image, environment, port, volume, restart policy and healthcheck.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The compose file shipped in setup/, used unless another is given.
pub const SETUP_COMPOSE: &str = include_str!("../../setup/docker-compose.yml");

#[derive(Debug, Clone, PartialEq)]
pub struct ComposeService {
    pub image: String,
    pub environment: Vec<(String, String)>,
    /// The API port inside the container.
    pub container_port: u16,
    /// Where models live inside the container (the named volume's target).
    pub models_path: String,
    /// Where the Modelfile is mounted (read-only) inside the container.
    pub modelfile_path: Option<String>,
    pub restart: Option<String>,
    pub healthcheck: Option<Healthcheck>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Healthcheck {
    /// The command, without compose's leading `CMD`.
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

#[derive(Deserialize)]
struct File {
    services: BTreeMap<String, Option<Service>>,
}

#[derive(Deserialize, Default)]
struct Service {
    image: Option<String>,
    #[serde(default)]
    environment: Option<Environment>,
    #[serde(default)]
    ports: Vec<serde_yaml_ng::Value>,
    #[serde(default)]
    volumes: Vec<serde_yaml_ng::Value>,
    restart: Option<String>,
    healthcheck: Option<RawHealthcheck>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Environment {
    Map(BTreeMap<String, serde_yaml_ng::Value>),
    List(Vec<String>),
}

#[derive(Deserialize)]
struct RawHealthcheck {
    test: Option<serde_yaml_ng::Value>,
    interval: Option<String>,
    timeout: Option<String>,
    retries: Option<u32>,
    start_period: Option<String>,
    #[serde(default)]
    disable: bool,
}

/// The top-level keys of the Compose Specification (`x-` extensions aside).
const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models",
];

/// The keys of a service in the Compose Specification (`x-` extensions aside); the
/// docker target reads image, environment, ports, volumes, restart and healthcheck.
const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "driver_opts",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "label_file",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// The keys of a service's `healthcheck`.
const HEALTHCHECK_KEYS: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];

/// Reads the compose file at `path` (setup/'s, built in, when `None`) and its `service`.
/// A mistake is named with the file and what to do about it.
pub fn load(path: Option<&std::path::Path>, service: &str) -> Result<ComposeService, String> {
    let Some(path) = path else {
        return parse(SETUP_COMPOSE, service)
            .map_err(|e| format!("the built-in setup/docker-compose.yml: {e}"));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the compose file {} (--compose-file): {e}. Give --compose-file a compose file with an `{service}` service, or leave it out to use setup/docker-compose.yml's settings",
            path.display()
        )
    })?;
    parse(&text, service).map_err(|e| {
        // "the compose file has no service ..." reads on after the file's name.
        let why = match (
            e.strip_prefix("the compose file: "),
            e.strip_prefix("the compose file "),
        ) {
            (Some(rest), _) => format!(": {rest}"),
            (None, Some(rest)) => format!(" {rest}"),
            (None, None) => format!(": {e}"),
        };
        format!(
            "the compose file {} (--compose-file){why}. Fix it there (`docker compose -f {} config` checks it too), or leave --compose-file out to use setup/docker-compose.yml's settings",
            path.display(),
            path.display()
        )
    })
}

/// Reads the `service` of a compose file. The keys the docker target reads must hold
/// what compose takes; a key that is no compose key at all (a misspelt `enviroment`) is
/// refused, not passed over.
pub fn parse(text: &str, service: &str) -> Result<ComposeService, String> {
    let tree: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("the compose file does not parse as YAML: {e}"))?;
    known_keys(&tree, service)?;
    let mut file: File = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("the compose file does not parse: {e}"))?;
    let s = match file.services.remove(service) {
        // `ollama:` with nothing under it: every setting its default.
        Some(s) => s.unwrap_or_default(),
        None => {
            return Err(format!(
                "the compose file has no service `{service}` (it has: {}); the docker target starts the `{service}` service",
                match file.services.is_empty() {
                    true => "none".to_string(),
                    false => file.services.keys().cloned().collect::<Vec<_>>().join(", "),
                }
            ))
        }
    };
    let at = format!("services.{service}");
    let environment = match &s.environment {
        None => vec![],
        // A key without a value takes the variable from the environment compose runs
        // in, as compose does; unset there, it is not set.
        Some(Environment::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| match v {
                serde_yaml_ng::Value::Null => std::env::var(k).ok().map(|v| (k.clone(), v)),
                v => Some((k.clone(), scalar(v))),
            })
            .collect(),
        Some(Environment::List(l)) => l
            .iter()
            .filter_map(|e| match e.split_once('=') {
                Some((k, v)) => Some((k.to_string(), v.to_string())),
                None => std::env::var(e).ok().map(|v| (e.clone(), v)),
            })
            .collect(),
    };
    let container_port = match s.ports.first() {
        None => 11434,
        Some(p) => container_port(p).map_err(|why| format!("{at}.ports[0]: {why}"))?,
    };
    // The server listens where OLLAMA_HOST says: a port other than the one published
    // would never answer.
    if let Some((value, listens)) = environment
        .iter()
        .find(|(k, _)| k == "OLLAMA_HOST")
        .and_then(|(_, v)| listen_port(v).map(|p| (v, p)))
    {
        if listens != container_port {
            return Err(format!(
                "{at}: OLLAMA_HOST={value} makes the server listen on port {listens} inside the container, but `ports:` publishes container port {container_port}, where nothing would answer: give both the same port (setup/docker-compose.yml: OLLAMA_HOST 0.0.0.0:11434, ports \"11434:11434\")"
            ));
        }
    }
    let mounts: Vec<(String, String)> = s.volumes.iter().filter_map(mount).collect();
    let models_path = mounts
        .iter()
        .find(|(source, _)| !source.is_empty() && !source.starts_with(['.', '/', '~']))
        .map_or("/root/.ollama".to_string(), |(_, target)| target.clone());
    let modelfile_path = mounts
        .iter()
        .find(|(source, _)| source.ends_with("Modelfile"))
        .map(|(_, target)| target.clone());
    let healthcheck = match &s.healthcheck {
        None => None,
        Some(h) if h.disable => None,
        Some(h) => {
            let at = format!("{at}.healthcheck");
            let test = match &h.test {
                Some(test) => health_test(test).map_err(|why| format!("{at}.test: {why}"))?,
                None => {
                    return Err(format!(
                        "{at} has no `test:`: give the command that says the server is up (setup/docker-compose.yml's is `test: [\"CMD\", \"ollama\", \"list\"]`), or `disable: true`"
                    ))
                }
            };
            let time = |key: &str, value: Option<&str>, default| {
                duration(value, default).map_err(|why| format!("{at}.{key}: {why}"))
            };
            // `["NONE"]` turns the image's healthcheck off, as `disable: true` does.
            match test.as_slice() {
                [none] if none == "NONE" => None,
                _ => Some(Healthcheck {
                    test,
                    interval: time("interval", h.interval.as_deref(), 30)?,
                    timeout: time("timeout", h.timeout.as_deref(), 30)?,
                    retries: h.retries.unwrap_or(3),
                    start_period: time("start_period", h.start_period.as_deref(), 0)?,
                }),
            }
        }
    };
    if let Some(restart) = &s.restart {
        let on_failure = restart
            .strip_prefix("on-failure:")
            .is_some_and(|n| n.parse::<u32>().is_ok());
        if !on_failure
            && !matches!(
                restart.as_str(),
                "no" | "always" | "on-failure" | "unless-stopped"
            )
        {
            return Err(format!(
                "{at}.restart: expected no, always, on-failure[:N] or unless-stopped, got `{restart}`"
            ));
        }
    }
    let image = match &s.image {
        None => "ollama/ollama:latest".to_string(),
        Some(i) if i.trim().is_empty() => {
            return Err(format!(
                "{at}.image is empty: name an image such as ollama/ollama:latest, or leave the key out for that one"
            ))
        }
        Some(i) => i.clone(),
    };
    Ok(ComposeService {
        image,
        environment,
        container_port,
        models_path,
        modelfile_path,
        restart: s.restart.clone(),
        healthcheck,
    })
}

/// That the file is a mapping with `services:`, and that its top level, `service` and
/// its healthcheck hold only keys compose knows.
fn known_keys(tree: &serde_yaml_ng::Value, service: &str) -> Result<(), String> {
    use serde_yaml_ng::Value;
    let top = match tree {
        Value::Mapping(m) => m,
        Value::Null => {
            return Err(format!(
                "the compose file is empty: expected a `services:` mapping with an `{service}` service (see setup/docker-compose.yml)"
            ))
        }
        _ => {
            return Err(format!(
                "the compose file is not a mapping of keys (`services:`, `volumes:`, ...): expected a `services:` mapping with an `{service}` service (see setup/docker-compose.yml)"
            ))
        }
    };
    unknown(top, TOP_KEYS, "the compose file", "a top-level key")?;
    let Some(services) = top.get("services") else {
        return Err(format!(
            "the compose file has no `services:`: expected a `services:` mapping with an `{service}` service (see setup/docker-compose.yml)"
        ));
    };
    let Some(Value::Mapping(s)) = services.as_mapping().and_then(|m| m.get(service)) else {
        return Ok(());
    };
    let at = format!("services.{service}");
    unknown(s, SERVICE_KEYS, &at, "a service key")?;
    if let Some(Value::Mapping(h)) = s.get("healthcheck") {
        unknown(
            h,
            HEALTHCHECK_KEYS,
            &format!("{at}.healthcheck"),
            "a healthcheck key",
        )?;
    }
    Ok(())
}

/// The first key of `map` that is not among `known` (nor an `x-` extension), with the
/// known key nearest to it.
fn unknown(
    map: &serde_yaml_ng::Mapping,
    known: &[&str],
    at: &str,
    what: &str,
) -> Result<(), String> {
    for key in map.keys() {
        let key = scalar(key);
        if known.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let near = crate::report::nearest(&key, known);
        let hint = near.map_or(String::new(), |k| format!("; did you mean `{k}`?"));
        return Err(format!(
            "{at}: `{key}` is not {what} of the Compose Specification{hint} (compose would refuse it too; extensions are named x-...)"
        ));
    }
    Ok(())
}

/// The container's side of a `ports:` entry: `"[[IP:]HOST:]CONTAINER[/PROTOCOL]"`, a
/// bare number, or the long syntax's `target:`.
fn container_port(entry: &serde_yaml_ng::Value) -> Result<u16, String> {
    let text = match entry {
        serde_yaml_ng::Value::Mapping(m) => match m.get("target") {
            Some(target) => scalar(target),
            None => {
                return Err(
                    "the long syntax needs `target:`, the port inside the container (11434)".into(),
                )
            }
        },
        other => scalar(other),
    };
    let port = text.split('/').next().unwrap_or_default();
    let port = port.rsplit(':').next().unwrap_or_default().trim();
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!(
            "expected the API's port inside the container (a number from 1 to 65535, e.g. \"11434:11434\"), got `{text}`"
        )),
    }
}

/// The port an `OLLAMA_HOST` value names (`0.0.0.0:11434`, `http://[::]:8080`), if it
/// names one.
fn listen_port(value: &str) -> Option<u16> {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let after = match authority.rfind(']') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    after.rsplit_once(':')?.1.parse().ok()
}

/// A `volumes:` entry as (source, target): `"SOURCE:TARGET[:MODE]"` or the long
/// syntax's `source:` and `target:`; `None` for an anonymous volume.
fn mount(entry: &serde_yaml_ng::Value) -> Option<(String, String)> {
    match entry {
        serde_yaml_ng::Value::Mapping(m) => {
            let source = m.get("source").map(scalar).unwrap_or_default();
            Some((source, scalar(m.get("target")?)))
        }
        other => {
            let text = scalar(other);
            let mut parts = text.split(':');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        }
    }
}

fn scalar(v: &serde_yaml_ng::Value) -> String {
    match v {
        serde_yaml_ng::Value::String(s) => s.clone(),
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::Bool(b) => b.to_string(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn health_test(v: &serde_yaml_ng::Value) -> Result<Vec<String>, String> {
    match v {
        serde_yaml_ng::Value::String(s) => Ok(vec!["/bin/sh".into(), "-c".into(), s.clone()]),
        serde_yaml_ng::Value::Sequence(items) => {
            let items: Vec<String> = items.iter().map(scalar).collect();
            match items.first().map(String::as_str) {
                Some("CMD") => Ok(items[1..].to_vec()),
                Some("CMD-SHELL") => Ok(vec!["/bin/sh".into(), "-c".into(), items[1..].join(" ")]),
                _ => Ok(items),
            }
        }
        other => Err(format!(
            "expected a command as a string (run by the shell) or a list ([\"CMD\", \"ollama\", \"list\"]), got `{}`",
            scalar(other)
        )),
    }
}

/// Compose durations: `10s`, `1m30s`, `500ms`.
fn duration(text: Option<&str>, default_secs: u64) -> Result<Duration, String> {
    let Some(text) = text else {
        return Ok(Duration::from_secs(default_secs));
    };
    const FORMAT: &str = "compose durations are written like 10s, 1m30s or 500ms";
    let mut total = Duration::ZERO;
    let mut number = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration: {FORMAT}"))?;
        number.clear();
        let secs = match unit.as_str() {
            "us" => n / 1e6,
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(format!("`{text}`: unknown unit `{unit}`; {FORMAT}")),
        };
        total += Duration::from_secs_f64(secs);
    }
    if !number.is_empty() {
        return Err(format!("`{text}` lacks a unit (s, m, h): {FORMAT}"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shipped_compose_file() {
        let s = parse(SETUP_COMPOSE, "ollama").unwrap();
        assert_eq!(s.image, "ollama/ollama:latest");
        assert_eq!(s.container_port, 11434);
        assert_eq!(s.models_path, "/root/.ollama");
        assert_eq!(
            s.modelfile_path.as_deref(),
            Some("/modelfiles/coding-assistant.Modelfile")
        );
        assert_eq!(s.restart.as_deref(), Some("unless-stopped"));
        let env: BTreeMap<_, _> = s.environment.iter().cloned().collect();
        assert_eq!(env["OLLAMA_HOST"], "0.0.0.0:11434");
        assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "1");
        let h = s.healthcheck.unwrap();
        assert_eq!(h.test, ["ollama", "list"]);
        assert_eq!((h.interval, h.retries), (Duration::from_secs(10), 5));
    }

    #[test]
    fn list_environment_and_shell_healthcheck() {
        let text = "services:\n  o:\n    environment: [A=1, B=x=y]\n    ports: [\"127.0.0.1:8080:11434/tcp\"]\n    healthcheck:\n      test: curl -f localhost\n      interval: 1m30s\n";
        let s = parse(text, "o").unwrap();
        assert_eq!(
            s.environment,
            [("A".into(), "1".into()), ("B".into(), "x=y".into())]
        );
        assert_eq!(s.container_port, 11434);
        let h = s.healthcheck.unwrap();
        assert_eq!(h.test, ["/bin/sh", "-c", "curl -f localhost"]);
        assert_eq!(h.interval, Duration::from_secs(90));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse("services: {}", "ollama")
            .unwrap_err()
            .contains("no service `ollama` (it has: none)"));
        assert!(parse(": :", "ollama")
            .unwrap_err()
            .contains("does not parse"));
        let bad =
            "services:\n  ollama:\n    healthcheck:\n      test: [CMD, x]\n      interval: 10\n";
        let e = parse(bad, "ollama").unwrap_err();
        assert!(
            e.starts_with("services.ollama.healthcheck.interval: `10` lacks a unit"),
            "{e}"
        );
    }

    /// Each mistake names its key and what compose takes there.
    #[rstest::rstest]
    #[case::empty_file("", "the compose file is empty: expected a `services:` mapping")]
    #[case::no_services(
        "volumes: {}\n",
        "the compose file has no `services:`: expected a `services:` mapping"
    )]
    #[case::misspelt_top_level_key(
        "servics:\n  ollama:\n    image: x\n",
        "the compose file: `servics` is not a top-level key of the Compose Specification; did you mean `services`?"
    )]
    #[case::misspelt_service_key(
        "services:\n  ollama:\n    enviroment:\n      A: 1\n",
        "services.ollama: `enviroment` is not a service key of the Compose Specification; did you mean `environment`?"
    )]
    #[case::misspelt_healthcheck_key(
        "services:\n  ollama:\n    healthcheck:\n      test: [CMD, x]\n      intervall: 5s\n",
        "services.ollama.healthcheck: `intervall` is not a healthcheck key of the Compose Specification; did you mean `interval`?"
    )]
    #[case::container_port_not_a_number(
        "services:\n  ollama:\n    ports: [\"11434:abc\"]\n",
        "services.ollama.ports[0]: expected the API's port inside the container (a number from 1 to 65535, e.g. \"11434:11434\"), got `11434:abc`"
    )]
    #[case::container_port_too_large(
        "services:\n  ollama:\n    ports: [\"11434:99999\"]\n",
        "services.ollama.ports[0]: expected the API's port inside the container"
    )]
    #[case::long_syntax_without_target(
        "services:\n  ollama:\n    ports:\n      - published: 8080\n",
        "services.ollama.ports[0]: the long syntax needs `target:`"
    )]
    #[case::healthcheck_test_not_a_command(
        "services:\n  ollama:\n    healthcheck:\n      test: 5\n",
        "services.ollama.healthcheck.test: expected a command as a string"
    )]
    #[case::healthcheck_without_test(
        "services:\n  ollama:\n    healthcheck:\n      interval: 5s\n",
        "services.ollama.healthcheck has no `test:`"
    )]
    #[case::healthcheck_unknown_unit(
        "services:\n  ollama:\n    healthcheck:\n      test: [CMD, x]\n      timeout: 10x\n",
        "services.ollama.healthcheck.timeout: `10x`: unknown unit `x`; compose durations are written like 10s"
    )]
    #[case::restart_policy(
        "services:\n  ollama:\n    restart: alwyas\n",
        "services.ollama.restart: expected no, always, on-failure[:N] or unless-stopped, got `alwyas`"
    )]
    #[case::listening_elsewhere(
        "services:\n  ollama:\n    ports: [\"8080:8080\"]\n    environment:\n      OLLAMA_HOST: 0.0.0.0:11434\n",
        "services.ollama: OLLAMA_HOST=0.0.0.0:11434 makes the server listen on port 11434 inside the container, but `ports:` publishes container port 8080"
    )]
    #[case::empty_image(
        "services:\n  ollama:\n    image: \"\"\n",
        "services.ollama.image is empty"
    )]
    fn a_mistake_names_its_key(#[case] text: &str, #[case] message: &str) {
        let e = parse(text, "ollama").unwrap_err();
        assert!(e.starts_with(message), "{e}");
    }

    /// What compose also takes: the long syntax, extensions, a healthcheck turned off,
    /// `ollama:` with nothing under it.
    #[test]
    fn what_compose_takes_is_taken() {
        let text = "x-common: &c {}\nservices:\n  ollama:\n    x-note: mine\n    ports:\n      - target: 8080\n        published: \"18080\"\n    volumes:\n      - type: volume\n        source: models\n        target: /data/models\n      - ~/m/coding.Modelfile:/m/coding.Modelfile:ro\n    healthcheck:\n      disable: true\n    restart: on-failure:3\n";
        let s = parse(text, "ollama").unwrap();
        assert_eq!(s.container_port, 8080);
        assert_eq!(s.models_path, "/data/models");
        assert_eq!(s.modelfile_path.as_deref(), Some("/m/coding.Modelfile"));
        assert_eq!(s.healthcheck, None);
        let none = "services:\n  ollama:\n    healthcheck:\n      test: [\"NONE\"]\n";
        assert_eq!(parse(none, "ollama").unwrap().healthcheck, None);
        let bare = parse("services:\n  ollama:\n", "ollama").unwrap();
        assert_eq!(
            (
                bare.image.as_str(),
                bare.container_port,
                bare.models_path.as_str()
            ),
            ("ollama/ollama:latest", 11434, "/root/.ollama")
        );
    }

    #[test]
    fn the_port_ollama_host_names() {
        assert_eq!(listen_port("0.0.0.0:11434"), Some(11434));
        assert_eq!(listen_port("http://[::]:8080/"), Some(8080));
        assert_eq!(listen_port("[::1]"), None);
        assert_eq!(listen_port("0.0.0.0"), None);
        let same = "services:\n  ollama:\n    ports: [\"8080:8080\"]\n    environment: [OLLAMA_HOST=http://0.0.0.0:8080]\n";
        assert_eq!(parse(same, "ollama").unwrap().container_port, 8080);
    }

    /// A bind mount from the home folder is no models volume.
    #[test]
    fn a_home_bind_mount_is_not_the_models_volume() {
        let text = "services:\n  ollama:\n    volumes:\n      - ~/ollama:/root/.ollama\n      - models:/data\n";
        assert_eq!(parse(text, "ollama").unwrap().models_path, "/data");
    }

    /// A variable without a value comes from the environment, as compose takes it; it
    /// is never the text "null".
    #[test]
    fn a_variable_without_a_value_is_not_null() {
        let text = "services:\n  ollama:\n    environment:\n      OLLAMA_VERIFY_COMPOSE_TEST_UNSET:\n      A: 1\n";
        let s = parse(text, "ollama").unwrap();
        assert_eq!(s.environment, [("A".to_string(), "1".to_string())]);
    }

    /// The file is named, with what to do next.
    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compose.yml");
        std::fs::write(&path, "services:\n  web: {}\n").unwrap();
        let e = load(Some(&path), "ollama").unwrap_err();
        assert!(
            e.starts_with(&format!(
                "the compose file {} (--compose-file) has no service `ollama` (it has: web)",
                path.display()
            )) && e.ends_with(
                "or leave --compose-file out to use setup/docker-compose.yml's settings"
            ),
            "{e}"
        );
        let e = load(Some(&dir.path().join("none.yml")), "ollama").unwrap_err();
        assert!(
            e.contains("cannot read the compose file") && e.contains("leave it out"),
            "{e}"
        );
        assert_eq!(load(None, "ollama").unwrap().image, "ollama/ollama:latest");
    }
}
