//! `diagnose.*`: why a verification check fails, from the server's log, NVML and the
//! host. Each verdict quotes its evidence (a log line, NVML's figures, /proc) and ends
//! with the next step; where a fact cannot exist here it skips with the reason.

use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{PsResponse, RunningModel};
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::{ClientError, ModelName};

// Re-exported for callers of the old path; the code lives in `crate::version`.
pub use crate::version::{version_key, PreRelease, VersionKey};

const GIB: f64 = (1u64 << 30) as f64;

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / GIB)
}

pub use crate::signature::render::quote;
use crate::signature::{self, render, Diagnosis, Finding, FindingKind};

/// Why there are no NVML GPUs to compare the server's view with.
#[derive(Debug, Clone, PartialEq)]
pub enum NoGpus {
    /// `--gpu none`.
    Off,
    /// NVML could not be read: its error.
    Unreadable(GpuError),
    /// NVML lists none.
    NoneListed,
}

impl NoGpus {
    /// The finding in words: a skip, since gpu.visible reports it.
    pub fn outcome(&self) -> Outcome {
        Outcome::skip(self.reason())
    }

    fn reason(&self) -> String {
        match self {
            NoGpus::Off => GpuError::Disabled.to_string(),
            NoGpus::Unreadable(e) => {
                format!("the GPUs cannot be read (see {}): {e}", CheckId::GpuVisible)
            }
            NoGpus::NoneListed => format!(
                "NVML lists no GPU, so there is nothing the server should have found (see {})",
                CheckId::GpuVisible
            ),
        }
    }
}

/// The GPUs NVML lists, or why there are none to compare with.
fn nvml_gpus(gpus: &Result<Vec<GpuInfo>, GpuError>) -> Result<&[GpuInfo], NoGpus> {
    match gpus {
        Err(GpuError::Disabled) => Err(NoGpus::Off),
        Err(e) => Err(NoGpus::Unreadable(e.clone())),
        Ok(list) if list.is_empty() => Err(NoGpus::NoneListed),
        Ok(list) => Ok(list),
    }
}

/// The signature findings of the server's current start.
fn findings(log: &ServerLog) -> Diagnosis {
    signature::scan_lines(log.current())
}

/// What a verdict quotes from the server's log: a signature finding, and where the
/// log is from.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub finding: Finding,
    pub source: String,
}

impl Evidence {
    fn of(finding: &Finding, log: &ServerLog) -> Self {
        Evidence {
            finding: finding.clone(),
            source: log.source.clone(),
        }
    }

    /// The finding as the log says it: its cause, the quoted line, where it is from.
    fn said(&self) -> String {
        let f = &self.finding;
        format!(
            "{}: {} ({})",
            render::cause(f),
            quote(&f.evidence),
            self.source
        )
    }
}

/// The finding that explains a failed load or generation: an out-of-memory first,
/// else a crashed runner.
fn load_failure(log: &Result<ServerLog, LogError>) -> Option<Evidence> {
    let log = log.as_ref().ok()?;
    let d = findings(log);
    let f = d
        .of(FindingKind::OomAtLoad)
        .chain(d.of(FindingKind::RunnerCrashed))
        .next()?;
    Some(Evidence::of(f, log))
}

/// Why the model is not there to look at in `/api/ps`.
#[derive(Debug, Clone)]
pub enum NotLoaded {
    /// `/api/ps` only echoes a failed `GET /`: the reason api.root reports.
    RootDown(String),
    /// `/api/ps` failed (gpu.offload reports it): the error.
    Unlisted(ClientError),
    /// `/api/ps` does not list it: its name.
    Absent(String),
}

impl NotLoaded {
    /// The finding in words: a skip, since another check reports it.
    pub fn outcome(&self) -> Outcome {
        Outcome::skip(self.reason())
    }

