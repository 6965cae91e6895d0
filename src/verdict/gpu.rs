//! `gpu.visible`, `gpu.offload`: each verdict finds what the facts show (a typed
//! finding), and one renderer words it.

use super::cloud::{CloudModel, Reading};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{Placement, PsResponse, Remote};
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::{ClientError, ModelName};

/// What `gpu.visible` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Visible {
    /// `--gpu none`: the GPUs are not read.
    NotRead,
    /// They could not be read: the probe's error.
    Unreadable(GpuError),
    /// Fewer than the spec asks for.
    TooFew { min: usize, seen: usize },
    /// None, and the spec asks for none.
    NoneAsked,
    /// `count` GPUs; the first's summary, CUDA version and whether it is emulated.
    Seen {
        count: usize,
        first: String,
        cuda: Option<String>,
        emulated: bool,
    },
}

/// `gpu.visible`: at least `min` NVIDIA GPUs, with name, memory and driver.
pub fn visible(gpus: &Result<Vec<GpuInfo>, GpuError>, min: usize) -> Outcome {
    visible_finding(gpus, min).outcome()
}

pub fn visible_finding(gpus: &Result<Vec<GpuInfo>, GpuError>, min: usize) -> Visible {
    match gpus {
        Err(GpuError::Disabled) => Visible::NotRead,
        Err(e) => Visible::Unreadable(e.clone()),
        Ok(list) if list.len() < min => Visible::TooFew {
            min,
            seen: list.len(),
        },
        Ok(list) => match list.first() {
            None => Visible::NoneAsked,
            Some(first) => Visible::Seen {
                count: list.len(),
                first: first.summary(),
                cuda: first.cuda_version().map(|c| c.to_string()),
                emulated: first.emulated,
            },
        },
    }
}

impl Visible {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        match self {
            Visible::NotRead => Outcome::skip(GpuError::Disabled.to_string()),
            Visible::Unreadable(e) => Outcome::fail(e.to_string()),
            Visible::TooFew { min, seen } => Outcome::fail(format!(
                "expected at least {min} NVIDIA GPU(s), NVML lists {seen}. Check `nvidia-smi`; on WSL2 the Windows driver must be installed"
            )),
            Visible::NoneAsked => {
                Outcome::pass("NVML lists no NVIDIA GPU, and the spec asks for at least 0")
                    .with_value("none")
            }
            Visible::Seen {
                count,
                first,
                cuda,
                emulated,
            } => {
                let mut value = first.clone();
                if *count > 1 {
                    value.push_str(&format!(" (+{} more)", count - 1));
                }
                let cuda = cuda.as_ref().map(|c| format!(", CUDA {c}")).unwrap_or_default();
                let source = if *emulated { "emulated GPU, not hardware" } else { "read through NVML" };
                Outcome::pass(format!("{count} GPU(s){cuda}; {source}")).with_value(value)
            }
        }
    }
}

/// What `gpu.offload` found.
#[derive(Debug, Clone)]
pub enum Offload {
    /// `/api/ps` failed: its error.
    Unanswered(ClientError),
    /// A cloud model: never loaded here.
    Cloud(CloudModel),
    /// `/api/ps` does not list the model; it lists `loaded`.
    NotLoaded { model: String, loaded: Vec<String> },
    /// Loaded: `size_vram` of `size` bytes in VRAM, placed as `ollama ps` says.
    Placed {
        size: u64,
        size_vram: u64,
        placement: Placement,
    },
}

/// `gpu.offload`: the loaded model sits wholly in VRAM by `/api/ps` (the `ollama ps`
/// rule). Partly on the CPU warns; not on the GPU at all, or not loaded, fails.
/// `remote` is where its chat said it ran (`remote_model`, `remote_host`): a cloud
/// model is never loaded here, and `/api/ps` never lists it.
pub fn offload(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    remote: Option<&Remote>,
) -> Outcome {
    offload_finding(ps, model, remote).outcome()
}

pub fn offload_finding(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    remote: Option<&Remote>,
) -> Offload {
    let ps = match ps {
        Ok(ps) => ps,
        Err(e) => return Offload::Unanswered(e.clone()),
    };
    match ps.find(model) {
        Some(m) => Offload::Placed {
            size: m.size,
            size_vram: m.size_vram,
            placement: m.placement(),
        },
        None => match CloudModel::of(model, remote) {
            Some(cloud) => Offload::Cloud(cloud),
            None => Offload::NotLoaded {
                model: model.to_string(),
                loaded: ps.models.iter().map(|m| m.name.clone()).collect(),
            },
        },
    }
}

