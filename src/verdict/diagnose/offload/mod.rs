//! `diagnose.offload`: the model really sits in VRAM while it generates. The verdict
//! finds what `/api/ps`, NVML and the log show (a typed finding), and one renderer
//! words it.

use super::{gib, load_failure, loaded, quote, Evidence, NoGpus, NotLoaded};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{Placement, PsResponse};
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::Offload;
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::signature::{self, render, FindingKind};
use crate::target::Advice;
use crate::ClientError;

/// What `/api/ps` says of the loaded model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiPlacement {
    pub placement: Placement,
    pub size_vram: u64,
    pub size: u64,
}

impl std::fmt::Display for ApiPlacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`/api/ps` says {} ({} of {} in VRAM)",
            self.placement,
            gib(self.size_vram),
            gib(self.size)
        )
    }
}

/// The free VRAM during the generation against the model's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Room {
    /// Room for the whole model: VRAM was not what kept it off.
    Whole { free: u64, total: u64 },
    /// Too little for the model.
    Short { free: u64, total: u64 },
    /// Not known (no NVML sample).
    Unknown,
}

/// Why a load put no layer on the GPU.
#[derive(Debug, Clone, PartialEq)]
pub enum NoLayers {
    /// The server found no CUDA device: discovery or the driver is why.
    NoGpuFound,
    /// It found the GPU (its `inference compute` line) and still placed nothing.
    Found {
        line: String,
        room: Room,
        model: String,
    },
}

/// An Ollama process holding VRAM, as NVML lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct VramHolder {
    pub pid: u32,
    pub name: String,
}

/// What `diagnose.offload` found. `layers` is the log's count for the load (on the GPU,
/// of the model), where it has one; `api` what `/api/ps` says.
#[derive(Debug, Clone)]
pub enum OffloadSeen {
    /// The chat only echoes a silent server: the reason api.root reports.
    RootDown(String),
    /// The model could not generate, and the log says why.
    FailedGeneration {
        error: ClientError,
        cause: Evidence,
    },
    /// The model could not generate (api.chat reports it).
    NoGeneration(ClientError),
    NotLoaded(NotLoaded),
    /// The load placed no layer on the GPU: its line.
    CpuOnly {
        line: String,
        total: u32,
        api: ApiPlacement,
        why: NoLayers,
    },
    /// Some layers on the CPU.
    Partial {
        line: String,
        layers: Offload,
        api: ApiPlacement,
    },
    /// Every layer placed, but `n` overflowing to the CPU (the fit's `lines`).
    Overflowing {
        line: String,
        n: u64,
        lines: Vec<String>,
        api: ApiPlacement,
    },
    /// The projector stays on the CPU.
    Projector {
        evidence: Evidence,
        api: ApiPlacement,
    },
    /// NVML is not read: the log's account alone cannot confirm the VRAM is held.
    Unconfirmed {
        nvml: NoGpus,
        layers: Option<Offload>,
    },
    /// The GPU source lists no processes (an emulated GPU, or nvidia-smi without
    /// process queries); `log` is why the log was not read, if it was not.
    Unlisted {
        emulated: bool,
        layers: Option<Offload>,
        api: ApiPlacement,
        log: Option<LogError>,
    },
    /// No process listed at all (WSL2), but enough VRAM in use for the model.
    InUse {
        in_use: u64,
        api: ApiPlacement,
        layers: Option<Offload>,
        busy: Option<u32>,
    },
    /// `/api/ps` claims VRAM, but no Ollama process holds any: the processes listed.
    NoneHeld {
        api: ApiPlacement,
        others: Vec<String>,
        in_use: u64,
        layers: Option<Offload>,
        advice: Advice,
    },
    /// Held, but the GPU stayed idle during the generation.
    Idle {
        holders: Vec<VramHolder>,
        held: u64,
        api: ApiPlacement,
        layers: Option<Offload>,
    },
    /// Held by the Ollama processes (the most of any sample).
    Held {
        holders: Vec<VramHolder>,
        held: u64,
        api: ApiPlacement,
        layers: Option<Offload>,
        busy: Option<u32>,
    },
}

/// `diagnose.offload`: while the model generates, an Ollama process holds VRAM in
/// NVML's process list (the truth behind `/api/ps`'s `100% GPU`), and the log's
/// `offloaded N/M layers to GPU` of its load (the runner started on its weights `blob`)
/// says how much sits there.
pub fn offload(
    ps: &Result<PsResponse, ClientError>,
    model: (&str, Option<&str>),
    answered: &Result<(), ClientError>,
    samples: &Result<Vec<Vec<GpuInfo>>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
    advice: &Advice,
) -> Outcome {
    offload_finding(ps, model, answered, samples, log, unreachable, advice).outcome()
}

