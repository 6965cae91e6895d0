//! `diagnose.*`: why a verification check fails, from the server's log, NVML and the
//! host. Each verdict quotes its evidence (a log line, NVML's figures, /proc) and ends
//! with the next step; where a fact cannot exist here it skips with the reason.

use crate::check::Outcome;
use crate::client::types::{PsResponse, RunningModel};
use crate::client::ServerKind;
use crate::probe::gpu::{pci_key, GpuError, GpuInfo};
use crate::probe::logs::{same_setting, ComputeDevice, ServerLog};
use crate::probe::procfs::{Platform, PortOwners, WSL_LIB_DIR};
use crate::probe::service::ServiceFacts;
use crate::{ClientError, ModelName};

// Re-exported for callers of the old path; the code lives in `crate::version`.
pub use crate::version::{version_key, PreRelease, VersionKey};

const GIB: f64 = (1u64 << 30) as f64;

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / GIB)
}

/// A log line as a quote, cut to a readable length.
pub fn quote(line: &str) -> String {
    const MAX: usize = 240;
    let line = line.trim();
    if line.chars().count() <= MAX {
        format!("\"{line}\"")
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("\"{cut}…\"")
    }
}

/// The GPUs NVML lists, or the skip that says why there are none to compare with.
fn nvml_gpus(gpus: &Result<Vec<GpuInfo>, GpuError>) -> Result<&[GpuInfo], Outcome> {
    match gpus {
        Err(GpuError::Disabled) => Err(Outcome::skip(GpuError::Disabled.to_string())),
        Err(e) => Err(Outcome::skip(format!(
            "the GPUs cannot be read (see gpu.visible): {e}"
        ))),
        Ok(list) if list.is_empty() => Err(Outcome::skip(
            "NVML lists no GPU, so there is nothing the server should have found (see gpu.visible)",
        )),
        Ok(list) => Ok(list),
    }
}

fn log_of(log: &Result<ServerLog, String>) -> Result<&ServerLog, Outcome> {
    log.as_ref().map_err(|reason| Outcome::skip(reason.clone()))
}

/// `diagnose.gpu_discovered`: the server's `inference compute` lines name a CUDA
/// device for every GPU NVML sees.
pub fn gpu_discovered(
    log: &Result<ServerLog, String>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
) -> Outcome {
    let gpus = match nvml_gpus(gpus) {
        Ok(g) => g,
        Err(o) => return o,
    };
    let log = match log_of(log) {
        Ok(l) => l,
        Err(o) => return o,
    };
    let devices = log.compute_devices();
    let seen = gpus
        .iter()
        .map(|g| format!("{} ({})", g.name, g.uuid))
        .collect::<Vec<_>>()
        .join(", ");
    let next = discovery_next(&log.server);
    if let Some(old) = log.driver_too_old_line() {
        return Outcome::fail(format!(
            "NVML sees {seen}, but the server refused the driver: {}. Next: install a newer NVIDIA driver (see diagnose.driver_floor), then restart the server",
            quote(old)
        ))
        .with_value("driver too old");
    }
    let cuda: Vec<_> = devices.iter().filter(|d| d.is_cuda()).collect();
    // Vulkan (on by default in newer releases) takes a GPU that CUDA dropped: a GPU
    // all the same, but not the CUDA one the checks measure.
    // One of NVML's GPUs: the same PCI bus id, or the same name give or take the
    // "NVIDIA " prefix ("Tesla P4" under Vulkan), as Ollama's own matching does.
    let bare = |n: &str| n.trim().trim_start_matches("NVIDIA ").to_ascii_lowercase();
    let nvidia = |d: &&ComputeDevice| {
        let pci = d.pci_id.as_deref().and_then(pci_key);
        gpus.iter().any(|g| {
            pci.is_some() && pci == g.pci_bus_id.as_deref().and_then(pci_key)
                || d.name.as_deref().is_some_and(|n| bare(n) == bare(&g.name))
        }) || d
            .name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().contains("nvidia"))
    };
    let other = devices
        .iter()
        .filter(|d| !d.is_cuda() && !d.is_cpu())
        .find(nvidia);
    if let (true, Some(d)) = (cuda.is_empty(), other) {
        return Outcome::fail(format!(
            "NVML sees {seen}, but the server drives it through {}, not CUDA: {} ({}). CUDA dropped it: the build's CUDA libraries have no kernels for its compute capability, or the service cannot load them. {next}",
            d.library,
            quote(&d.line),
            log.source
        ))
        .with_value(format!("library={}", d.library));
    }
    if cuda.is_empty() {
        let evidence = log.no_gpu_line().or_else(|| {
            devices
                .iter()
                .find(|d| d.is_cpu())
                .or(devices.first())
                .map(|d| d.line.as_str())
        });
        return match evidence {
            Some(line) => Outcome::fail(format!(
                "NVML sees {seen}, but the server found no CUDA device for it: {} ({}). {next}",
                quote(line),
                log.source
            ))
            .with_value("no CUDA device"),
            None => Outcome::skip(format!(
                "{} since the server's last start holds no `inference compute` line (the log may have rotated past it); {}",
                log.source,
                log.server.restart_logs()
            )),
        };
    }
    let missing: Vec<&GpuInfo> = gpus
        .iter()
        .filter(|g| !cuda.iter().any(|d| d.is_gpu(g)))
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|g| format!("{} ({})", g.name, g.uuid))
            .collect();
        let found: Vec<&str> = cuda.iter().map(|d| d.id.as_str()).collect();
        return Outcome::fail(format!(
            "NVML sees {}, but the server's `inference compute` lines name only {}: {} is not used. Check CUDA_VISIBLE_DEVICES in the service's environment. {next}",
            seen,
            found.join(", "),
            names.join(", ")
        ))
        .with_value(format!("{}/{} GPU(s)", gpus.len() - missing.len(), gpus.len()));
    }
    let first = cuda[0];
    Outcome::pass(format!(
        "the server found every GPU NVML sees: {} ({}, compute {}, CUDA driver {}), per {}",
        first.name.as_deref().unwrap_or("?"),
        first.id,
        first.compute.as_deref().unwrap_or("?"),
        first.driver.as_deref().unwrap_or("?"),
        log.source
    ))
    .with_value(format!("{}/{} GPU(s)", gpus.len(), gpus.len()))
}

/// What to do when the server does not drive the GPU NVML sees, where it runs.
fn discovery_next(server: &ServerKind) -> String {
    match server {
        ServerKind::Service => "Next: check that the service's user can open /dev/nvidia* and load the CUDA libraries (`journalctl -u ollama | grep -i -e cuda -e nvidia`); on WSL2, that /usr/lib/wsl/lib is in `ldconfig -p`; then `sudo systemctl restart ollama` and look for `inference compute ... library=cuda`".into(),
        ServerKind::Container { .. } => format!(
            "Next: check that the container gets the GPU: the NVIDIA Container Toolkit on the Docker host (`sudo nvidia-ctk runtime configure --runtime=docker`, then restart Docker) and --gpus; {}",
            server.grep_log("-i -e cuda -e nvidia")
        ),
        ServerKind::Emulator => format!("Next: {}", server.grep_log("")),
    }
}

