//! `diagnose.platform`: the kernel side of the driver, natively and on WSL2. The
//! verdict finds what the host shows (a typed finding), and one renderer words it.

use crate::check::Outcome;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::procfs::{Platform, WSL_LIB_DIR};
use crate::probe::ProbeError;

/// What `diagnose.platform` found.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverPlatform {
    /// The GPU is emulated: this host's driver does not serve it.
    Emulated,
    /// `--gpu none`.
    GpusOff,
    /// The host could not be read: why.
    Unread(ProbeError),
    /// Native Linux without nvidia_uvm loaded, or without /dev/nvidia-uvm.
    UvmMissing { loaded: bool, device: bool },
    /// Native Linux, nvidia_uvm loaded and its device present.
    UvmReady,
    /// WSL2, with distro copies of the driver's libraries (name, path) before the
    /// Windows driver's.
    Shadowed(Vec<(String, String)>),
    /// WSL2, with no libcuda on the library path.
    NoLibcuda,
    /// WSL2, with the Windows driver's libraries.
    WslReady,
}

/// `diagnose.platform`: nvidia_uvm loaded and /dev/nvidia-uvm present on native Linux;
/// on WSL2, the driver libraries are Windows' (no distro copy shadows them).
pub fn platform(
    facts: &Result<Platform, ProbeError>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
) -> Outcome {
    platform_finding(facts, gpus).outcome()
}

pub fn platform_finding(
    facts: &Result<Platform, ProbeError>,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
) -> DriverPlatform {
    match gpus {
        Ok(list) if list.iter().any(|g| g.emulated) => return DriverPlatform::Emulated,
        Err(GpuError::Disabled) => return DriverPlatform::GpusOff,
        _ => {}
    }
    let p = match facts {
        Err(reason) => return DriverPlatform::Unread(reason.clone()),
        Ok(p) => p,
    };
    match p {
        Platform::Linux {
            uvm_loaded,
            uvm_device,
        } if !uvm_loaded || !uvm_device => DriverPlatform::UvmMissing {
            loaded: *uvm_loaded,
            device: *uvm_device,
        },
        Platform::Linux { .. } => DriverPlatform::UvmReady,
        Platform::Wsl2 { libraries } => {
            let shadowing: Vec<(String, String)> = libraries
                .iter()
                .filter(|(_, path)| !path.starts_with(WSL_LIB_DIR))
                .cloned()
                .collect();
            if !shadowing.is_empty() {
                DriverPlatform::Shadowed(shadowing)
            } else if !libraries.iter().any(|(n, _)| n.starts_with("libcuda.so")) {
                DriverPlatform::NoLibcuda
            } else {
                DriverPlatform::WslReady
            }
        }
    }
}

impl DriverPlatform {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            DriverPlatform::Emulated => Outcome::skip(
                "the GPU is emulated: this host's driver modules and libraries are not what serves it",
            ),
            DriverPlatform::GpusOff => Outcome::skip(GpuError::Disabled.to_string()),
            DriverPlatform::Unread(reason) => Outcome::skip(reason.to_string()),
            DriverPlatform::UvmMissing { loaded, device } => {
                let what = match (loaded, device) {
                    (false, false) => "the nvidia_uvm module is not loaded (/proc/modules) and /dev/nvidia-uvm is missing",
                    (false, true) => "the nvidia_uvm module is not loaded (/proc/modules)",
                    _ => "/dev/nvidia-uvm is missing",
                };
                let next = "Next: `sudo modprobe nvidia_uvm` and `sudo nvidia-modprobe -u -c=0`, then `sudo systemctl restart ollama`; add nvidia_uvm to /etc/modules-load.d/ to keep it";
                Outcome::fail(format!(
                    "{what}: CUDA cannot allocate unified memory, and Ollama falls back to the CPU (often after a suspend/resume). {next}"
                ))
                .with_value("nvidia_uvm missing")
            }
            DriverPlatform::UvmReady => {
                Outcome::pass("native Linux: nvidia_uvm is loaded and /dev/nvidia-uvm exists")
                    .with_value("nvidia_uvm loaded")
            }
            DriverPlatform::Shadowed(libraries) => {
                let shadowing: Vec<String> = libraries
                    .iter()
                    .map(|(name, path)| format!("{name} at {path}"))
                    .collect();
                let next = "Next: remove the Linux NVIDIA driver packages inside WSL (`sudo apt remove --purge 'libnvidia-compute-*' 'nvidia-driver-*' 'libnvidia-ml*'`), run `sudo ldconfig`, and restart the server; WSL2 uses only the Windows driver";
                Outcome::fail(format!(
                    "WSL2: a distro-installed {} shadows the Windows driver's copy in {WSL_LIB_DIR} (`ldconfig -p`): CUDA then fails or finds no GPU. {next}",
                    shadowing.join(", ")
                ))
                .with_value("driver libraries shadowed")
            }
            DriverPlatform::NoLibcuda => Outcome::fail(format!(
                "WSL2: `ldconfig -p` lists no libcuda.so: the Windows driver's libraries in {WSL_LIB_DIR} are not on the library path. Next: check /etc/ld.so.conf.d/ld.wsl.conf names {WSL_LIB_DIR}, run `sudo ldconfig`, and update the Windows NVIDIA driver"
            ))
            .with_value("no libcuda"),
            DriverPlatform::WslReady => Outcome::pass(format!(
                "WSL2: libcuda and libnvidia-ml come from the Windows driver ({WSL_LIB_DIR})"
            ))
            .with_value("WSL2 driver libraries"),
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
        let shadowed = wsl(&[
            ("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"),
            ("libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"),
        ]);
        assert_eq!(
            platform_finding(&shadowed, &real),
            DriverPlatform::Shadowed(vec![(
                "libcuda.so.1".into(),
                "/usr/lib/x86_64-linux-gnu/libcuda.so.1".into()
            )])
        );
        assert_eq!(platform(&shadowed, &real).status, Status::Fail);
        assert_eq!(
            platform_finding(&wsl(&[]), &real),
            DriverPlatform::NoLibcuda
        );
        assert_eq!(
            platform(&linux(false, false), &Ok(vec![emulated()])).status,
            Status::Skip
        );
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let lib = |name: &str, dir: &str| (name.to_string(), format!("{dir}/{name}"));
        let distro = "/usr/lib/x86_64-linux-gnu";
        let found = [
            DriverPlatform::Emulated,
            DriverPlatform::GpusOff,
            DriverPlatform::Unread(ProbeError::MissingTool {
                what: "the libraries",
                host: "this machine".into(),
                tool: "ldconfig",
                package: None,
            }),
            DriverPlatform::UvmMissing {
                loaded: false,
                device: false,
            },
            DriverPlatform::UvmMissing {
                loaded: false,
                device: true,
            },
            DriverPlatform::UvmMissing {
                loaded: true,
                device: false,
            },
            DriverPlatform::UvmReady,
            DriverPlatform::Shadowed(vec![lib("libcuda.so.1", distro)]),
            DriverPlatform::Shadowed(vec![
                lib("libcuda.so.1", distro),
                lib("libnvidia-ml.so.1", distro),
            ]),
            DriverPlatform::NoLibcuda,
            DriverPlatform::WslReady,
        ];
        let all: String = found
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
