//! `diagnose.gpu_discovered`: the server found the GPUs NVML sees. The verdict finds
//! what the log and NVML show (a typed finding), and one renderer words it.

use super::{findings, nvml_gpus, quote, Evidence, NoGpus};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::gpu::{pci_key, GpuError, GpuInfo};
use crate::probe::logs::{ComputeDevice, ServerLog};
use crate::probe::LogError;
use crate::signature::{render, FindingKind};
use crate::target::Advice;

/// A GPU as NVML sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NvmlGpu {
    pub name: String,
    pub uuid: String,
    pub driver: String,
}

impl NvmlGpu {
    fn of(g: &GpuInfo) -> Self {
        NvmlGpu {
            name: g.name.clone(),
            uuid: g.uuid.clone(),
            driver: g.driver_version.clone(),
        }
    }
}

/// What `diagnose.gpu_discovered` found. `gpus` are NVML's; `source` is where the log
/// is from; `advice` the target's next steps.
#[derive(Debug, Clone, PartialEq)]
pub enum Discovered {
    /// The server's log cannot be read: why.
    NoLog(LogError),
    /// NVML gives nothing to compare, and the log names no CPU fallback.
    NoGpus(NoGpus),
    /// NVML gives nothing to compare, but the log says the server runs on the CPU.
    FallbackByLog { cause: Evidence, nvml: NoGpus },
    /// The log names why the server runs without the GPUs NVML sees.
    Cause { gpus: Vec<NvmlGpu>, cause: Evidence },
    /// No CUDA device, but another library (Vulkan) drives an NVIDIA GPU.
    OtherLibrary {
        gpus: Vec<NvmlGpu>,
        device: ComputeDevice,
        source: String,
        advice: Advice,
    },
    /// No CUDA device: the line that says so.
    NoCuda {
        gpus: Vec<NvmlGpu>,
        line: String,
        source: String,
        advice: Advice,
    },
    /// No `inference compute` line since the server's last start.
    NoLine { source: String, advice: Advice },
    /// CUDA devices (their ids), but not every GPU NVML sees.
    Missing {
        gpus: Vec<NvmlGpu>,
        found: Vec<String>,
        missing: Vec<NvmlGpu>,
        advice: Advice,
    },
    /// Every GPU: the first CUDA device, and how many GPUs.
    Found {
        first: ComputeDevice,
        count: usize,
        source: String,
    },
}

/// `diagnose.gpu_discovered`: the server's `inference compute` lines name a CUDA
/// device for every GPU NVML sees.
pub fn gpu_discovered(
    log: &Result<ServerLog, LogError>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    advice: &Advice,
) -> Outcome {
    gpu_discovered_finding(log, gpus, advice).outcome()
}

pub fn gpu_discovered_finding(
    log: &Result<ServerLog, LogError>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    advice: &Advice,
) -> Discovered {
    let log = match (log, nvml_gpus(gpus)) {
        (Ok(l), _) => l,
        (Err(_), Err(nvml)) => return Discovered::NoGpus(nvml),
        (Err(e), Ok(_)) => return Discovered::NoLog(e.clone()),
    };
    let found = findings(log);
    let fallback = found.cpu_fallback();
    let gpus = match nvml_gpus(gpus) {
        Ok(g) => g,
        // Without NVML (`--gpu none`, no driver here) the log alone may still say
        // the server found no GPU, and why.
        Err(nvml) => {
            return match fallback.first() {
                Some(f) => Discovered::FallbackByLog {
                    cause: Evidence::of(f, log),
                    nvml,
                },
                None => Discovered::NoGpus(nvml),
            }
        }
    };
    let nvml: Vec<NvmlGpu> = gpus.iter().map(NvmlGpu::of).collect();
    let advice = advice.clone();
    let source = log.source.clone();
    let devices = log.compute_devices();
    let cuda_found = devices.iter().any(|d| d.is_cuda());
    // A named cause (driver, CUDA, NVML, runners, discovery) says more than "no GPU
    // found"; a driver refused fails even beside a CUDA line (another GPU's).
    let cause = fallback.iter().find(|f| {
        f.kind == FindingKind::DriverTooOld || (!cuda_found && f.kind != FindingKind::NoGpuFound)
    });
    if let Some(f) = cause {
        return Discovered::Cause {
            gpus: nvml,
            cause: Evidence::of(f, log),
        };
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
        return Discovered::OtherLibrary {
            gpus: nvml,
            device: d.clone(),
            source,
            advice,
        };
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
            Some(line) => Discovered::NoCuda {
                gpus: nvml,
                line: line.to_string(),
                source,
                advice,
            },
            None => Discovered::NoLine { source, advice },
        };
    }
    let missing: Vec<NvmlGpu> = gpus
        .iter()
        .filter(|g| !cuda.iter().any(|d| d.is_gpu(g)))
        .map(NvmlGpu::of)
        .collect();
    if !missing.is_empty() {
        return Discovered::Missing {
            gpus: nvml,
            found: cuda.iter().map(|d| d.id.clone()).collect(),
            missing,
            advice,
        };
    }
    Discovered::Found {
        first: cuda[0].clone(),
        count: gpus.len(),
        source,
    }
}