/// `5.0` → (5, 0).
pub fn parse_capability(text: &str) -> Option<(i32, i32)> {
    let (a, b) = text.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The first builds whose GPU discovery drops a GPU on a driver below the floors:
/// 0.30.0-rc0 the 570 of compute capability below 7 (`filterOldCUDADriver`),
/// 0.30.11-rc1 the 550 of all the others. An older server still uses the GPU on an older driver.
const LEGACY_FLOOR_FROM: &str = "0.30.0-rc0";
const FLOOR_FROM: &str = "0.30.11-rc1";

/// `diagnose.driver_floor`: every GPU's driver is at least `floor`, or `old_floor` for
/// compute capabilities from `old_from` to `old_to`. Below it, a server that enforces
/// the floor (by `version`; unknown counts as current) drops the GPU: that fails. One
/// older than that still uses it: that warns, since upgrading Ollama will need it.
pub fn driver_floor(
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    version: Option<&str>,
    floor: u32,
    old_floor: u32,
    (old_from, old_to): ((i32, i32), (i32, i32)),
) -> Outcome {
    let gpus = match nvml_gpus(gpus) {
        Ok(g) => g,
        Err(o) => return o,
    };
    let server = version
        .and_then(version_key)
        .filter(|(n, _, _)| n.iter().any(|&x| x > 0));
    let enforces = |from: &str| match (&server, version_key(from)) {
        (Some(have), Some(need)) => *have >= need,
        _ => true,
    };
    let mut passed = Vec::new();
    for g in gpus {
        let Some(major) = g
            .driver_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
        else {
            return Outcome::skip(format!(
                "the driver version `{}` is not a number to compare",
                g.driver_version
            ));
        };
        let cc = g.compute_capability;
        let old = cc.is_some_and(|c| c >= old_from && c <= old_to);
        let required = if old { old_floor } else { floor };
        let cc_text = cc.map_or("unknown".to_string(), |(a, b)| format!("{a}.{b}"));
        let from = if old { LEGACY_FLOOR_FROM } else { FLOOR_FROM };
        if major < required && !enforces(from) {
            return Outcome::warn(format!(
                "{}: driver {} is below {required}, the oldest Ollama {from} and later support for compute capability {cc_text}. This server ({}) does not require it yet and still uses the GPU, but upgrading Ollama will drop it to the CPU. Next: install NVIDIA driver {required} or newer before upgrading Ollama",
                g.name, g.driver_version, version.unwrap_or_default()
            ))
            .with_value(format!("{}, cc {cc_text}", g.driver_version));
        }
        if major < required {
            return Outcome::fail(format!(
                "{}: driver {} is below {required}, the oldest current Ollama supports for compute capability {cc_text} ({floor}; {old_floor} for {}.{} to {}.{}): the server falls back to the CPU. Next: install NVIDIA driver {required} or newer (`sudo ubuntu-drivers install`, or the Windows driver on WSL2), then restart the server",
                g.name, g.driver_version, old_from.0, old_from.1, old_to.0, old_to.1
            ))
            .with_value(format!("{}, cc {cc_text}", g.driver_version));
        }
        passed.push(format!(
            "{}: driver {} ≥ {required} (compute capability {cc_text})",
            g.name, g.driver_version
        ));
    }
    let first = &gpus[0];
    Outcome::pass(passed.join("; ")).with_value(format!(
        "{}, cc {}",
        first.driver_version,
        first
            .compute_capability
            .map_or("?".to_string(), |(a, b)| format!("{a}.{b}"))
    ))
}

fn loaded<'a>(
    ps: &'a Result<PsResponse, ClientError>,
    model: &str,
    unreachable: Option<&str>,
) -> Result<&'a RunningModel, Outcome> {
    let ps = match ps {
        Err(e) => {
            if let Some(skip) = super::echo_of_root(e, unreachable) {
                return Err(skip);
            }
            return Err(Outcome::skip(format!(
                "`/api/ps` failed (see gpu.offload): {e}"
            )));
        }
        Ok(ps) => ps,
    };
    let name = ModelName::parse(model);
    ps.find(model).ok_or_else(|| {
        Outcome::skip(format!(
            "{} is not loaded (see gpu.offload)",
            name.display_name()
        ))
    })
}

