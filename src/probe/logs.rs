//! The Ollama server's log, read tolerantly: `key=value` fields (quoted values kept
//! whole, unknown fields ignored), and the handful of lines that explain a failure —
//! GPU discovery (`inference compute`), the effective settings (`server config`), the
//! listening address and version, layer offload, and trouble (truncated prompts,
//! out-of-memory). The text comes bounded (the last lines of the journal or the
//! container log) and is only ever read.

use std::collections::BTreeMap;

// Re-exported for callers of the old paths; the code lives in `crate::server_log`.
pub use crate::server_log::{
    normalise_setting, ollama_bool, same_setting, BOOL_SETTINGS, TAIL_LINES,
};

/// The `key=value` fields of one line, in order. A value in double quotes runs to its
/// closing quote (`\"` escapes one); a bare value to the next space. Words without `=`
/// are ignored.
pub fn fields(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' || start == i {
            // A word without `=`: skip it (and anything quoted in it).
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            continue;
        }
        let key: String = chars[start..i].iter().collect();
        i += 1; // '='
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            i += 1; // closing quote (or the end)
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                value.push(chars[i]);
                i += 1;
            }
        }
        out.push((key, value));
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One `inference compute` line: a device the server will run models on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeDevice {
    /// `GPU-<uuid>` for CUDA devices (a bare index in some versions), `cpu` for the
    /// CPU fallback.
    pub id: String,
    /// `cuda`/`CUDA`, `rocm`, `cpu`, ...
    pub library: String,
    pub compute: Option<String>,
    pub driver: Option<String>,
    /// The device's name: `description` since 0.13 (where `name` became `CUDA0`).
    pub name: Option<String>,
    pub total: Option<String>,
    pub available: Option<String>,
    /// The PCI bus id (`0000:01:00.0`, since 0.13): how a GPU is told apart where `id`
    /// is a bare index (newer releases renumber the devices they keep).
    pub pci_id: Option<String>,
    /// The line as logged, to quote.
    pub line: String,
}

impl ComputeDevice {
    pub fn is_cpu(&self) -> bool {
        self.library.eq_ignore_ascii_case("cpu")
    }

    pub fn is_cuda(&self) -> bool {
        self.library.eq_ignore_ascii_case("cuda")
    }

    /// Whether this device is `gpu`: by UUID (0.13 to 0.29 log it as the id), else by
    /// PCI bus id where both have one (newer ids are bare indexes, renumbered, and
    /// CUDA's order need not be NVML's), else by a bare index (older releases).
    pub fn is_gpu(&self, gpu: &crate::probe::gpu::GpuInfo) -> bool {
        use crate::probe::gpu::pci_key;
        if !gpu.uuid.is_empty() && self.id.eq_ignore_ascii_case(&gpu.uuid) {
            return true;
        }
        let pci = |p: Option<&String>| p.and_then(|p| pci_key(p));
        match (pci(self.pci_id.as_ref()), pci(gpu.pci_bus_id.as_ref())) {
            (Some(a), Some(b)) => a == b,
            _ => self.id.parse::<u32>().ok() == Some(gpu.index),
        }
    }
}

/// Layers placed on the GPU by a model load (`offloaded 20/29 layers to GPU`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offload {
    pub on_gpu: u32,
    pub total: u32,
}

/// The log as read: lines, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerLog {
    pub lines: Vec<String>,
    /// Where it came from (`journalctl -u ollama`, `the container log`).
    pub source: String,
}

impl ServerLog {
    pub fn new(source: impl Into<String>, text: &str) -> Self {
        ServerLog {
            lines: text.lines().map(str::to_string).collect(),
            source: source.into(),
        }
    }

    /// The lines since the server last started (the last `server config` line, else
    /// the last `Listening on`), so an earlier run's lines do not count.
    pub fn current(&self) -> &[String] {
        let start = self
            .lines
            .iter()
            .rposition(|l| l.contains("msg=\"server config\"") || l.contains("server config env="))
            .or_else(|| self.lines.iter().rposition(|l| l.contains("Listening on ")));
        &self.lines[start.unwrap_or(0)..]
    }

