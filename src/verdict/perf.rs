//! The `perf.*` checks: speeds from the server's own statistics, put in context.

use super::api_error;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::client::types::{PsResponse, TagsResponse};
use crate::figure::{Figure, Quantity};
use crate::interval::Precision;
use crate::perf::{decode_limit, ColdLoad, Spread, StreamTiming};
use crate::probe::gpu::{main_server_gpu, server_gpus, GpuError, GpuInfo};
use crate::ClientError;
use std::time::Duration;

/// Streamed answers: the client's timing and the server's statistics of each.
type Samples = Result<Vec<StreamTiming>, ClientError>;

fn spread_of(samples: &[StreamTiming], f: impl Fn(&StreamTiming) -> Option<f64>) -> Option<Spread> {
    Spread::of(samples.iter().filter_map(f))
}

/// Each sample's reading, in the order taken.
fn values(samples: &[StreamTiming], f: impl Fn(&StreamTiming) -> Option<f64>) -> Vec<f64> {
    samples.iter().filter_map(f).collect()
}

fn describe(s: &Spread, unit: &str) -> String {
    format!(
        "median of {} (min {:.1}, max {:.1} {unit})",
        s.count, s.min, s.max
    )
}

/// A median speed of the samples against its target, judged to the precision asked:
/// what `perf.generation` and `perf.prompt` share. Each words the rest itself.
struct Rated {
    spread: Spread,
    /// The median with each sample, the target and, where there is one, the interval.
    figure: Figure,
    /// How well the median is known, for the detail.
    note: String,
    /// The warning where the target lies inside the median's interval.
    straddled: Option<Outcome>,
}

fn rated(
    samples: &[StreamTiming],
    rate: fn(&StreamTiming) -> Option<f64>,
    quantity: Quantity,
    target: f64,
    precision: Option<Precision>,
) -> Option<Rated> {
    let spread = spread_of(samples, rate)?;
    let rates = values(samples, rate);
    let told = super::precision::tell(&rates, target, precision);
    Some(Rated {
        spread,
        figure: told.figure(
            Figure::new(quantity, spread.median)
                .samples(rates)
                .target(target),
        ),
        note: told.note(precision, "tok/s"),
        straddled: told.straddled(target, "tok/s"),
    })
}

impl Rated {
    /// The straddle's warning, else a pass or a failure by the median; each with the
    /// value and the figure.
    fn outcome(
        self,
        target: f64,
        value: String,
        pass: impl FnOnce() -> String,
        fail: impl FnOnce() -> String,
    ) -> Outcome {
        let outcome = match self.straddled {
            Some(warn) => warn,
            None if self.spread.median >= target => Outcome::pass(pass()),
            None => Outcome::fail(fail()),
        };
        outcome.with_value(value).with_figure(self.figure)
    }
}

/// `perf.generation`: the median generation speed of the samples reaches `target`.
/// With a `precision`, the median's interval goes into the figure and a target inside
/// it warns (see [`super::precision`]).
pub fn generation(
    samples: &Samples,
    target: f64,
    precision: Option<Precision>,
    unreachable: Option<&str>,
) -> Outcome {
    let samples = match samples {
        Ok(s) => s,
        Err(e) => return api_error(e, unreachable),
    };
    let rate = |c: &StreamTiming| c.server.generation_rate();
    let Some(r) = rated(samples, rate, Quantity::GenerationRate, target, precision) else {
        return Outcome::fail("the answers carry no eval_count/eval_duration, so their speed is unknown; the server may be too old");
    };
    let tokens = samples
        .iter()
        .filter_map(|c| c.server.eval_count)
        .max()
        .unwrap_or(0);
    // Decoding slows as the context grows: the prompt's length belongs with the figure.
    let prompt = samples
        .iter()
        .filter_map(|c| c.server.prompt_eval_count)
        .max()
        .map_or(String::new(), |n| format!(" after a {n}-token prompt"));
    let median = r.spread.median;
    let value = format!("{median:.1} tok/s");
    let how = format!(
        "{}, up to {tokens} tokens each{prompt}{}",
        describe(&r.spread, "tok/s"),
        r.note
    );
    r.outcome(
        target,
        value,
        || format!("{how}; target {target} tok/s"),
        || format!(
            "expected at least {target} tok/s, measured {median:.1} ({how}). Is the model wholly on the GPU (see {see})? Is something else using the GPU (`nvidia-smi`)?",
            see = CheckId::GpuOffload
        ),
    )
}

