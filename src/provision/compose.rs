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
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
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
    test: serde_yaml_ng::Value,
    interval: Option<String>,
    timeout: Option<String>,
    retries: Option<u32>,
    start_period: Option<String>,
}

/// Reads the `service` of a compose file.
pub fn parse(text: &str, service: &str) -> Result<ComposeService, String> {
    let file: File = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("the compose file does not parse: {e}"))?;
    let s = file.services.get(service).ok_or_else(|| {
        format!(
            "the compose file has no service `{service}` (it has: {})",
            file.services.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })?;
    let environment = match &s.environment {
        None => vec![],
        Some(Environment::Map(m)) => m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        Some(Environment::List(l)) => l
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e.clone(), String::new()),
            })
            .collect(),
    };
    // "HOST:CONTAINER", "IP:HOST:CONTAINER" or "CONTAINER", optionally "/tcp".
    let container_port = s
        .ports
        .first()
        .map(scalar)
        .and_then(|p| {
            p.split('/')
                .next()
                .and_then(|p| p.rsplit(':').next())
                .and_then(|p| p.parse().ok())
        })
        .unwrap_or(11434);
    let mounts: Vec<(String, String)> = s
        .volumes
        .iter()
        .map(scalar)
        .filter_map(|v| {
            let mut parts = v.split(':');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect();
    let models_path = mounts
        .iter()
        .find(|(source, _)| !source.starts_with('.') && !source.starts_with('/'))
        .map_or("/root/.ollama".to_string(), |(_, target)| target.clone());
    let modelfile_path = mounts
        .iter()
        .find(|(source, _)| source.ends_with("Modelfile"))
        .map(|(_, target)| target.clone());
    let healthcheck = match &s.healthcheck {
        None => None,
        Some(h) => Some(Healthcheck {
            test: health_test(&h.test)?,
            interval: duration(h.interval.as_deref(), 30)?,
            timeout: duration(h.timeout.as_deref(), 30)?,
            retries: h.retries.unwrap_or(3),
            start_period: duration(h.start_period.as_deref(), 0)?,
        }),
    };
    Ok(ComposeService {
        image: s
            .image
            .clone()
            .unwrap_or_else(|| "ollama/ollama:latest".into()),
        environment,
        container_port,
        models_path,
        modelfile_path,
        restart: s.restart.clone(),
        healthcheck,
    })
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
        _ => Err("healthcheck.test must be a string or a list".into()),
    }
}

/// Compose durations: `10s`, `1m30s`, `500ms`.
fn duration(text: Option<&str>, default_secs: u64) -> Result<Duration, String> {
    let Some(text) = text else {
        return Ok(Duration::from_secs(default_secs));
    };
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
            .map_err(|_| format!("`{text}` is not a duration"))?;
        number.clear();
        let secs = match unit.as_str() {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(format!("`{text}`: unknown unit `{unit}`")),
        };
        total += Duration::from_secs_f64(secs);
    }
    if !number.is_empty() {
        return Err(format!("`{text}` lacks a unit (s, m, h)"));
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
            .contains("no service `ollama`"));
        assert!(parse(": :", "ollama")
            .unwrap_err()
            .contains("does not parse"));
        let bad =
            "services:\n  ollama:\n    healthcheck:\n      test: [CMD, x]\n      interval: 10\n";
        assert!(parse(bad, "ollama").unwrap_err().contains("lacks a unit"));
    }
}