/// `diagnose.offload`: while the model generates, an Ollama process holds VRAM in
/// NVML's process list (the truth behind `/api/ps`'s `100% GPU`), and the log's
/// `offloaded N/M layers to GPU` of its load (the runner started on its weights `blob`)
/// says how much sits there.
pub fn offload(
    ps: &Result<PsResponse, ClientError>,
    (model, blob): (&str, Option<&str>),
    answered: &Result<(), ClientError>,
    samples: &Result<Vec<Vec<GpuInfo>>, GpuError>,
    log: &Result<ServerLog, String>,
    unreachable: Option<&str>,
) -> Outcome {
    if let Err(e) = answered {
        return match unreachable {
            Some(reason) if e.is_unresponsive() => Outcome::skip(reason),
            _ => Outcome::skip(format!("the model could not generate (see api.chat): {e}")),
        };
    }
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        Err(o) => return o,
    };
    let samples = match samples {
        Err(GpuError::Disabled) => return Outcome::skip(GpuError::Disabled.to_string()),
        Err(e) => return Outcome::skip(format!("the GPUs cannot be read (see gpu.visible): {e}")),
        Ok(s) => s,
    };
    let layers = log.as_ref().ok().and_then(|l| l.offload(blob));
    let layers_text = layers.map(|(o, _)| {
        format!(
            "the log says offloaded {}/{} layers to GPU",
            o.on_gpu, o.total
        )
    });
    let api = format!(
        "`/api/ps` says {} ({} of {} in VRAM)",
        m.placement(),
        gib(m.size_vram),
        gib(m.size)
    );
    // The log's layer count is the server's own account of the load.
    if let Some((o, line)) = layers {
        if o.on_gpu == 0 {
            // A server that found a GPU and still placed nothing on it did not fail
            // discovery: it had no room, or was told not to (num_gpu 0).
            let found = log
                .as_ref()
                .ok()
                .and_then(|l| l.compute_devices().into_iter().find(|d| d.is_cuda()));
            let next = match found {
                Some(d) => {
                    let told = format!(
                        "look for `num_gpu 0` in the model's parameters (`ollama show {model} --parameters`) or the requests' options"
                    );
                    let gpu = samples.last().and_then(|gpus| gpus.first());
                    let free = gpu.map(|g| (g.memory_total.saturating_sub(g.memory_used), g.memory_total));
                    let why = match free {
                        // Room for the whole model: VRAM was not what kept it off.
                        Some((free, total)) if free >= m.size => format!(
                            "and {} of {} was free during the generation, room for the whole model, so it was likely told to use none. Next: {told}",
                            gib(free),
                            gib(total)
                        ),
                        Some((free, total)) => format!(
                            "so it had too little free VRAM for a layer ({} of {} free during the generation) or was told to use none. Next: free VRAM (other processes in `nvidia-smi`), and {told}",
                            gib(free),
                            gib(total)
                        ),
                        None => format!(
                            "so it had too little free VRAM for a layer or was told to use none. Next: free VRAM (other processes in `nvidia-smi`), and {told}"
                        ),
                    };
                    format!("; the server found the GPU ({}), {why}", quote(&d.line))
                }
                None => ". Next: see diagnose.gpu_discovered and diagnose.driver_floor for why the GPU is not used".into(),
            };
            return Outcome::fail(format!(
                "{}: the model runs on the CPU; {api}{next}",
                quote(line)
            ))
            .with_value(format!("offloaded 0/{} layers", o.total));
        }
        if o.on_gpu < o.total {
            return Outcome::warn(format!(
                "{}: {} of {} layers run on the CPU, which slows generation several-fold; {api}. Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx or OLLAMA_NUM_PARALLEL, or use a smaller quantisation",
                quote(line),
                o.total - o.on_gpu,
                o.total
            ))
            .with_value(format!("offloaded {}/{} layers", o.on_gpu, o.total));
        }
        // Every layer placed, yet the fit spilled tensors of some to the CPU.
        if let Some((n, lines)) = log.as_ref().ok().and_then(|l| l.overflowing(blob)) {
            return Outcome::warn(format!(
                "{}, but the fit left {n} of them overflowing to the CPU: {}; {api}. Parts of those layers run on the CPU, which slows generation. Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx, or use a smaller quantisation",
                quote(line),
                lines.iter().map(|l| quote(l)).collect::<Vec<_>>().join("; ")
            ))
            .with_value(format!("{n} layer(s) overflowing"));
        }
    }
    let Some(lists) = samples
        .iter()
        .map(|gpus| {
            gpus.iter()
                .map(|g| g.processes.clone())
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()
    else {
        let why = if samples.iter().flatten().any(|g| g.emulated) {
            "the emulated GPU cannot say which process of another target holds VRAM"
        } else {
            "this GPU source does not list the processes holding VRAM (nvidia-smi without process queries)"
        };
        return match layers_text {
            Some(t) => Outcome::pass(format!("{t}; {api}; {why}"))
                .with_value(t.replace("the log says ", "")),
            None => Outcome::skip(match log {
                Ok(_) => format!("{why}, and the log has no offload line"),
                Err(e) => format!("{why}, and the server's log cannot be read: {e}"),
            }),
        };
    };
    // The most VRAM an Ollama process held in any sample, and who held it.
    let mut best: (u64, String) = (0, String::new());
    let mut others = Vec::new();
    for sample in &lists {
        let mut held = 0;
        let mut who = Vec::new();
        for p in sample.iter().flatten() {
            if p.is_ollama() {
                held += p.used_bytes.unwrap_or(0);
                who.push(format!("pid {} {}", p.pid, p.name));
            } else if !others.contains(&p.name) {
                others.push(p.name.clone());
            }
        }
        if held >= best.0 {
            best = (held, who.join(", "));
        }
    }
    let busy = samples
        .iter()
        .flatten()
        .filter_map(|g| g.utilization_percent)
        .max();
    let in_use: u64 = samples
        .iter()
        .map(|gpus| gpus.iter().map(|g| g.memory_used).sum::<u64>())
        .max()
        .unwrap_or(0);
    let busy_text = busy.map_or(String::new(), |b| {
        format!("; the GPU was up to {b}% busy during the generation")
    });
    let layers_part = layers_text.map_or(String::new(), |t| format!("; {t}"));
    let no_process_listed = lists.iter().flatten().all(|l| l.is_empty());
    if m.size_vram > 0 && best.0 == 0 {
        // WSL2 (WDDM) lists no processes at all: the memory in use still tells.
        if no_process_listed && in_use >= m.size_vram {
            return Outcome::pass(format!(
                "NVML lists no processes (as under WSL2), but {} of VRAM is in use, enough for the model; {api}{layers_part}{busy_text}",
                gib(in_use)
            ))
            .with_value(format!("{} in use", gib(in_use)));
        }
        return Outcome::fail(format!(
            "{api}, but NVML shows no VRAM held by an Ollama process during a generation ({}{} in use on the GPU): the API's placement is wrong and the model likely runs on the CPU (Ollama issues #7323, #8623, #12323){layers_part}. Next: {}",
            if others.is_empty() {
                "no Ollama process listed, ".to_string()
            } else {
                format!("listed: {}; ", others.join(", "))
            },
            gib(in_use),
            match log.as_ref().map_or(&ServerKind::Service, |l| &l.server) {
                server @ ServerKind::Emulator => server.grep_log(""),
                server => format!(
                    "watch `nvidia-smi` while a prompt runs, {}, and restart the server",
                    server.grep_log("-e 'inference compute' -e offloaded")
                ),
            }
        ))
        .with_value("no VRAM held");
    }
    if busy == Some(0) && m.size_vram > 0 {
        return Outcome::warn(format!(
            "{} holds {} of VRAM, but the GPU stayed idle during a generation: the work ran elsewhere; {api}{layers_part}. Next: watch `nvidia-smi` while a prompt runs",
            best.1,
            gib(best.0)
        ))
        .with_value("GPU idle");
    }
    Outcome::pass(format!(
        "{} holds {} of VRAM during a generation; {api}{layers_part}{busy_text}",
        best.1,
        gib(best.0)
    ))
    .with_value(format!("{} held", gib(best.0)))
}

/// `diagnose.settings`: the unit's (container's) `OLLAMA_*` environment is what the
/// running server logged in its `server config` line, compared by meaning.
pub fn settings(facts: &Result<ServiceFacts, String>, log: &Result<ServerLog, String>) -> Outcome {
    let (env, whose, fix) = match facts {
        Err(e) => {
            return Outcome::skip(format!(
                "the unit could not be read (see service.active): {e}"
            ))
        }
        Ok(ServiceFacts::Unavailable(reason)) => return Outcome::skip(reason.clone()),
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Outcome::skip(format!("there is no {}.service (see service.active)", u.unit))
        }
        Ok(ServiceFacts::Unit(u)) => (
            u.effective_environment(),
            "the unit",
            format!(
                "a change to the unit was not applied: run `sudo systemctl daemon-reload && sudo systemctl restart {}`",
                u.unit
            ),
        ),
        Ok(ServiceFacts::Container(c)) => (
            c.environment.clone(),
            "the container",
            "the container runs with other settings than it was given: recreate it (`docker compose up -d --force-recreate ollama`)".to_string(),
        ),
    };
    let log = match log_of(log) {
        Ok(l) => l,
        Err(o) => return o,
    };
    let Some((running, _)) = log.server_config() else {
        return Outcome::skip(format!(
            "{} since the server's last start holds no `server config` line to compare with",
            log.source
        ));
    };
    let set: Vec<&(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("OLLAMA_"))
        .collect();
    // Environment files this tool could not read (often root's): what they set is not
    // known here, so it is neither compared nor blamed.
    let unreadable: Vec<&str> = match facts {
        Ok(ServiceFacts::Unit(u)) => u
            .environment_files
            .iter()
            .filter(|f| f.read.is_err())
            .map(|f| f.path.as_str())
            .collect(),
        _ => Vec::new(),
    };
    let unread_note = if unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; {} could not be read here, so what it sets was not compared (try with sudo)",
            unreadable.join(", ")
        )
    };
    let shown = |k: &str, v: &str| crate::secrets::mask_value(k, v).into_owned();
    let mut differ = Vec::new();
    let mut compared = 0;
    for (k, v) in &set {
        let Some(logged) = running.get(k) else {
            continue; // a setting this server version does not know or print
        };
        compared += 1;
        if !same_setting(k, v, logged) {
            differ.push(format!(
                "{whose} sets {k}={} but the server runs with {k}:{}",
                shown(k, v),
                shown(k, logged)
            ));
        }
    }
    if !differ.is_empty() {
        return Outcome::fail(format!(
            "{} (the `server config` line of {}): {fix}{unread_note}",
            differ.join("; "),
            log.source
        ))
        .with_value(format!("{} of {compared} differ", differ.len()));
    }
    Outcome::pass(format!(
        "the {compared} OLLAMA_* setting(s) of {whose} are what the server logged it runs with{unread_note}"
    ))
    .with_value(format!("{compared} applied"))
}