/// `perf.prompt`: the median prompt processing speed reaches `target`.
pub fn prompt(
    samples: &Samples,
    target: f64,
    precision: Option<Precision>,
    unreachable: Option<&str>,
) -> Outcome {
    let samples = match samples {
        Ok(s) => s,
        Err(e) => return api_error(e, unreachable),
    };
    let rate = |c: &StreamTiming| c.server.prompt_rate();
    let Some(r) = rated(samples, rate, Quantity::PromptRate, target, precision) else {
        return Outcome::fail("the answers carry no prompt_eval_count/prompt_eval_duration");
    };
    let tokens = samples
        .iter()
        .filter_map(|c| c.server.prompt_eval_count)
        .max()
        .unwrap_or(0);
    let median = r.spread.median;
    let value = format!("{median:.0} tok/s");
    let how = format!(
        "{}, {tokens} prompt tokens{}",
        describe(&r.spread, "tok/s"),
        r.note
    );
    r.outcome(
        target,
        value,
        || format!("{how}; target {target} tok/s"),
        || format!(
            "expected prompt processing at {target} tok/s or more, measured {median:.0} ({how}). Flash attention (OLLAMA_FLASH_ATTENTION=1) and full GPU offload help"
        ),
    )
}

/// `perf.streaming`: tokens arrive at the client at the rate the server reports, within
/// `margin_percent` (medians over the samples); time to first token and the gaps
/// between tokens are reported.
pub fn streaming(samples: &Samples, margin_percent: f64, unreachable: Option<&str>) -> Outcome {
    let samples = match samples {
        Ok(s) => s,
        Err(e) => return api_error(e, unreachable),
    };
    // Both medians over the same answers: those the client could time and the server
    // reported on.
    let timed: Vec<&StreamTiming> = samples
        .iter()
        .filter(|t| t.client_rate.is_some() && t.server.generation_rate().is_some())
        .collect();
    let client = Spread::of(timed.iter().filter_map(|t| t.client_rate));
    let server = Spread::of(timed.iter().filter_map(|t| t.server.generation_rate()));
    let (Some(client), Some(server)) = (client, server) else {
        return Outcome::fail("the stream could not be timed: fewer than 2 tokens, tokens arriving in bursts with no gap (a buffering proxy?), or no server statistics");
    };
    let (client, server) = (client.median, server.median);
    if server <= 0.0 {
        return Outcome::fail(format!("the server reported a generation speed of {server} tok/s, which nothing can be compared with: its eval_count or eval_duration is wrong. Check the server's version and log"));
    }
    let ms_of = |d: Duration| d.as_secs_f64() * 1000.0;
    // Every timed answer had tokens, so each has its first.
    let ttft =
        Spread::of(timed.iter().filter_map(|t| t.first_token.map(ms_of))).map_or(0.0, |s| s.median);
    let gaps = Spread::of(timed.iter().flat_map(|t| t.gaps.iter().copied().map(ms_of)));
    let value = format!("first token {ttft:.0} ms, {client:.1} vs {server:.1} tok/s");
    let gap_text = gaps.map_or(String::new(), |g| {
        format!("; gaps median {:.1} ms, max {:.1} ms", g.median, g.max)
    });
    // A single stall ten times the typical gap is worth saying, whatever the average.
    let stall = gaps
        .filter(|g| g.max > 10.0 * g.median.max(1.0))
        .map_or(String::new(), |g| {
            format!("; one gap of {:.0} ms stands out (a stall)", g.max)
        });
    // The first token's wait, taken apart: what the server says it spent loading and
    // reading the prompt, and the rest (the first token itself, transport, queueing).
    let ms = |n: Option<u64>| n.map(|n| n as f64 / 1e6);
    let split = Spread::of(timed.iter().filter_map(|t| ms(t.server.load_duration)))
        .zip(Spread::of(timed.iter().filter_map(|t| ms(t.server.prompt_eval_duration))))
        .map_or(String::new(), |(load, prompt)| {
            let rest = (ttft - load.median - prompt.median).max(0.0);
            format!(
                "; first token {ttft:.0} ms = load {:.0} + prompt {:.0} (server) + {rest:.0} ms for the token and its way here",
                load.median, prompt.median
            )
        });
    let off = (client - server).abs() / server * 100.0;
    let left_out = match samples.len() - timed.len() {
        0 => String::new(),
        n => format!(", {n} answer(s) that could not be timed left out"),
    };
    let detail = format!("client-measured {client:.1} tok/s, server-reported {server:.1} ({off:.1}% apart, medians of {}{left_out}){split}{gap_text}{stall}", timed.len());
    let outcome = if off <= margin_percent {
        Outcome::pass(detail)
    } else {
        Outcome::fail(format!(
            "expected the client's and the server's speeds within {margin_percent}%: {detail}. A proxy buffering the stream, or a loaded network, delays tokens"
        ))
    };
    let firsts: Vec<f64> = timed
        .iter()
        .filter_map(|t| t.first_token.map(|d| d.as_secs_f64()))
        .collect();
    outcome
        .with_value(value)
        .with_figure(
            Figure::new(Quantity::ClientRate, client)
                .samples(timed.iter().filter_map(|t| t.client_rate).collect()),
        )
        .with_figure(Figure::new(Quantity::FirstToken, ttft / 1000.0).samples(firsts))
}

