//! `diagnose.gpu_discovered`: the server found the GPUs NVML sees.

use super::{findings, log_of, nvml_gpus, quote, said};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::gpu::{pci_key, GpuError, GpuInfo};
use crate::probe::logs::{ComputeDevice, ServerLog};
use crate::probe::LogError;
use crate::signature::{render, FindingKind};
use crate::target::Advice;

/// `diagnose.gpu_discovered`: the server's `inference compute` lines name a CUDA
/// device for every GPU NVML sees.
pub fn gpu_discovered(
    log: &Result<ServerLog, LogError>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    advice: &Advice,
) -> Outcome {
    let log = match (log_of(log), nvml_gpus(gpus).map_err(|n| n.outcome())) {
        (Ok(l), _) => l,
        (Err(_), Err(skip)) => return skip,
        (Err(skip), Ok(_)) => return skip,
    };
    let found = findings(log);
    let fallback = found.cpu_fallback();
    let gpus = match nvml_gpus(gpus).map_err(|n| n.outcome()) {
        Ok(g) => g,
        // Without NVML (`--gpu none`, no driver here) the log alone may still say
        // the server found no GPU, and why.
        Err(skip) => {
            return match fallback.first() {
                Some(f) => Outcome::fail(format!(
                    "the server's log says it runs without the GPU: {}. NVML is not read here ({}). Next: {}",
                    said(f, &log.source),
                    skip.detail,
                    render::next(f)
                ))
                .with_value(f.kind.as_str()),
                None => skip,
            }
        }
    };
    let devices = log.compute_devices();
    let seen = gpus
        .iter()
        .map(|g| format!("{} ({})", g.name, g.uuid))
        .collect::<Vec<_>>()
        .join(", ");
    let next = discovery_next(advice);
    let cuda_found = devices.iter().any(|d| d.is_cuda());
    // A named cause (driver, CUDA, NVML, runners, discovery) says more than "no GPU
    // found"; a driver refused fails even beside a CUDA line (another GPU's).
    let cause = fallback.iter().find(|f| {
        f.kind == FindingKind::DriverTooOld || (!cuda_found && f.kind != FindingKind::NoGpuFound)
    });
    if let Some(f) = cause {
        let nvml: Vec<String> = gpus
            .iter()
            .map(|g| format!("{} with driver {}", g.name, g.driver_version))
            .collect();
        let see = match f.kind {
            FindingKind::DriverTooOld => format!(" (see {})", CheckId::DiagnoseDriverFloor),
            _ => String::new(),
        };
        return Outcome::fail(format!(
            "NVML sees {}, but the server's log says {}. Next: {}{see}",
            nvml.join(", "),
            said(f, &log.source),
            render::next(f)
        ))
        .with_value(f.kind.as_str());
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
                advice.restart_logs()
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
        let o = gpu_discovered(
            &log(&[none, &compute("cpu", "cpu")]),
            &gpus,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("no compatible GPUs") && o.detail.contains("Next:"),
            "{}",
            o.detail
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
        let o = gpu_discovered(&log(&[&compute("0", "Vulkan")]), &gpus, &Advice::Native);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail.contains("through Vulkan, not CUDA"),
            "{}",
            o.detail
        );
        // An integrated GPU that Vulkan took is not the NVIDIA one.
        let igpu =
            compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Intel(R) UHD Graphics");
        let o = gpu_discovered(&log(&[&igpu]), &gpus, &Advice::Native);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(o.detail.contains("found no CUDA device"), "{}", o.detail);
        assert!(!o.detail.contains("through Vulkan"), "{}", o.detail);
        // An older card's Vulkan name lacks "NVIDIA": NVML's name tells it.
        let p4 = GpuInfo {
            name: "Tesla P4".into(),
            ..emulated()
        };
        let tesla = compute("0", "Vulkan").replace("NVIDIA GeForce RTX 3060", "Tesla P4");
        let o = gpu_discovered(&log(&[&tesla]), &Ok(vec![p4]), &Advice::Native);
        assert!(o.detail.contains("through Vulkan"), "{}", o.detail);
        assert_eq!(
            gpu_discovered(&Err("no journalctl".into()), &gpus, &Advice::Native).status,
            Status::Skip
        );
        assert_eq!(
            gpu_discovered(&log(&[&ok]), &Err(GpuError::Disabled), &Advice::Native).status,
            Status::Skip
        );
    }
}