    fn reason(&self) -> String {
        let see = CheckId::GpuOffload;
        match self {
            NotLoaded::RootDown(reason) => reason.clone(),
            NotLoaded::Unlisted(e) => format!("`/api/ps` failed (see {see}): {e}"),
            NotLoaded::Absent(model) => {
                format!(
                    "{} is not loaded (see {see})",
                    ModelName::parse(model).display_name()
                )
            }
        }
    }
}

fn loaded<'a>(
    ps: &'a Result<PsResponse, ClientError>,
    model: &str,
    unreachable: Option<&str>,
) -> Result<&'a RunningModel, NotLoaded> {
    let ps = match ps {
        Err(e) => {
            return Err(match super::root_reason(e, unreachable) {
                Some(reason) => NotLoaded::RootDown(reason.to_string()),
                None => NotLoaded::Unlisted(e.clone()),
            })
        }
        Ok(ps) => ps,
    };
    ps.find(model)
        .ok_or_else(|| NotLoaded::Absent(model.to_string()))
}

mod context;
mod discovery;
mod driver_floor;
mod offload;
mod platform;
mod port_owner;
mod service;
mod vulnerable;

pub use context::{context, context_finding, Context, Loaded};
pub use discovery::{gpu_discovered, gpu_discovered_finding, Discovered, NvmlGpu};
pub use driver_floor::{
    driver_floor, driver_floor_finding, parse_capability, DriverFloor, DriverOf, Floors,
};
pub use offload::{
    offload, offload_finding, ApiPlacement, NoLayers, OffloadSeen, Room, VramHolder,
};
pub use platform::{platform, platform_finding, DriverPlatform};
pub use port_owner::{port_owner, port_owner_finding, PortOwner};
pub use service::{
    service_health, service_health_finding, settings, settings_finding, Differs, Health, NoService,
    Restarts, Runner, Settings,
};
pub use vulnerable::{vulnerable, vulnerable_finding, Fix, Vulnerable};

/// Helpers the verdicts' tests share.
#[cfg(test)]
mod support {
    use crate::client::types::{ModelDetails, PsResponse, RunningModel};
    use crate::probe::gpu::{emulated, GpuError, GpuInfo, GpuProcess};
    use crate::probe::logs::ServerLog;
    use crate::probe::service::{parse_show, ServiceFacts};
    use crate::probe::LogError;
    use crate::ClientError;

    pub const UUID: &str = "GPU-00000000-0000-0000-0000-000000000000";

    pub fn log(lines: &[&str]) -> Result<ServerLog, LogError> {
        Ok(ServerLog::new("journalctl -u ollama", &lines.join("\n")))
    }

    pub fn compute(id: &str, library: &str) -> String {
        format!("time=2026-01-01T00:00:00Z level=INFO source=types.go:42 msg=\"inference compute\" id={id} library={library} compute=8.6 driver=12.6 name=\"NVIDIA GeForce RTX 3060\" total=\"12.0 GiB\" available=\"11.1 GiB\"")
    }

