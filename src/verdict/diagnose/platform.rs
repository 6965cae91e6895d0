//! `diagnose.platform`: the kernel side of the driver, natively and on WSL2.

use crate::check::Outcome;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::procfs::{Platform, WSL_LIB_DIR};
use crate::probe::ProbeError;

/// `diagnose.platform`: nvidia_uvm loaded and /dev/nvidia-uvm present on native Linux;
/// on WSL2, the driver libraries are Windows' (no distro copy shadows them).
pub fn platform(
    facts: &Result<Platform, ProbeError>,
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
        Err(reason) => return Outcome::skip(reason.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::Status;

    use crate::probe::gpu::emulated;

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
}