impl Discovered {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let seen = |gpus: &[NvmlGpu]| {
            gpus.iter()
                .map(|g| format!("{} ({})", g.name, g.uuid))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Discovered::NoLog(reason) => Outcome::skip(reason.to_string()),
            Discovered::NoGpus(nvml) => nvml.outcome(),
            Discovered::FallbackByLog { cause, nvml } => Outcome::fail(format!(
                "the server's log says it runs without the GPU: {}. NVML is not read here ({}). Next: {}",
                cause.said(),
                nvml.reason(),
                render::next(&cause.finding)
            ))
            .with_value(cause.finding.kind.as_str()),
            Discovered::Cause { gpus, cause } => {
                let nvml: Vec<String> = gpus
                    .iter()
                    .map(|g| format!("{} with driver {}", g.name, g.driver))
                    .collect();
                let see = match cause.finding.kind {
                    FindingKind::DriverTooOld => {
                        format!(" (see {})", CheckId::DiagnoseDriverFloor)
                    }
                    _ => String::new(),
                };
                Outcome::fail(format!(
                    "NVML sees {}, but the server's log says {}. Next: {}{see}",
                    nvml.join(", "),
                    cause.said(),
                    render::next(&cause.finding)
                ))
                .with_value(cause.finding.kind.as_str())
            }
            Discovered::OtherLibrary {
                gpus,
                device,
                source,
                advice,
            } => {
                let why = "CUDA dropped it: the build's CUDA libraries have no kernels for its compute capability, or the service cannot load them";
                Outcome::fail(format!(
                    "NVML sees {}, but the server drives it through {}, not CUDA: {} ({source}). {why}. {}",
                    seen(gpus),
                    device.library,
                    quote(&device.line),
                    discovery_next(advice)
                ))
                .with_value(format!("library={}", device.library))
            }
            Discovered::NoCuda {
                gpus,
                line,
                source,
                advice,
            } => Outcome::fail(format!(
                "NVML sees {}, but the server found no CUDA device for it: {} ({source}). {}",
                seen(gpus),
                quote(line),
                discovery_next(advice)
            ))
            .with_value("no CUDA device"),
            Discovered::NoLine { source, advice } => Outcome::skip(format!(
                "{source} since the server's last start holds no `inference compute` line (the log may have rotated past it); {}",
                advice.restart_logs()
            )),
            Discovered::Missing {
                gpus,
                found,
                missing,
                advice,
            } => Outcome::fail(format!(
                "NVML sees {}, but the server's `inference compute` lines name only {}: {} is not used. Check CUDA_VISIBLE_DEVICES in the service's environment. {}",
                seen(gpus),
                found.join(", "),
                seen(missing),
                discovery_next(advice)
            ))
            .with_value(format!(
                "{}/{} GPU(s)",
                gpus.len().saturating_sub(missing.len()),
                gpus.len()
            )),
            Discovered::Found {
                first,
                count,
                source,
            } => Outcome::pass(format!(
                "the server found every GPU NVML sees: {} ({}, compute {}, CUDA driver {}), per {source}",
                first.name.as_deref().unwrap_or("?"),
                first.id,
                first.compute.as_deref().unwrap_or("?"),
                first.driver.as_deref().unwrap_or("?"),
            ))
            .with_value(format!("{count}/{count} GPU(s)")),
        }
    }
}