/// `diagnose.service_health`: the unit does not restart over and over; restarts or a
/// failed last run warn, a restart loop (`loop_at` restarts, or activating /
/// auto-restart now) fails. The log's last error line is quoted.
pub fn service_health(
    facts: &Result<ServiceFacts, String>,
    log: &Result<ServerLog, String>,
    loop_at: u32,
) -> Outcome {
    let u = match facts {
        Err(e) => {
            return Outcome::skip(format!(
                "the unit could not be read (see service.active): {e}"
            ))
        }
        Ok(ServiceFacts::Unavailable(reason)) => return Outcome::skip(reason.clone()),
        Ok(ServiceFacts::Container(c)) if c.status == "restarting" => {
            // Its log, as this run can show it (it removes the container without --keep).
            let kept = !matches!(
                log.as_ref().map(|l| &l.server),
                Ok(ServerKind::Container { kept: false, .. })
            );
            let container = ServerKind::Container {
                id: c.id.clone(),
                kept,
            };
            return Outcome::fail(format!(
                "the container {} is restarting: it keeps exiting. Next: {}",
                crate::client::short_id(&c.id),
                container.see_log()
            ))
            .with_value("restarting");
        }
        Ok(ServiceFacts::Container(c)) => {
            return Outcome::pass(format!("the container is {}", c.status))
                .with_value(c.status.clone())
        }
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Outcome::skip(format!(
                "there is no {}.service (see service.active)",
                u.unit
            ))
        }
        Ok(ServiceFacts::Unit(u)) => u,
    };
    let restarts = u.n_restarts.unwrap_or(0);
    let status = u.exec_main_status.unwrap_or(0);
    let value = format!("{restarts} restart(s), last exit {status}");
    let last_error = log.as_ref().ok().and_then(|l| {
        l.lines
            .iter()
            .rev()
            .find(|x| x.contains("level=ERROR") || x.starts_with("Error:") || x.contains("panic:"))
            .map(|x| format!(" The log's last error: {}.", quote(x)))
    });
    let evidence = last_error.unwrap_or_default();
    let next = format!(
        "Next: `systemctl status {0}` and `journalctl -u {0} -e` for why it exits",
        u.unit
    );
    let looping = u.sub_state == "auto-restart" || u.active_state == "activating";
    if looping || restarts >= loop_at {
        return Outcome::fail(format!(
            "{}.service is in a restart loop: ActiveState={} ({}), NRestarts={restarts}, ExecMainStatus={status}.{evidence} {next}",
            u.unit, u.active_state, u.sub_state
        ))
        .with_value(value);
    }
    if restarts > 0 || status != 0 {
        return Outcome::warn(format!(
            "{}.service has restarted {restarts} time(s) and its main process last exited with {status}: it crashed at least once.{evidence} {next}",
            u.unit
        ))
        .with_value(value);
    }
    Outcome::pass(format!(
        "{}.service has not restarted (NRestarts={}, ExecMainStatus={})",
        u.unit,
        u.n_restarts.map_or("unreported".into(), |n| n.to_string()),
        u.exec_main_status
            .map_or("unreported".into(), |n| n.to_string())
    ))
    .with_value(value)
}

