//! `diagnose.context`: the context fits, and no prompt was cut. The verdict finds what
//! `/api/ps`, NVML and the log show (a typed finding), and one renderer words it.

use super::{gib, load_failure, loaded, quote, Evidence, NotLoaded};
use crate::check::Outcome;
use crate::client::types::PsResponse;
use crate::client::NotReported;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::signature::render;
use crate::ClientError;

/// The loaded model's context: its length where `/api/ps` reports it (from 0.10), the
/// parallel requests the server takes (`OLLAMA_NUM_PARALLEL`), and its size in memory,
/// which holds the context.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub context: Result<u64, NotReported>,
    pub parallel: String,
    pub size: u64,
}

impl Loaded {
    fn context(&self) -> String {
        match &self.context {
            Ok(n) => format!("context {n} tokens"),
            Err(e) => format!("context not known ({e})"),
        }
    }

    fn value(&self) -> String {
        let ctx = self
            .context
            .map_or_else(|_| "?".to_string(), |n| n.to_string());
        format!("ctx {ctx} × {}", self.parallel)
    }
}

/// What `diagnose.context` found. `log` is where the log is from, or why it was not
/// read.
#[derive(Debug, Clone)]
pub enum Context {
    /// The model is not loaded, and the log does not say why.
    NotLoaded(NotLoaded),
    /// The model is not loaded: a load that ran out of memory or crashed.
    FailedLoad {
        not_loaded: NotLoaded,
        cause: Evidence,
    },
    /// The log holds a cut prompt or an out-of-memory: the last such lines (up to
    /// three, the latest first); `truncated` where a prompt was cut.
    Trouble {
        loaded: Loaded,
        source: String,
        lines: Vec<String>,
        truncated: bool,
    },
    /// It needs more memory than the GPUs have (`total`).
    TooBig {
        loaded: Loaded,
        total: u64,
        log: Result<String, LogError>,
    },
    /// It fits in the GPUs' `total`.
    Fits {
        loaded: Loaded,
        total: u64,
        log: Result<String, LogError>,
    },
    /// The GPUs' memory is unknown here.
    MemoryUnknown {
        loaded: Loaded,
        log: Result<String, LogError>,
    },
}

/// `diagnose.context`: the loaded model's context (× the parallel requests) fits the
/// GPU, and the log holds no truncated prompt or out-of-memory line.
pub fn context(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
) -> Outcome {
    context_finding(ps, model, gpus, log, unreachable).outcome()
}

pub fn context_finding(
    ps: &Result<PsResponse, ClientError>,
    model: &str,
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    log: &Result<ServerLog, LogError>,
    unreachable: Option<&str>,
) -> Context {
    let m = match loaded(ps, model, unreachable) {
        Ok(m) => m,
        // Not loaded: a load that ran out of memory (or crashed) says why.
        Err(not_loaded) => {
            return match load_failure(log).filter(|_| ps.is_ok()) {
                Some(cause) => Context::FailedLoad { not_loaded, cause },
                None => Context::NotLoaded(not_loaded),
            }
        }
    };
    let parallel = log
        .as_ref()
        .ok()
        .and_then(|l| l.server_config())
        .and_then(|(env, _)| env.get("OLLAMA_NUM_PARALLEL").cloned())
        .filter(|p| !p.is_empty() && p != "0")
        .unwrap_or_else(|| "1".into());
    // Before 0.10 `/api/ps` has no context length: say so, never "context 0", and judge
    // on the model's size in memory, which includes the context.
    let loaded = Loaded {
        context: m.context(),
        parallel,
        size: m.size,
    };
    if let Ok(l) = log {
        let trouble = l.trouble();
        if !trouble.is_empty() {
            return Context::Trouble {
                loaded,
                source: l.source.clone(),
                lines: trouble
                    .iter()
                    .rev()
                    .take(3)
                    .map(|t| t.to_string())
                    .collect(),
                truncated: trouble.iter().any(|t| t.contains("truncating")),
            };
        }
    }
    let log = log.as_ref().map(|l| l.source.clone()).map_err(Clone::clone);
    let total: u64 = gpus
        .as_ref()
        .map_or(0, |list| list.iter().map(|g| g.memory_total).sum());
    if total > 0 && m.size > total {
        Context::TooBig { loaded, total, log }
    } else if total > 0 {
        Context::Fits { loaded, total, log }
    } else {
        Context::MemoryUnknown { loaded, log }
    }
}