    /// The devices of the current start's `inference compute` lines.
    pub fn compute_devices(&self) -> Vec<ComputeDevice> {
        self.current()
            .iter()
            .filter(|l| l.contains("inference compute"))
            .map(|l| {
                let f = fields(l);
                let get = |k: &str| field(&f, k).filter(|v| !v.is_empty()).map(str::to_string);
                ComputeDevice {
                    id: get("id").unwrap_or_default(),
                    library: get("library").unwrap_or_default(),
                    compute: get("compute"),
                    driver: get("driver"),
                    name: get("description").or_else(|| get("name")),
                    total: get("total"),
                    available: get("available"),
                    pci_id: get("pci_id"),
                    line: l.clone(),
                }
            })
            .collect()
    }

    /// The line saying the server found no GPU it can use, if there is one.
    pub fn no_gpu_line(&self) -> Option<&str> {
        self.current()
            .iter()
            .find(|l| l.contains("no compatible GPUs were discovered"))
            .map(String::as_str)
    }

    /// The line saying the driver is too old, if there is one.
    pub fn driver_too_old_line(&self) -> Option<&str> {
        self.current()
            .iter()
            .find(|l| l.contains("driver too old") || l.contains("required_driver"))
            .map(String::as_str)
    }

    /// The effective `OLLAMA_*` settings of the current start (`server config
    /// env="map[...]"`) and the line they came from.
    pub fn server_config(&self) -> Option<(BTreeMap<String, String>, &str)> {
        let line = self
            .current()
            .iter()
            .rev()
            .find(|l| l.contains("server config"))?;
        let f = fields(line);
        let env = field(&f, "env")?;
        Some((parse_go_map(env), line.as_str()))
    }

    /// `Listening on 127.0.0.1:11434 (version 0.17.1)`: the address and the version.
    pub fn listening(&self) -> Option<(String, Option<String>)> {
        let line = self
            .lines
            .iter()
            .rev()
            .find(|l| l.contains("Listening on "))?;
        let rest = &line[line.find("Listening on ")? + "Listening on ".len()..];
        let addr = rest
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()?
            .to_string();
        let version = rest
            .find("(version ")
            .map(|i| &rest[i + "(version ".len()..])
            .and_then(|v| v.split(')').next())
            .map(str::to_string);
        Some((addr, version))
    }

    /// The lines of the last load of the weights `blob` (`sha256-…`): from the runner
    /// start whose `--model` path names it (`starting runner`, `starting llama-server`)
    /// to the next runner start, so that another model's load is not taken for it. The
    /// whole current start where no blob is given or no start line names it (a log
    /// rotated past it).
    pub fn load_of(&self, blob: Option<&str>) -> &[String] {
        let lines = self.current();
        let is_start = |l: &str| RUNNER_STARTS.iter().any(|s| l.contains(s));
        let Some(start) =
            blob.and_then(|b| lines.iter().rposition(|l| is_start(l) && l.contains(b)))
        else {
            return lines;
        };
        let end = lines[start + 1..]
            .iter()
            .position(|l| is_start(l))
            .map_or(lines.len(), |i| start + 1 + i);
        &lines[start..end]
    }

    /// The last `offloaded N/M layers to GPU` of the load of `blob` ([`load_of`]), and
    /// its line.
    pub fn offload(&self, blob: Option<&str>) -> Option<(Offload, &str)> {
        self.load_of(blob).iter().rev().find_map(|l| {
            let i = l.find("offloaded ")?;
            let rest = &l[i + "offloaded ".len()..];
            let (counts, tail) = rest.split_once(' ')?;
            if !tail.starts_with("layers to GPU") {
                return None;
            }
            let (n, m) = counts.split_once('/')?;
            Some((
                Offload {
                    on_gpu: n.parse().ok()?,
                    total: m.parse().ok()?,
                },
                l.as_str(),
            ))
        })
    }

