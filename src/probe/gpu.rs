//! The NVIDIA GPUs, read through NVML (nvml-wrapper), or an emulated GPU that says so.

use super::host::{Host, HostError};
use std::time::Duration;

/// The driver library NVML needs; named in every message about a missing driver.
pub const NVML_LIBRARY: &str = "libnvidia-ml.so.1";

pub use crate::gpu::{
    emulated, main_server_gpu, pci_key, server_gpus, GpuInfo, GpuProcess, EMULATED_DRIVER_BYTES,
};

/// Where GPU facts come from (`--gpu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuSource {
    Nvml,
    /// `nvidia-smi` on the target's host: inside the container for the docker target.
    NvidiaSmi,
    Emulated,
    None,
}

impl std::str::FromStr for GpuSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "nvml" => Ok(GpuSource::Nvml),
            "nvidia-smi" => Ok(GpuSource::NvidiaSmi),
            "emulated" => Ok(GpuSource::Emulated),
            "none" => Ok(GpuSource::None),
            other => Err(format!(
                "unknown GPU source `{other}`: use nvml, nvidia-smi, emulated or none"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuError {
    #[error("the NVIDIA driver library {NVML_LIBRARY} could not be loaded ({detail}). Install the NVIDIA driver (on WSL2: the Windows driver, not a Linux one), or use --gpu none to skip GPU checks")]
    NoDriver { detail: String },
    #[error("GPU checks are off (--gpu none)")]
    Disabled,
    #[error("NVML failed: {0}. Is the driver loaded? Try `nvidia-smi`")]
    Nvml(String),
    #[error("NVML did not answer within {0:.1} s; the driver may be hung. Try `nvidia-smi`")]
    TimedOut(f64),
    #[error("{0}")]
    NotVisible(String),
}

/// Lists the GPUs from `source`.
pub async fn probe(source: GpuSource, timeout: Duration) -> Result<Vec<GpuInfo>, GpuError> {
    match source {
        GpuSource::None => Err(GpuError::Disabled),
        GpuSource::NvidiaSmi => Err(GpuError::NotVisible(
            "nvidia-smi is read through a host; use probe_smi".into(),
        )),
        GpuSource::Emulated => Ok(vec![emulated()]),
        GpuSource::Nvml => {
            // NVML calls block; keep them off the async workers.
            let task = tokio::task::spawn_blocking(read_nvml);
            match tokio::time::timeout(timeout, task).await {
                Err(_) => Err(GpuError::TimedOut(timeout.as_secs_f64())),
                Ok(Err(join)) => Err(GpuError::Nvml(join.to_string())),
                Ok(Ok(result)) => result,
            }
        }
    }
}

/// The fields `nvidia-smi --query-gpu` reports, in this order.
const SMI_FIELDS: &str =
    "index,name,uuid,memory.total,memory.used,driver_version,clocks.max.memory,pci.bus_id";
/// Asked after [`SMI_FIELDS`] where the driver knows them (`compute_cap` is newer than
/// some drivers the checks must still name as too old).
const SMI_EXTRA_FIELDS: &str = "compute_cap,utilization.gpu";

/// The GPUs as `nvidia-smi` on `host` lists them: for the docker target, proof that the
/// GPU reached the container, not only the machine.
pub async fn probe_smi(host: &dyn Host, timeout: Duration) -> Result<Vec<GpuInfo>, GpuError> {
    let format = "--format=csv,noheader,nounits";
    let query = format!("--query-gpu={SMI_FIELDS},{SMI_EXTRA_FIELDS}");
    let mut answer = host.run("nvidia-smi", &[&query, format], timeout).await;
    let unknown_field = |out: &super::CmdOutput| {
        !out.success() && format!("{}{}", out.stdout, out.stderr).contains("is not a valid field")
    };
    if matches!(&answer, Ok(out) if unknown_field(out)) {
        let query = format!("--query-gpu={SMI_FIELDS}");
        answer = host.run("nvidia-smi", &[&query, format], timeout).await;
    }
    match answer {
        Err(HostError::NotFound { host: name, .. }) if host.is_container() => Err(GpuError::NotVisible(format!(
            "no nvidia-smi in {name}: no GPU was passed in. The NVIDIA Container Toolkit mounts it when the container gets a GPU; install the toolkit and run with --gpus all"
        ))),
        Err(HostError::NotFound { host: name, .. }) => Err(GpuError::NotVisible(format!(
            "no nvidia-smi on {name}: the NVIDIA driver is not installed, or its tools are not on PATH (nvidia-smi comes with the driver; under WSL2 the Windows driver provides it in /usr/lib/wsl/lib). Install the driver, or try --gpu nvml"
        ))),
        Err(e) => Err(GpuError::Nvml(e.to_string())),
        Ok(out) if !out.success() => Err(GpuError::Nvml(format!(
            "nvidia-smi in {} failed: {}",
            host.describe(),
            format!("{}{}", out.stdout, out.stderr).trim()
        ))),
        Ok(out) => Ok(parse_smi(&out.stdout)),
    }
}

/// Parses `nvidia-smi --query-gpu=...  --format=csv,noheader,nounits` (memory in MiB):
/// [`SMI_FIELDS`], then [`SMI_EXTRA_FIELDS`] where they were asked for.
pub fn parse_smi(text: &str) -> Vec<GpuInfo> {
    const MIB: u64 = 1024 * 1024;
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() < 6 {
                return None;
            }
            let number = |s: &str| s.parse::<u64>().ok();
            Some(GpuInfo {
                index: f[0].parse().ok()?,
                name: f[1].to_string(),
                uuid: f[2].to_string(),
                memory_total: number(f[3])? * MIB,
                memory_used: number(f[4]).unwrap_or(0) * MIB,
                driver_version: f[5].to_string(),
                cuda_driver_version: None,
                memory_bus_width_bits: None,
                max_memory_clock_mhz: f.get(6).and_then(|s| s.parse().ok()),
                emulated: false,
                compute_capability: f.get(8).and_then(|cc| {
                    let (major, minor) = cc.split_once('.')?;
                    Some((major.parse().ok()?, minor.parse().ok()?))
                }),
                processes: None,
                utilization_percent: f.get(9).and_then(|u| u.parse().ok()),
                pci_bus_id: f
                    .get(7)
                    .filter(|p| pci_key(p).is_some())
                    .map(|p| p.to_string()),
            })
        })
        .collect()
}

