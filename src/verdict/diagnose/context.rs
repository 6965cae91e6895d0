//! `diagnose.context`: the context fits, and no prompt was cut.

use super::{gib, load_failure, loaded, quote, said};
use crate::check::Outcome;
use crate::client::types::PsResponse;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::signature::render;
use crate::ClientError;

/// `diagnose.context`: the loaded model's context (× the parallel requests) fits the
/// GPU, and the log holds no truncated prompt or out-of-memory line.
pub fn context(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
) -> Outcome {
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        // Not loaded: a load that ran out of memory (or crashed) says why.
        Err(skip) => {
            return match load_failure(log).filter(|_| ps.is_ok()) {
                Some((f, source)) => Outcome::fail(format!(
                    "{}: the model is not loaded, and the server's log says why: {}. Next: {}",
                    skip.detail,
                    said(&f, &source),
                    render::next(&f)
                ))
                .with_value(f.kind.as_str()),
                None => skip,
            }
        }
    };
    // Before 0.10 `/api/ps` has no context length: say so, never "context 0", and judge
    // on the model's size in memory, which includes the context.
    let (context, ctx) = match m.context() {
        Ok(n) => (format!("context {n} tokens"), n.to_string()),
        Err(e) => (format!("context not known ({e})"), "?".into()),
    };
    let parallel = log
        .as_ref()
        .ok()
        .and_then(|l| l.server_config())
        .and_then(|(env, _)| env.get("OLLAMA_NUM_PARALLEL").cloned())
        .filter(|p| !p.is_empty() && p != "0")
        .unwrap_or_else(|| "1".into());
    let value = format!("ctx {ctx} × {parallel}");
    if let Ok(l) = log {
        let trouble = l.trouble();
        if !trouble.is_empty() {
            let quotes: Vec<String> = trouble.iter().rev().take(3).map(|t| quote(t)).collect();
            let truncated = trouble.iter().any(|t| t.contains("truncating"));
            let next = if truncated {
                "Next: raise the context (`PARAMETER num_ctx` in the Modelfile, or OLLAMA_CONTEXT_LENGTH) or send shorter prompts"
            } else {
                "Next: lower num_ctx or OLLAMA_NUM_PARALLEL, set OLLAMA_KV_CACHE_TYPE=q8_0 with OLLAMA_FLASH_ATTENTION=1, or free VRAM"
            };
            return Outcome::fail(format!(
                "{} says: {} ({context} × {parallel} parallel). {next}",
                l.source,
                quotes.join("; ")
            ))
            .with_value(value);
        }
    }
    let log_note = match log {
        Ok(l) => format!(
            "no truncated prompt or out-of-memory in {} (a chat whose history is dropped to fit is logged only with OLLAMA_DEBUG=1)",
            l.source
        ),
        Err(reason) => format!("the log was not read ({reason})"),
    };
    if let Ok(list) = gpus {
        let total: u64 = list.iter().map(|g| g.memory_total).sum();
        if total > 0 && m.size > total {
            return Outcome::warn(format!(
                "{context} × {parallel} parallel make the model {}, more than the GPU's {}: part of it runs on the CPU. Next: lower num_ctx or OLLAMA_NUM_PARALLEL; {log_note}",
                gib(m.size),
                gib(total)
            ))
            .with_value(value);
        }
        if total > 0 {
            return Outcome::pass(format!(
                "{context} × {parallel} parallel: {} of {} VRAM; {log_note}",
                gib(m.size),
                gib(total)
            ))
            .with_value(value);
        }
    }
    Outcome::pass(format!(
        "{context} × {parallel} parallel ({}; the GPU's memory is unknown here); {log_note}",
        gib(m.size)
    ))
    .with_value(value)
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    use crate::probe::gpu::emulated;

    #[test]
    fn trouble_in_the_log_fails_with_the_line() {
        let trunc = "time=x level=WARN source=runner.go:153 msg=\"truncating input prompt\" limit=4096 prompt=9123";
        let o = context(
            &ps(5 << 30),
            "my-coder",
            &Ok(vec![emulated()]),
            &log(&[trunc]),
            None,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("limit=4096") && o.detail.contains("num_ctx"),
            "{}",
            o.detail
        );
        let o = context(
            &ps(5 << 30),
            "my-coder",
            &Ok(vec![emulated()]),
            &log(&[]),
            None,
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        let small = GpuInfo {
            memory_total: 4 << 30,
            ..emulated()
        };
        assert_eq!(
            context(&ps(4 << 30), "my-coder", &Ok(vec![small]), &log(&[]), None).status,
            Status::Warn
        );
    }

    /// A release before 0.10 reports no context length (a real answer, 038): the check
    /// says so and judges on the model's size, never on a "context 0".
    #[test]
    fn a_context_the_server_does_not_report_is_not_zero() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/api/038-ps-gemma3-no-context-length-2025-08.json"
        );
        let ps: PsResponse = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let o = context(&Ok(ps), "gemma3", &Ok(vec![emulated()]), &log(&[]), None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("ctx ? × 1"));
        assert!(!o.detail.contains("context 0"), "{}", o.detail);
        let small = GpuInfo {
            memory_total: 4 << 30,
            ..emulated()
        };
        let path_ps: PsResponse =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let o = context(&Ok(path_ps), "gemma3", &Ok(vec![small]), &log(&[]), None);
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
    }
}
