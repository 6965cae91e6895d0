//! The facts that make a run comparable with another: the host (name, OS, kernel, WSL2),
//! its GPUs, the Ollama it ran against, and each model the chat and speed checks used
//! (digest, quantisation, size, context, the server's parallel slots, flash attention
//! and KV-cache type). Every field is optional: a fact not known is absent, never an
//! error. The summary JSON carries them under `facts`; the other reports show them.
//! Here: the shapes, the readers of the texts they come from, and the host's facts;
//! the steps crate gathers the rest from a run's session.

use crate::client::types::ShowResponse;
use crate::gpu::GpuInfo;
use crate::probe::Host;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<HostFacts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<GpuFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaFacts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelFacts>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `PRETTY_NAME` of `/etc/os-release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wsl2: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GpuFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// The CUDA version the driver supports (`12.6`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vram_total_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OllamaFacts {
    /// What `/api/version` answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `native`, `docker` or `emulator`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_size: Option<String>,
    /// The Modelfile's `num_ctx`, else the model's own context length (`model_info`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// `OLLAMA_NUM_PARALLEL` of the server (0, "as memory allows", is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash_attention: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_type: Option<String>,
}

/// The server settings a model's facts name, by their environment variables.
pub const SETTINGS: [&str; 3] = [
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_KV_CACHE_TYPE",
];

/// The server's parallel slots, as `OLLAMA_NUM_PARALLEL` in its settings (the
/// environment, or its log's `server config`) gives them: 0, "as memory allows" in
/// releases before the default became 1, and unset are unknown.
pub fn parallel_slots(settings: &BTreeMap<String, String>) -> Option<u64> {
    settings
        .get("OLLAMA_NUM_PARALLEL")
        .and_then(|v| crate::go::env_value(v).parse().ok())
        .filter(|n| *n > 0)
}

/// `PRETTY_NAME` of an `/etc/os-release` text (`Ubuntu 24.04.1 LTS`), unquoted.
pub fn os_pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.trim().strip_prefix("PRETTY_NAME=")?.trim();
        let value = shell_words::split(value)
            .ok()
            .map(|words| words.join(" "))
            .unwrap_or_else(|| value.to_string());
        non_empty(&value)
    })
}

/// Whether a kernel release is WSL2's: `…-microsoft-standard-WSL2` since 5.10, and
/// `…-microsoft-standard` before; WSL1's (`4.4.0-19041-Microsoft`) is not.
pub fn is_wsl2(kernel: &str) -> bool {
    let kernel = kernel.to_ascii_lowercase();
    kernel.contains("microsoft-standard") || kernel.contains("wsl2")
}

/// A text with something in it, trimmed.
fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl HostFacts {
    /// The facts of a host from its host name, kernel release and `/etc/os-release`.
    pub fn from_texts(name: Option<&str>, kernel: Option<&str>, os_release: Option<&str>) -> Self {
        let kernel = kernel.and_then(non_empty);
        HostFacts {
            name: name.and_then(non_empty),
            os: os_release.and_then(os_pretty_name),
            wsl2: kernel.as_deref().map(is_wsl2),
            kernel,
        }
    }

    /// This machine's facts, read from `/proc` and `/etc` (the emulator target's host).
    pub fn this_machine() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        HostFacts::from_texts(
            read("/proc/sys/kernel/hostname").as_deref(),
            read("/proc/sys/kernel/osrelease").as_deref(),
            read("/etc/os-release").as_deref(),
        )
    }

    /// The facts of `host` (this machine natively, the container on the docker
    /// target): `uname -nr` and `/etc/os-release`, each within `timeout`; what cannot
    /// be read there is absent.
    pub async fn of(host: &dyn Host, timeout: Duration) -> Self {
        let (uname, os) = tokio::join!(
            host.run("uname", &["-n", "-r"], timeout),
            host.run("cat", &["/etc/os-release"], timeout)
        );
        let uname = uname.ok().filter(|o| o.success()).map(|o| o.stdout);
        let mut words = uname.as_deref().unwrap_or("").split_whitespace();
        let (name, kernel) = (words.next(), words.next());
        let os = os.ok().filter(|o| o.success()).map(|o| o.stdout);
        HostFacts::from_texts(name, kernel, os.as_deref())
    }
}

impl From<&GpuInfo> for GpuFacts {
    fn from(g: &GpuInfo) -> Self {
        GpuFacts {
            name: non_empty(&g.name),
            driver: non_empty(&g.driver_version),
            cuda: g.cuda_version(),
            vram_total_bytes: (g.memory_total > 0).then_some(g.memory_total),
        }
    }
}

impl ModelFacts {
    /// What `/api/show` tells of a model: its quantisation and size, and its context
    /// length (the Modelfile's `num_ctx`, else `<architecture>.context_length`).
    pub fn add_show(&mut self, show: &ShowResponse) {
        self.quantization = self
            .quantization
            .take()
            .or_else(|| non_empty(&show.details.quantization_level));
        self.parameter_size = self
            .parameter_size
            .take()
            .or_else(|| non_empty(&show.details.parameter_size));
        let num_ctx = show
            .parameter_pairs()
            .into_iter()
            .rev()
            .find(|(k, _)| k == "num_ctx")
            .and_then(|(_, v)| v.parse::<u64>().ok());
        let trained = show
            .model_info
            .iter()
            .find(|(k, _)| k.ends_with(".context_length"))
            .and_then(|(_, v)| v.as_u64());
        self.context_length = num_ctx.or(trained).filter(|n| *n > 0);
    }

    /// The server's settings ([`SETTINGS`]) as the environment or the server's log
    /// gives them (`OLLAMA_FLASH_ATTENTION=1` or `true`; empty: unset).
    pub fn add_settings(&mut self, settings: &BTreeMap<String, String>) {
        let get = |k: &str| {
            settings
                .get(k)
                .and_then(|v| non_empty(crate::go::env_value(v)))
        };
        self.parallel = parallel_slots(settings);
        self.flash_attention =
            get("OLLAMA_FLASH_ATTENTION").map(|v| crate::server_log::ollama_bool(&v));
        self.kv_cache_type = get("OLLAMA_KV_CACHE_TYPE");
    }
}

impl RunFacts {
    /// Every text put through `f` (the reports' masking and cutting).
    pub fn map_text(mut self, f: impl Fn(&str) -> String) -> Self {
        let each = |o: &mut Option<String>| {
            if let Some(s) = o {
                *s = f(s);
            }
        };
        if let Some(h) = &mut self.host {
            each(&mut h.name);
            each(&mut h.os);
            each(&mut h.kernel);
        }
        for g in &mut self.gpus {
            each(&mut g.name);
            each(&mut g.driver);
            each(&mut g.cuda);
        }
        if let Some(o) = &mut self.ollama {
            each(&mut o.version);
            each(&mut o.target);
        }
        for m in &mut self.models {
            each(&mut m.name);
            each(&mut m.digest);
            each(&mut m.quantization);
            each(&mut m.parameter_size);
            each(&mut m.kv_cache_type);
        }
        self
    }

    /// The host's name, where known.
    pub fn host_name(&self) -> Option<&str> {
        self.host.as_ref()?.name.as_deref()
    }

    /// Each fact as a flat (`facts.gpu.0.name`, value) pair: JUnit's properties.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut put = |key: String, v: Option<String>| {
            if let Some(v) = v {
                out.push((format!("facts.{key}"), v));
            }
        };
        if let Some(h) = &self.host {
            put("host.name".into(), h.name.clone());
            put("host.os".into(), h.os.clone());
            put("host.kernel".into(), h.kernel.clone());
            put("host.wsl2".into(), h.wsl2.map(|b| b.to_string()));
        }
        for (i, g) in self.gpus.iter().enumerate() {
            put(format!("gpu.{i}.name"), g.name.clone());
            put(format!("gpu.{i}.driver"), g.driver.clone());
            put(format!("gpu.{i}.cuda"), g.cuda.clone());
            put(
                format!("gpu.{i}.vram_total_bytes"),
                g.vram_total_bytes.map(|b| b.to_string()),
            );
        }
        if let Some(o) = &self.ollama {
            put("ollama.version".into(), o.version.clone());
            put("ollama.target".into(), o.target.clone());
        }
        for (i, m) in self.models.iter().enumerate() {
            put(format!("model.{i}.name"), m.name.clone());
            put(format!("model.{i}.digest"), m.digest.clone());
            put(format!("model.{i}.quantization"), m.quantization.clone());
            put(
                format!("model.{i}.parameter_size"),
                m.parameter_size.clone(),
            );
            put(
                format!("model.{i}.context_length"),
                m.context_length.map(|n| n.to_string()),
            );
            put(
                format!("model.{i}.parallel"),
                m.parallel.map(|n| n.to_string()),
            );
            put(
                format!("model.{i}.flash_attention"),
                m.flash_attention.map(|b| b.to_string()),
            );
            put(format!("model.{i}.kv_cache_type"), m.kv_cache_type.clone());
        }
        out
    }

    /// The host in a few words: `gpu-node-3 (Ubuntu 24.04.1 LTS, kernel 6.6.87, WSL2)`.
    pub fn host_text(&self) -> Option<String> {
        let h = self.host.as_ref()?;
        let mut about = Vec::new();
        about.extend(h.os.clone());
        about.extend(h.kernel.as_ref().map(|k| format!("kernel {k}")));
        if h.wsl2 == Some(true) {
            about.push("WSL2".into());
        }
        let name = h.name.clone().unwrap_or_else(|| "unnamed host".into());
        Some(match about.is_empty() {
            true => name,
            false => format!("{name} ({})", about.join(", ")),
        })
    }

    /// The console's line before the closing summary:
    /// `on gpu-node-3: NVIDIA GeForce RTX 4090, driver 560.94, Ollama 0.5.7`.
    pub fn line(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(g) = self.gpus.first() {
            let mut gpu = g.name.clone().unwrap_or_else(|| "a GPU".into());
            if self.gpus.len() > 1 {
                gpu = format!("{} GPUs, {gpu}", self.gpus.len());
            }
            parts.push(gpu);
            parts.extend(g.driver.as_ref().map(|d| format!("driver {d}")));
        }
        if let Some(v) = self.ollama.as_ref().and_then(|o| o.version.as_ref()) {
            parts.push(format!("Ollama {v}"));
        }
        let host = self.host_name().map(|n| format!("on {n}"));
        match (host, parts.is_empty()) {
            (None, true) => None,
            // Said, so that the line does not read as cut short.
            (Some(host), true) => Some(format!("{host}: no GPU or Ollama version known")),
            (None, false) => Some(parts.join(", ")),
            (Some(host), false) => Some(format!("{host}: {}", parts.join(", "))),
        }
    }
}

/// A GPU in a few words: `NVIDIA GeForce RTX 4090, driver 560.94, CUDA 12.6, 24.0 GiB`.
pub fn gpu_text(g: &GpuFacts) -> String {
    let mut parts = vec![g.name.clone().unwrap_or_else(|| "a GPU".into())];
    parts.extend(g.driver.as_ref().map(|d| format!("driver {d}")));
    parts.extend(g.cuda.as_ref().map(|c| format!("CUDA {c}")));
    parts.extend(
        g.vram_total_bytes
            .map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)),
    );
    parts.join(", ")
}

/// A model's facts in a few words: `Q4_K_M, 7.6B, context 8192, parallel 1, flash
/// attention on, KV cache q8_0`.
pub fn model_text(m: &ModelFacts) -> String {
    let mut parts = Vec::new();
    parts.extend(m.quantization.clone());
    parts.extend(m.parameter_size.clone());
    parts.extend(m.context_length.map(|n| format!("context {n}")));
    parts.extend(m.parallel.map(|n| format!("parallel {n}")));
    parts.extend(m.flash_attention.map(|on| match on {
        true => "flash attention on".to_string(),
        false => "flash attention off".to_string(),
    }));
    parts.extend(m.kv_cache_type.as_ref().map(|k| format!("KV cache {k}")));
    parts.extend(m.digest.as_ref().map(|d| {
        let short: String = d.chars().take(19).collect();
        match short.len() < d.len() {
            true => format!("{short}…"),
            false => short,
        }
    }));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::ubuntu(
        "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\n",
        Some("Ubuntu 24.04.1 LTS")
    )]
    #[case::debian_single_quotes(
        "PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'",
        Some("Debian GNU/Linux 12 (bookworm)")
    )]
    #[case::unquoted("ID=alpine\nPRETTY_NAME=Alpine\n", Some("Alpine"))]
    #[case::escaped("PRETTY_NAME=\"Fedora \\\"41\\\"\"", Some("Fedora \"41\""))]
    #[case::empty("PRETTY_NAME=\"\"", None)]
    #[case::missing("NAME=Arch\n", None)]
    #[case::unbalanced("PRETTY_NAME=\"Broken", Some("\"Broken"))]
    fn os_release_pretty_name(#[case] text: &str, #[case] name: Option<&str>) {
        assert_eq!(os_pretty_name(text).as_deref(), name);
    }

    #[rstest]
    #[case::wsl2_since_5_10("6.6.87.2-microsoft-standard-WSL2", true)]
    #[case::wsl2_before_5_10("4.19.104-microsoft-standard", true)]
    #[case::wsl1("4.4.0-19041-Microsoft", false)]
    #[case::ubuntu("6.8.0-49-generic", false)]
    #[case::custom_wsl2("5.15.90.1-WSL2-custom", true)]
    fn wsl2_from_the_kernel(#[case] kernel: &str, #[case] wsl2: bool) {
        assert_eq!(is_wsl2(kernel), wsl2);
        let host = HostFacts::from_texts(Some("h"), Some(&format!("{kernel}\n")), None);
        assert_eq!(host.wsl2, Some(wsl2));
        assert_eq!(host.kernel.as_deref(), Some(kernel));
    }

    /// A container's facts come from commands run in it; one it lacks leaves its fact out.
    #[tokio::test]
    async fn a_containers_facts_from_its_commands() {
        use crate::probe::host::{CmdOutput, HostError, Scripted};
        let ok = |stdout: &str| {
            Ok(CmdOutput {
                code: Some(0),
                stdout: stdout.into(),
                stderr: String::new(),
            })
        };
        let host = Scripted {
            name: "container abc",
            container: true,
            answer: Box::new(move |program, _| match program {
                "uname" => ok("3f2a9c1d7e4b 6.8.0-49-generic\n"),
                _ => Err(HostError::NotFound {
                    program: program.into(),
                    host: "container abc".into(),
                }),
            }),
        };
        let facts = HostFacts::of(&host, Duration::from_secs(1)).await;
        assert_eq!(
            facts,
            HostFacts {
                name: Some("3f2a9c1d7e4b".into()),
                os: None,
                kernel: Some("6.8.0-49-generic".into()),
                wsl2: Some(false),
            }
        );
        let bare = Scripted::empty("scratch image", true);
        assert_eq!(
            HostFacts::of(&bare, Duration::from_secs(1)).await,
            HostFacts::default()
        );
    }

    #[test]
    fn nothing_known_is_nothing_said() {
        let host = HostFacts::from_texts(Some(" \n"), None, Some("ID=x"));
        assert_eq!(host, HostFacts::default());
        let json = serde_json::to_string(&RunFacts::default()).unwrap();
        assert_eq!(json, "{}");
        assert_eq!(RunFacts::default().line(), None);
    }

    #[test]
    fn settings_as_the_log_or_the_environment_give_them() {
        let settings = |pairs: &[(&str, &str)]| {
            let mut m = ModelFacts::default();
            m.add_settings(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            (m.parallel, m.flash_attention, m.kv_cache_type)
        };
        assert_eq!(
            settings(&[
                ("OLLAMA_NUM_PARALLEL", "4"),
                ("OLLAMA_FLASH_ATTENTION", "1"),
                ("OLLAMA_KV_CACHE_TYPE", "q8_0")
            ]),
            (Some(4), Some(true), Some("q8_0".into()))
        );
        assert_eq!(
            settings(&[
                ("OLLAMA_NUM_PARALLEL", "0"),
                ("OLLAMA_FLASH_ATTENTION", "false"),
                ("OLLAMA_KV_CACHE_TYPE", "")
            ]),
            (None, Some(false), None)
        );
        assert_eq!(settings(&[]), (None, None, None));
    }

    #[test]
    fn context_from_num_ctx_else_the_model() {
        let mut show: ShowResponse = serde_json::from_value(serde_json::json!({
            "details": {"quantization_level": "Q4_K_M", "parameter_size": "7.6B"},
            "parameters": "num_ctx                        8192\nstop \"<|im_end|>\"",
            "model_info": {"qwen2.context_length": 32768}
        }))
        .unwrap();
        let mut m = ModelFacts::default();
        m.add_show(&show);
        assert_eq!(m.context_length, Some(8192));
        assert_eq!(m.quantization.as_deref(), Some("Q4_K_M"));
        show.parameters.clear();
        m.add_show(&show);
        assert_eq!(m.context_length, Some(32768));
    }

    #[test]
    fn the_line_and_the_pairs() {
        let facts = RunFacts {
            host: Some(HostFacts::from_texts(
                Some("gpu-node-3"),
                Some("6.6.87.2-microsoft-standard-WSL2"),
                Some("PRETTY_NAME=\"Ubuntu 24.04.1 LTS\""),
            )),
            gpus: vec![GpuFacts::from(&crate::gpu::emulated())],
            ollama: Some(OllamaFacts {
                version: Some("0.5.7".into()),
                target: Some("native".into()),
            }),
            models: vec![],
        };
        assert_eq!(
            facts.line().as_deref(),
            Some("on gpu-node-3: NVIDIA GeForce RTX 3060, driver 560.94, Ollama 0.5.7")
        );
        assert_eq!(
            facts.host_text().as_deref(),
            Some("gpu-node-3 (Ubuntu 24.04.1 LTS, kernel 6.6.87.2-microsoft-standard-WSL2, WSL2)")
        );
        let pairs = facts.pairs();
        assert!(pairs.contains(&("facts.gpu.0.cuda".into(), "12.6".into())));
        assert!(pairs.contains(&("facts.host.wsl2".into(), "true".into())));
        let back: RunFacts = serde_json::from_str(&serde_json::to_string(&facts).unwrap()).unwrap();
        assert_eq!(back, facts);
    }
}
