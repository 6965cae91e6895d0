//! The signatures, as data. Each spelling names the releases it was seen in and the
//! real log that proves it: a fixture under `tests/fixtures/logs/` (tested: the
//! spelling matches a line of it), or `ollama-facts.md` for a line the project's facts
//! record. Adding a signature = one entry here plus its fixture.

use super::FindingKind;

/// One way a release prints a signature's line.
#[derive(Debug)]
pub struct Spelling {
    /// A regex matched anywhere in the line (so any prefix goes). Named groups: `n`
    /// and `m` layers on the GPU and of the model, `code` an error code; any other
    /// group is kept in the finding's `values`.
    pub regex: &'static str,
    /// When a match counts.
    pub when: When,
    /// The releases it was seen in, and the source file where the log says.
    pub versions: &'static str,
    /// The fixture (file stem) whose log holds it, or `ollama-facts.md`.
    pub proof: &'static str,
}

/// When a matching line counts, by what its groups captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// Every layer on the GPU (`n == m`, at least one).
    AllLayers,
    /// Fewer on the GPU than the model has (`n < m`).
    SomeLayers,
    /// The `cc` group is a compute capability below this one.
    CapabilityBelow(u32, u32),
    /// The `list` group names runners, all of them CPU ones.
    OnlyCpuRunners,
}

/// What one error code of an error-code signature means, where a real thread said.
#[derive(Debug)]
pub struct CodeMeaning {
    pub code: &'static str,
    /// The code's name in CUDA's or NVML's error list.
    pub name: &'static str,
    pub cause: &'static str,
    pub next: &'static str,
    /// The fixture whose thread established it.
    pub proof: &'static str,
}

/// One signature: the finding it yields and how to explain it.
#[derive(Debug)]
pub struct Signature {
    /// Stable, for JSON and the docs.
    pub id: &'static str,
    pub kind: FindingKind,
    pub spellings: &'static [Spelling],
    /// Another line that must be in the same log for a match to count (a regex).
    pub with: Option<&'static str>,
    /// A line that, anywhere in the same log, makes a match not count (a regex).
    pub unless: Option<&'static str>,
    /// What it means, in a sentence.
    pub cause: &'static str,
    /// Which line is quoted.
    pub quote: &'static str,
    /// What to do.
    pub next: &'static str,
    /// Per error code: its own cause and next step (others get `cause` and `next`).
    pub codes: &'static [CodeMeaning],
}

impl Signature {
    /// The meaning of `code`, if the catalogue knows it.
    pub fn code(&self, code: Option<&str>) -> Option<&'static CodeMeaning> {
        let code = code?;
        self.codes.iter().find(|c| c.code == code)
    }
}

