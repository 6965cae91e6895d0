//! `perf.parallel`: a shared server answers several clients at once. Ollama generates
//! for `OLLAMA_NUM_PARALLEL` requests per loaded model at a time; the rest queue. Sent
//! together, the streams should make more tokens per second than one stream alone, and
//! none should wait for another client's answer before its first token. The verdict
//! finds what the streams show (a typed [`Finding`]); one renderer words it.

use super::api_error;
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::figure::{Figure, Quantity};
use crate::perf::parallel::Streams;
use crate::perf::Spread;
use crate::ClientError;

/// What the spec asks of the streams together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expect {
    /// Together at least this many times the tokens per second of one stream alone.
    pub min_gain: f64,
    /// No stream's first token later than this many times one stream alone's.
    pub max_wait: f64,
}

/// The streams' figures, in the terms the findings judge.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// How many streams were sent at once.
    pub streams: usize,
    /// The server's parallel slots as its settings say, where they are known.
    pub slots: Option<u64>,
    /// Tokens per second of one stream alone, from its request to its end.
    pub alone_rate: f64,
    /// Tokens per second of the streams together, from the first request to the last end.
    pub aggregate_rate: f64,
    /// Each stream's generation speed as the server reports it, in order.
    pub stream_rates: Vec<f64>,
    /// One stream alone's time to its first token, in seconds.
    pub first_token_alone: f64,
    /// Each stream's time from its request to its first token, in seconds.
    pub first_tokens: Vec<f64>,
    /// Streams whose first token came only after another stream's answer had ended.
    pub waited: usize,
    /// The most streams generating at one moment.
    pub at_once: usize,
    pub expect: Expect,
}

impl Measured {
    /// Together against one alone.
    pub fn gain(&self) -> f64 {
        self.aggregate_rate / self.alone_rate
    }

    /// The longest any stream waited for its first token, in seconds.
    pub fn worst_first_token(&self) -> f64 {
        self.first_tokens.iter().copied().fold(0.0, f64::max)
    }

    /// The longest first token against one alone's.
    pub fn wait_ratio(&self) -> f64 {
        self.worst_first_token() / self.first_token_alone
    }
}

