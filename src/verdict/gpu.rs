//! `gpu.visible`, `gpu.offload`.

use super::cloud::{CloudModel, Reading};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{Placement, PsResponse, Remote};
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::{ClientError, ModelName};

/// `gpu.visible`: at least `min` NVIDIA GPUs, with name, memory and driver.
pub fn visible(gpus: &Result<Vec<GpuInfo>, GpuError>, min: usize) -> Outcome {
    match gpus {
        Err(GpuError::Disabled) => Outcome::skip(GpuError::Disabled.to_string()),
        Err(e) => Outcome::fail(e.to_string()),
        Ok(list) if list.len() < min => Outcome::fail(format!(
            "expected at least {min} NVIDIA GPU(s), NVML lists {}. Check `nvidia-smi`; on WSL2 the Windows driver must be installed",
            list.len()
        )),
        Ok(list) => {
            let Some(first) = list.first() else {
                return Outcome::pass("NVML lists no NVIDIA GPU, and the spec asks for at least 0")
                    .with_value("none");
            };
            let mut value = first.summary();
            if list.len() > 1 {
                value.push_str(&format!(" (+{} more)", list.len() - 1));
            }
            let cuda = first.cuda_version().map(|c| format!(", CUDA {c}")).unwrap_or_default();
            let source = if first.emulated { "emulated GPU, not hardware" } else { "read through NVML" };
            Outcome::pass(format!("{} GPU(s){cuda}; {source}", list.len())).with_value(value)
        }
    }
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
    let ps = match ps {
        Ok(ps) => ps,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let Some(m) = ps.find(model) else {
        if let Some(cloud) = CloudModel::of(model, remote) {
            return cloud.skip(Reading::Vram);
        }
        let loaded: Vec<&str> = ps.models.iter().map(|m| m.name.as_str()).collect();
        return Outcome::fail(format!(
            "expected {} loaded after its chat, but `/api/ps` lists {}. It may have been unloaded at once (keep_alive 0) or evicted for lack of VRAM",
            ModelName::parse(model).display_name(),
            if loaded.is_empty() { "nothing".into() } else { loaded.join(", ") }
        ));
    };
    let placement = m.placement();
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let detail = format!("{:.1} of {:.1} GiB in VRAM", gib(m.size_vram), gib(m.size));
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
}