pub fn offload_finding(
    ps: &Result<PsResponse, ClientError>,
    (model, blob): (&str, Option<&str>),
    answered: &Result<(), ClientError>,
    samples: &Result<Vec<Vec<GpuInfo>>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
    advice: &Advice,
) -> OffloadSeen {
    if let Err(e) = answered {
        return match unreachable {
            Some(reason) if e.is_unresponsive() => OffloadSeen::RootDown(reason.to_string()),
            // The log says why the load failed: quote it rather than point at it.
            _ => match load_failure(log) {
                Some(cause) => OffloadSeen::FailedGeneration {
                    error: e.clone(),
                    cause,
                },
                None => OffloadSeen::NoGeneration(e.clone()),
            },
        };
    }
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        Err(not_loaded) => return OffloadSeen::NotLoaded(not_loaded),
    };
    // Without NVML the log's account of the load still tells.
    let (samples, unread): (&[Vec<GpuInfo>], Option<NoGpus>) = match samples {
        Err(GpuError::Disabled) => (&[], Some(NoGpus::Off)),
        Err(e) => (&[], Some(NoGpus::Unreadable(e.clone()))),
        Ok(s) => (s.as_slice(), None),
    };
    // The load of these weights, by the signatures: every release's way of counting.
    let load = log
        .as_ref()
        .ok()
        .map(|l| signature::scan_lines(l.load_of(blob)));
    let counted = load.as_ref().and_then(|d| d.last_layers()).and_then(|f| {
        let (on_gpu, total) = f.layers?;
        Some((Offload { on_gpu, total }, f.evidence.clone()))
    });
    let layers = counted.as_ref().map(|(o, _)| *o);
    let api = ApiPlacement {
        placement: m.placement(),
        size_vram: m.size_vram,
        size: m.size,
    };
    // The log's layer count is the server's own account of the load.
    if let Some((o, line)) = counted {
        if o.on_gpu == 0 {
            // A server that found a GPU and still placed nothing on it did not fail
            // discovery: it had no room, or was told not to (num_gpu 0).
            let found = log
                .as_ref()
                .ok()
                .and_then(|l| l.compute_devices().into_iter().find(|d| d.is_cuda()));
            let why = match found {
                Some(d) => {
                    let gpu = samples.last().and_then(|gpus| gpus.first());
                    let room = match gpu
                        .map(|g| (g.memory_total.saturating_sub(g.memory_used), g.memory_total))
                    {
                        Some((free, total)) if free >= m.size => Room::Whole { free, total },
                        Some((free, total)) => Room::Short { free, total },
                        None => Room::Unknown,
                    };
                    NoLayers::Found {
                        line: d.line,
                        room,
                        model: model.to_string(),
                    }
                }
                None => NoLayers::NoGpuFound,
            };
            return OffloadSeen::CpuOnly {
                line,
                total: o.total,
                api,
                why,
            };
        }
        if o.on_gpu < o.total {
            return OffloadSeen::Partial {
                line,
                layers: o,
                api,
            };
        }
        // Every layer placed, yet the fit spilled tensors of some to the CPU.
        if let Some((n, lines)) = log.as_ref().ok().and_then(|l| l.overflowing(blob)) {
            return OffloadSeen::Overflowing {
                line,
                n,
                lines: lines.iter().map(|l| l.to_string()).collect(),
                api,
            };
        }
    }
    // The text layers offloaded, the projector's share left on the CPU.
    let projector = load
        .as_ref()
        .and_then(|d| d.of(FindingKind::OffloadProjectorOnCpu).next());
    if let (Some(f), Ok(log)) = (projector, log) {
        return OffloadSeen::Projector {
            evidence: Evidence::of(f, log),
            api,
        };
    }
    // The log's full offload is the server's own account, as `/api/ps` is: without
    // NVML nothing confirms it, so the check cannot pass.
    if let Some(nvml) = unread {
        return OffloadSeen::Unconfirmed { nvml, layers };
    }
    let Some(lists) = samples
        .iter()
        .map(|gpus| {
            gpus.iter()
                .map(|g| g.processes.clone())
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()
    else {
        return OffloadSeen::Unlisted {
            emulated: samples.iter().flatten().any(|g| g.emulated),
            layers,
            api,
            log: log.as_ref().err().cloned(),
        };
    };
    // The most VRAM an Ollama process held in any sample, and who held it.
    let mut held = 0;
    let mut holders = Vec::new();
    let mut others = Vec::new();
    for sample in &lists {
        let mut bytes = 0;
        let mut who = Vec::new();
        for p in sample.iter().flatten() {
            if p.is_ollama() {
                bytes += p.used_bytes.unwrap_or(0);
                who.push(VramHolder {
                    pid: p.pid,
                    name: p.name.clone(),
                });
            } else if !others.contains(&p.name) {
                others.push(p.name.clone());
            }
        }
        if bytes >= held {
            (held, holders) = (bytes, who);
        }
    }
    let busy = samples
        .iter()
        .flatten()
        .filter_map(|g| g.utilization_percent)
        .max();
    let in_use: u64 = samples
        .iter()
        .map(|gpus| gpus.iter().map(|g| g.memory_used).sum::<u64>())
        .max()
        .unwrap_or(0);
    let no_process_listed = lists.iter().flatten().all(|l| l.is_empty());
    if m.size_vram > 0 && held == 0 {
        // WSL2 (WDDM) lists no processes at all: the memory in use still tells.
        if no_process_listed && in_use >= m.size_vram {
            return OffloadSeen::InUse {
                in_use,
                api,
                layers,
                busy,
            };
        }
        return OffloadSeen::NoneHeld {
            api,
            others,
            in_use,
            layers,
            advice: advice.clone(),
        };
    }
    if busy == Some(0) && m.size_vram > 0 {
        return OffloadSeen::Idle {
            holders,
            held,
            api,
            layers,
        };
    }
    OffloadSeen::Held {
        holders,
        held,
        api,
        layers,
        busy,
    }
}

/// The log's layer count, as a sentence part.
fn layers_text(o: &Offload) -> String {
    format!(
        "the log says offloaded {}/{} layers to GPU",
        o.on_gpu, o.total
    )
}

impl OffloadSeen {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let layers_part = |layers: &Option<Offload>| {
            layers
                .as_ref()
                .map_or(String::new(), |o| format!("; {}", layers_text(o)))
        };
        let busy_text = |busy: &Option<u32>| {
            busy.map_or(String::new(), |b| {
                format!("; the GPU was up to {b}% busy during the generation")
            })
        };
        let holders_text = |holders: &[VramHolder]| {
            holders
                .iter()
                .map(|h| format!("pid {} {}", h.pid, h.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            OffloadSeen::RootDown(reason) => Outcome::skip(reason.clone()),
            OffloadSeen::FailedGeneration { error, cause } => Outcome::fail(format!(
                "the model could not generate ({error}); the server's log says why: {}. Next: {}",
                cause.said(),
                render::next(&cause.finding)
            ))
            .with_value(cause.finding.kind.as_str()),
            OffloadSeen::NoGeneration(e) => Outcome::skip(format!(
                "the model could not generate (see {}): {e}",
                CheckId::ApiChat
            )),
            OffloadSeen::NotLoaded(not_loaded) => not_loaded.outcome(),
            OffloadSeen::CpuOnly {
                line,
                total,
                api,
                why,
            } => {
                let next = match why {
                    NoLayers::Found { line, room, model } => {
                        let told = format!(
                            "look for `num_gpu 0` in the model's parameters (`ollama show {model} --parameters`) or the requests' options"
                        );
                        let free_vram = "free VRAM (other processes in `nvidia-smi`)";
                        let why = match room {
                            Room::Whole { free, total } => format!(
                                "and {} of {} was free during the generation, room for the whole model, so it was likely told to use none. Next: {told}",
                                gib(*free),
                                gib(*total)
                            ),
                            Room::Short { free, total } => format!(
                                "so it had too little free VRAM for a layer ({} of {} free during the generation) or was told to use none. Next: {free_vram}, and {told}",
                                gib(*free),
                                gib(*total)
                            ),
                            Room::Unknown => format!(
                                "so it had too little free VRAM for a layer or was told to use none. Next: {free_vram}, and {told}"
                            ),
                        };
                        format!("; the server found the GPU ({}), {why}", quote(line))
                    }
                    NoLayers::NoGpuFound => format!(
                        ". Next: see {} and {} for why the GPU is not used",
                        CheckId::DiagnoseGpuDiscovered,
                        CheckId::DiagnoseDriverFloor
                    ),
                };
                Outcome::fail(format!(
                    "{}: the model runs on the CPU; {api}{next}",
                    quote(line)
                ))
                .with_value(format!("offloaded 0/{total} layers"))
            }
            OffloadSeen::Partial { line, layers, api } => {
                let next = "Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx or OLLAMA_NUM_PARALLEL, or use a smaller quantisation";
                Outcome::warn(format!(
                    "{}: {} of {} layers run on the CPU, which slows generation several-fold; {api}. {next}",
                    quote(line),
                    layers.total.saturating_sub(layers.on_gpu),
                    layers.total
                ))
                .with_value(format!("offloaded {}/{} layers", layers.on_gpu, layers.total))
            }
            OffloadSeen::Overflowing {
                line,
                n,
                lines,
                api,
            } => {
                let next = "Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx, or use a smaller quantisation";
                Outcome::warn(format!(
                    "{}, but the fit left {n} of them overflowing to the CPU: {}; {api}. Parts of those layers run on the CPU, which slows generation. {next}",
                    quote(line),
                    lines.iter().map(|l| quote(l)).collect::<Vec<_>>().join("; ")
                ))
                .with_value(format!("{n} layer(s) overflowing"))
            }
            OffloadSeen::Projector { evidence, api } => Outcome::warn(format!(
                "{}; {api}. Next: {}",
                evidence.said(),
                render::next(&evidence.finding)
            ))
            .with_value("projector on the CPU"),
            OffloadSeen::Unconfirmed { nvml, layers } => {
                let reason = nvml.reason();
                Outcome::skip(match layers {
                    Some(o) => format!(
                        "{reason}; {}, but only NVML can confirm the VRAM is held",
                        layers_text(o)
                    ),
                    None => reason,
                })
            }
            OffloadSeen::Unlisted {
                emulated,
                layers,
                api,
                log,
            } => {
                let why = if *emulated {
                    "the emulated GPU cannot say which process of another target holds VRAM"
                } else {
                    "this GPU source does not list the processes holding VRAM (nvidia-smi without process queries)"
                };
                match layers {
                    Some(o) => {
                        let t = layers_text(o);
                        Outcome::pass(format!("{t}; {api}; {why}"))
                            .with_value(t.replace("the log says ", ""))
                    }
                    None => Outcome::skip(match log {
                        None => format!("{why}, and the log has no offload line"),
                        // A reason that says so itself is not said twice.
                        Some(e) => {
                            let cannot = "the server's log cannot be read";
                            let e = e.to_string();
                            let e = e.strip_prefix(cannot).map_or(e.as_str(), |rest| {
                                rest.trim_start_matches(": ")
                            });
                            format!("{why}, and {cannot}: {e}")
                        }
                    }),
                }
            }
            OffloadSeen::InUse {
                in_use,
                api,
                layers,
                busy,
            } => Outcome::pass(format!(
                "NVML lists no processes (as under WSL2), but {} of VRAM is in use, enough for the model; {api}{}{}",
                gib(*in_use),
                layers_part(layers),
                busy_text(busy)
            ))
            .with_value(format!("{} in use", gib(*in_use))),
            OffloadSeen::NoneHeld {
                api,
                others,
                in_use,
                layers,
                advice,
            } => {
                let listed = if others.is_empty() {
                    "no Ollama process listed, ".to_string()
                } else {
                    format!("listed: {}; ", others.join(", "))
                };
                let next = match advice {
                    Advice::Emulator => advice.grep_log(""),
                    _ => format!(
                        "watch `nvidia-smi` while a prompt runs, {}, and restart the server",
                        advice.grep_log("-e 'inference compute' -e offloaded")
                    ),
                };
                Outcome::fail(format!(
                    "{api}, but NVML shows no VRAM held by an Ollama process during a generation ({listed}{} in use on the GPU): the API's placement is wrong and the model likely runs on the CPU (Ollama issues #7323, #8623, #12323){}. Next: {next}",
                    gib(*in_use),
                    layers_part(layers)
                ))
                .with_value("no VRAM held")
            }
            OffloadSeen::Idle {
                holders,
                held,
                api,
                layers,
            } => Outcome::warn(format!(
                "{} holds {} of VRAM, but the GPU stayed idle during a generation: the work ran elsewhere; {api}{}. Next: watch `nvidia-smi` while a prompt runs",
                holders_text(holders),
                gib(*held),
                layers_part(layers)
            ))
            .with_value("GPU idle"),
            OffloadSeen::Held {
                holders,
                held,
                api,
                layers,
                busy,
            } => Outcome::pass(format!(
                "{} holds {} of VRAM during a generation; {api}{}{}",
                holders_text(holders),
                gib(*held),
                layers_part(layers),
                busy_text(busy)
            ))
            .with_value(format!("{} held", gib(*held))),
        }
    }
}

#[cfg(test)]
mod tests;
