//! `perf.generation`: generation speed against the spec's target.

use crate::check::Outcome;
use crate::client::types::ChatChunk;
use crate::ClientError;

pub fn generation(
    sample: &Result<ChatChunk, ClientError>,
    target_rate: f64,
    unreachable: Option<&str>,
) -> Outcome {
    let chunk = match sample {
        Ok(c) => c,
        Err(e) => return super::api_error(e, unreachable),
    };
    let Some(rate) = chunk.stats.generation_rate() else {
        return Outcome::fail(
            "the answer carries no eval_count/eval_duration, so its speed is unknown; the server may be too old",
        );
    };
    let tokens = chunk.stats.eval_count.unwrap_or(0);
    let secs = chunk.stats.eval_duration.unwrap_or(0) as f64 / 1e9;
    let value = format!("{rate:.1} tok/s");
    let how = format!("{tokens} tokens in {secs:.2} s, server-reported");
    if rate >= target_rate {
        Outcome::pass(format!("{how}; target {target_rate} tok/s")).with_value(value)
    } else {
        Outcome::fail(format!(
            "expected at least {target_rate} tok/s, measured {rate:.1} ({how}). Is the model wholly on the GPU (see gpu.offload)? Is something else using the GPU (`nvidia-smi`)?"
        ))
        .with_value(value)
    }
}