/// `perf.load_warm`: a loaded model starts at once (its `load_duration` stays small).
pub fn load_warm(samples: &Samples, max: Duration, unreachable: Option<&str>) -> Outcome {
    let samples = match samples {
        Ok(s) => s,
        Err(e) => return api_error(e, unreachable),
    };
    let Some(s) = spread_of(samples, |c| c.server.load_duration.map(|n| n as f64 / 1e6)) else {
        return Outcome::fail("the answers carry no load_duration");
    };
    // Under 10 ms a tenth tells a real figure from "0 ms", which reads as unreported.
    let value = if s.median < 10.0 {
        format!("{:.1} ms", s.median)
    } else {
        format!("{:.0} ms", s.median)
    };
    let limit = max.as_secs_f64() * 1000.0;
    let figure = Figure::new(Quantity::WarmLoad, s.median / 1000.0)
        .samples(values(samples, |c| {
            c.server.load_duration.map(|n| n as f64 / 1e9)
        }))
        .target(max.as_secs_f64());
    if s.median <= limit {
        Outcome::pass(format!("{} while loaded", describe(&s, "ms")))
            .with_value(value)
            .with_figure(figure)
    } else {
        Outcome::fail(format!(
            "expected a loaded model to start within {limit:.0} ms, its load took {:.0} ms ({}). The model is being reloaded between requests: a request's options (num_ctx) differing from the loaded model's, or a short OLLAMA_KEEP_ALIVE",
            s.median,
            describe(&s, "ms")
        ))
        .with_value(value)
        .with_figure(figure)
    }
}

/// `perf.load_cold`: loading the unloaded model stays under `max`. Runs only when the
/// user allows unloading.
pub fn load_cold(
    allowed: bool,
    load: Option<&Result<ColdLoad, ClientError>>,
    max: Duration,
    unreachable: Option<&str>,
) -> Outcome {
    if !allowed {
        return Outcome::skip("timing a cold load unloads the model, which changes the server's state; pass --allow-unload to measure it");
    }
    let d = match load {
        None => return Outcome::fail("no cold load was timed: add `When the model \"...\" is unloaded and loaded again` before this step"),
        Some(Err(e)) => return api_error(e, unreachable),
        Some(Ok(ColdLoad::StillLoaded(waited))) => return Outcome::fail(format!(
            "expected the model to leave /api/ps after a `keep_alive: 0` request, it was still loaded {:.0} s later, so no cold load could be timed. Another client may be holding it busy: see `ollama ps`, and rerun when the server is idle",
            waited.as_secs_f64()
        )),
        Some(Ok(ColdLoad::Unreported)) => return Outcome::skip(
            "the reload's answer reported no load_duration (Ollama leaves it out when nothing was loaded), so the load could not be timed; an older server may not report it"
        ),
        Some(Ok(ColdLoad::Took(d))) => *d,
    };
    let value = format!("{:.1} s", d.as_secs_f64());
    let figure = Figure::new(Quantity::ColdLoad, d.as_secs_f64()).target(max.as_secs_f64());
    if d <= max {
        Outcome::pass(format!("loaded from disk in {:.1} s", d.as_secs_f64()))
            .with_value(value)
            .with_figure(figure)
    } else {
        Outcome::fail(format!(
            "expected a cold load within {:.0} s, it took {:.1} s. Models on a slow disk (or /mnt/c on WSL2) load slowly; keep them on the Linux filesystem",
            max.as_secs_f64(),
            d.as_secs_f64()
        ))
        .with_value(value)
        .with_figure(figure)
    }
}