/// What `perf.parallel` found.
#[derive(Debug, Clone)]
pub enum Finding {
    /// A stream failed: its error, and why the server is unreachable where it is.
    Unanswered {
        error: ClientError,
        unreachable: Option<String>,
    },
    /// The spec asks for as many streams as the server has slots, which its settings do
    /// not tell: why.
    SlotsUnknown(String),
    /// No streams were sent: the scenario lacks its `When` step.
    NotSent,
    /// The answers carry no token counts, or no token arrived: what is missing.
    Untimed(&'static str),
    /// The streams ran side by side and together outpaced one stream: as expected.
    Shared(Measured),
    /// Some streams got their first token late: they queued behind other clients'
    /// answers.
    Queued(Measured),
    /// The streams ran side by side, but together made too few more tokens than one.
    NoGain(Measured),
}

/// `perf.parallel`: `streams` (one alone, then several at once) against `expect`.
/// `slots` is what the server's settings say of its parallel slots, or why they do not.
pub fn parallel(
    streams: Option<&Result<Streams, ClientError>>,
    slots: &Result<u64, String>,
    expect: Expect,
    unreachable: Option<&str>,
) -> Outcome {
    finding(streams, slots, expect, unreachable).outcome()
}

pub fn finding(
    streams: Option<&Result<Streams, ClientError>>,
    slots: &Result<u64, String>,
    expect: Expect,
    unreachable: Option<&str>,
) -> Finding {
    let streams = match (streams, slots) {
        (None, Err(why)) => return Finding::SlotsUnknown(why.clone()),
        (None, Ok(_)) => return Finding::NotSent,
        (Some(Err(e)), _) => {
            return Finding::Unanswered {
                error: e.clone(),
                unreachable: unreachable.map(str::to_string),
            }
        }
        (Some(Ok(s)), _) => s,
    };
    let (Some(alone_rate), Some(aggregate_rate)) = (streams.alone_rate(), streams.aggregate_rate())
    else {
        return Finding::Untimed("eval_count");
    };
    let seconds = |d: std::time::Duration| d.as_secs_f64();
    let first_tokens: Option<Vec<f64>> = streams
        .together
        .iter()
        .map(|s| s.timing.first_token.map(seconds))
        .collect();
    let (Some(first_token_alone), Some(first_tokens)) =
        (streams.alone.timing.first_token.map(seconds), first_tokens)
    else {
        return Finding::Untimed("a first token");
    };
    let m = Measured {
        streams: streams.together.len(),
        slots: slots.as_ref().ok().copied(),
        alone_rate,
        aggregate_rate,
        stream_rates: streams
            .together
            .iter()
            .filter_map(|s| s.timing.server.generation_rate())
            .collect(),
        first_token_alone,
        first_tokens,
        waited: streams.waited(),
        at_once: streams.at_once(),
        expect,
    };
    if m.wait_ratio() > expect.max_wait {
        Finding::Queued(m)
    } else if m.gain() < expect.min_gain {
        Finding::NoGain(m)
    } else {
        Finding::Shared(m)
    }
}

impl Finding {
    /// The finding in words, with its status, value and figures.
    pub fn outcome(&self) -> Outcome {
        let m = match self {
            Finding::Unanswered { error, unreachable } => {
                return api_error(error, unreachable.as_deref())
            }
            Finding::SlotsUnknown(why) => {
                return Outcome::skip(format!(
                    "the server's parallel slots are unknown ({why}), and so is the number of streams to send; name it in the spec instead: `in 4 streams at once`"
                ))
            }
            Finding::NotSent => return Outcome::fail(
                "no streams were sent: add `When the model \"...\" answers the benchmark prompt in N streams at once, at most M tokens each` first",
            ),
            Finding::Untimed(what) => return Outcome::fail(format!(
                "the streams could not be timed: their answers carry no {what}. The server may be too old to report its statistics, or a proxy buffers the stream"
            )),
            Finding::Shared(m) | Finding::Queued(m) | Finding::NoGain(m) => m,
        };
        let e = m.expect;
        let ms = |s: f64| s * 1000.0;
        let rates = Spread::of(m.stream_rates.iter().copied());
        let each = rates.map_or(String::new(), |r| {
            format!(
                "; each at {:.1} tok/s (min {:.1}, max {:.1})",
                r.median, r.min, r.max
            )
        });
        let slots = match m.slots {
            Some(1) => "; the server has 1 parallel slot (OLLAMA_NUM_PARALLEL)".to_string(),
            Some(n) => format!("; the server has {n} parallel slots (OLLAMA_NUM_PARALLEL)"),
            None => String::new(),
        };
        let at_once = match m.at_once {
            1 => "one at a time".to_string(),
            n => format!("{n} at once"),
        };
        let how = format!(
            "together {:.1} tok/s, {:.2}× one stream alone ({:.1} tok/s){each}; the slowest first token took {:.0} ms, {:.1}× one stream alone's {:.0} ms; they generated {at_once}{slots}",
            m.aggregate_rate,
            m.gain(),
            m.alone_rate,
            ms(m.worst_first_token()),
            m.wait_ratio(),
            ms(m.first_token_alone),
        );
        let value = format!(
            "{:.1} tok/s by {} streams ({:.2}×)",
            m.aggregate_rate,
            m.streams,
            m.gain()
        );
        let outcome = match self {
            Finding::Queued(m) => {
                let next = match m.slots {
                    Some(n) if n as usize >= m.streams => format!(
                        "The server's settings give it {n} slots, yet the streams queued. Next: look for a proxy in front of it that passes one request at a time, and see whether the running server uses that setting ({see})",
                        see = CheckId::DiagnoseSettings
                    ),
                    _ => format!(
                        "Next: set OLLAMA_NUM_PARALLEL={} in the service's environment (`systemctl edit ollama`, then restart it); each slot keeps its own context in VRAM (num_ctx × slots), so check {see} afterwards",
                        m.streams,
                        see = CheckId::PerfVramHeadroom
                    ),
                };
                Outcome::fail(format!(
                    "expected each of {} streams at once to get its first token within {}× one stream alone's time, but {} waited for another stream's answer to end, so requests queue: {how}. {next}",
                    m.streams, e.max_wait, m.waited
                ))
            }
            Finding::NoGain(_) => Outcome::fail(format!(
                "expected {} streams at once to make at least {}× the tokens per second of one stream alone, they ran side by side but made {:.2}×: {how}. The GPU has no room to batch them, so more parallel slots will not help. Next: see whether the model runs partly on the CPU ({offload}) or other work shares the GPU (`nvidia-smi`)",
                m.streams,
                e.min_gain,
                m.gain(),
                offload = CheckId::GpuOffload
            )),
            _ => Outcome::pass(format!(
                "{} streams at once: {how}; expected at least {}× together and first tokens within {}× alone",
                m.streams, e.min_gain, e.max_wait
            )),
        };
        let outcome = outcome.with_value(value).with_figure(
            Figure::new(Quantity::AggregateRate, m.aggregate_rate)
                .target(e.min_gain * m.alone_rate),
        );
        let outcome = match rates {
            Some(r) => outcome.with_figure(
                Figure::new(Quantity::StreamRate, r.median).samples(m.stream_rates.clone()),
            ),
            None => outcome,
        };
        outcome.with_figure(
            Figure::new(Quantity::FirstTokenUnderLoad, m.worst_first_token())
                .samples(m.first_tokens.clone())
                .target(e.max_wait * m.first_token_alone),
        )
    }
}

#[cfg(test)]
mod tests;