    pub fn ps(size_vram: u64) -> Result<PsResponse, ClientError> {
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

    pub fn sample(
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

    pub fn ollama(bytes: u64) -> Vec<GpuProcess> {
        vec![GpuProcess {
            pid: 812,
            name: "/usr/local/bin/ollama".into(),
            used_bytes: Some(bytes),
        }]
    }

    pub fn unit(text: &str) -> Result<ServiceFacts, crate::probe::ProbeError> {
        Ok(ServiceFacts::Unit(parse_show("ollama", text)))
    }
}

#[cfg(test)]
mod tests {
    use super::support::*;
    use super::*;
    use crate::check::Status;
    use crate::probe::gpu::emulated;
    use crate::target::Advice;

    /// The next step of a diagnosis is the target's: the container's GPU access and
    /// log on the docker target, the config on the emulator target, never systemd or
    /// the journal where there are none.
    #[test]
    fn diagnoses_name_the_next_step_of_the_target() {
        let gpus = Ok(vec![emulated()]);
        let cpu_only = compute("cpu", "cpu");
        let of = Ok(ServerLog::new("the container log", &cpu_only));
        let container = Advice::Docker {
            id: "0123456789abcdef".into(),
            kept: false,
        };
        // The finding carries the target; the snapshot of gpu_discovered's findings
        // shows each target's next step.
        for server in [Advice::Native, container.clone(), Advice::Emulator] {
            let found = gpu_discovered_finding(&of, &gpus, &server);
            assert!(
                matches!(&found, Discovered::NoCuda { advice, .. } if *advice == server),
                "{found:?}"
            );
            assert_eq!(gpu_discovered(&of, &gpus, &server).status, Status::Fail);
        }
        // The API's placement with no VRAM held: where to read the load's lines is the
        // target's, as the snapshot of offload's findings shows.
        for server in [Advice::Native, container] {
            let found = offload_finding(
                &ps(5 << 30),
                ("my-coder", None),
                &Ok(()),
                &sample(Some(vec![]), 0),
                &Ok(log(&[]).unwrap()),
                None,
                &server,
            );
            assert!(
                matches!(&found, OffloadSeen::NoneHeld { advice, .. } if *advice == server),
                "{found:?}"
            );
        }
    }
}

/// The verdicts name the cause from real logs (the fixtures), with or without NVML.
#[cfg(test)]
mod from_real_logs {
    use super::support::{ps, sample};
    use super::*;
    use crate::check::Status;
    use crate::probe::gpu::emulated;
    use crate::target::Advice;

    fn fixture(stem: &str) -> Result<ServerLog, LogError> {
        let path = format!(
            "{}/tests/fixtures/logs/{stem}.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        Ok(ServerLog::new("the pasted log", &text))
    }

    fn gpu(driver: &str, cc: (i32, i32)) -> Result<Vec<GpuInfo>, GpuError> {
        Ok(vec![GpuInfo {
            driver_version: driver.into(),
            compute_capability: Some(cc),
            ..emulated()
        }])
    }

    #[test]
    fn discovery_names_the_cause_with_and_without_nvml() {
        let o = gpu_discovered(
            &fixture("020-driver-535-too-old-0.30"),
            &Err(GpuError::Disabled),
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("cpu_fallback.driver_too_old"));
        let found = gpu_discovered_finding(
            &fixture("020-driver-535-too-old-0.30"),
            &Err(GpuError::Disabled),
            &Advice::Native,
        );
        assert!(
            matches!(
                &found,
                Discovered::FallbackByLog { cause, nvml: NoGpus::Off }
                    if cause.finding.evidence.contains("msg=\"NVIDIA driver too old\"")
            ),
            "{found:?}"
        );
        let o = gpu_discovered(
            &fixture("008-after-sleep-cudart-999"),
            &Ok(vec![emulated()]),
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("cpu_fallback.cuda_init_error"));
        let found = gpu_discovered_finding(
            &fixture("008-after-sleep-cudart-999"),
            &Ok(vec![emulated()]),
            &Advice::Native,
        );
        assert!(
            matches!(
                &found,
                Discovered::Cause { cause, .. }
                    if cause.finding.kind == FindingKind::CudaInitError
                        && cause.finding.evidence.contains("err: 999")
            ),
            "{found:?}"
        );
        // A healthy log without NVML: nothing to compare, nothing wrong said.
        let o = gpu_discovered(
            &fixture("009-rtx4070tis-full-offload"),
            &Err(GpuError::Disabled),
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
    }

    /// The version alone says "still uses the GPU"; the log showing it fail wins, and
    /// NVML's driver beside a log refusing one is said as a disagreement.
    #[test]
    fn the_driver_floor_yields_to_the_log() {
        fn floor(
            gpus: &Result<Vec<GpuInfo>, GpuError>,
            log: &Result<ServerLog, LogError>,
        ) -> Outcome {
            driver_floor(gpus, Some("0.17.1"), 550, 570, ((5, 0), (6, 2)), Some(log))
        }
        fn floor_finding(
            gpus: &Result<Vec<GpuInfo>, GpuError>,
            log: &Result<ServerLog, LogError>,
        ) -> DriverFloor {
            driver_floor_finding(gpus, Some("0.17.1"), 550, 570, ((5, 0), (6, 2)), Some(log))
        }
        let refused = fixture("020-driver-535-too-old-0.30");
        let o = floor(&gpu("535.183", (8, 6)), &refused);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        // Not "still used": the log shows the GPU failing.
        let found = floor_finding(&gpu("535.183", (8, 6)), &refused);
        assert!(
            matches!(&found, DriverFloor::FailingBelow { failing, .. } if failing.source == "the pasted log"),
            "{found:?}"
        );
        let o = floor(
            &gpu("535.183", (8, 6)),
            &fixture("009-rtx4070tis-full-offload"),
        );
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        let o = floor(
            &gpu("570.86", (8, 6)),
            &fixture("019-windows-driver-too-old-cudart"),
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("log and NVML disagree"));
        // NVML's driver beside the line of the log that refuses one.
        let found = floor_finding(
            &gpu("570.86", (8, 6)),
            &fixture("019-windows-driver-too-old-cudart"),
        );
        assert!(
            matches!(
                &found,
                DriverFloor::Disagree { passed, refused }
                    if passed[0].driver == "570.86"
                        && refused.finding.evidence.contains("your nvidia driver is too old")
            ),
            "{found:?}"
        );
        let o = floor(&Err(GpuError::Disabled), &refused);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
    }

    #[test]
    fn a_failed_load_is_quoted_not_pointed_at() {
        let chat = Err(ClientError::Status {
            endpoint: "POST /api/chat".into(),
            status: 500,
            message: None,
            next: Default::default(),
        });
        let oom = fixture("004-deepseek2-oom-runner-abort");
        let o = offload(
            &ps(0),
            ("my-coder", None),
            &chat,
            &sample(None, 0),
            &oom,
            None,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("oom.at_load"));
        let found = offload_finding(
            &ps(0),
            ("my-coder", None),
            &chat,
            &sample(None, 0),
            &oom,
            None,
            &Advice::Native,
        );
        assert!(
            matches!(
                &found,
                OffloadSeen::FailedGeneration { cause, .. }
                    if cause.finding.evidence.contains("cudaMalloc failed: out of memory")
            ),
            "{found:?}"
        );
        let none = Ok(PsResponse { models: vec![] });
        let partial = fixture("006-deepseek2-partial-offload-oom");
        let o = context(&none, "my-coder", &Ok(vec![emulated()]), &partial, None);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        let found = context_finding(&none, "my-coder", &Ok(vec![emulated()]), &partial, None);
        assert!(
            matches!(
                &found,
                Context::FailedLoad { cause, .. }
                    if cause.finding.evidence.contains("CUDA error: out of memory")
            ),
            "{found:?}"
        );
    }

    /// Every release's way of counting layers, even without NVML.
    #[test]
    fn offload_reads_the_layers_of_any_release_without_nvml() {
        let o = offload(
            &ps(1 << 30),
            ("my-coder", None),
            &Ok(()),
            &Err(GpuError::Disabled),
            &fixture("026-compose-partial-offload-invalid-overhead"),
            None,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("offloaded 5/62 layers"));
        let o = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &Err(GpuError::Disabled),
            &fixture("015-vision-projector-on-cpu"),
            None,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("projector on the CPU"));
        // A full offload from the log alone is not confirmed without NVML.
        let o = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &Err(GpuError::Disabled),
            &fixture("009-rtx4070tis-full-offload"),
            None,
            &Advice::Native,
        );
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
        let found = offload_finding(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &Err(GpuError::Disabled),
            &fixture("009-rtx4070tis-full-offload"),
            None,
            &Advice::Native,
        );
        assert!(
            matches!(
                &found,
                OffloadSeen::Unconfirmed {
                    nvml: NoGpus::Off,
                    layers: Some(crate::probe::logs::Offload {
                        on_gpu: 43,
                        total: 43
                    })
                }
            ),
            "{found:?}"
        );
    }
}