/// The catalogue, in the order a report lists same-rank findings.
pub static CATALOGUE: &[Signature] = &[
    Signature {
        id: "driver_too_old",
        kind: FindingKind::DriverTooOld,
        spellings: &[
            Spelling {
                regex: r"your nvidia driver is too old or missing",
                when: When::Always,
                versions: "0.3.9 (gpu.go, `Unable to load cudart`, Windows)",
                proof: "019-windows-driver-too-old-cudart",
            },
            Spelling {
                regex: r#"msg="NVIDIA driver too old"(?:.*\bdriver=(?P<driver>[^\s"]+))?(?:.*required_driver="(?P<required>[^"]*)")?"#,
                when: When::Always,
                versions: "0.30.x (GPU discovery)",
                proof: "020-driver-535-too-old-0.30",
            },
            Spelling {
                regex: r"CUDA driver version is insufficient for CUDA runtime version",
                when: When::Always,
                versions: "0.30.x (ggml_cuda_init)",
                proof: "020-driver-535-too-old-0.30",
            },
        ],
        with: None,
        unless: None,
        cause: "the NVIDIA driver is older than the CUDA runtime Ollama bundles needs, so CUDA cannot start and the server runs on the CPU",
        quote: "the line refusing the driver (with the driver the server requires, where printed)",
        next: "install a newer NVIDIA driver (current releases need 550 or newer, 570 for compute capability 5.0 to 6.2; on WSL2, the Windows driver), then restart the server",
        codes: &[],
    },
    Signature {
        id: "compute_capability_too_old",
        kind: FindingKind::ComputeCapabilityTooOld,
        spellings: &[
            Spelling {
                regex: r"CUDA GPU is too old\. Falling back to CPU mode\.(?: Compute Capability detected: (?P<cc>\d+\.\d+))?",
                when: When::Always,
                versions: "0.1.19 to 0.1.20 (gpu.go)",
                proof: "002-cc30-too-old-fallback",
            },
            Spelling {
                regex: r"compute capability (?P<cc>\d+\.\d+)",
                when: When::CapabilityBelow(5, 0),
                versions: "0.1.17 (ggml_init_cublas), 0.4.x (ggml_cuda_init)",
                proof: "001-cc30-runner-crash-pre-0.1.18",
            },
        ],
        with: None,
        unless: None,
        cause: "the GPU's compute capability is below the oldest this Ollama's CUDA build supports (5.0 in current releases; 0.1.20 asked for 6.0), so the GPU cannot be used and the server runs on the CPU",
        quote: "the line naming the GPU's compute capability",
        next: "use a release whose CUDA build supports this card (current releases support compute capability 5.0 and newer), or a newer GPU",
        codes: &[],
    },
    Signature {
        id: "cpu_runners_only",
        kind: FindingKind::NoCudaRunner,
        spellings: &[
            Spelling {
                regex: r#"Dynamic LLM libraries"?\s+runners=\[(?P<list>[^\]]*)\]"#,
                when: When::OnlyCpuRunners,
                versions: "0.5.4 (routes.go)",
                proof: "010-built-without-gpu-runners",
            },
            Spelling {
                regex: r"Dynamic LLM variants \[(?P<list>[^\]]*)\]",
                when: When::OnlyCpuRunners,
                versions: "0.1.19 (shim_ext_server.go)",
                proof: "002-cc30-too-old-fallback",
            },
            Spelling {
                regex: r"load_backend: loaded CPU backend from ",
                when: When::Always,
                versions: "0.15.4 (ggml, no GPU backend loaded)",
                proof: "045-no-gpu-backend-loaded-0.15",
            },
        ],
        with: None,
        unless: Some(r#"load_backend: loaded (?:CUDA|ROCm|Metal|Vulkan)|msg="inference compute".*\blibrary=(?i:cuda|rocm|metal|vulkan)\b"#),
        cause: "this Ollama has only CPU runners: it was built or packaged without the CUDA ones, so it cannot use the GPU",
        quote: "the line listing the runners",
        next: "install an official release (or image), or build with the CUDA toolkit present so the CUDA runners are built, then restart the server",
        codes: &[],
    },
    Signature {
        id: "cuda_init",
        kind: FindingKind::CudaInitError,
        spellings: &[
            Spelling {
                regex: r"cudart init failure: (?P<code>\d+)",
                when: When::Always,
                versions: "0.3.x (gpu.go, `Unable to load cudart`)",
                proof: "008-after-sleep-cudart-999",
            },
            Spelling {
                regex: r"cudaSetDevice err: (?P<code>\d+)",
                when: When::Always,
                versions: "0.3.x (cudart probe's C code)",
                proof: "008-after-sleep-cudart-999",
            },
            Spelling {
                regex: r"cuda driver library init failure: (?P<code>\d+)",
                when: When::Always,
                versions: "0.10.x (gpu.go, `Unable to load cudart library`)",
                proof: "025-blackwell-cuda-init-failure-3",
            },
            Spelling {
                regex: r"nvcuda init failure: (?P<code>\d+)",
                when: When::Always,
                versions: "0.1.x to 0.1.48 (gpu.go, cuInit through the driver library)",
                proof: "034-cuinit-999-nvidia-uvm",
            },
            Spelling {
                regex: r"CUDA error (?P<code>\d+) at ",
                when: When::Always,
                versions: "0.1.x (ggml-cuda.cu, the runner)",
                proof: "027-colab-cuda-error-35-driver",
            },
            Spelling {
                regex: r"cuda driver library failed to get device context (?P<code>\d+)",
                when: When::Always,
                versions: "0.9.1 (gpu.go, `error looking up nvidia GPU memory`)",
                proof: "016-docker-device-context-800",
            },
        ],
        with: None,
        unless: None,
        cause: "CUDA could not be initialised, so the server found no GPU and runs on the CPU",
        quote: "the line with CUDA's error code",
        next: "look the code up in CUDA's error list; check `nvidia-smi` works for the server's user, then restart the server",
        codes: &[
            CodeMeaning {
                code: "3",
                name: "CUDA_ERROR_NOT_INITIALIZED",
                cause: "cuInit failed with CUDA_ERROR_NOT_INITIALIZED (3): the CUDA driver could not initialise; where this was settled it was an NVIDIA driver bug in nvidia_uvm's HMM support",
                next: "update the NVIDIA driver; the workaround confirmed there is `options nvidia_uvm uvm_disable_hmm=1` in /etc/modprobe.d/uvm.conf, then a reboot",
                proof: "025-blackwell-cuda-init-failure-3",
            },
            CodeMeaning {
                code: "35",
                name: "cudaErrorInsufficientDriver",
                cause: "the CUDA runtime refused to start with cudaErrorInsufficientDriver (35): the NVIDIA driver is older than the CUDA runtime Ollama was built with",
                next: "install a newer NVIDIA driver, then restart the server",
                proof: "027-colab-cuda-error-35-driver",
            },
            CodeMeaning {
                code: "800",
                name: "cudaErrorNotPermitted",
                cause: "the CUDA driver refused a device context with cudaErrorNotPermitted (800): the operation is not permitted; seen inside a container whose GPU access broke until it was restarted",
                next: "restart the container (`docker restart <container>`) and check `nvidia-smi` inside it; if it recurs, follow Ollama's troubleshooting notes on Docker and suspend/resume on Linux",
                proof: "016-docker-device-context-800",
            },
            CodeMeaning {
                code: "999",
                name: "CUDA_ERROR_UNKNOWN",
                cause: "CUDA's initialisation failed with an unknown error (999), as it does after a Linux suspend/resume leaves the nvidia_uvm module unusable",
                next: "reload the module (`sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm`) and restart the server, or reboot",
                proof: "008-after-sleep-cudart-999",
            },
        ],
    },
    Signature {
        id: "nvml_init",
        kind: FindingKind::NvmlInitError,
        spellings: &[Spelling {
            regex: r"nvml vram init failure: (?P<code>\d+)",
            when: When::Always,
            versions: "0.1.18 (gpu.go, `CUDA not detected`)",
            proof: "003-wsl2-nvml-init-failure-9",
        }],
        with: None,
        unless: None,
        cause: "the NVIDIA management library (NVML) failed to initialise, so GPU discovery gave up and the server runs on the CPU",
        quote: "the line with NVML's error code",
        next: "check `nvidia-smi` works for the server's user; on WSL2, that `ldconfig -p | grep libnvidia-ml` lists /usr/lib/wsl/lib first; then restart the server",
        codes: &[CodeMeaning {
            code: "9",
            name: "NVML_ERROR_DRIVER_NOT_LOADED",
            cause: "NVML found no loaded NVIDIA driver (9); under WSL2 this is a Linux libnvidia-ml.so (from a distro driver package) loaded instead of the Windows driver's copy in /usr/lib/wsl/lib",
            next: "on WSL2, remove the Linux NVIDIA driver packages inside WSL and run `sudo ldconfig` so /usr/lib/wsl/lib/libnvidia-ml.so.1 is found; natively, load the driver (`nvidia-smi` must work); then restart the server",
            proof: "003-wsl2-nvml-init-failure-9",
        }],
    },
    Signature {
        id: "llm_library_override",
        kind: FindingKind::LlmLibraryOverride,
        spellings: &[Spelling {
            regex: r#"msg="skipping available library at users request"(?:.*\brequested=(?P<requested>\S+))?"#,
            when: When::Always,
            versions: "0.12.5 (GPU discovery)",
            proof: "040-k8s-llm-library-override-skips-cuda",
        }],
        with: None,
        unless: None,
        cause: "OLLAMA_LLM_LIBRARY names no bundled GPU library, so the CUDA libraries were skipped at the user's request and the server runs on the CPU",
        quote: "the line skipping a library, with the value requested",
        next: "unset OLLAMA_LLM_LIBRARY (or set it to a bundled library's name, such as cuda_v12 or cuda_v13), then restart the server",
        codes: &[],
    },
    Signature {
        id: "discovery_failed",
        kind: FindingKind::DiscoveryFailed,
        spellings: &[
            Spelling {
                regex: r"ggml was not compiled with support for this arch",
                when: When::Always,
                versions: "0.12.5 (ggml, during GPU discovery)",
                proof: "039-wsl2-discovery-assert-arch-0.12.5",
            },
            Spelling {
                regex: r"failed to finish discovery before timeout",
                when: When::Always,
                versions: "0.13.x (GPU discovery)",
                proof: "041-docker-discovery-timeout-0.13",
            },
            Spelling {
                regex: r#"msg="failure during llama-server GPU discovery""#,
                when: When::Always,
                versions: "0.3x (llama-server GPU discovery)",
                proof: "042-lxc-docker-discovery-watchdog-0.3x",
            },
        ],
        with: None,
        unless: None,
        cause: "GPU discovery crashed or timed out, so no GPU library remained and the server runs on the CPU",
        quote: "the line where discovery failed",
        next: "upgrade Ollama (a discovery crash is often fixed in the next release), check `nvidia-smi` works for the server's user (in a container: the NVIDIA Container Toolkit and --gpus), then restart the server",
        codes: &[],
    },
    Signature {
        id: "no_gpu",
        kind: FindingKind::NoGpuFound,
        spellings: &[
            Spelling {
                regex: r"no compatible GPUs were discovered",
                when: When::Always,
                versions: "releases with `inference compute` lines (gpu.go)",
                proof: "ollama-facts.md",
            },
            Spelling {
                regex: r#"msg="inference compute"\s+id=cpu\s+library=cpu\b"#,
                when: When::Always,
                versions: "releases with `inference compute` lines (types.go)",
                proof: "ollama-facts.md",
            },
            Spelling {
                regex: r"\bno GPU detected\b",
                when: When::Always,
                versions: "0.1.19 (routes.go)",
                proof: "002-cc30-too-old-fallback",
            },
        ],
        with: None,
        unless: None,
        cause: "GPU discovery ran and found no NVIDIA GPU it could use, so the server runs on the CPU",
        quote: "the line saying no GPU was found",
        next: "read the lines before it for why (driver, CUDA or NVML errors); check `nvidia-smi` works for the server's user (in a container: the NVIDIA Container Toolkit and --gpus), then restart the server",
        codes: &[],
    },
    Signature {
        id: "oom_at_load",
        kind: FindingKind::OomAtLoad,
        spellings: &[
            Spelling {
                regex: r"cudaMalloc failed: out of memory",
                when: When::Always,
                versions: "0.1.44 (runner, `error loading llama server`)",
                proof: "004-deepseek2-oom-runner-abort",
            },
            Spelling {
                regex: r"CUDA error: out of memory",
                when: When::Always,
                versions: "0.3.x (runner)",
                proof: "006-deepseek2-partial-offload-oom",
            },
        ],
        with: None,
        unless: None,
        cause: "the GPU ran out of memory while the model was loaded: the server's estimate put more on the GPU than fit",
        quote: "the allocation failure",
        next: "free VRAM (other processes in `nvidia-smi`), lower num_ctx or OLLAMA_NUM_PARALLEL, reserve headroom with OLLAMA_GPU_OVERHEAD (in bytes), or offload fewer layers (`num_gpu`)",
        codes: &[],
    },
    Signature {
        id: "partial_offload",
        kind: FindingKind::OffloadPartial,
        spellings: &[
            Spelling {
                regex: r"offloaded (?P<n>\d+)/(?P<m>\d+) layers to GPU",
                when: When::SomeLayers,
                versions: "0.1.x to 0.4.x (llm_load_tensors), 0.10.x and later (ggml.go, load_tensors)",
                proof: "018-gemma4-output-layer-on-cpu",
            },
            Spelling {
                regex: r"layers\.model=(?P<m>\d+) layers\.offload=(?P<n>\d+)",
                when: When::SomeLayers,
                versions: "0.1.45 to 0.5.x (memory.go `offload to cuda`, server.go `msg=offload`): the planned placement",
                proof: "006-deepseek2-partial-offload-oom",
            },
        ],
        with: None,
        unless: None,
        cause: "only part of the model's layers are on the GPU; the rest run on the CPU, which slows generation several-fold",
        quote: "the line counting the layers offloaded",
        next: "free VRAM (other processes in `nvidia-smi`), lower num_ctx or OLLAMA_NUM_PARALLEL, or use a smaller model or quantisation",
        codes: &[],
    },
    Signature {
        id: "projector_on_cpu",
        kind: FindingKind::OffloadProjectorOnCpu,
        spellings: &[Spelling {
            regex: r#"msg="model weights" buffer=CPU size="(?P<size>[^"]+)""#,
            when: When::Always,
            versions: "0.7.x (ggml.go, Ollama's engine)",
            proof: "015-vision-projector-on-cpu",
        }],
        with: Some(r#"msg="compute graph" backend=CPU buffer_type=CPU size="[1-9]"#),
        unless: None,
        cause: "part of the model's weights and its compute graph stay on the CPU while the rest is on the GPU; for a vision model this is the projector (with the last layer), which Ollama offloads last and never in part",
        quote: "the CPU's share of the model weights",
        next: "free VRAM (other processes in `nvidia-smi`) or lower num_ctx so the projector fits; otherwise image requests run partly on the CPU",
        codes: &[],
    },
    Signature {
        id: "prompt_truncated",
        kind: FindingKind::PromptTruncated,
        spellings: &[Spelling {
            regex: r#"msg="truncating input prompt"(?:\s+limit=(?P<limit>\d+)\s+prompt=(?P<prompt>\d+))?"#,
            when: When::Always,
            versions: "0.5.x to 0.6.x (runner.go)",
            proof: "011-truncating-input-prompt-2048",
        }],
        with: None,
        unless: None,
        cause: "a prompt was longer than the context window and was cut: the model never saw its beginning",
        quote: "the truncation, with the limit and the prompt's length",
        next: "raise the context (`PARAMETER num_ctx` in the Modelfile, `options.num_ctx`, or OLLAMA_CONTEXT_LENGTH in the server's environment) or send shorter prompts",
        codes: &[],
    },
    Signature {
        id: "runner_crashed",
        kind: FindingKind::RunnerCrashed,
        spellings: &[
            Spelling {
                regex: r"llama runner process has terminated(?::\s*(?P<how>signal: \w+(?: \(core dumped\))?|exit status \w+))?",
                when: When::Always,
                versions: "0.1.44 (sched.go, `error loading llama server`)",
                proof: "004-deepseek2-oom-runner-abort",
            },
            Spelling {
                regex: r"llama runner exited with error: (?P<how>exit status \w+)",
                when: When::Always,
                versions: "0.1.17 (llama.go)",
                proof: "001-cc30-runner-crash-pre-0.1.18",
            },
            Spelling {
                regex: r"terminate called after throwing an instance of '(?P<how>[^']+)'",
                when: When::Always,
                versions: "0.1.32 (the runner's C++ code)",
                proof: "033-mixtral22b-cudamalloc-oom-two-gpus",
            },
            Spelling {
                regex: r"GGML_ASSERT\((?P<how>.+)\) failed",
                when: When::Always,
                versions: "0.12.5 (ggml, during GPU discovery)",
                proof: "039-wsl2-discovery-assert-arch-0.12.5",
            },
        ],
        with: None,
        unless: None,
        cause: "the runner process that holds the model terminated, so the request failed",
        quote: "the line saying how it ended",
        next: "read the lines just before it for the reason (out of memory, CUDA error, unsupported GPU)",
        codes: &[],
    },
    Signature {
        id: "full_offload",
        kind: FindingKind::GpuFullOffload,
        spellings: &[
            Spelling {
                regex: r"offloaded (?P<n>\d+)/(?P<m>\d+) layers to GPU",
                when: When::AllLayers,
                versions: "0.1.x to 0.4.x (llm_load_tensors), 0.10.x and later (ggml.go, load_tensors)",
                proof: "024-two-gpu-81-layers-full-offload",
            },
            Spelling {
                regex: r"layers\.model=(?P<m>\d+) layers\.offload=(?P<n>\d+)",
                when: When::AllLayers,
                versions: "0.1.45 to 0.5.x (memory.go `offload to cuda|metal`, server.go `msg=offload`): the planned placement",
                proof: "005-macos-metal-full-offload",
            },
            Spelling {
                regex: r#"msg="new model will fit in available VRAM in single GPU, loading""#,
                when: When::Always,
                versions: "0.7.x (sched.go)",
                proof: "043-windows-2080ti-oldest-driver-fits-0.7",
            },
        ],
        with: None,
        unless: None,
        cause: "every layer of the model is on the GPU",
        quote: "the line counting the layers offloaded",
        next: "nothing to do",
        codes: &[],
    },
];