/// `perf.roofline`: the measured speed against the GPU's memory-bandwidth limit for
/// the weights in VRAM: `efficiency = median / (bandwidth / weight bytes in VRAM)`.
/// `experts` is a mixture-of-experts model's (used per token, in all): such a model
/// reads only some of its weights per token, so the dense limit does not bound it.
pub fn roofline(
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    tags: &Result<TagsResponse, ClientError>,
    ps: &Result<PsResponse, ClientError>,
    (model, experts): (&str, Option<(u64, u64)>),
    samples: &Samples,
    min_percent: f64,
) -> Outcome {
    let (gpu, count) = match gpus {
        Ok(list) => match main_server_gpu(list) {
            Some(gpu) => (gpu, list.len()),
            None => {
                return Outcome::skip(format!(
                    "no GPU to compare against (see {see})",
                    see = CheckId::GpuVisible
                ))
            }
        },
        Err(e) => {
            return Outcome::skip(format!(
                "no GPU data (see {see}): {e}",
                see = CheckId::GpuVisible
            ))
        }
    };
    let Some(bandwidth) = gpu.bandwidth_bytes_per_s() else {
        return Outcome::skip("NVML does not report this GPU's memory bus width or clock");
    };
    // Its size needs both lists; each that cannot tell says why, and whose it is.
    let weights = match tags {
        Err(e) => {
            return Outcome::skip(format!(
                "the model list could not be read (see {see}), so the size of {model}'s weights is unknown: {e}", see = CheckId::ApiTags
            ))
        }
        Ok(t) => match t.find(model) {
            Some(m) => m.size,
            None => {
                return Outcome::skip(format!(
                    "`/api/tags` does not list {model}, so the size of its weights is unknown"
                ))
            }
        },
    };
    let loaded = match ps {
        Err(e) => {
            return Outcome::skip(format!(
                "`/api/ps` failed (see {see}), so how much of {model} is in VRAM is unknown: {e}",
                see = CheckId::GpuOffload
            ))
        }
        Ok(p) => match p.find(model) {
            Some(m) => m,
            None => {
                return Outcome::skip(format!(
                    "{model} is not loaded (see {see}), so how much of it is in VRAM is unknown",
                    see = CheckId::GpuOffload
                ))
            }
        },
    };
    // Decoding reads the weights once per token; the KV cache's whole allocation is not.
    let in_vram = (weights as f64 * loaded.size_vram as f64 / loaded.size.max(1) as f64) as u64;
    if in_vram == 0 {
        return Outcome::skip(format!(
            "{model} holds no VRAM, so the GPU's bandwidth does not bound it (see {see})",
            see = CheckId::GpuOffload
        ));
    }
    let measured = match samples {
        Ok(s) => spread_of(s, |c| c.server.generation_rate()),
        Err(_) => None,
    };
    let (Some(limit), Some(measured)) = (decode_limit(bandwidth, in_vram), measured) else {
        return Outcome::skip(format!(
            "no generation speed was measured (see {see})",
            see = CheckId::PerfGeneration
        ));
    };
    // Several GPUs: say which one's bandwidth this is.
    let on = if count > 1 {
        format!(" of GPU {} ({})", gpu.index, gpu.name)
    } else {
        String::new()
    };
    let detail = format!(
        "{:.1} tok/s measured; limit {:.0} GB/s{on} / {:.2} GB of weights in VRAM",
        measured.median,
        bandwidth / 1e9,
        in_vram as f64 / 1e9
    );
    // The dense limit: for a mixture of experts, the lowest of its range.
    // Its target: the least speed that passes, `min_percent` of the (dense) limit.
    let figures = |o: Outcome| {
        o.with_figure(
            Figure::new(Quantity::GenerationRate, measured.median)
                .target(limit * min_percent / 100.0),
        )
        .with_figure(Figure::new(Quantity::DecodeLimit, limit))
    };
    if let Some((used, all)) = experts {
        return figures(mixture_roofline(
            measured.median,
            limit,
            (used, all),
            min_percent,
            &detail,
        ));
    }
    let pct = measured.median / limit * 100.0;
    let value = format!("{pct:.0}% of {limit:.1} tok/s");
    figures(if pct > 110.0 {
        Outcome::fail(format!(
            "{detail}: faster than the memory bandwidth allows, so a figure is wrong (a misreported clock, the wrong GPU's figures, or weights not all in VRAM)"
        ))
        .with_value(value)
    } else if pct < min_percent {
        Outcome::fail(format!(
            "{detail}: expected at least {min_percent}% of the limit. Something else shares the GPU, the GPU runs at reduced clocks (power limit, thermals: `nvidia-smi -q -d CLOCK`), or part of the model runs on the CPU"
        ))
        .with_value(value)
    } else {
        Outcome::pass(detail).with_value(value)
    })
}