/// `diagnose.port_owner`: an Ollama server owns the API's port; another program there
/// fails, two Ollama servers on this host warn.
pub fn port_owner(owners: &Result<PortOwners, String>, unreachable: Option<&str>) -> Outcome {
    let o = match owners {
        Err(reason) => return Outcome::skip(reason.clone()),
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

/// `diagnose.context`: the loaded model's context (× the parallel requests) fits the
/// GPU, and the log holds no truncated prompt or out-of-memory line.
pub fn context(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    log: &Result<ServerLog, String>,
    unreachable: Option<&str>,
) -> Outcome {
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        Err(o) => return o,
    };
    let ctx = m.context_length.unwrap_or(0);
    let parallel = log
        .as_ref()
        .ok()
        .and_then(|l| l.server_config())
        .and_then(|(env, _)| env.get("OLLAMA_NUM_PARALLEL").cloned())
        .filter(|p| !p.is_empty() && p != "0")
        .unwrap_or_else(|| "1".into());
    let value = format!("ctx {ctx} × {parallel}");
    if let Ok(l) = log {
        let trouble = l.trouble();
        if !trouble.is_empty() {
            let quotes: Vec<String> = trouble.iter().rev().take(3).map(|t| quote(t)).collect();
            let truncated = trouble.iter().any(|t| t.contains("truncating"));
            let next = if truncated {
                "Next: raise the context (`PARAMETER num_ctx` in the Modelfile, or OLLAMA_CONTEXT_LENGTH) or send shorter prompts"
            } else {
                "Next: lower num_ctx or OLLAMA_NUM_PARALLEL, set OLLAMA_KV_CACHE_TYPE=q8_0 with OLLAMA_FLASH_ATTENTION=1, or free VRAM"
            };
            return Outcome::fail(format!(
                "{} says: {} (context {ctx} tokens × {parallel} parallel). {next}",
                l.source,
                quotes.join("; ")
            ))
            .with_value(value);
        }
    }
    let log_note = match log {
        Ok(l) => format!(
            "no truncated prompt or out-of-memory in {} (a chat whose history is dropped to fit is logged only with OLLAMA_DEBUG=1)",
            l.source
        ),
        Err(reason) => format!("the log was not read ({reason})"),
    };
    if let Ok(list) = gpus {
        let total: u64 = list.iter().map(|g| g.memory_total).sum();
        if total > 0 && m.size > total {
            return Outcome::warn(format!(
                "context {ctx} tokens × {parallel} parallel make the model {}, more than the GPU's {}: part of it runs on the CPU. Next: lower num_ctx or OLLAMA_NUM_PARALLEL; {log_note}",
                gib(m.size),
                gib(total)
            ))
            .with_value(value);
        }
        if total > 0 {
            return Outcome::pass(format!(
                "context {ctx} tokens × {parallel} parallel: {} of {} VRAM; {log_note}",
                gib(m.size),
                gib(total)
            ))
            .with_value(value);
        }
    }
    Outcome::pass(format!(
        "context {ctx} tokens × {parallel} parallel ({}; the GPU's memory is unknown here); {log_note}",
        gib(m.size)
    ))
    .with_value(value)
}

/// `diagnose.platform`: nvidia_uvm loaded and /dev/nvidia-uvm present on native Linux;
/// on WSL2, the driver libraries are Windows' (no distro copy shadows them).
pub fn platform(
    facts: &Result<Platform, String>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
) -> Outcome {
    match gpus {
        Ok(list) if list.iter().any(|g| g.emulated) => return Outcome::skip(
            "the GPU is emulated: this host's driver modules and libraries are not what serves it",
        ),
        Err(GpuError::Disabled) => return Outcome::skip(GpuError::Disabled.to_string()),
        _ => {}
    }
    let p = match facts {
        Err(reason) => return Outcome::skip(reason.clone()),
        Ok(p) => p,
    };
    match p {
        Platform::Linux {
            uvm_loaded,
            uvm_device,
        } => {
            if !uvm_loaded || !uvm_device {
                let what = match (uvm_loaded, uvm_device) {
                    (false, false) => "the nvidia_uvm module is not loaded (/proc/modules) and /dev/nvidia-uvm is missing",
                    (false, true) => "the nvidia_uvm module is not loaded (/proc/modules)",
                    _ => "/dev/nvidia-uvm is missing",
                };
                return Outcome::fail(format!(
                    "{what}: CUDA cannot allocate unified memory, and Ollama falls back to the CPU (often after a suspend/resume). Next: `sudo modprobe nvidia_uvm` and `sudo nvidia-modprobe -u -c=0`, then `sudo systemctl restart ollama`; add nvidia_uvm to /etc/modules-load.d/ to keep it"
                ))
                .with_value("nvidia_uvm missing");
            }
            Outcome::pass("native Linux: nvidia_uvm is loaded and /dev/nvidia-uvm exists")
                .with_value("nvidia_uvm loaded")
        }
        Platform::Wsl2 { libraries } => {
            let shadowing: Vec<String> = libraries
                .iter()
                .filter(|(_, path)| !path.starts_with(WSL_LIB_DIR))
                .map(|(name, path)| format!("{name} at {path}"))
                .collect();
            if !shadowing.is_empty() {
                return Outcome::fail(format!(
                    "WSL2: a distro-installed {} shadows the Windows driver's copy in {WSL_LIB_DIR} (`ldconfig -p`): CUDA then fails or finds no GPU. Next: remove the Linux NVIDIA driver packages inside WSL (`sudo apt remove --purge 'libnvidia-compute-*' 'nvidia-driver-*' 'libnvidia-ml*'`), run `sudo ldconfig`, and restart the server; WSL2 uses only the Windows driver",
                    shadowing.join(", ")
                ))
                .with_value("driver libraries shadowed");
            }
            if !libraries.iter().any(|(n, _)| n.starts_with("libcuda.so")) {
                return Outcome::fail(format!(
                    "WSL2: `ldconfig -p` lists no libcuda.so: the Windows driver's libraries in {WSL_LIB_DIR} are not on the library path. Next: check /etc/ld.so.conf.d/ld.wsl.conf names {WSL_LIB_DIR}, run `sudo ldconfig`, and update the Windows NVIDIA driver"
                ))
                .with_value("no libcuda");
            }
            Outcome::pass(format!(
                "WSL2: libcuda and libnvidia-ml come from the Windows driver ({WSL_LIB_DIR})"
            ))
            .with_value("WSL2 driver libraries")
        }
    }
}

/// `diagnose.vulnerable`: the server is not older than `minimum` (the release fixing
/// `cve`); older fails when the API is reachable beyond loopback, warns otherwise.
/// `exposure` says why it is reachable, if it is.
pub fn vulnerable(
    version: &Result<String, ClientError>,
    minimum: &str,
    cve: &str,
    exposure: Option<&str>,
    unreachable: Option<&str>,
) -> Outcome {
    let version = match version {
        Err(e) => {
            return super::echo_of_root(e, unreachable)
                .unwrap_or_else(|| Outcome::skip(format!("`/api/version` failed: {e}")))
        }
        Ok(v) => v,
    };
    let (Some(have), Some(need)) = (version_key(version), version_key(minimum)) else {
        return Outcome::skip(format!(
            "the server's version `{version}` cannot be compared with {minimum}"
        ));
    };
    if have.0.iter().all(|&n| n == 0) {
        return Outcome::warn(format!(
            "the server reports version {version}, which is what a build from source without a release version says: whether it has the fix for {cve} (in {minimum}) cannot be told. Next: check the source's commit, or install a release"
        ))
        .with_value(version.clone());
    }
    if have >= need {
        return Outcome::pass(format!(
            "server {version} is not older than {minimum}, which fixes {cve}"
        ))
        .with_value(version.clone());
    }
    let next = "Next: upgrade Ollama (`curl -fsSL https://ollama.com/install.sh | sh`, or a newer image tag), then restart it";
    match exposure {
        Some(why) => Outcome::fail(format!(
            "server {version} is older than {minimum}, which fixes {cve}, and {why}: anyone who can reach it can exploit it, without authentication. {next}; bind loopback (`OLLAMA_HOST=127.0.0.1:11434`) if no other machine needs the API"
        ))
        .with_value(version.clone()),
        None => Outcome::warn(format!(
            "server {version} is older than {minimum}, which fixes {cve}; the API seems bound to loopback, so only this machine's users and the web pages it opens can reach it. {next}"
        ))
        .with_value(version.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::{ModelDetails, RunningModel};
    use crate::probe::gpu::{emulated, GpuProcess};
    use crate::probe::procfs::{Listener, ProcessInfo};
    use crate::probe::service::parse_show;
    use rstest::rstest;

    const UUID: &str = "GPU-00000000-0000-0000-0000-000000000000";

    fn log(lines: &[&str]) -> Result<ServerLog, String> {
        Ok(ServerLog::new("journalctl -u ollama", &lines.join("\n")))
    }

    fn compute(id: &str, library: &str) -> String {
        format!("time=2026-01-01T00:00:00Z level=INFO source=types.go:42 msg=\"inference compute\" id={id} library={library} compute=8.6 driver=12.6 name=\"NVIDIA GeForce RTX 3060\" total=\"12.0 GiB\" available=\"11.1 GiB\"")
    }

    /// The next step of a diagnosis is the target's: the container's GPU access and
    /// log on the docker target, the config on the emulator target, never systemd or
    /// the journal where there are none.
    #[test]
    fn diagnoses_name_the_next_step_of_the_target() {
        let gpus = Ok(vec![emulated()]);
        let cpu_only = compute("cpu", "cpu");
        let of = |server: ServerKind| Ok(ServerLog::new("the container log", &cpu_only).of(server));
        let container = ServerKind::Container {
            id: "0123456789abcdef".into(),
            kept: false,
        };
        for (server, says) in [
            (ServerKind::Service, "sudo systemctl restart ollama"),
            (container.clone(), "nvidia-ctk runtime configure"),
            (ServerKind::Emulator, "--emulator-config"),
        ] {
            let o = gpu_discovered(&of(server.clone()), &gpus);
            assert_eq!(o.status, Status::Fail, "{}", o.detail);
            assert!(o.detail.contains(says), "{server:?}: {}", o.detail);
            if server != ServerKind::Service {
                for native in ["journalctl", "systemctl restart ollama"] {
                    assert!(!o.detail.contains(native), "{server:?}: {}", o.detail);
                }
            }
        }
        // The API's placement with no VRAM held: where to read the load's lines.
        let misreport = |server: ServerKind| {
            offload(
                &ps(5 << 30),
                ("my-coder", None),
                &Ok(()),
                &sample(Some(vec![]), 0),
                &Ok(log(&[]).unwrap().of(server)),
                None,
            )
        };
        let o = misreport(container);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail.contains("`docker logs 0123456789ab 2>&1 | grep")
                && o.detail.contains("--keep")
                && !o.detail.contains("journalctl"),
            "{}",
            o.detail
        );
        assert!(misreport(ServerKind::Service)
            .detail
            .contains("`journalctl -u ollama | grep"));
    }

    #[test]
    fn discovery_matches_uuids_and_quotes_the_cpu_fallback() {
        let gpus = Ok(vec![emulated()]);
        let ok = compute(UUID, "cuda");
        assert_eq!(gpu_discovered(&log(&[&ok]), &gpus).status, Status::Pass);
        let other = compute("GPU-ffff", "CUDA");
        assert_eq!(gpu_discovered(&log(&[&other]), &gpus).status, Status::Fail);
        let none = "time=x level=INFO source=gpu.go:377 msg=\"no compatible GPUs were discovered\"";
        let o = gpu_discovered(&log(&[none, &compute("cpu", "cpu")]), &gpus);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("no compatible GPUs") && o.detail.contains("Next:"),
            "{}",
            o.detail
        );
        assert_eq!(gpu_discovered(&log(&[]), &gpus).status, Status::Skip);
        // Newer releases name devices by a bare index and their PCI bus id: the bus id
        // decides, whatever the index.
        let indexed = |id: &str, pci: &str| {
            format!("time=2026-08-01T00:00:00Z level=INFO source=types.go:32 msg=\"inference compute\" id={id} library=CUDA compute=8.6 name=CUDA0 description=\"NVIDIA GeForce RTX 3060\" pci_id={pci} type=discrete total=\"12.0 GiB\"")
        };
        let o = gpu_discovered(&log(&[&indexed("1", "0000:01:00.0")]), &gpus);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        let o = gpu_discovered(&log(&[&indexed("0", "0000:02:00.0")]), &gpus);
        assert_eq!(
            o.status,
            Status::Fail,
            "another GPU at index 0: {}",
            o.detail
        );
        // CUDA dropped it and Vulkan took it: found, but not as the CUDA device.
        let o = gpu_discovered(&log(&[&compute("0", "Vulkan")]), &gpus);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail.contains("through Vulkan, not CUDA"),
            "{}",
            o.detail
        );
        // An integrated GPU that Vulkan took is not the NVIDIA one.
        let igpu =
            compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Intel(R) UHD Graphics");
        let o = gpu_discovered(&log(&[&igpu]), &gpus);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(o.detail.contains("found no CUDA device"), "{}", o.detail);
        assert!(!o.detail.contains("through Vulkan"), "{}", o.detail);
        // An older card's Vulkan name lacks "NVIDIA": NVML's name tells it.
        let p4 = GpuInfo {
            name: "Tesla P4".into(),
            ..emulated()
        };
        let tesla = compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Tesla P4");
        let o = gpu_discovered(&log(&[&tesla]), &Ok(vec![p4]));
        assert!(o.detail.contains("through Vulkan"), "{}", o.detail);
        assert_eq!(
            gpu_discovered(&Err("no journalctl".into()), &gpus).status,
            Status::Skip
        );
        assert_eq!(
            gpu_discovered(&log(&[&ok]), &Err(GpuError::Disabled)).status,
            Status::Skip
        );
    }

    #[rstest]
    #[case("560.94", Some((8, 6)), Status::Pass)]
    #[case("535.183.01", Some((8, 6)), Status::Fail)]
    #[case("560.35", Some((6, 1)), Status::Fail)]
    #[case("570.86", Some((6, 1)), Status::Pass)]
    #[case("550.54", Some((5, 0)), Status::Fail)]
    #[case("550.54", None, Status::Pass)]
    fn driver_floor_depends_on_compute_capability(
        #[case] driver: &str,
        #[case] cc: Option<(i32, i32)>,
        #[case] status: Status,
    ) {
        let g = GpuInfo {
            driver_version: driver.into(),
            compute_capability: cc,
            ..emulated()
        };
        let o = driver_floor(&Ok(vec![g]), None, 550, 570, ((5, 0), (6, 2)));
        assert_eq!(o.status, status, "{}", o.detail);
    }

    /// The floors came with 0.30.0 (570 for compute capability below 7) and 0.30.11
    /// (550): an older server still uses the GPU, so an old driver only warns there.
    #[rstest]
    #[case("535.183", Some((8, 6)), Some("0.17.1"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.10"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.11"), Status::Fail)]
    #[case("535.183", Some((8, 6)), Some("0.0.0"), Status::Fail)] // from source: current
    #[case("535.183", Some((8, 6)), None, Status::Fail)]
    #[case("560.35", Some((6, 1)), Some("0.29.5"), Status::Warn)]
    #[case("560.35", Some((6, 1)), Some("0.30.0"), Status::Fail)]
    #[case("560.35", Some((6, 1)), Some("0.30.0-rc3"), Status::Fail)]
    #[case("535.183", Some((8, 6)), Some("0.30.11-rc0"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.11-rc1"), Status::Fail)]
    #[case("570.86", Some((8, 6)), Some("0.17.1"), Status::Pass)]
    fn driver_floor_depends_on_the_server(
        #[case] driver: &str,
        #[case] cc: Option<(i32, i32)>,
        #[case] version: Option<&str>,
        #[case] status: Status,
    ) {
        let g = GpuInfo {
            driver_version: driver.into(),
            compute_capability: cc,
            ..emulated()
        };
        let o = driver_floor(&Ok(vec![g]), version, 550, 570, ((5, 0), (6, 2)));
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Warn {
            assert!(o.detail.contains("still uses the GPU"), "{}", o.detail);
        }
    }

    fn ps(size_vram: u64) -> Result<PsResponse, ClientError> {
        Ok(PsResponse {
            models: vec![RunningModel {
                name: "my-coder:latest".into(),
                model: "my-coder:latest".into(),
                size: 5 << 30,
                digest: String::new(),
                details: ModelDetails::default(),
                expires_at: String::new(),
                size_vram,
                context_length: Some(16384),
            }],
        })
    }

    fn sample(
        processes: Option<Vec<GpuProcess>>,
        used: u64,
    ) -> Result<Vec<Vec<GpuInfo>>, GpuError> {
        Ok(vec![vec![GpuInfo {
            processes,
            memory_used: used,
            utilization_percent: Some(87),
            emulated: false,
            ..emulated()
        }]])
    }

    fn ollama(bytes: u64) -> Vec<GpuProcess> {
        vec![GpuProcess {
            pid: 812,
            name: "/usr/local/bin/ollama".into(),
            used_bytes: Some(bytes),
        }]
    }

    #[test]
    fn offload_truth_cross_checks_the_api_with_nvml() {
        let full = "load_tensors: offloaded 29/29 layers to GPU";
        let held = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(5 << 30)), 6 << 30),
            &log(&[full]),
            None,
        );
        assert_eq!(held.status, Status::Pass, "{}", held.detail);
        assert!(
            held.detail.contains("29/29") && held.detail.contains("87%"),
            "{}",
            held.detail
        );
        // The API claims the GPU; NVML shows nobody holding it.
        let lie = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 400 << 20),
            &log(&[full]),
            None,
        );
        assert_eq!(lie.status, Status::Fail, "{}", lie.detail);
        assert!(lie.detail.contains("no VRAM held by an Ollama process"));
        // WSL2: no process list, but the memory is in use.
        let wsl = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 6 << 30),
            &log(&[full]),
            None,
        );
        assert_eq!(wsl.status, Status::Pass, "{}", wsl.detail);
        let partial = offload(
            &ps(3 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(3 << 30)), 4 << 30),
            &log(&["llm_load_tensors: offloaded 20/29 layers to GPU"]),
            None,
        );
        assert_eq!(partial.status, Status::Warn);
        assert_eq!(partial.value.as_deref(), Some("offloaded 20/29 layers"));
        // All layers placed, tensors of 5 spilled by llama-server's fit.
        let fit = "common_params_fit_impl:   - CUDA0 (NVIDIA GeForce RTX 3060): 29 layers ( 5 overflowing),  11065 MiB used,   1036 MiB free";
        let spilled = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(5 << 30)), 6 << 30),
            &log(&[fit, full]),
            None,
        );
        assert_eq!(spilled.status, Status::Warn, "{}", spilled.detail);
        assert_eq!(spilled.value.as_deref(), Some("5 layer(s) overflowing"));
        // Another model loaded after it: its own load's line counts, by its weights.
        let start = |blob: &str| {
            format!("time=2026-01-01T00:00:00Z level=INFO source=server.go:431 msg=\"starting runner\" cmd=\"/usr/bin/ollama runner --model /m/blobs/{blob} --port 1\"")
        };
        let two = log(&[
            &start("sha256-aaa"),
            full,
            &start("sha256-bbb"),
            "load_tensors: offloaded 10/29 layers to GPU",
        ]);
        let of = |blob| {
            offload(
                &ps(5 << 30),
                ("my-coder", blob),
                &Ok(()),
                &sample(Some(ollama(5 << 30)), 6 << 30),
                &two,
                None,
            )
        };
        assert_eq!(
            of(Some("sha256-aaa")).status,
            Status::Pass,
            "{}",
            of(Some("sha256-aaa")).detail
        );
        assert_eq!(of(Some("sha256-bbb")).status, Status::Warn);
        assert_eq!(
            of(None).status,
            Status::Warn,
            "unknown weights: the last load"
        );
        let cpu = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 0),
            &log(&["offloaded 0/29 layers to GPU"]),
            None,
        );
        assert_eq!(cpu.status, Status::Fail);
        assert!(
            cpu.detail.contains("see diagnose.gpu_discovered"),
            "{}",
            cpu.detail
        );
        // The server found the GPU: discovery is not why nothing is on it.
        let found = compute(UUID, "CUDA");
        let cpu = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 11 << 30),
            &log(&[&found, "offloaded 0/29 layers to GPU"]),
            None,
        );
        assert_eq!(cpu.status, Status::Fail);
        assert!(
            cpu.detail.contains("the server found the GPU")
                && cpu
                    .detail
                    .contains("too little free VRAM for a layer (1.0 GiB of 12.0 GiB free")
                && cpu.detail.contains("num_gpu 0")
                && !cpu.detail.contains("diagnose.gpu_discovered"),
            "{}",
            cpu.detail
        );
        // With room for the whole model, VRAM is not blamed.
        let roomy = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 1 << 30),
            &log(&[&found, "offloaded 0/29 layers to GPU"]),
            None,
        );
        assert!(
            roomy.detail.contains("room for the whole model")
                && !roomy.detail.contains("too little free VRAM"),
            "{}",
            roomy.detail
        );
        let unknown = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(None, 0),
            &Err("no journalctl on this machine".into()),
            None,
        );
        assert_eq!(unknown.status, Status::Skip);
        // A log that cannot be read is not one without the line.
        assert!(
            unknown
                .detail
                .contains("the server's log cannot be read: no journalctl")
                && !unknown.detail.contains("has no offload line"),
            "{}",
            unknown.detail
        );
    }

    fn unit(text: &str) -> Result<ServiceFacts, String> {
        Ok(ServiceFacts::Unit(parse_show("ollama", text)))
    }

    #[rstest]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Pass
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Fail
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://127.0.0.1:11434",
        Status::Fail
    )]
    #[case("OLLAMA_HOST:http://0.0.0.0:11434", Status::Pass)]
    fn settings_are_compared_by_meaning(#[case] map: &str, #[case] status: Status) {
        let u = unit("LoadState=loaded\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m\n");
        let line = format!(
            "time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\""
        );
        let o = settings(&u, &log(&[&line]));
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Fail {
            assert!(o.detail.contains("daemon-reload"), "{}", o.detail);
        }
    }

    /// An `EnvironmentFile=` setting is compared too (it wins over `Environment=`), and
    /// one that cannot be read is named as not compared.
    #[test]
    fn settings_from_environment_files_are_compared() {
        use crate::probe::service::EnvironmentFile;
        let mut u = parse_show(
            "ollama",
            "LoadState=loaded\nEnvironment=OLLAMA_KEEP_ALIVE=30m\n",
        );
        let set = |pairs: &[(&str, &str)]| {
            Ok(pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        };
        u.environment_files = vec![
            EnvironmentFile {
                path: "/etc/ollama.env".into(),
                optional: false,
                read: set(&[("OLLAMA_KEEP_ALIVE", "1h"), ("OLLAMA_FLASH_ATTENTION", "1")]),
                mode: Some(0o600),
            },
            EnvironmentFile {
                path: "/etc/root-only.env".into(),
                optional: false,
                read: Err("permission denied".into()),
                mode: None,
            },
        ];
        let facts = Ok(ServiceFacts::Unit(u));
        let line = |map: &str| {
            format!("time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\"")
        };
        let o = settings(
            &facts,
            &log(&[&line(
                "OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:1h0m0s",
            )]),
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert!(
            o.detail.contains("/etc/root-only.env could not be read"),
            "{}",
            o.detail
        );
        let o = settings(
            &facts,
            &log(&[&line("OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:30m0s")]),
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(o.detail.contains("OLLAMA_KEEP_ALIVE=1h"), "{}", o.detail);
    }

    #[rstest]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=0\n",
        Status::Pass
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=1\nExecMainStatus=0\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=2\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=3\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case(
        "ActiveState=activating\nSubState=auto-restart\nNRestarts=1\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case("ActiveState=active\nSubState=running\n", Status::Pass)]
    fn restarts_warn_and_loops_fail(#[case] show: &str, #[case] status: Status) {
        let f = unit(&format!("LoadState=loaded\n{show}"));
        let o = service_health(
            &f,
            &log(&["time=x level=ERROR source=server.go:1 msg=\"llama runner terminated\""]),
            3,
        );
        assert_eq!(o.status, status, "{}", o.detail);
        if status != Status::Pass {
            assert!(o.detail.contains("llama runner terminated"), "{}", o.detail);
        }
    }

    /// A restarting container's log is gone once the run removes it: the next step
    /// says to keep it, unless it is kept.
    #[test]
    fn a_restarting_container_says_how_to_read_its_log() {
        use crate::probe::service::ContainerState;
        let facts = Ok(ServiceFacts::Container(ContainerState {
            id: "0123456789abcdef".into(),
            running: true,
            status: "restarting".into(),
            health: None,
            restart_policy: "unless-stopped".into(),
            environment: vec![],
            kept: false,
        }));
        let of = |kept| {
            Ok(
                ServerLog::new("the container log", "").of(ServerKind::Container {
                    id: "0123456789abcdef".into(),
                    kept,
                }),
            )
        };
        let o = service_health(&facts, &of(false), 3);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail
                .contains("run again with --keep, then `docker logs 0123456789ab`"),
            "{}",
            o.detail
        );
        let o = service_health(&facts, &of(true), 3);
        assert!(
            o.detail.contains("(`docker logs 0123456789ab`)") && !o.detail.contains("--keep"),
            "{}",
            o.detail
        );
    }

    fn owners(cmds: &[&str], servers: &[&str]) -> Result<PortOwners, String> {
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
            port_owner(&Err("no /proc".into()), None).status,
            Status::Skip
        );
    }

    #[test]
    fn trouble_in_the_log_fails_with_the_line() {
        let trunc = "time=x level=WARN source=runner.go:153 msg=\"truncating input prompt\" limit=4096 prompt=9123";
        let o = context(
            &ps(5 << 30),
            "my-coder",
            &Ok(vec![emulated()]),
            &log(&[trunc]),
            None,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("limit=4096") && o.detail.contains("num_ctx"),
            "{}",
            o.detail
        );
        let o = context(
            &ps(5 << 30),
            "my-coder",
            &Ok(vec![emulated()]),
            &log(&[]),
            None,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        let small = GpuInfo {
            memory_total: 4 << 30,
            ..emulated()
        };
        assert_eq!(
            context(&ps(4 << 30), "my-coder", &Ok(vec![small]), &log(&[]), None).status,
            Status::Warn
        );
    }

    #[test]
    fn platform_facts() {
        let real = Ok(vec![GpuInfo {
            emulated: false,
            ..emulated()
        }]);
        let linux = |l, d| {
            Ok(Platform::Linux {
                uvm_loaded: l,
                uvm_device: d,
            })
        };
        assert_eq!(platform(&linux(true, true), &real).status, Status::Pass);
        assert_eq!(platform(&linux(false, true), &real).status, Status::Fail);
        let wsl = |libs: &[(&str, &str)]| {
            Ok(Platform::Wsl2 {
                libraries: libs
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            })
        };
        assert_eq!(
            platform(
                &wsl(&[("libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1")]),
                &real
            )
            .status,
            Status::Pass
        );
        let o = platform(
            &wsl(&[
                ("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"),
                ("libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"),
            ]),
            &real,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
        assert_eq!(
            platform(&linux(false, false), &Ok(vec![emulated()])).status,
            Status::Skip
        );
    }

    #[rstest]
    #[case(
        "0.17.1",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Pass
    )]
    #[case("0.18.0-rc1", None, Status::Pass)]
    #[case(
        "0.15.4",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Fail
    )]
    #[case("0.15.4", None, Status::Warn)]
    #[case("0.0.0", None, Status::Warn)]
    #[case(
        "0.0.0",
        Some("OLLAMA_HOST=0.0.0.0:11434 binds beyond loopback"),
        Status::Warn
    )]
    #[case("0.17.1-rc2", None, Status::Warn)] // a pre-release comes before the fix
    #[case("0.17.1+cuda", None, Status::Pass)] // build metadata is not a pre-release
    #[case("0.17.1-0-gabc1234", None, Status::Pass)] // built from the release's tag
    #[case("0.17.1-3-gabc1234-dirty", None, Status::Pass)]
    #[case("0.17.0-12-gabc1234", None, Status::Warn)]
    #[case("0.18", None, Status::Pass)]
    #[case("dev", None, Status::Skip)]
    fn old_servers_reachable_from_the_network_fail(
        #[case] version: &str,
        #[case] exposure: Option<&str>,
        #[case] status: Status,
    ) {
        let o = vulnerable(
            &Ok(version.into()),
            "0.17.1",
            "CVE-2026-7482",
            exposure,
            None,
        );
        assert_eq!(o.status, status, "{}", o.detail);
    }

    /// The fix came with 0.17.1-rc1: release candidates in their natural order.
    #[rstest]
    #[case("0.17.1-rc0", Status::Warn)]
    #[case("0.17.1-rc1", Status::Pass)]
    #[case("0.17.1-rc2", Status::Pass)]
    #[case("0.17.1-rc10", Status::Pass)]
    #[case("0.17.1", Status::Pass)]
    #[case("0.17.0", Status::Warn)]
    fn the_fix_came_with_a_release_candidate(#[case] version: &str, #[case] status: Status) {
        let o = vulnerable(
            &Ok(version.into()),
            "0.17.1-rc1",
            "CVE-2026-7482",
            None,
            None,
        );
        assert_eq!(o.status, status, "{}", o.detail);
    }
}