    /// Layers the last load's fit (of `blob`, see [`load_of`]) left overflowing to the CPU, with the lines that say
    /// so: llama-server's `--fit` (newer releases) can place every layer on the GPU
    /// and still spill tensors of some (`common_params_fit_impl: - CUDA0 (…): 25
    /// layers ( 5 overflowing)`), which its `offloaded 25/25` line does not show.
    pub fn overflowing(&self, blob: Option<&str>) -> Option<(u64, Vec<&str>)> {
        let lines = self.load_of(blob);
        let is_offload = |l: &str| l.contains("offloaded ") && l.contains(" layers to GPU");
        let last = lines.iter().rposition(|l| is_offload(l))?;
        let first = lines[..last]
            .iter()
            .rposition(|l| is_offload(l))
            .map_or(0, |i| i + 1);
        let spilled: Vec<(u64, &str)> = lines[first..last]
            .iter()
            .filter(|l| l.contains("common_params_fit_impl:"))
            .filter_map(|l| {
                // `… 25 layers ( 5 overflowing),  11065 MiB used,   1036 MiB free`
                let before = &l[..l.find(" overflowing)")?];
                let n: u64 = before[before.rfind('(')? + 1..].trim().parse().ok()?;
                (n > 0).then_some((n, l.as_str()))
            })
            .collect();
        (!spilled.is_empty()).then(|| {
            (
                spilled.iter().map(|(n, _)| n).sum(),
                spilled.iter().map(|(_, l)| *l).collect(),
            )
        })
    }

    /// Model buffer sizes of the last load: `(device, MiB)` (`CUDA0`, `CPU_Mapped`).
    pub fn model_buffers(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Vec::new();
        for l in self.current() {
            let Some(i) = l.find(" model buffer size") else {
                continue;
            };
            let device = l[..i]
                .split_whitespace()
                .last()
                .unwrap_or_default()
                .to_string();
            let mib = l[i..]
                .split('=')
                .nth(1)
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok());
            if let Some(mib) = mib {
                out.retain(|(d, _)| *d != device);
                out.push((device, mib));
            }
        }
        out
    }

    /// Lines of the current start that say a prompt was cut or memory ran out. A load's
    /// allocation failure that the server recovered from (it backed off or retried,
    /// then the runner started: "model layout did not fit, applying backoff", "llama
    /// runner started in 2.1 seconds") is not trouble: that is how it fits a model.
    pub fn trouble(&self) -> Vec<&str> {
        const SIGNS: [&str; 5] = [
            "truncating input prompt",
            // A chat's history dropped to fit; logged only with OLLAMA_DEBUG=1.
            "truncating input messages",
            "runtime OOM detected",
            "out of memory",
            "cudaMalloc failed",
        ];
        const ALLOCATION: [&str; 2] = ["out of memory", "cudaMalloc failed"];
        // The Go engine's fit (backoff), llama-server's projector retry, and 0.30's
        // scheduler retry after a failed load ("… and retrying once").
        const RETRIES: [&str; 4] = [
            "applying backoff",
            "retrying without",
            "retrying with",
            "retrying once",
        ];
        const STARTED: [&str; 2] = ["runner started in", "llama-server started in"];
        const ENDED: [&str; 2] = [
            "runner process has terminated",
            "llama-server process has terminated",
        ];
        let lines = self.current();
        let has = |l: &str, any: &[&str]| any.iter().any(|s| l.contains(s));
        // Within the same load: a retry, then the start. A load that ended (its runner
        // terminated) with no retry after it, or another load starting before any
        // retry, was not recovered from.
        let recovered = |i: usize| {
            let (mut retried, mut ended) = (false, false);
            for l in &lines[i + 1..] {
                if has(l, &RETRIES) {
                    (retried, ended) = (true, false);
                } else if has(l, &STARTED) {
                    return retried && !ended;
                } else if has(l, &ENDED) {
                    ended = true;
                } else if has(l, &RUNNER_STARTS) && (ended || !retried) {
                    return false;
                }
            }
            false
        };
        lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                has(l, &SIGNS) && !(has(l, &ALLOCATION) && (has(l, &RETRIES) || recovered(*i)))
            })
            .map(|(_, l)| l.as_str())
            .collect()
    }
}