/// The roofline of a mixture of experts (`used` of `all` experts per token): a token
/// reads the active experts and the layers every token shares, so more than `used /
/// all` of the weights and less than all of them. Its limit lies between the dense one
/// and `all / used` times that, and its efficiency between the measured speed over
/// each: decided where the whole range is on one side of `min_percent`.
fn mixture_roofline(
    measured: f64,
    dense: f64,
    (used, all): (u64, u64),
    min_percent: f64,
    detail: &str,
) -> Outcome {
    let sparse = dense * all as f64 / used as f64;
    let (low, high) = (measured / sparse * 100.0, measured / dense * 100.0);
    let value = format!("{low:.0}–{high:.0}% of {dense:.1}–{sparse:.1} tok/s");
    let detail = format!(
        "{detail}; a mixture of experts ({used} of {all} per token) reads more than {:.1}% of its weights per token and less than all, so its limit lies between {dense:.1} and {sparse:.1} tok/s",
        used as f64 / all as f64 * 100.0
    );
    if low > 110.0 {
        Outcome::fail(format!(
            "{detail}: faster than even reading only the active experts allows, so a figure is wrong (a misreported clock, the wrong GPU's figures, or weights not all in VRAM)"
        ))
        .with_value(value)
    } else if low >= min_percent {
        Outcome::pass(detail).with_value(value)
    } else if high < min_percent {
        Outcome::fail(format!(
            "{detail}: expected at least {min_percent}% of the limit, and even the lowest limit gives {high:.0}%. Something else shares the GPU, the GPU runs at reduced clocks (`nvidia-smi -q -d CLOCK`), or part of the model runs on the CPU"
        ))
        .with_value(value)
    } else {
        Outcome::skip(format!(
            "{detail}: {low:.0}–{high:.0}% of it, a range {min_percent}% falls within, so whether it reaches {min_percent}% cannot be told from the model's size"
        ))
    }
}

