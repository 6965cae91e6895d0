//! The emulated server's log: real-shaped lines (the 0.13+ `key=value` form) at start
//! (`server config`, `Listening on`, `inference compute` or the CPU fallback) and on
//! each model load (`offloaded N/M layers to GPU`, buffer sizes), plus configured
//! extra lines. The `LogBuffer` of `log_buffer.rs` keeps them.

use super::config::EmulatorConfig;
use super::state::Installed;
use crate::server_log::normalise_setting;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// `time=... level=INFO source=file msg="..."` and the fields after it.
fn line(level: &str, source: &str, msg: &str, fields: &str) -> String {
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(" {fields}")
    };
    format!("time={time} level={level} source={source} msg=\"{msg}\"{fields}")
}

/// The `server config` map: the server's defaults, then the configured settings in the
/// form the real server prints them.
pub fn server_config_map(config: &EmulatorConfig, addr: SocketAddr) -> String {
    let context = if config.vram_based_context() {
        "0"
    } else {
        "4096"
    };
    let mut env: BTreeMap<String, String> = [
        ("OLLAMA_CONTEXT_LENGTH", context),
        ("OLLAMA_DEBUG", "INFO"),
        ("OLLAMA_FLASH_ATTENTION", "false"),
        ("OLLAMA_GPU_OVERHEAD", "0"),
        ("OLLAMA_KEEP_ALIVE", "5m0s"),
        ("OLLAMA_KV_CACHE_TYPE", ""),
        ("OLLAMA_LOAD_TIMEOUT", "5m0s"),
        ("OLLAMA_MAX_LOADED_MODELS", "0"),
        ("OLLAMA_MAX_QUEUE", "512"),
        ("OLLAMA_MODELS", "/root/.ollama/models"),
        ("OLLAMA_SCHED_SPREAD", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert(
        "OLLAMA_ORIGINS".into(),
        normalise_setting("OLLAMA_ORIGINS", ""),
    );
    env.insert(
        "OLLAMA_NUM_PARALLEL".into(),
        config.num_parallel.to_string(),
    );
    for (k, v) in &config.env {
        env.insert(k.clone(), normalise_setting(k, v));
    }
    // Where it listens, whatever the setting said (a port of 0 became a real one).
    env.insert("OLLAMA_HOST".into(), format!("http://{addr}"));
    let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!(
        "map[CUDA_VISIBLE_DEVICES: {} ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]",
        pairs.join(" ")
    )
}

/// What the server logs as it starts.
pub fn startup(config: &EmulatorConfig, addr: SocketAddr) -> Vec<String> {
    let gpu = crate::gpu::emulated();
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    let mut out = vec![
        line(
            "INFO",
            "routes.go:1610",
            "server config",
            &format!("env=\"{}\"", server_config_map(config, addr)),
        ),
        line("INFO", "images.go:522", "total blobs: 6", ""),
        line(
            "INFO",
            "routes.go:1663",
            &format!("Listening on {addr} (version {})", config.version),
            "",
        ),
        line("INFO", "runner.go:67", "discovering available GPUs...", ""),
    ];
    if config.gpu_discovered {
        let (major, minor) = gpu.compute_capability.unwrap_or((8, 6));
        out.push(line(
            "INFO",
            "types.go:42",
            "inference compute",
            &format!(
                "id={} filter_id=\"\" library=CUDA compute={major}.{minor} name=CUDA0 description=\"{}\" libdirs=ollama,cuda_v12 driver={} pci_id=0000:01:00.0 type=discrete total=\"{}\" available=\"{}\"",
                gpu.uuid,
                gpu.name,
                gpu.cuda_version().unwrap_or_default(),
                gib(gpu.memory_total),
                gib(gpu.memory_total - gpu.memory_used)
            ),
        ));
    } else {
        // The CPU fallback as Ollama 0.12.5 on logs it; "no compatible GPUs were
        // discovered" went with 0.12.4's discovery code.
        out.push(line(
            "INFO",
            "types.go:60",
            "inference compute",
            "id=cpu library=cpu compute=\"\" name=cpu description=cpu libdirs=ollama driver=\"\" pci_id=\"\" type=\"\" total=\"31.3 GiB\" available=\"27.9 GiB\"",
        ));
    }
    if config.vram_based_context() {
        let vram = if config.gpu_discovered {
            gpu.memory_total
        } else {
            0
        };
        out.push(line(
            "INFO",
            "routes.go:1768",
            "vram-based default context",
            // The VRAM tier, which OLLAMA_CONTEXT_LENGTH overrides but does not change.
            &format!("total_vram=\"{}\" default_num_ctx=4096", gib(vram)),
        ));
    }
    out.extend(config.log_lines.iter().cloned());
    out
}

/// What the server logs when it loads `m` with `context` tokens of context.
pub fn load(config: &EmulatorConfig, m: &Installed, context: u64) -> Vec<String> {
    let layers = m.base.block_count + 1;
    let on_gpu = (layers as f64 * config.effective_offload()).round() as u64;
    let mib = m.size as f64 / (1024.0 * 1024.0);
    let gpu_mib = mib * on_gpu as f64 / layers as f64;
    let parallel = config.parallel_slots();
    let mut out = vec![
        line(
            "INFO",
            "server.go:400",
            "starting runner",
            &format!(
                "cmd=\"/usr/bin/ollama runner --model /root/.ollama/models/blobs/sha256-{} --ctx-size {context} --batch-size 512 --n-gpu-layers {on_gpu} --parallel {parallel} --port 40613\"",
                m.base.weights_digest()
            ),
        ),
        line(
            "INFO",
            "ggml.go:494",
            &format!("offloaded {on_gpu}/{layers} layers to GPU"),
            "",
        ),
    ];
    if on_gpu > 0 {
        out.push(format!(
            "load_tensors:        CUDA0 model buffer size = {gpu_mib:8.2} MiB"
        ));
    }
    out.push(format!(
        "load_tensors:   CPU_Mapped model buffer size = {:8.2} MiB",
        (mib - gpu_mib).max(292.36)
    ));
    out.push(line(
        "INFO",
        "server.go:637",
        &format!(
            "llama runner started in {:.2} seconds",
            config.load_time_ms as f64 / 1000.0
        ),
        "",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::logs::ServerLog;

    fn addr() -> SocketAddr {
        "127.0.0.1:11434".parse().unwrap()
    }

    #[test]
    fn startup_lines_parse_as_the_real_ones_do() {
        let mut config = EmulatorConfig::default();
        config
            .env
            .insert("OLLAMA_FLASH_ATTENTION".into(), "1".into());
        config.env.insert("OLLAMA_KEEP_ALIVE".into(), "30m".into());
        let log = ServerLog::new("emulator", &startup(&config, addr()).join("\n"));
        let devices = log.compute_devices();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].id, crate::gpu::emulated().uuid);
        assert!(devices[0].is_cuda());
        assert_eq!(devices[0].compute.as_deref(), Some("8.6"));
        assert_eq!(devices[0].name.as_deref(), Some("NVIDIA GeForce RTX 3060"));
        let (env, _) = log.server_config().unwrap();
        assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "true");
        assert_eq!(env["OLLAMA_KEEP_ALIVE"], "30m0s");
        assert_eq!(env["OLLAMA_HOST"], "http://127.0.0.1:11434");
        assert_eq!(
            log.listening(),
            Some(("127.0.0.1:11434".into(), Some("0.17.1".into())))
        );
        assert!(log.no_gpu_line().is_none());
    }

    /// Since 0.15.5 the default context comes from VRAM: the config map shows
    /// OLLAMA_CONTEXT_LENGTH as 0 unless it is set, and the choice is logged.
    #[rstest::rstest]
    #[case::vram_tiered("0.17.1", None, "0", true)]
    #[case::set("0.17.1", Some("8192"), "8192", true)]
    #[case::fixed("0.15.4", None, "4096", false)]
    fn the_default_context_is_shown_as_the_version_does(
        #[case] version: &str,
        #[case] set: Option<&str>,
        #[case] shown: &str,
        #[case] logged: bool,
    ) {
        let mut config = EmulatorConfig {
            version: version.into(),
            ..Default::default()
        };
        if let Some(v) = set {
            config.env.insert("OLLAMA_CONTEXT_LENGTH".into(), v.into());
        }
        let lines = startup(&config, addr());
        let log = ServerLog::new("emulator", &lines.join("\n"));
        assert_eq!(
            log.server_config().unwrap().0["OLLAMA_CONTEXT_LENGTH"],
            shown
        );
        assert_eq!(
            lines.iter().any(|l| l.contains(
                "msg=\"vram-based default context\" total_vram=\"12.0 GiB\" default_num_ctx=4096"
            )),
            logged
        );
    }

    #[test]
    fn without_a_gpu_the_cpu_fallback_is_logged() {
        let config = EmulatorConfig {
            gpu_discovered: false,
            log_lines: vec!["runtime OOM detected".into()],
            ..Default::default()
        };
        let log = ServerLog::new("emulator", &startup(&config, addr()).join("\n"));
        // As 0.12.5 and later log it: no "no compatible GPUs" line, a CPU device.
        assert!(log.no_gpu_line().is_none());
        assert!(log.compute_devices()[0].is_cpu());
        assert_eq!(log.trouble(), ["runtime OOM detected"]);
    }

    #[test]
    fn a_load_logs_its_offload() {
        let models = super::super::state::seed(&EmulatorConfig::default()).unwrap();
        let m = models.get("my-coder").unwrap();
        for (offload, expected) in [(1.0, (29, 29)), (0.6, (17, 29)), (0.0, (0, 29))] {
            let config = EmulatorConfig {
                gpu_offload: offload,
                ..Default::default()
            };
            let mut lines = startup(&config, addr());
            lines.extend(load(&config, m, 16384));
            let log = ServerLog::new("emulator", &lines.join("\n"));
            let (o, _) = log.offload(None).unwrap();
            assert_eq!((o.on_gpu, o.total), expected);
            assert_eq!(
                log.model_buffers().iter().any(|(d, _)| d == "CUDA0"),
                expected.0 > 0
            );
        }
    }
}
