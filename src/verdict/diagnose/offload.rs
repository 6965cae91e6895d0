//! `diagnose.offload`: the model really sits in VRAM while it generates.

use super::{gib, load_failure, loaded, quote, said};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::PsResponse;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::Offload;
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::signature::{self, render, FindingKind};
use crate::target::Advice;
use crate::ClientError;

/// `diagnose.offload`: while the model generates, an Ollama process holds VRAM in
/// NVML's process list (the truth behind `/api/ps`'s `100% GPU`), and the log's
/// `offloaded N/M layers to GPU` of its load (the runner started on its weights `blob`)
/// says how much sits there.
pub fn offload(
    ps: &Result<PsResponse, ClientError>,
    (model, blob): (&str, Option<&str>),
    answered: &Result<(), ClientError>,
    samples: &Result<Vec<Vec<GpuInfo>>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
    advice: &Advice,
) -> Outcome {
    if let Err(e) = answered {
        return match unreachable {
            Some(reason) if e.is_unresponsive() => Outcome::skip(reason),
            // The log says why the load failed: quote it rather than point at it.
            _ => match load_failure(log) {
                Some(super::Evidence { finding: f, source }) => Outcome::fail(format!(
                    "the model could not generate ({e}); the server's log says why: {}. Next: {}",
                    said(&f, &source),
                    render::next(&f)
                ))
                .with_value(f.kind.as_str()),
                None => Outcome::skip(format!(
                    "the model could not generate (see {}): {e}",
                    CheckId::ApiChat
                )),
            },
        };
    }
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        Err(not) => return not.outcome(),
    };
    // Without NVML the log's account of the load still tells.
    let (samples, unread): (&[Vec<GpuInfo>], Option<String>) = match samples {
        Err(GpuError::Disabled) => (&[], Some(GpuError::Disabled.to_string())),
        Err(e) => (
            &[],
            Some(format!(
                "the GPUs cannot be read (see {}): {e}",
                CheckId::GpuVisible
            )),
        ),
        Ok(s) => (s.as_slice(), None),
    };
    // The load of these weights, by the signatures: every release's way of counting.
    let load = log
        .as_ref()
        .ok()
        .map(|l| signature::scan_lines(l.load_of(blob)));
    let layers = load.as_ref().and_then(|d| d.last_layers()).and_then(|f| {
        let (on_gpu, total) = f.layers?;
        Some((Offload { on_gpu, total }, f.evidence.as_str()))
    });
    let layers_text = layers.map(|(o, _)| {
        format!(
            "the log says offloaded {}/{} layers to GPU",
            o.on_gpu, o.total
        )
    });
    let api = format!(
        "`/api/ps` says {} ({} of {} in VRAM)",
        m.placement(),
        gib(m.size_vram),
        gib(m.size)
    );
    // The log's layer count is the server's own account of the load.
    if let Some((o, line)) = layers {
        if o.on_gpu == 0 {
            // A server that found a GPU and still placed nothing on it did not fail
            // discovery: it had no room, or was told not to (num_gpu 0).
            let found = log
                .as_ref()
                .ok()
                .and_then(|l| l.compute_devices().into_iter().find(|d| d.is_cuda()));
            let next = match found {
                Some(d) => {
                    let told = format!(
                        "look for `num_gpu 0` in the model's parameters (`ollama show {model} --parameters`) or the requests' options"
                    );
                    let gpu = samples.last().and_then(|gpus| gpus.first());
                    let free =
                        gpu.map(|g| (g.memory_total.saturating_sub(g.memory_used), g.memory_total));
                    let why = match free {
                        // Room for the whole model: VRAM was not what kept it off.
                        Some((free, total)) if free >= m.size => format!(
                            "and {} of {} was free during the generation, room for the whole model, so it was likely told to use none. Next: {told}",
                            gib(free),
                            gib(total)
                        ),
                        Some((free, total)) => format!(
                            "so it had too little free VRAM for a layer ({} of {} free during the generation) or was told to use none. Next: free VRAM (other processes in `nvidia-smi`), and {told}",
                            gib(free),
                            gib(total)
                        ),
                        None => format!(
                            "so it had too little free VRAM for a layer or was told to use none. Next: free VRAM (other processes in `nvidia-smi`), and {told}"
                        ),
                    };
                    format!("; the server found the GPU ({}), {why}", quote(&d.line))
                }
                None => format!(
                    ". Next: see {} and {} for why the GPU is not used",
                    CheckId::DiagnoseGpuDiscovered,
                    CheckId::DiagnoseDriverFloor
                ),
            };
            return Outcome::fail(format!(
                "{}: the model runs on the CPU; {api}{next}",
                quote(line)
            ))
            .with_value(format!("offloaded 0/{} layers", o.total));
        }
        if o.on_gpu < o.total {
            return Outcome::warn(format!(
                "{}: {} of {} layers run on the CPU, which slows generation several-fold; {api}. Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx or OLLAMA_NUM_PARALLEL, or use a smaller quantisation",
                quote(line),
                o.total - o.on_gpu,
                o.total
            ))
            .with_value(format!("offloaded {}/{} layers", o.on_gpu, o.total));
        }
        // Every layer placed, yet the fit spilled tensors of some to the CPU.
        if let Some((n, lines)) = log.as_ref().ok().and_then(|l| l.overflowing(blob)) {
            return Outcome::warn(format!(
                "{}, but the fit left {n} of them overflowing to the CPU: {}; {api}. Parts of those layers run on the CPU, which slows generation. Next: free VRAM (other processes in `nvidia-smi`), lower num_ctx, or use a smaller quantisation",
                quote(line),
                lines.iter().map(|l| quote(l)).collect::<Vec<_>>().join("; ")
            ))
            .with_value(format!("{n} layer(s) overflowing"));
        }
    }
    // The text layers offloaded, the projector's share left on the CPU.
    if let Some(f) = load
        .as_ref()
        .and_then(|d| d.of(FindingKind::OffloadProjectorOnCpu).next())
    {
        return Outcome::warn(format!(
            "{}; {api}. Next: {}",
            said(f, &log.as_ref().map_or(String::new(), |l| l.source.clone())),
            render::next(f)
        ))
        .with_value("projector on the CPU");
    }
    // The log's full offload is the server's own account, as `/api/ps` is: without
    // NVML nothing confirms it, so the check cannot pass.
    if let Some(reason) = unread {
        return Outcome::skip(match layers_text {
            Some(t) => format!("{reason}; {t}, but only NVML can confirm the VRAM is held"),
            None => reason,
        });
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
        let why = if samples.iter().flatten().any(|g| g.emulated) {
            "the emulated GPU cannot say which process of another target holds VRAM"
        } else {
            "this GPU source does not list the processes holding VRAM (nvidia-smi without process queries)"
        };
        return match layers_text {
            Some(t) => Outcome::pass(format!("{t}; {api}; {why}"))
                .with_value(t.replace("the log says ", "")),
            None => Outcome::skip(match log {
                Ok(_) => format!("{why}, and the log has no offload line"),
                Err(e) => format!("{why}, and the server's log cannot be read: {e}"),
            }),
        };
    };
    // The most VRAM an Ollama process held in any sample, and who held it.
    let mut best: (u64, String) = (0, String::new());
    let mut others = Vec::new();
    for sample in &lists {
        let mut held = 0;
        let mut who = Vec::new();
        for p in sample.iter().flatten() {
            if p.is_ollama() {
                held += p.used_bytes.unwrap_or(0);
                who.push(format!("pid {} {}", p.pid, p.name));
            } else if !others.contains(&p.name) {
                others.push(p.name.clone());
            }
        }
        if held >= best.0 {
            best = (held, who.join(", "));
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
    let busy_text = busy.map_or(String::new(), |b| {
        format!("; the GPU was up to {b}% busy during the generation")
    });
    let layers_part = layers_text.map_or(String::new(), |t| format!("; {t}"));
    let no_process_listed = lists.iter().flatten().all(|l| l.is_empty());
    if m.size_vram > 0 && best.0 == 0 {
        // WSL2 (WDDM) lists no processes at all: the memory in use still tells.
        if no_process_listed && in_use >= m.size_vram {
            return Outcome::pass(format!(
                "NVML lists no processes (as under WSL2), but {} of VRAM is in use, enough for the model; {api}{layers_part}{busy_text}",
                gib(in_use)
            ))
            .with_value(format!("{} in use", gib(in_use)));
        }
        return Outcome::fail(format!(
            "{api}, but NVML shows no VRAM held by an Ollama process during a generation ({}{} in use on the GPU): the API's placement is wrong and the model likely runs on the CPU (Ollama issues #7323, #8623, #12323){layers_part}. Next: {}",
            if others.is_empty() {
                "no Ollama process listed, ".to_string()
            } else {
                format!("listed: {}; ", others.join(", "))
            },
            gib(in_use),
            match advice {
                Advice::Emulator => advice.grep_log(""),
                _ => format!(
                    "watch `nvidia-smi` while a prompt runs, {}, and restart the server",
                    advice.grep_log("-e 'inference compute' -e offloaded")
                ),
            }
        ))
        .with_value("no VRAM held");
    }
    if busy == Some(0) && m.size_vram > 0 {
        return Outcome::warn(format!(
            "{} holds {} of VRAM, but the GPU stayed idle during a generation: the work ran elsewhere; {api}{layers_part}. Next: watch `nvidia-smi` while a prompt runs",
            best.1,
            gib(best.0)
        ))
        .with_value("GPU idle");
    }
    Outcome::pass(format!(
        "{} holds {} of VRAM during a generation; {api}{layers_part}{busy_text}",
        best.1,
        gib(best.0)
    ))
    .with_value(format!("{} held", gib(best.0)))
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    #[test]
    fn offload_truth_cross_checks_the_api_with_nvml() {
        let full = "load_tensors: offloaded 29/29 layers to GPU";
        let held = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(5 << 30)), 6 << 30),
            &log(&[full]),
            None,
            &Advice::Native,
        );
        assert_eq!(held.status, Status::Pass, "{}", held.detail);
        assert!(
            held.detail.contains("29/29") && held.detail.contains("87%"),
            "{}",
            held.detail
        );
        // The API claims the GPU; NVML shows nobody holding it.
        let lie = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 400 << 20),
            &log(&[full]),
            None,
            &Advice::Native,
        );
        assert_eq!(lie.status, Status::Fail, "{}", lie.detail);
        assert!(lie.detail.contains("no VRAM held by an Ollama process"));
        // WSL2: no process list, but the memory is in use.
        let wsl = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 6 << 30),
            &log(&[full]),
            None,
            &Advice::Native,
        );
        assert_eq!(wsl.status, Status::Pass, "{}", wsl.detail);
        let partial = offload(
            &ps(3 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(3 << 30)), 4 << 30),
            &log(&["llm_load_tensors: offloaded 20/29 layers to GPU"]),
            None,
            &Advice::Native,
        );
        assert_eq!(partial.status, Status::Warn);
        assert_eq!(partial.value.as_deref(), Some("offloaded 20/29 layers"));
        // All layers placed, tensors of 5 spilled by llama-server's fit.
        let fit = "common_params_fit_impl:   - CUDA0 (NVIDIA GeForce RTX 3060): 29 layers ( 5 overflowing),  11065 MiB used,   1036 MiB free";
        let spilled = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(ollama(5 << 30)), 6 << 30),
            &log(&[fit, full]),
            None,
            &Advice::Native,
        );
        assert_eq!(spilled.status, Status::Warn, "{}", spilled.detail);
        assert_eq!(spilled.value.as_deref(), Some("5 layer(s) overflowing"));
        // Another model loaded after it: its own load's line counts, by its weights.
        let start = |blob: &str| {
            format!("time=2026-01-01T00:00:00Z level=INFO source=server.go:431 msg=\"starting runner\" cmd=\"/usr/bin/ollama runner --model /m/blobs/{blob} --port 1\"")
        };
        let two = log(&[
            &start("sha256-aaa"),
            full,
            &start("sha256-bbb"),
            "load_tensors: offloaded 10/29 layers to GPU",
        ]);
        let of = |blob| {
            offload(
                &ps(5 << 30),
                ("my-coder", blob),
                &Ok(()),
                &sample(Some(ollama(5 << 30)), 6 << 30),
                &two,
                None,
                &Advice::Native,
            )
        };
        assert_eq!(
            of(Some("sha256-aaa")).status,
            Status::Pass,
            "{}",
            of(Some("sha256-aaa")).detail
        );
        assert_eq!(of(Some("sha256-bbb")).status, Status::Warn);
        assert_eq!(
            of(None).status,
            Status::Warn,
            "unknown weights: the last load"
        );
        let cpu = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 0),
            &log(&["offloaded 0/29 layers to GPU"]),
            None,
            &Advice::Native,
        );
        assert_eq!(cpu.status, Status::Fail);
        assert!(
            cpu.detail.contains("see diagnose.gpu_discovered"),
            "{}",
            cpu.detail
        );
        // The server found the GPU: discovery is not why nothing is on it.
        let found = compute(UUID, "CUDA");
        let cpu = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 11 << 30),
            &log(&[&found, "offloaded 0/29 layers to GPU"]),
            None,
            &Advice::Native,
        );
        assert_eq!(cpu.status, Status::Fail);
        assert!(
            cpu.detail.contains("the server found the GPU")
                && cpu
                    .detail
                    .contains("too little free VRAM for a layer (1.0 GiB of 12.0 GiB free")
                && cpu.detail.contains("num_gpu 0")
                && !cpu.detail.contains("diagnose.gpu_discovered"),
            "{}",
            cpu.detail
        );
        // With room for the whole model, VRAM is not blamed.
        let roomy = offload(
            &ps(0),
            ("my-coder", None),
            &Ok(()),
            &sample(Some(vec![]), 1 << 30),
            &log(&[&found, "offloaded 0/29 layers to GPU"]),
            None,
            &Advice::Native,
        );
        assert!(
            roomy.detail.contains("room for the whole model")
                && !roomy.detail.contains("too little free VRAM"),
            "{}",
            roomy.detail
        );
        let unknown = offload(
            &ps(5 << 30),
            ("my-coder", None),
            &Ok(()),
            &sample(None, 0),
            &Err("no journalctl on this machine".into()),
            None,
            &Advice::Native,
        );
        assert_eq!(unknown.status, Status::Skip);
        // A log that cannot be read is not one without the line.
        assert!(
            unknown
                .detail
                .contains("the server's log cannot be read: no journalctl")
                && !unknown.detail.contains("has no offload line"),
            "{}",
            unknown.detail
        );
    }
}