/// `perf.vram_headroom`: VRAM left free once `model` is loaded. A model that has left
/// VRAM (expired, or a failed reload) would leave an empty GPU to measure, so `ps` must
/// show it there.
pub fn headroom(
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    min_bytes: u64,
) -> Outcome {
    match ps {
        Err(e) => return Outcome::skip(format!(
            "the loaded models could not be listed, so the free VRAM might be that of a GPU without {model}: {e}"
        )),
        Ok(ps) if ps.find(model).is_none_or(|m| m.size_vram == 0) => {
            return Outcome::skip(format!(
                "{model} is not loaded on the GPU (/api/ps), so the free VRAM would not be what is left beside it (see {see}; a short keep-alive may have unloaded it)", see = CheckId::GpuOffload
            ))
        }
        Ok(_) => {}
    }
    let list = match gpus {
        Ok(list) if !list.is_empty() => list,
        Ok(_) => return Outcome::skip(format!("no GPU (see {see})", see = CheckId::GpuVisible)),
        Err(e) => {
            return Outcome::skip(format!(
                "no GPU data (see {see}): {e}",
                see = CheckId::GpuVisible
            ))
        }
    };
    let free_of = |g: &GpuInfo| g.memory_total.saturating_sub(g.memory_used);
    // Of the GPUs the server uses, the one with the least room decides.
    let used = server_gpus(list);
    let gpu = *used
        .iter()
        .min_by_key(|g| free_of(g))
        .expect("a GPU at least");
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let free = free_of(gpu);
    let value = format!("{:.1} GiB free of {:.1}", gib(free), gib(gpu.memory_total));
    let which = if list.len() == 1 {
        String::new()
    } else if used.len() < list.len() {
        format!(
            " on GPU {} (the fullest of the {} of {} GPUs the server holds memory on)",
            gpu.index,
            used.len(),
            list.len()
        )
    } else {
        format!(" on GPU {} (the fullest of {})", gpu.index, list.len())
    };
    let outcome = if free >= min_bytes {
        Outcome::pass(format!("{:.1} GiB in use{which}", gib(gpu.memory_used)))
    } else {
        Outcome::fail(format!(
            "expected at least {:.1} GiB of VRAM free after loading, {:.1} GiB is{which}. A longer context or a second model will spill to the CPU; lower num_ctx, use OLLAMA_KV_CACHE_TYPE=q8_0, or a smaller quantisation",
            gib(min_bytes),
            gib(free)
        ))
    };
    outcome
        .with_value(value)
        .with_figure(Figure::new(Quantity::VramFree, free as f64).target(min_bytes as f64))
        .with_figure(Figure::new(Quantity::VramTotal, gpu.memory_total as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::client::types::Stats;

    fn chunk(eval_count: u64, eval_ms: u64, load_ms: u64) -> StreamTiming {
        StreamTiming {
            first_token: Some(Duration::from_millis(40)),
            gaps: vec![Duration::from_millis(15); 10],
            client_rate: Some(eval_count as f64 / (eval_ms as f64 / 1000.0)),
            server: Stats {
                eval_count: Some(eval_count),
                eval_duration: Some(eval_ms * 1_000_000),
                load_duration: Some(load_ms * 1_000_000),
                prompt_eval_count: Some(30),
                prompt_eval_duration: Some(30_000_000),
                total_duration: None,
            },
        }
    }

    /// `/api/ps` listing `model` with `vram` of its `size` bytes on the GPU.
    fn ps_with(model: &str, size: u64, vram: u64) -> Result<PsResponse, ClientError> {
        Ok(PsResponse {
            models: vec![crate::client::types::RunningModel {
                name: format!("{model}:latest"),
                model: format!("{model}:latest"),
                size,
                digest: String::new(),
                details: Default::default(),
                expires_at: String::new(),
                size_vram: vram,
                context_length: None,
            }],
        })
    }

    fn tags_with(model: &str, size: u64) -> Result<TagsResponse, ClientError> {
        Ok(TagsResponse {
            models: vec![crate::client::types::ModelInfo {
                name: format!("{model}:latest"),
                model: format!("{model}:latest"),
                modified_at: String::new(),
                size,
                digest: "sha256:0".into(),
                details: Default::default(),
                remote: Default::default(),
            }],
        })
    }

    #[test]
    fn generation_passes_on_the_median() {
        // 50, 20 and 64 tok/s: median 50.
        let samples = Ok(vec![
            chunk(100, 2000, 5),
            chunk(100, 5000, 5),
            chunk(128, 2000, 5),
        ]);
        let o = generation(&samples, 40.0, None, None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("50.0 tok/s"));
        assert!(o.detail.contains("min 20.0, max 64.0"), "{}", o.detail);
        assert!(
            o.detail
                .contains("up to 128 tokens each after a 30-token prompt"),
            "{}",
            o.detail
        );
        assert_eq!(generation(&samples, 60.0, None, None).status, Status::Fail);
        // The same numbers, typed, in the order the samples were taken.
        assert_eq!(
            o.figures,
            vec![Figure::new(Quantity::GenerationRate, 50.0)
                .samples(vec![50.0, 20.0, 64.0])
                .target(40.0)]
        );
    }

    #[test]
    fn warm_loads_and_prompt_speed() {
        let samples = Ok(vec![
            chunk(10, 100, 12),
            chunk(10, 100, 8),
            chunk(10, 100, 2400),
        ]);
        assert_eq!(
            load_warm(&samples, Duration::from_secs(1), None).status,
            Status::Pass
        );
        let slow = Ok(vec![chunk(10, 100, 2400); 3]);
        assert_eq!(
            load_warm(&slow, Duration::from_secs(1), None).status,
            Status::Fail
        );
        let o = prompt(&samples, 500.0, None, None);
        assert_eq!(
            (o.status, o.value.as_deref()),
            (Status::Pass, Some("1000 tok/s"))
        );
        assert_eq!(o.figures[0].quantity, Quantity::PromptRate);
        assert_eq!(o.figures[0].value, 1000.0);
        // A warm load's figure is in seconds, the median of 12, 8 and 2400 ms.
        let warm = load_warm(&samples, Duration::from_secs(1), None);
        assert_eq!(
            warm.figures,
            vec![Figure::new(Quantity::WarmLoad, 0.012)
                .samples(vec![0.012, 0.008, 2.4])
                .target(1.0)]
        );
    }

    #[test]
    fn cold_load_needs_consent() {
        let took = |s| Some(Ok(ColdLoad::Took(Duration::from_secs(s))));
        let max = Duration::from_secs(60);
        let o = load_cold(false, took(1).as_ref(), max, None);
        assert_eq!(o.status, Status::Skip);
        assert!(o.detail.contains("--allow-unload"));
        assert_eq!(
            load_cold(true, took(1).as_ref(), max, None).status,
            Status::Pass
        );
        assert_eq!(
            load_cold(true, took(90).as_ref(), max, None).status,
            Status::Fail
        );
    }

    #[test]
    fn cold_load_passes_only_on_a_timed_load() {
        let max = Duration::from_secs(60);
        let still = Some(Ok(ColdLoad::StillLoaded(Duration::from_secs(30))));
        let o = load_cold(true, still.as_ref(), max, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("still loaded 30 s later"), "{}", o.detail);
        let o = load_cold(true, Some(&Ok(ColdLoad::Unreported)), max, None);
        assert_eq!(o.status, Status::Skip);
        assert!(o.detail.contains("load_duration"), "{}", o.detail);
        let o = load_cold(true, None, max, None);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("unloaded and loaded again"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn streaming_compares_client_and_server() {
        let timing = |client: f64| {
            let mut t = chunk(64, 1000, 0);
            t.client_rate = Some(client);
            Ok(vec![t.clone(), t.clone(), t])
        };
        let o = streaming(&timing(63.0), 15.0, None);
        assert_eq!(o.status, Status::Pass);
        // 40 ms to the first token: no load and 30 ms of prompt by the server's account.
        assert!(
            o.detail
                .contains("first token 40 ms = load 0 + prompt 30 (server) + 10 ms"),
            "{}",
            o.detail
        );
        let quantities: Vec<(Quantity, f64)> =
            o.figures.iter().map(|f| (f.quantity, f.value)).collect();
        assert_eq!(
            quantities,
            [(Quantity::ClientRate, 63.0), (Quantity::FirstToken, 0.04)]
        );
        let o = streaming(&timing(40.0), 15.0, None);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("apart"), "{}", o.detail);
    }

    /// With two GPUs, the one the server holds memory on decides; where the driver
    /// lists no processes, the fuller one.
    #[test]
    fn headroom_of_the_gpus_the_server_uses() {
        use crate::probe::gpu::GpuProcess;
        let gib = 1u64 << 30;
        let gpu = |index: u32, used_gib: u64, ollama: Option<bool>| GpuInfo {
            index,
            memory_total: 24 * gib,
            memory_used: used_gib * gib,
            processes: ollama.map(|o| {
                o.then(|| GpuProcess {
                    pid: 7,
                    name: "/usr/bin/ollama".into(),
                    used_bytes: Some(used_gib * gib),
                })
                .into_iter()
                .collect()
            }),
            ..crate::probe::gpu::emulated()
        };
        // GPU 0 (a display, nearly full) is not the server's: GPU 1 has room.
        let ps = ps_with("m", 5 * gib, 5 * gib);
        let o = headroom(
            &Ok(vec![gpu(0, 23, Some(false)), gpu(1, 6, Some(true))]),
            &ps,
            "m",
            gib,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("18.0 GiB free of 24.0"));
        assert!(
            o.detail.contains("on GPU 1 (the fullest of the 1 of 2"),
            "{}",
            o.detail
        );
        // Unknown processes: the fuller GPU counts.
        let o = headroom(
            &Ok(vec![gpu(0, 23, None), gpu(1, 6, None)]),
            &ps,
            "m",
            2 * gib,
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail.contains("1.0 GiB is on GPU 0 (the fullest of 2)"),
            "{}",
            o.detail
        );
    }

    #[test]
    fn headroom_by_threshold() {
        let gpu = crate::probe::gpu::emulated();
        let gib = 1u64 << 30;
        let ps = ps_with("m", 5 * gib, 5 * gib);
        let status = |gpus: &Result<Vec<GpuInfo>, GpuError>| headroom(gpus, &ps, "m", gib).status;
        assert_eq!(status(&Ok(vec![gpu.clone()])), Status::Pass);
        let o = headroom(&Ok(vec![gpu.clone()]), &ps, "m", gib);
        let free = (gpu.memory_total - gpu.memory_used) as f64;
        assert_eq!(
            o.figures,
            vec![
                Figure::new(Quantity::VramFree, free).target(gib as f64),
                Figure::new(Quantity::VramTotal, gpu.memory_total as f64)
            ]
        );
        let full = GpuInfo {
            memory_used: gpu.memory_total - gib / 2,
            ..gpu.clone()
        };
        assert_eq!(status(&Ok(vec![full])), Status::Fail);
        assert_eq!(status(&Err(GpuError::Disabled)), Status::Skip);
        // Not loaded, or loaded on the CPU: an empty GPU's room says nothing.
        for ps in [
            ps_with("other", 5 * gib, 5 * gib),
            ps_with("m", 5 * gib, 0),
            Ok(PsResponse { models: vec![] }),
        ] {
            let o = headroom(&Ok(vec![gpu.clone()]), &ps, "m", gib);
            assert_eq!(o.status, Status::Skip, "{}", o.detail);
            assert!(
                o.detail.contains("m is not loaded on the GPU"),
                "{}",
                o.detail
            );
        }
        let o = headroom(
            &Ok(vec![gpu]),
            &Err(ClientError::ConnectionRefused {
                addr: "127.0.0.1:11434".into(),
                next: Default::default(),
            }),
            "m",
            gib,
        );
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
    }

    /// The seed's RTX 3060 (360 GB/s) with a 4.68 GB model at 65 tok/s: 85% of 76.9.
    #[test]
    fn roofline_efficiency_and_its_limits() {
        let gb = 1_000_000_000u64;
        let gpus = Ok(vec![crate::probe::gpu::emulated()]);
        let tags = tags_with("m", 4_683_087_332);
        // /api/ps counts the KV cache too: 6 GB loaded, all of it in VRAM.
        let ps = ps_with("m", 6 * gb, 6 * gb);
        let at = |rate: u64| Ok(vec![chunk(rate, 1000, 0); 3]);
        let o = roofline(&gpus, &tags, &ps, ("m", None), &at(65), 25.0);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("85% of 76.9 tok/s"));
        let limit = o
            .figures
            .iter()
            .find(|f| f.quantity == Quantity::DecodeLimit);
        assert_eq!(limit.map(|f| f.value.round()), Some(77.0));
        assert_eq!(o.figures[0].value, 65.0);
        assert_eq!(o.figures[0].target.map(|t| t.round()), Some(19.0));
        assert!(
            o.detail.contains("limit 360 GB/s / 4.68 GB"),
            "{}",
            o.detail
        );
        assert_eq!(
            roofline(&gpus, &tags, &ps, ("m", None), &at(10), 25.0).status,
            Status::Fail
        );
        let o = roofline(&gpus, &tags, &ps, ("m", None), &at(150), 25.0);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("faster than the memory bandwidth allows"),
            "{}",
            o.detail
        );
        // A mixture of experts reads a part per token: faster than the dense limit is no
        // error. 4 of 32 experts: the limit lies between 76.9 and 615 tok/s.
        let moe = |rate| roofline(&gpus, &tags, &ps, ("m", Some((4, 32))), &at(rate), 25.0);
        let o = moe(160);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("26–208% of 76.9–615.1 tok/s"));
        assert!(o.detail.contains("4 of 32 per token"), "{}", o.detail);
        let o = moe(60);
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
        assert!(o.detail.contains("cannot be told"), "{}", o.detail);
        assert_eq!(
            moe(15).status,
            Status::Fail,
            "under 25% of even the dense limit"
        );
        assert_eq!(
            moe(700).status,
            Status::Fail,
            "faster than the sparse limit"
        );
        // A driver reporting a 0 MHz clock gives no limit rather than inf% or NaN%.
        let zero = Ok(vec![GpuInfo {
            max_memory_clock_mhz: Some(0),
            ..crate::probe::gpu::emulated()
        }]);
        let o = roofline(&zero, &tags, &ps, ("m", None), &at(65), 25.0);
        assert_eq!(o.status, Status::Skip, "{}", o.detail);
    }

    /// Without the model's size the roofline skips, naming the list that failed or
    /// lacks the model: a model list that could not be read is no missing model.
    #[test]
    fn roofline_says_which_list_lacks_the_model() {
        let gb = 1_000_000_000u64;
        let gpus = Ok(vec![crate::probe::gpu::emulated()]);
        let tags = tags_with("m", 4 * gb);
        let ps = ps_with("m", 6 * gb, 6 * gb);
        let samples = Ok(vec![chunk(65, 1000, 0); 3]);
        let broken = || -> Result<TagsResponse, ClientError> {
            Err(ClientError::Interrupted {
                endpoint: "GET /api/tags".into(),
                bytes: 20,
                next: Default::default(),
            })
        };
        let broken_ps = || -> Result<PsResponse, ClientError> {
            Err(ClientError::Interrupted {
                endpoint: "GET /api/ps".into(),
                bytes: 20,
                next: Default::default(),
            })
        };
        for (tags, ps, says) in [
            (broken(), ps.clone(), "could not be read (see api.tags)"),
            (
                tags_with("other", gb),
                ps.clone(),
                "`/api/tags` does not list m",
            ),
            (
                tags.clone(),
                broken_ps(),
                "`/api/ps` failed (see gpu.offload)",
            ),
            (
                tags.clone(),
                ps_with("other", gb, gb),
                "m is not loaded (see gpu.offload)",
            ),
        ] {
            let o = roofline(&gpus, &tags, &ps, ("m", None), &samples, 25.0);
            assert_eq!(o.status, Status::Skip, "{}", o.detail);
            assert!(o.detail.contains(says), "{says}: {}", o.detail);
            assert!(
                !o.detail.contains("not installed and loaded"),
                "{}",
                o.detail
            );
        }
    }

    /// Without process lists, the roofline takes the GPU the model fills, not GPU 0.
    #[test]
    fn roofline_of_the_gpu_holding_the_model() {
        let gb = 1_000_000_000u64;
        let display = GpuInfo {
            index: 0,
            name: "NVIDIA GeForce GTX 1650".into(),
            memory_used: gb / 2,
            memory_bus_width_bits: Some(128),
            max_memory_clock_mhz: Some(4001),
            ..crate::probe::gpu::emulated()
        };
        let compute = GpuInfo {
            index: 1,
            memory_used: 7 * gb,
            ..crate::probe::gpu::emulated()
        };
        let o = roofline(
            &Ok(vec![display, compute]),
            &tags_with("m", 4_683_087_332),
            &ps_with("m", 6 * gb, 6 * gb),
            ("m", None),
            &Ok(vec![chunk(65, 1000, 0); 3]),
            25.0,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert!(
            o.detail
                .contains("360 GB/s of GPU 1 (NVIDIA GeForce RTX 3060)"),
            "{}",
            o.detail
        );
    }
}