impl Context {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let log_note = |log: &Result<String, LogError>| {
            match log {
            Ok(source) => format!(
                "no truncated prompt or out-of-memory in {source} (a chat whose history is dropped to fit is logged only with OLLAMA_DEBUG=1)"
            ),
            Err(reason) => format!("the log was not read ({reason})"),
        }
        };
        match self {
            Context::NotLoaded(not_loaded) => not_loaded.outcome(),
            Context::FailedLoad { not_loaded, cause } => Outcome::fail(format!(
                "{}: the model is not loaded, and the server's log says why: {}. Next: {}",
                not_loaded.reason(),
                cause.said(),
                render::next(&cause.finding)
            ))
            .with_value(cause.finding.kind.as_str()),
            Context::Trouble {
                loaded,
                source,
                lines,
                truncated,
            } => {
                let quotes: Vec<String> = lines.iter().map(|t| quote(t)).collect();
                let next = if *truncated {
                    "Next: raise the context (`PARAMETER num_ctx` in the Modelfile, or OLLAMA_CONTEXT_LENGTH) or send shorter prompts"
                } else {
                    "Next: lower num_ctx or OLLAMA_NUM_PARALLEL, set OLLAMA_KV_CACHE_TYPE=q8_0 with OLLAMA_FLASH_ATTENTION=1, or free VRAM"
                };
                Outcome::fail(format!(
                    "{source} says: {} ({} × {} parallel). {next}",
                    quotes.join("; "),
                    loaded.context(),
                    loaded.parallel
                ))
                .with_value(loaded.value())
            }
            Context::TooBig { loaded, total, log } => Outcome::warn(format!(
                "{} × {} parallel make the model {}, more than the GPU's {}: part of it runs on the CPU. Next: lower num_ctx or OLLAMA_NUM_PARALLEL; {}",
                loaded.context(),
                loaded.parallel,
                gib(loaded.size),
                gib(*total),
                log_note(log)
            ))
            .with_value(loaded.value()),
            Context::Fits { loaded, total, log } => Outcome::pass(format!(
                "{} × {} parallel: {} of {} VRAM; {}",
                loaded.context(),
                loaded.parallel,
                gib(loaded.size),
                gib(*total),
                log_note(log)
            ))
            .with_value(loaded.value()),
            Context::MemoryUnknown { loaded, log } => Outcome::pass(format!(
                "{} × {} parallel ({}; the GPU's memory is unknown here); {}",
                loaded.context(),
                loaded.parallel,
                gib(loaded.size),
                log_note(log)
            ))
            .with_value(loaded.value()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    use crate::client::Field;
    use crate::probe::gpu::emulated;

    #[test]
    fn trouble_in_the_log_fails_with_the_line() {
        let trunc = "time=x level=WARN source=runner.go:153 msg=\"truncating input prompt\" limit=4096 prompt=9123";
        let gpus = Ok(vec![emulated()]);
        let found = context_finding(&ps(5 << 30), "my-coder", &gpus, &log(&[trunc]), None);
        assert!(
            matches!(
                &found,
                Context::Trouble { lines, truncated: true, .. } if lines == &[trunc]
            ),
            "{found:?}"
        );
        let o = context(&ps(5 << 30), "my-coder", &gpus, &log(&[trunc]), None);
        assert_eq!(o.status, Status::Fail);
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
        let found = context_finding(
            &Ok(ps.clone()),
            "gemma3",
            &Ok(vec![emulated()]),
            &log(&[]),
            None,
        );
        assert!(
            matches!(
                &found,
                Context::Fits {
                    loaded: Loaded {
                        context: Err(NotReported(Field::PsContextLength)),
                        ..
                    },
                    ..
                }
            ),
            "{found:?}"
        );
        let o = context(&Ok(ps), "gemma3", &Ok(vec![emulated()]), &log(&[]), None);
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert_eq!(o.value.as_deref(), Some("ctx ? × 1"));
        let small = GpuInfo {
            memory_total: 4 << 30,
            ..emulated()
        };
        let path_ps: PsResponse =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let o = context(&Ok(path_ps), "gemma3", &Ok(vec![small]), &log(&[]), None);
        assert_eq!(o.status, Status::Warn, "{}", o.detail);
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        let path = format!(
            "{}/tests/fixtures/logs/004-deepseek2-oom-runner-abort.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let recorded = ServerLog::new("the pasted log", &std::fs::read_to_string(path).unwrap());
        let cause = load_failure(&Ok(recorded)).expect("the log shows the failed load");
        let loaded = |context, parallel: &str| Loaded {
            context,
            parallel: parallel.into(),
            size: 5 << 30,
        };
        let read = || Ok("journalctl -u ollama".to_string());
        let unread = || {
            Err(LogError::NoJournalctl {
                host: "this machine".into(),
            })
        };
        let not_reported = Err(NotReported(Field::PsContextLength));
        let trunc = "time=x level=WARN source=runner.go:153 msg=\"truncating input prompt\" limit=4096 prompt=9123";
        let found = [
            Context::NotLoaded(NotLoaded::RootDown(
                "the API does not answer (see api.root)".into(),
            )),
            Context::NotLoaded(NotLoaded::Unlisted(ClientError::ConnectionRefused {
                addr: "127.0.0.1:11434".into(),
                next: Default::default(),
            })),
            Context::NotLoaded(NotLoaded::Absent("my-coder".into())),
            Context::FailedLoad {
                not_loaded: NotLoaded::Absent("my-coder".into()),
                cause,
            },
            Context::Trouble {
                loaded: loaded(Ok(16384), "1"),
                source: "journalctl -u ollama".into(),
                lines: vec![trunc.into()],
                truncated: true,
            },
            Context::Trouble {
                loaded: loaded(Ok(16384), "4"),
                source: "journalctl -u ollama".into(),
                lines: vec!["CUDA error: out of memory".into()],
                truncated: false,
            },
            Context::TooBig {
                loaded: loaded(Ok(16384), "1"),
                total: 4 << 30,
                log: read(),
            },
            Context::TooBig {
                loaded: loaded(not_reported, "1"),
                total: 4 << 30,
                log: unread(),
            },
            Context::Fits {
                loaded: loaded(Ok(16384), "4"),
                total: 12 << 30,
                log: read(),
            },
            Context::MemoryUnknown {
                loaded: loaded(Ok(16384), "1"),
                log: unread(),
            },
        ];
        let all: String = found
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