fn read_nvml() -> Result<Vec<GpuInfo>, GpuError> {
    use nvml_wrapper::enum_wrappers::device::Clock;
    use nvml_wrapper::enums::device::UsedGpuMemory;
    use nvml_wrapper::error::NvmlError;
    use nvml_wrapper::Nvml;

    let nvml = Nvml::init().map_err(|e| match e {
        NvmlError::LibloadingError(_)
        | NvmlError::LibraryNotFound
        | NvmlError::FailedToLoadSymbol(_) => GpuError::NoDriver {
            detail: e.to_string(),
        },
        other => GpuError::Nvml(other.to_string()),
    })?;
    let err = |e: NvmlError| GpuError::Nvml(e.to_string());
    let driver_version = nvml.sys_driver_version().map_err(err)?;
    let cuda_driver_version = nvml.sys_cuda_driver_version().ok();
    let count = nvml.device_count().map_err(err)?;
    (0..count)
        .map(|index| {
            let d = nvml.device_by_index(index).map_err(err)?;
            let memory = d.memory_info().map_err(err)?;
            Ok(GpuInfo {
                index,
                name: d.name().map_err(err)?,
                uuid: d.uuid().unwrap_or_default(),
                memory_total: memory.total,
                memory_used: memory.used,
                driver_version: driver_version.clone(),
                cuda_driver_version,
                memory_bus_width_bits: d.memory_bus_width().ok(),
                max_memory_clock_mhz: d.max_clock_info(Clock::Memory).ok(),
                emulated: false,
                compute_capability: d.cuda_compute_capability().ok().map(|c| (c.major, c.minor)),
                processes: d.running_compute_processes().ok().map(|list| {
                    list.into_iter()
                        .map(|p| GpuProcess {
                            pid: p.pid,
                            name: nvml.sys_process_name(p.pid, 256).unwrap_or_default(),
                            used_bytes: match p.used_gpu_memory {
                                UsedGpuMemory::Used(b) => Some(b),
                                UsedGpuMemory::Unavailable => None,
                            },
                        })
                        .collect()
                }),
                utilization_percent: d.utilization_rates().ok().map(|u| u.gpu),
                pci_bus_id: d.pci_info().ok().map(|p| p.bus_id),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::host::Scripted;

    #[tokio::test]
    async fn a_missing_nvidia_smi_gets_the_advice_of_where_it_is_missing() {
        let t = Duration::from_secs(1);
        let container = probe_smi(&Scripted::empty("container 0123", true), t)
            .await
            .unwrap_err();
        let container = container.to_string();
        assert!(
            container.contains("container 0123") && container.contains("--gpus all"),
            "{container}"
        );
        let native = probe_smi(&Scripted::empty("this machine", false), t)
            .await
            .unwrap_err();
        let native = native.to_string();
        assert!(
            native.contains("NVIDIA driver is not installed"),
            "{native}"
        );
        assert!(!native.contains("Container Toolkit"), "{native}");
    }

    #[test]
    fn the_servers_gpus_are_those_it_holds_memory_on() {
        let with = |index: u32, name: Option<&str>| GpuInfo {
            index,
            processes: name.map(|n| {
                vec![GpuProcess {
                    pid: 1,
                    name: n.into(),
                    used_bytes: None,
                }]
            }),
            ..emulated()
        };
        let indexes =
            |gpus: &[GpuInfo]| -> Vec<u32> { server_gpus(gpus).iter().map(|g| g.index).collect() };
        let gpus = [with(0, Some("Xorg")), with(1, Some("C:\\ollama.exe"))];
        assert_eq!(indexes(&gpus), [1]);
        // None listed, or none of them Ollama's: all count.
        assert_eq!(indexes(&[with(0, None), with(1, None)]), [0, 1]);
        assert_eq!(indexes(&[with(0, Some("Xorg")), with(1, None)]), [0, 1]);
    }

    #[test]
    fn bandwidth_of_an_h100_as_nvml_reports_it() {
        let h100 = GpuInfo {
            memory_bus_width_bits: Some(5120),
            max_memory_clock_mhz: Some(2619),
            ..emulated()
        };
        let tb_s = h100.bandwidth_bytes_per_s().unwrap() / 1e12;
        assert!((tb_s - 3.35).abs() < 0.01, "{tb_s}");
        let gb_s = emulated().bandwidth_bytes_per_s().unwrap() / 1e9;
        assert!((gb_s - 360.0).abs() < 1.0, "{gb_s}");
        for (bits, mhz) in [(0, 2619), (5120, 0)] {
            let odd = GpuInfo {
                memory_bus_width_bits: Some(bits),
                max_memory_clock_mhz: Some(mhz),
                ..emulated()
            };
            assert_eq!(odd.bandwidth_bytes_per_s(), None, "{bits} bits, {mhz} MHz");
        }
    }

    #[test]
    fn pci_bus_ids_compare_in_one_form() {
        assert_eq!(pci_key("00000000:01:00.0").as_deref(), Some("0000:01:00.0"));
        assert_eq!(pci_key("0000:0A:00.0").as_deref(), Some("0000:0a:00.0"));
        assert_eq!(pci_key("\"0000:01:00.0\""), pci_key("00000000:01:00.0"));
        assert_eq!(pci_key(""), None);
        assert_eq!(pci_key("unknown id"), None);
    }

    #[test]
    fn ollama_processes_by_name() {
        let named = |name: &str| GpuProcess {
            pid: 1,
            name: name.into(),
            used_bytes: None,
        };
        for ours in [
            "/usr/bin/ollama",
            "/usr/local/lib/ollama/llama-server",
            "C:\\Program Files\\Ollama\\ollama.exe",
            "llama-server.exe",
        ] {
            assert!(named(ours).is_ollama(), "{ours}");
        }
        for other in [
            "/usr/bin/Xorg",
            "python3",
            "",
            "/usr/bin/llama-cli",
            "/opt/llama.cpp/build/bin/llama-server",
        ] {
            assert!(!named(other).is_ollama(), "{other}");
        }
    }

    #[test]
    fn the_main_server_gpu_holds_most_of_its_memory() {
        let gpu = |index, used_gib: u64, ollama: Option<u64>| GpuInfo {
            index,
            memory_used: used_gib << 30,
            processes: ollama.map(|g| {
                vec![GpuProcess {
                    pid: 7,
                    name: "/usr/bin/ollama".into(),
                    used_bytes: Some(g << 30),
                }]
            }),
            ..emulated()
        };
        let main = |list: &[GpuInfo]| main_server_gpu(list).map(|g| g.index);
        // No process lists (WSL2): the fuller GPU, not the display card at index 0.
        assert_eq!(main(&[gpu(0, 1, None), gpu(1, 9, None)]), Some(1));
        // Listed: the larger share of the server's memory, whatever else is in use.
        assert_eq!(main(&[gpu(0, 20, Some(2)), gpu(1, 9, Some(8))]), Some(1));
        // A tie goes to the lower index.
        assert_eq!(main(&[gpu(0, 4, None), gpu(1, 4, None)]), Some(0));
        assert_eq!(main(&[]), None);
    }

    #[test]
    fn summary_says_emulated() {
        let s = emulated().summary();
        assert_eq!(
            s,
            "NVIDIA GeForce RTX 3060 (emulated), 12288 MiB, driver 560.94"
        );
        assert_eq!(emulated().cuda_version().as_deref(), Some("12.6"));
    }

    #[test]
    fn parses_nvidia_smi() {
        let gpus = parse_smi(
            "0, NVIDIA H100 80GB HBM3, GPU-5f3c, 81559, 3, 580.159.04, 2619\n1, broken line\n",
        );
        assert_eq!(gpus.len(), 1);
        let g = &gpus[0];
        assert_eq!(
            (g.name.as_str(), g.memory_total / (1024 * 1024)),
            ("NVIDIA H100 80GB HBM3", 81559)
        );
        assert_eq!(
            (g.driver_version.as_str(), g.max_memory_clock_mhz),
            ("580.159.04", Some(2619))
        );
        assert_eq!(
            g.bandwidth_bytes_per_s(),
            None,
            "nvidia-smi does not report the bus width"
        );
        assert_eq!((g.compute_capability, g.utilization_percent), (None, None));
        let g =
            &parse_smi("0, NVIDIA GeForce RTX 3060, GPU-1, 12288, 900, 560.94, 7501, 00000000:01:00.0, 8.6, 37\n")[0];
        assert_eq!(
            (g.compute_capability, g.utilization_percent),
            (Some((8, 6)), Some(37))
        );
        assert_eq!(g.pci_bus_id.as_deref(), Some("00000000:01:00.0"));
        let g = &parse_smi("0, Tesla P4, GPU-2, 7680, 0, 535.1, 3003, [N/A], [N/A], [N/A]\n")[0];
        assert_eq!(g.pci_bus_id, None);
        assert_eq!((g.compute_capability, g.utilization_percent), (None, None));
    }

    /// A driver that does not know `compute_cap` refuses the whole query: it is asked
    /// again without the newer fields.
    #[tokio::test]
    async fn an_older_nvidia_smi_is_asked_again_without_the_newer_fields() {
        let old = Scripted {
            name: "this machine",
            container: false,
            answer: Box::new(|_, args| {
                let knows = !args[0].contains("compute_cap");
                Ok(crate::probe::CmdOutput {
                    code: Some(if knows { 0 } else { 2 }),
                    stdout: if knows {
                        "0, Tesla K80, GPU-3, 11441, 0, 470.82, 2505\n".into()
                    } else {
                        "Field \"compute_cap\" is not a valid field to query.\n".into()
                    },
                    stderr: String::new(),
                })
            }),
        };
        let gpus = probe_smi(&old, Duration::from_secs(1)).await.unwrap();
        assert_eq!(
            (gpus[0].name.as_str(), gpus[0].driver_version.as_str()),
            ("Tesla K80", "470.82")
        );
    }

    #[tokio::test]
    async fn none_is_disabled() {
        assert_eq!(
            probe(GpuSource::None, Duration::from_secs(1)).await,
            Err(GpuError::Disabled)
        );
    }

    /// On a machine without the NVIDIA driver, the error names the library to install.
    #[tokio::test]
    async fn nvml_without_a_driver_names_the_library() {
        match probe(GpuSource::Nvml, Duration::from_secs(10)).await {
            Ok(gpus) => assert!(gpus.iter().all(|g| !g.emulated)),
            Err(e @ GpuError::NoDriver { .. }) => assert!(e.to_string().contains(NVML_LIBRARY)),
            Err(other) => panic!("unexpected NVML error: {other}"),
        }
    }
}
