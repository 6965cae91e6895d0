//! Part 6, parallel: `perf.parallel` (the built-in scenario: one stream alone, then 4 at
//! once, at most 32 tokens each) against `ollama-emulator serve` with 1, 2 and 4
//! parallel slots, at the seed's 65 tok/s and the emulator's default slowdown (0.1 per
//! other stream). The figures are the check's own, read from its summary JSON: the
//! streams' tokens per second together, each stream's speed, and the slowest first
//! token, against the least and the longest the spec allows.

use super::{native, path_dir, Emulator, SuiteRun};
use ollama_verify::catalog::CheckId;
use ollama_verify::perf::Spread;
use serde_json::Value;

const CHECK: CheckId = CheckId::PerfParallel;

pub const SLOTS: [usize; 3] = [1, 2, 4];
pub const RUNS: usize = 3;

/// The seed's speed, no cold load (the Background's chat loads the model), a prompt
/// processed at the default 1500 tok/s.
fn config(slots: usize) -> String {
    format!("token_rate = 65.0\nload_time_ms = 0\nnum_parallel = {slots}\n")
}

pub struct SlotsBench {
    pub slots: usize,
    pub runs: Vec<SuiteRun>,
}

impl SlotsBench {
    fn figure(run: &SuiteRun, quantity: &str) -> Value {
        run.summary["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == CHECK.as_str()))
            .and_then(|c| c["figures"].as_array())
            .and_then(|f| f.iter().find(|f| f["quantity"] == quantity))
            .cloned()
            .unwrap_or_else(|| panic!("{CHECK} has no {quantity} figure: {}", run.summary))
    }

    /// The median over the runs of a figure's value (or its target).
    pub fn median(&self, quantity: &str, field: &str) -> f64 {
        let v = self
            .runs
            .iter()
            .filter_map(|r| Self::figure(r, quantity)[field].as_f64());
        Spread::of(v).map_or(f64::NAN, |s| s.median)
    }

    /// Each run's status, as `warn, warn, warn`.
    pub fn statuses(&self) -> String {
        let s: Vec<String> = self
            .runs
            .iter()
            .map(|r| {
                r.statuses()
                    .get(CHECK.as_str())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        s.join(", ")
    }
}

pub fn parallel() -> Vec<SlotsBench> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = path_dir(dir.path());
    let tags = format!("@check.{CHECK}");
    SLOTS
        .iter()
        .map(|&slots| {
            let emulator = Emulator::start(&config(slots));
            let runs = (0..RUNS)
                .map(|_| native(&emulator, &path, &["--tags", &tags]))
                .collect();
            SlotsBench { slots, runs }
        })
        .collect()
}