impl Offload {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let (size, size_vram, placement) = match self {
            Offload::Unanswered(e) => return Outcome::fail(e.to_string()),
            Offload::Cloud(cloud) => return cloud.skip(Reading::Vram),
            Offload::NotLoaded { model, loaded } => {
                return Outcome::fail(format!(
                    "expected {} loaded after its chat, but `/api/ps` lists {}. It may have been unloaded at once (keep_alive 0) or evicted for lack of VRAM",
                    ModelName::parse(model).display_name(),
                    if loaded.is_empty() { "nothing".into() } else { loaded.join(", ") }
                ))
            }
            Offload::Placed {
                size,
                size_vram,
                placement,
            } => (*size, *size_vram, *placement),
        };
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let detail = format!("{:.1} of {:.1} GiB in VRAM", gib(size_vram), gib(size));
        match placement {
            Placement::Gpu => Outcome::pass(detail).with_value(placement.to_string()),
            Placement::Split { gpu_percent } => Outcome::warn(format!(
                "{detail}: {}% runs on the CPU, so generation is slower. Free VRAM (other processes in `nvidia-smi`), lower num_ctx, or use a smaller quantisation",
                100 - gpu_percent
            ))
            .with_value(placement.to_string()),
            Placement::Unknown => Outcome::warn(format!(
                "{detail}: more in VRAM than the whole model, which `ollama ps` shows as Unknown; the server's figures do not add up, so where the model runs is not proven. See {see} for what the GPU shows", see = CheckId::DiagnoseOffload
            ))
            .with_value(placement.to_string()),
            Placement::Cpu => Outcome::fail(format!(
                "{detail}: the model runs entirely on the CPU. Ollama placed none of it on a GPU: it found no GPU it could use, had too little free VRAM for a layer (other processes in `nvidia-smi`), or was told to use none (`num_gpu 0`); the server log's `inference compute` line says whether it found the GPU (see {see}, {and})",
                see = CheckId::DiagnoseGpuDiscovered,
                and = CheckId::DiagnoseOffload
            ))
            .with_value(placement.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::{ModelDetails, RunningModel};
    use rstest::rstest;

    fn ps(size: u64, size_vram: u64) -> Result<PsResponse, ClientError> {
        Ok(PsResponse {
            models: vec![RunningModel {
                name: "my-coder:latest".into(),
                model: "my-coder:latest".into(),
                size,
                digest: String::new(),
                details: ModelDetails::default(),
                expires_at: String::new(),
                size_vram,
                context_length: None,
            }],
        })
    }

    #[rstest]
    #[case(100, 100, Status::Pass, "100% GPU")]
    #[case(100, 60, Status::Warn, "40%/60% CPU/GPU")]
    #[case(100, 0, Status::Fail, "100% CPU")]
    #[case(100, 120, Status::Warn, "Unknown")]
    #[case(0, 5, Status::Warn, "Unknown")]
    fn placement_by_the_cli_rule(
        #[case] size: u64,
        #[case] vram: u64,
        #[case] status: Status,
        #[case] value: &str,
    ) {
        let o = offload(&ps(size, vram), "my-coder", None);
        assert_eq!(o.status, status);
        assert_eq!(o.value.as_deref(), Some(value));
    }

    /// `100% CPU` has more than one cause: the verdict names them, and asserts none
    /// that a diagnostic may contradict (the server may well have found the GPU).
    #[test]
    fn all_on_the_cpu_names_every_cause() {
        let o = offload(&ps(100, 0), "my-coder", None);
        assert_eq!(o.status, Status::Fail);
        for cause in [
            "found no GPU it could use",
            "too little free VRAM",
            "num_gpu 0",
        ] {
            assert!(o.detail.contains(cause), "{cause}: {}", o.detail);
        }
        assert!(
            !o.detail.contains("Ollama found no usable GPU"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn not_loaded_fails() {
        let o = offload(&ps(1, 1), "other", None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("my-coder:latest"));
    }

    /// A cloud model runs remotely: Ollama's PsHandler lists the scheduler's loaded
    /// runners only, and a remote chat never starts one. Known by its tag (Ollama 0.18
    /// on routes `*-cloud` by name) or by the chat's `remote_host`.
    #[test]
    fn a_cloud_model_is_not_expected_in_vram() {
        let o = offload(&ps(1, 1), "gpt-oss:20b-cloud", None);
        assert_eq!(o.status, Status::Skip);
        assert!(o.detail.contains("cloud model"), "{}", o.detail);
        let at = Remote {
            remote_model: Some("gpt-oss:20b".into()),
            remote_host: Some("https://ollama.com:443".into()),
        };
        let o = offload(&ps(1, 1), "other", Some(&at));
        assert_eq!(o.status, Status::Skip);
        assert!(o.detail.contains("https://ollama.com:443"), "{}", o.detail);
    }

    #[test]
    fn visible_names_the_driver_library() {
        let o = visible(
            &Err(GpuError::NoDriver {
                detail: "dlopen failed".into(),
            }),
            1,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("libnvidia-ml.so.1"));
        assert_eq!(visible(&Err(GpuError::Disabled), 1).status, Status::Skip);
        assert_eq!(visible(&Ok(vec![]), 1).status, Status::Fail);
    }

    /// The placement is the finding; the status and value follow from it.
    #[rstest]
    #[case(100, 100, Placement::Gpu)]
    #[case(100, 60, Placement::Split { gpu_percent: 60 })]
    #[case(100, 0, Placement::Cpu)]
    #[case(100, 120, Placement::Unknown)]
    fn the_finding_is_the_placement(
        #[case] size: u64,
        #[case] vram: u64,
        #[case] placed: Placement,
    ) {
        match offload_finding(&ps(size, vram), "my-coder", None) {
            Offload::Placed {
                size: s,
                size_vram,
                placement,
            } => assert_eq!((s, size_vram, placement), (size, vram, placed)),
            other => panic!("{other:?}"),
        }
        match offload_finding(&ps(1, 1), "other", None) {
            Offload::NotLoaded { model, loaded } => {
                assert_eq!(
                    (model.as_str(), loaded),
                    ("other", vec!["my-coder:latest".to_string()])
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            offload_finding(&ps(1, 1), "gpt-oss:20b-cloud", None),
            Offload::Cloud(_)
        ));
        assert_eq!(
            visible_finding(&Err(GpuError::Disabled), 1),
            Visible::NotRead
        );
        assert_eq!(
            visible_finding(&Ok(vec![]), 2),
            Visible::TooFew { min: 2, seen: 0 }
        );
        assert_eq!(visible_finding(&Ok(vec![]), 0), Visible::NoneAsked);
    }

    /// Every finding of both checks, as a person reads it.
    #[test]
    fn findings_read_so() {
        let gib = 1u64 << 30;
        let offloads = [
            Offload::Placed {
                size: 5 * gib,
                size_vram: 5 * gib,
                placement: Placement::Gpu,
            },
            Offload::Placed {
                size: 5 * gib,
                size_vram: 3 * gib,
                placement: Placement::Split { gpu_percent: 60 },
            },
            Offload::Placed {
                size: 5 * gib,
                size_vram: 0,
                placement: Placement::Cpu,
            },
            Offload::Placed {
                size: 5 * gib,
                size_vram: 6 * gib,
                placement: Placement::Unknown,
            },
            Offload::NotLoaded {
                model: "my-coder".into(),
                loaded: vec![],
            },
            Offload::NotLoaded {
                model: "my-coder".into(),
                loaded: vec!["a:1".into(), "b:2".into()],
            },
            offload_finding(&ps(1, 1), "gpt-oss:20b-cloud", None),
        ];
        let visibles = [
            Visible::NotRead,
            Visible::Unreadable(GpuError::NoDriver {
                detail: "dlopen failed".into(),
            }),
            Visible::TooFew { min: 2, seen: 1 },
            Visible::NoneAsked,
            Visible::Seen {
                count: 1,
                first: "NVIDIA GeForce RTX 3060, 12288 MiB, driver 560.94".into(),
                cuda: Some("12.6".into()),
                emulated: false,
            },
            Visible::Seen {
                count: 2,
                first: "NVIDIA GeForce RTX 3060, 12288 MiB, driver 560.94".into(),
                cuda: None,
                emulated: true,
            },
        ];
        let line = |o: Outcome| o.snapshot_line();
        let all: String = offloads
            .iter()
            .map(|f| line(f.outcome()))
            .chain(visibles.iter().map(|f| line(f.outcome())))
            .collect();
        insta::assert_snapshot!(all);
    }
}
