//! What a GPU is, as every layer sees it: the facts NVML or `nvidia-smi` report
//! ([`GpuInfo`], [`GpuProcess`]), which GPUs the server uses, and the emulated GPU.
//! Below `probe` and the emulator, so both read it without one importing the other.

#[derive(Debug, Clone, PartialEq)]
pub struct GpuInfo {
    pub index: u32,
    pub name: String,
    pub uuid: String,
    pub memory_total: u64,
    pub memory_used: u64,
    pub driver_version: String,
    /// CUDA driver API version, e.g. 13000 for 13.0.
    pub cuda_driver_version: Option<i32>,
    pub memory_bus_width_bits: Option<u32>,
    pub max_memory_clock_mhz: Option<u32>,
    /// Reported by the emulator target, not read from hardware.
    pub emulated: bool,
    /// CUDA compute capability (major, minor): (8, 6) for an RTX 3060.
    pub compute_capability: Option<(i32, i32)>,
    /// Processes holding memory on this GPU (NVML's running compute processes);
    /// `None` where they cannot be listed (nvidia-smi, an emulated GPU on another
    /// target, WSL2 under WDDM lists none).
    pub processes: Option<Vec<GpuProcess>>,
    /// How busy the GPU was over NVML's last sample period, in percent.
    pub utilization_percent: Option<u32>,
    /// The PCI bus id, as NVML writes it (`00000000:01:00.0`); what newer servers
    /// name a GPU by (`pci_id=0000:01:00.0`) where their ids are bare indexes.
    pub pci_bus_id: Option<String>,
}

/// A process holding memory on a GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuProcess {
    pub pid: u32,
    /// The process's name as the driver reports it (`/usr/bin/ollama`).
    pub name: String,
    /// `None` where the driver does not say (Windows' WDDM).
    pub used_bytes: Option<u64>,
}

impl GpuProcess {
    /// Whether the driver names an Ollama process: the server or its runner
    /// (`/usr/bin/ollama`, `ollama.exe`), or the `llama-server` that newer releases run
    /// a model in from `lib/ollama/`. A bare `llama-server` (a driver that gives no
    /// path) counts too; one with a path elsewhere is a llama.cpp of the user's own.
    pub fn is_ollama(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        let bare = !name.contains(['/', '\\']);
        name.contains("ollama") || bare && name.starts_with("llama-server")
    }
}

/// The GPUs the server uses: those on which an Ollama process holds memory, where the
/// driver lists processes and one does; all of them otherwise.
pub fn server_gpus(gpus: &[GpuInfo]) -> Vec<&GpuInfo> {
    let holding: Vec<&GpuInfo> = gpus
        .iter()
        .filter(|g| g.processes.iter().flatten().any(GpuProcess::is_ollama))
        .collect();
    if holding.is_empty() {
        gpus.iter().collect()
    } else {
        holding
    }
}

/// The GPU holding most of the server's memory: by the Ollama process's own share
/// where the driver lists it, else by memory in use (WSL2 lists no processes, and a
/// display card at index 0 is then not taken for the server's). `None` for no GPUs.
pub fn main_server_gpu(gpus: &[GpuInfo]) -> Option<&GpuInfo> {
    let held = |g: &GpuInfo| {
        g.processes
            .iter()
            .flatten()
            .filter(|p| p.is_ollama())
            .filter_map(|p| p.used_bytes)
            .sum::<u64>()
    };
    server_gpus(gpus)
        .into_iter()
        .max_by_key(|g| (held(g), g.memory_used, std::cmp::Reverse(g.index)))
}

/// A PCI bus id in one form whoever writes it: lower case, a 4-digit domain
/// (`00000000:01:00.0` from NVML and `0000:01:00.0` from Ollama are the same).
pub fn pci_key(id: &str) -> Option<String> {
    let id = id.trim().trim_matches('"').to_ascii_lowercase();
    let (domain, rest) = id.split_once(':')?;
    let domain = u32::from_str_radix(domain, 16).ok()?;
    (!rest.is_empty()).then(|| format!("{domain:04x}:{rest}"))
}

impl GpuInfo {
    /// Peak memory bandwidth: bus width / 8 × max memory clock × 2 (double data rate).
    /// `None` where the driver reports either as 0, which no real GPU has.
    pub fn bandwidth_bytes_per_s(&self) -> Option<f64> {
        let bits = self.memory_bus_width_bits.filter(|b| *b > 0)? as f64;
        let mhz = self.max_memory_clock_mhz.filter(|m| *m > 0)? as f64;
        Some(bits / 8.0 * mhz * 1e6 * 2.0)
    }

    pub fn cuda_version(&self) -> Option<String> {
        self.cuda_driver_version
            .map(|v| format!("{}.{}", v / 1000, (v % 1000) / 10))
    }

    /// `NVIDIA H100 80GB HBM3, 81559 MiB, driver 580.159.04`
    pub fn summary(&self) -> String {
        let emulated = if self.emulated { " (emulated)" } else { "" };
        format!(
            "{}{emulated}, {} MiB, driver {}",
            self.name,
            self.memory_total / (1024 * 1024),
            self.driver_version
        )
    }
}

/// The GPU the emulator target reports: an RTX 3060 12 GB (360 GB/s), so the
/// emulator's default 65 tok/s sits where one was measured, under the ~76 tok/s
/// bandwidth limit for a 4.7 GB model. Memory in use is the driver's share alone; the
/// session adds what loaded models hold.
pub fn emulated() -> GpuInfo {
    GpuInfo {
        index: 0,
        name: "NVIDIA GeForce RTX 3060".into(),
        uuid: "GPU-00000000-0000-0000-0000-000000000000".into(),
        memory_total: 12_884_901_888,
        memory_used: EMULATED_DRIVER_BYTES,
        driver_version: "560.94".into(),
        cuda_driver_version: Some(12060),
        memory_bus_width_bits: Some(192),
        max_memory_clock_mhz: Some(7501),
        emulated: true,
        compute_capability: Some((8, 6)),
        processes: None,
        utilization_percent: None,
        pci_bus_id: Some("00000000:01:00.0".into()),
    }
}

/// VRAM the emulated driver and display hold before any model loads.
pub const EMULATED_DRIVER_BYTES: u64 = 400 * 1024 * 1024;