/// The line a model's load begins with: the runner process started on its weights
/// (`--model …/blobs/sha256-…`), by the Go engine or by llama-server in newer releases.
const RUNNER_STARTS: [&str; 2] = ["msg=\"starting runner\"", "msg=\"starting llama-server\""];

/// Go's `fmt` of a `map[string]string`-like value: `map[A:1 B:http://x:1 C:[a b] D:]`.
/// Spaces inside brackets belong to the value; a key runs to the first `:`.
pub fn parse_go_map(text: &str) -> BTreeMap<String, String> {
    let inner = text.trim();
    let inner = inner.strip_prefix("map[").unwrap_or(inner);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    let mut out = BTreeMap::new();
    let mut depth = 0usize;
    let mut word = String::new();
    let mut push = |word: &mut String| {
        if let Some((k, v)) = word.split_once(':') {
            if !k.is_empty() {
                out.insert(k.to_string(), v.to_string());
            }
        }
        word.clear();
    };
    for c in inner.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 => {
                push(&mut word);
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    push(&mut word);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// 0.5-era discovery (gpu.go), a 0.13+ line with its extra fields, a 0.17 CPU
    /// fallback, and an older line that still said `library=cuda` with `variant`.
    const V05: &str = r#"time=2024-12-10T09:12:01.101Z level=INFO source=types.go:131 msg="inference compute" id=GPU-8c5d1a4e-0b4f-2f1a-9d6e-7c2a1b3c4d5e library=cuda variant=v12 compute=8.6 driver=12.6 name="NVIDIA GeForce RTX 3060" total="12.0 GiB" available="11.1 GiB""#;
    const V013: &str = r#"time=2025-11-20T14:02:33.512+01:00 level=INFO source=types.go:42 msg="inference compute" id=GPU-8c5d1a4e-0b4f-2f1a-9d6e-7c2a1b3c4d5e filter_id="" library=CUDA compute=8.6 name=CUDA0 description="NVIDIA GeForce RTX 3060" libdirs=ollama,cuda_v13 driver=13.0 pci_id=0000:01:00.0 type=discrete total="12.0 GiB" available="11.3 GiB""#;
    const CPU: &str = r#"time=2026-02-01T08:00:00.000Z level=INFO source=types.go:60 msg="inference compute" id=cpu library=cpu compute="" name=cpu description=cpu libdirs=ollama driver="" pci_id="" type="" total="31.3 GiB" available="27.9 GiB""#;
    const V03: &str = r#"time=2024-08-01T10:00:00.000Z level=INFO source=types.go:105 msg="inference compute" id=0 library=cuda compute=7.5 driver=12.2 name="Tesla T4" total="14.6 GiB" available="14.5 GiB""#;

    #[rstest]
    #[case::v0_5(
        V05,
        "GPU-8c5d1a4e-0b4f-2f1a-9d6e-7c2a1b3c4d5e",
        "cuda",
        Some("8.6"),
        Some("12.6"),
        Some("NVIDIA GeForce RTX 3060")
    )]
    #[case::v0_13(
        V013,
        "GPU-8c5d1a4e-0b4f-2f1a-9d6e-7c2a1b3c4d5e",
        "CUDA",
        Some("8.6"),
        Some("13.0"),
        Some("NVIDIA GeForce RTX 3060")
    )]
    #[case::cpu_fallback(CPU, "cpu", "cpu", None, None, Some("cpu"))]
    #[case::v0_3(V03, "0", "cuda", Some("7.5"), Some("12.2"), Some("Tesla T4"))]
    fn inference_compute_across_versions(
        #[case] line: &str,
        #[case] id: &str,
        #[case] library: &str,
        #[case] compute: Option<&str>,
        #[case] driver: Option<&str>,
        #[case] name: Option<&str>,
    ) {
        let log = ServerLog::new("test", line);
        let d = &log.compute_devices()[0];
        assert_eq!(d.id, id);
        assert_eq!(d.library, library);
        assert_eq!(d.compute.as_deref(), compute);
        assert_eq!(d.driver.as_deref(), driver);
        assert_eq!(d.name.as_deref(), name);
        assert_eq!(d.is_cpu(), library == "cpu");
        assert_eq!(d.line, line);
    }

    #[rstest]
    #[case("a=1 b=\"two words\" c=", &[("a", "1"), ("b", "two words"), ("c", "")])]
    #[case("msg=\"say \\\"hi\\\"\" x=y", &[("msg", "say \"hi\""), ("x", "y")])]
    #[case("load_tensors: offloaded 29/29 layers to GPU", &[])]
    #[case("=novalue word k=v", &[("k", "v")])]
    #[case("k=\"unterminated", &[("k", "unterminated")])]
    #[case("", &[])]
    fn key_value_fields(#[case] line: &str, #[case] expected: &[(&str, &str)]) {
        let got = fields(line);
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[rstest]
    // llama.cpp's own output (0.5 to 0.12 runners)
    #[case("llm_load_tensors: offloaded 20/29 layers to GPU", Some((20, 29)))]
    #[case("load_tensors: offloaded 29/29 layers to GPU", Some((29, 29)))]
    // the Go engine (0.6+) logs it as a message
    #[case("time=2026-01-01T00:00:00Z level=INFO source=ggml.go:494 msg=\"offloaded 0/29 layers to GPU\"", Some((0, 29)))]
    #[case("offloaded some layers to GPU", None)]
    #[case("offloaded 3/4 tensors", None)]
    fn offloaded_layers(#[case] line: &str, #[case] expected: Option<(u32, u32)>) {
        let log = ServerLog::new("test", line);
        assert_eq!(
            log.offload(None).map(|(o, _)| (o.on_gpu, o.total)),
            expected
        );
    }

    #[rstest]
    #[case::v0_5(r#"time=2024-12-10T09:12:00.000Z level=INFO source=routes.go:1259 msg="server config" env="map[CUDA_VISIBLE_DEVICES: GPU_DEVICE_ORDINAL: HIP_VISIBLE_DEVICES: HSA_OVERRIDE_GFX_VERSION: HTTPS_PROXY: HTTP_PROXY: NO_PROXY: OLLAMA_DEBUG:false OLLAMA_FLASH_ATTENTION:true OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_INTEL_GPU:false OLLAMA_KEEP_ALIVE:30m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_LLM_LIBRARY: OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 OLLAMA_MODELS:/usr/share/ollama/.ollama/models OLLAMA_MULTIUSER_CACHE:false OLLAMA_NOHISTORY:false OLLAMA_NOPRUNE:false OLLAMA_NUM_PARALLEL:0 OLLAMA_ORIGINS:[* http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 https://0.0.0.0 http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://* vscode-webview://*] OLLAMA_SCHED_SPREAD:false OLLAMA_TMPDIR: ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]""#, "0")]
    #[case::v0_17(r#"time=2026-03-02T10:00:00.000Z level=INFO source=routes.go:1610 msg="server config" env="map[CUDA_VISIBLE_DEVICES: OLLAMA_CONTEXT_LENGTH:4096 OLLAMA_DEBUG:INFO OLLAMA_FLASH_ATTENTION:true OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 OLLAMA_MODELS:/usr/share/ollama/.ollama/models OLLAMA_NEW_ENGINE:false OLLAMA_NUM_PARALLEL:1 OLLAMA_ORIGINS:[* http://localhost https://localhost] OLLAMA_REMOTES:[ollama.com] OLLAMA_SCHED_SPREAD:false OLLAMA_VULKAN:false ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]""#, "1")]
    fn server_config_across_versions(#[case] line: &str, #[case] parallel: &str) {
        let log = ServerLog::new("test", line);
        let (env, quoted) = log.server_config().unwrap();
        assert_eq!(quoted, line);
        assert_eq!(env["OLLAMA_HOST"], "http://0.0.0.0:11434");
        assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "true");
        assert_eq!(env["OLLAMA_KEEP_ALIVE"], "30m0s");
        assert_eq!(env["OLLAMA_NUM_PARALLEL"], parallel);
        assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "");
        assert!(env["OLLAMA_ORIGINS"].starts_with("[* http://localhost"));
    }

    #[test]
    fn listening_address_and_version() {
        let log = ServerLog::new(
            "test",
            "time=2026-03-02T10:00:00.000Z level=INFO source=routes.go:1663 msg=\"Listening on [::]:11434 (version 0.17.1)\"\n",
        );
        assert_eq!(
            log.listening(),
            Some(("[::]:11434".into(), Some("0.17.1".into())))
        );
        let old = ServerLog::new(
            "t",
            "2024/01/01 00:00:00 routes.go:1000: Listening on 127.0.0.1:11434 (version 0.1.20)",
        );
        assert_eq!(old.listening().unwrap().1.as_deref(), Some("0.1.20"));
    }

    #[test]
    fn only_the_current_start_counts() {
        let text = [
            r#"msg="server config" env="map[OLLAMA_FLASH_ATTENTION:false]""#,
            "load_tensors: offloaded 10/29 layers to GPU",
            "runtime OOM detected",
            r#"msg="server config" env="map[OLLAMA_FLASH_ATTENTION:true]""#,
            V013,
            "load_tensors:        CUDA0 model buffer size =  4168.09 MiB",
            "load_tensors:   CPU_Mapped model buffer size =   292.36 MiB",
            "load_tensors: offloaded 29/29 layers to GPU",
        ]
        .join("\n");
        let log = ServerLog::new("test", &text);
        assert_eq!(
            log.server_config().unwrap().0["OLLAMA_FLASH_ATTENTION"],
            "true"
        );
        assert_eq!(log.offload(None).unwrap().0.on_gpu, 29);
        assert!(log.trouble().is_empty());
        assert_eq!(log.compute_devices().len(), 1);
        assert_eq!(
            log.model_buffers(),
            [
                ("CUDA0".to_string(), 4168.09),
                ("CPU_Mapped".to_string(), 292.36)
            ]
        );
    }

    #[test]
    fn trouble_and_fallback_lines_are_found() {
        let text = [
            r#"time=2026-01-01T00:00:00Z level=INFO source=gpu.go:377 msg="no compatible GPUs were discovered""#,
            CPU,
            r#"time=2026-01-01T00:00:05Z level=WARN source=runner.go:153 msg="truncating input prompt" limit=4096 prompt=9123 keep=4 new=4096"#,
            r#"time=2026-01-01T00:00:09Z level=WARN source=server.go:600 msg="runtime OOM detected, retrying""#,
            "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 6144.00 MiB on device 0: cudaMalloc failed: out of memory",
        ]
        .join("\n");
        let log = ServerLog::new("test", &text);
        assert!(log.no_gpu_line().is_some());
        assert_eq!(log.trouble().len(), 3);
        assert!(log.compute_devices()[0].is_cpu());
    }

    /// A log of the server's start (the CPU line) and then `lines`.
    fn after_start(lines: &[&str]) -> ServerLog {
        let text: Vec<&str> = [CPU].iter().chain(lines).copied().collect();
        ServerLog::new("test", &text.join("\n"))
    }

    #[test]
    fn layers_the_fit_left_overflowing() {
        let fit = |n: u32| {
            format!("common_params_fit_impl:   - CUDA0 (NVIDIA GeForce RTX 3060): 25 layers ( {n} overflowing),  11065 MiB used,   1036 MiB free")
        };
        let offloaded = r#"time=2026-01-01T00:00:03Z level=INFO source=llama_server.go:1200 msg="offloaded 25/25 layers to GPU""#;
        let log = after_start;
        let spill = fit(5);
        let spilled = log(&[&spill, offloaded]);
        assert_eq!(spilled.overflowing(None), Some((5, vec![spill.as_str()])));
        assert_eq!(log(&[&fit(0), offloaded]).overflowing(None), None);
        // Only the last load's fit counts.
        assert_eq!(
            log(&[&spill, offloaded, &fit(0), offloaded]).overflowing(None),
            None
        );
        assert_eq!(log(&[offloaded]).overflowing(None), None);
    }

    /// The Go engine fits a model by trying: an allocation failure it backed off from
    /// and then started is no trouble; one it did not start after still is.
    #[test]
    fn an_allocation_failure_recovered_from_is_no_trouble() {
        let oom = "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 6144.00 MiB on device 0: cudaMalloc failed: out of memory";
        let backoff = r#"time=2026-01-01T00:00:02Z level=INFO source=server.go:879 msg="model layout did not fit, applying backoff" backoff=0.10"#;
        let started = r#"time=2026-01-01T00:00:04Z level=INFO source=server.go:1388 msg="llama runner started in 3.21 seconds""#;
        let log = after_start;
        assert!(log(&[oom, backoff, started]).trouble().is_empty());
        // A load that failed, then another model's retried and started load.
        let ended = r#"time=2026-01-01T00:00:03Z level=ERROR source=sched.go:455 msg="error loading llama server" error="llama runner process has terminated: cudaMalloc failed: out of memory""#;
        let next = r#"time=2026-01-01T00:01:00Z level=INFO source=server.go:431 msg="starting runner" cmd="/usr/bin/ollama runner --model /m/blobs/sha256-b""#;
        assert!(!log(&[oom, ended, next, backoff, started])
            .trouble()
            .is_empty());
        // 0.30's scheduler: the load failed, it retried once, and the model started.
        let failed = r#"time=2026-08-01T00:00:03Z level=INFO source=sched.go:641 msg="Load failed" model=/m/blobs/sha256-a error="llama-server process has terminated: cudaMalloc failed: out of memory""#;
        let once = r#"time=2026-08-01T00:00:03Z level=WARN source=sched.go:652 msg="llama-server load failed; reducing automatic context and retrying once" error="cudaMalloc failed: out of memory""#;
        let again = r#"time=2026-08-01T00:00:04Z level=INFO source=llama_server.go:433 msg="starting llama-server" cmd="/usr/lib/ollama/llama-server --model /m/blobs/sha256-a""#;
        let up = r#"time=2026-08-01T00:00:06Z level=INFO source=llama_server.go:1362 msg="llama-server started in 2.10 seconds""#;
        assert!(log(&[oom, failed, once, again, up]).trouble().is_empty());
        assert_eq!(
            log(&[oom, failed, again, up]).trouble().len(),
            2,
            "no retry"
        );
        assert_eq!(
            log(&[oom, next, backoff, started]).trouble(),
            [oom],
            "another load"
        );
        assert_eq!(log(&[oom, backoff]).trouble(), [oom], "never started");
        assert_eq!(
            log(&[oom, started]).trouble(),
            [oom],
            "no retry: the load failed"
        );
        assert_eq!(
            log(&[backoff, started, oom]).trouble(),
            [oom],
            "after the start"
        );
        let dropped = r#"time=2026-01-01T00:00:09Z level=DEBUG source=prompt.go:73 msg="truncating input messages which exceed context length" truncated=4"#;
        assert_eq!(log(&[dropped]).trouble(), [dropped]);
    }

    #[test]
    fn go_maps_keep_bracketed_values_whole() {
        let m = parse_go_map("map[A:1 B:[x y z] C: D:http://h:1]");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "[x y z]");
        assert_eq!(m["C"], "");
        assert_eq!(m["D"], "http://h:1");
        assert!(parse_go_map("").is_empty());
    }
}