/// What to do when the server does not drive the GPU NVML sees, where it runs.
fn discovery_next(advice: &Advice) -> String {
    match advice {
        Advice::Native => "Next: check that the service's user can open /dev/nvidia* and load the CUDA libraries (`journalctl -u ollama | grep -i -e cuda -e nvidia`); on WSL2, that /usr/lib/wsl/lib is in `ldconfig -p`; then `sudo systemctl restart ollama` and look for `inference compute ... library=cuda`".into(),
        Advice::Docker { .. } => format!(
            "Next: check that the container gets the GPU: the NVIDIA Container Toolkit on the Docker host (`sudo nvidia-ctk runtime configure --runtime=docker`, then restart Docker) and --gpus; {}",
            advice.grep_log("-i -e cuda -e nvidia")
        ),
        Advice::Emulator => format!("Next: {}", advice.grep_log("")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    use crate::probe::gpu::emulated;

    #[test]
    fn discovery_matches_uuids_and_quotes_the_cpu_fallback() {
        let gpus = Ok(vec![emulated()]);
        let ok = compute(UUID, "cuda");
        assert_eq!(
            gpu_discovered(&log(&[&ok]), &gpus, &Advice::Native).status,
            Status::Pass
        );
        let other = compute("GPU-ffff", "CUDA");
        assert_eq!(
            gpu_discovered(&log(&[&other]), &gpus, &Advice::Native).status,
            Status::Fail
        );
        let none = "time=x level=INFO source=gpu.go:377 msg=\"no compatible GPUs were discovered\"";
        let cpu_only = log(&[none, &compute("cpu", "cpu")]);
        // The line that says no GPU was found is the one quoted.
        assert!(matches!(
            gpu_discovered_finding(&cpu_only, &gpus, &Advice::Native),
            Discovered::NoCuda { line, .. } if line == none
        ));
        assert_eq!(
            gpu_discovered(&cpu_only, &gpus, &Advice::Native).status,
            Status::Fail
        );
        assert_eq!(
            gpu_discovered(&log(&[]), &gpus, &Advice::Native).status,
            Status::Skip
        );
        // Newer releases name devices by a bare index and their PCI bus id: the bus id
        // decides, whatever the index.
        let indexed = |id: &str, pci: &str| {
            format!("time=2026-08-01T00:00:00Z level=INFO source=types.go:32 msg=\"inference compute\" id={id} library=CUDA compute=8.6 name=CUDA0 description=\"NVIDIA GeForce RTX 3060\" pci_id={pci} type=discrete total=\"12.0 GiB\"")
        };
        let o = gpu_discovered(
            &log(&[&indexed("1", "0000:01:00.0")]),
            &gpus,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        let o = gpu_discovered(
            &log(&[&indexed("0", "0000:02:00.0")]),
            &gpus,
            &Advice::Native,
        );
        assert_eq!(
            o.status,
            Status::Fail,
            "another GPU at index 0: {}",
            o.detail
        );
        // CUDA dropped it and Vulkan took it: found, but not as the CUDA device.
        let vulkan = log(&[&compute("0", "Vulkan")]);
        assert!(matches!(
            gpu_discovered_finding(&vulkan, &gpus, &Advice::Native),
            Discovered::OtherLibrary { device, .. } if device.library == "Vulkan"
        ));
        assert_eq!(
            gpu_discovered(&vulkan, &gpus, &Advice::Native).status,
            Status::Fail
        );
        // An integrated GPU that Vulkan took is not the NVIDIA one.
        let igpu =
            compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Intel(R) UHD Graphics");
        assert!(matches!(
            gpu_discovered_finding(&log(&[&igpu]), &gpus, &Advice::Native),
            Discovered::NoCuda { .. }
        ));
        // An older card's Vulkan name lacks "NVIDIA": NVML's name tells it.
        let p4 = GpuInfo {
            name: "Tesla P4".into(),
            ..emulated()
        };
        let tesla = compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Tesla P4");
        assert!(matches!(
            gpu_discovered_finding(&log(&[&tesla]), &Ok(vec![p4]), &Advice::Native),
            Discovered::OtherLibrary { .. }
        ));
        assert_eq!(
            gpu_discovered(&Err("no journalctl".into()), &gpus, &Advice::Native).status,
            Status::Skip
        );
        assert_eq!(
            gpu_discovered(&log(&[&ok]), &Err(GpuError::Disabled), &Advice::Native).status,
            Status::Skip
        );
    }

    /// Every finding of the check, as a person reads it, on each target where its
    /// next step depends on the target.
    #[test]
    fn findings_read_so() {
        let path = format!(
            "{}/tests/fixtures/logs/020-driver-535-too-old-0.30.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let recorded = ServerLog::new("the pasted log", &std::fs::read_to_string(path).unwrap());
        let found = findings(&recorded);
        let refused = Evidence::of(found.cpu_fallback()[0], &recorded);
        let rtx = NvmlGpu::of(&emulated());
        let p4 = NvmlGpu {
            name: "Tesla P4".into(),
            uuid: "GPU-11111111-1111-1111-1111-111111111111".into(),
            driver: "560.94".into(),
        };
        // Devices as the tests' `inference compute` lines give them.
        let device = |id: &str, library: &str| {
            ServerLog::new("journalctl -u ollama", &compute(id, library)).compute_devices()[0]
                .clone()
        };
        let source = || "journalctl -u ollama".to_string();
        let vulkan = device("0", "Vulkan");
        let cpu = device("cpu", "cpu");
        let mut all = vec![
            Discovered::NoLog(LogError::NoJournalctl {
                host: "this machine".into(),
            }),
            Discovered::NoGpus(NoGpus::Off),
            Discovered::FallbackByLog {
                cause: refused.clone(),
                nvml: NoGpus::Off,
            },
            Discovered::Cause {
                gpus: vec![rtx.clone()],
                cause: refused,
            },
            Discovered::Found {
                first: device(UUID, "cuda"),
                count: 1,
                source: source(),
            },
        ];
        let docker = Advice::Docker {
            id: "0123456789abcdef".into(),
            kept: false,
        };
        for advice in [Advice::Native, docker, Advice::Emulator] {
            all.extend([
                Discovered::OtherLibrary {
                    gpus: vec![p4.clone()],
                    device: vulkan.clone(),
                    source: source(),
                    advice: advice.clone(),
                },
                Discovered::NoCuda {
                    gpus: vec![rtx.clone()],
                    line: cpu.line.clone(),
                    source: source(),
                    advice: advice.clone(),
                },
                Discovered::NoLine {
                    source: source(),
                    advice: advice.clone(),
                },
                Discovered::Missing {
                    gpus: vec![rtx.clone(), p4.clone()],
                    found: vec![UUID.into()],
                    missing: vec![p4.clone()],
                    advice,
                },
            ]);
        }
        let all: String = all
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
