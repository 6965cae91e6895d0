//! A run's speed figures against an earlier run's (its summary JSON): which got slower
//! beyond a tolerance, and which facts changed between the two runs (Ollama version,
//! driver, model digest, quantisation, context, parallel slots, flash attention, KV
//! cache), since those are what a slowdown is usually owed to. Pure: the steps crate
//! reads the file and words the findings into verdicts.

use crate::facts::RunFacts;
use crate::figure::{Figure, Quantity, Unit};
use serde::Deserialize;

/// What a summary JSON holds that a comparison needs; the rest is ignored, so a report
/// of an older or newer release still reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub checks: Vec<SummaryCheck>,
    #[serde(default)]
    pub facts: RunFacts,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SummaryCheck {
    pub id: String,
    #[serde(default)]
    pub figures: Vec<Figure>,
}

impl Summary {
    /// Reads a summary JSON, or says what in it is wrong.
    pub fn parse(text: &str) -> Result<Summary, String> {
        serde_json::from_str(text).map_err(|e| format!("not a summary JSON of ollama-verify: {e}"))
    }

    /// The figure of `check` for `quantity` and `model`, where the run has one.
    pub fn figure(&self, check: &str, quantity: Quantity, model: Option<&str>) -> Option<&Figure> {
        self.checks
            .iter()
            .filter(|c| c.id == check)
            .flat_map(|c| &c.figures)
            .find(|f| f.quantity == quantity && same_model(f.model.as_deref(), model))
    }
}

/// `my-coder` and `my-coder:latest` are one model: a spec may name it either way.
fn same_model(a: Option<&str>, b: Option<&str>) -> bool {
    let canonical = |m: &str| crate::ModelName::parse(m).canonical();
    match (a, b) {
        (Some(a), Some(b)) => canonical(a) == canonical(b),
        (a, b) => a == b,
    }
}

/// Whether a quantity is a speed or a wait of the install, and so worth comparing: the
/// GPU's own limits and VRAM sizes are facts, not performance.
/// The client's rate follows the server's generation rate, which is compared itself.
pub fn compared(quantity: Quantity) -> bool {
    match quantity.unit() {
        Unit::TokensPerSecond => !matches!(quantity, Quantity::DecodeLimit | Quantity::ClientRate),
        Unit::Seconds => true,
        Unit::Bytes => false,
    }
}

/// The least change of a wait that is compared at all, in seconds.
pub const WAIT_NOISE_SECONDS: f64 = 0.05;

/// One figure against the baseline's.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The baseline has no such figure (another spec, a skipped check, an older release).
    Missing,
    /// Within the tolerance, or better.
    Held {
        before: f64,
        after: f64,
        change_percent: f64,
    },
    /// Worse by more than the tolerance: slower, or a longer wait.
    Slower {
        before: f64,
        after: f64,
        change_percent: f64,
    },
}

/// `after` against the baseline's figure of the same check, quantity and model;
/// `change_percent` is signed the way of the quantity (negative: worse).
pub fn compare(baseline: &Summary, check: &str, after: &Figure, tolerance_percent: f64) -> Finding {
    let Some(before) = baseline
        .figure(check, after.quantity, after.model.as_deref())
        .filter(|f| f.value.is_finite() && f.value > 0.0)
    else {
        return Finding::Missing;
    };
    let (b, a) = (before.value, after.value);
    let raw = (a - b) / b * 100.0;
    // A wait of a few milliseconds doubles with the host's scheduling alone: a longer
    // wait counts only once it is longer by more than that.
    let noise = after.quantity.unit() == Unit::Seconds && (a - b).abs() < WAIT_NOISE_SECONDS;
    let change_percent = if after.quantity.higher_is_better() {
        raw
    } else {
        -raw
    };
    if change_percent < -tolerance_percent && !noise {
        Finding::Slower {
            before: b,
            after: a,
            change_percent,
        }
    } else {
        Finding::Held {
            before: b,
            after: a,
            change_percent,
        }
    }
}

/// A fact that differs between the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What it is: `Ollama version`, `driver`, `my-coder:latest digest`.
    pub what: String,
    pub before: String,
    pub after: String,
}

/// The facts that differ between `before` and `after`, for `model` where one is named:
/// the Ollama version, the GPUs' driver and name, and the model's digest, quantisation,
/// context length, parallel slots, flash attention and KV-cache type.
pub fn changed_facts(before: &RunFacts, after: &RunFacts, model: Option<&str>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut diff = |what: String, b: Option<String>, a: Option<String>| {
        if b != a {
            let shown = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
            out.push(Change {
                what,
                before: shown(b),
                after: shown(a),
            });
        }
    };
    let version = |f: &RunFacts| f.ollama.as_ref().and_then(|o| o.version.clone());
    diff("Ollama version".into(), version(before), version(after));
    let gpu = |f: &RunFacts, pick: fn(&crate::facts::GpuFacts) -> Option<String>| {
        let all: Vec<String> = f.gpus.iter().filter_map(pick).collect();
        (!all.is_empty()).then(|| all.join(", "))
    };
    diff(
        "driver".into(),
        gpu(before, |g| g.driver.clone()),
        gpu(after, |g| g.driver.clone()),
    );
    diff(
        "GPU".into(),
        gpu(before, |g| g.name.clone()),
        gpu(after, |g| g.name.clone()),
    );
    let Some(model) = model else {
        return out;
    };
    let canonical = crate::ModelName::parse(model).canonical();
    let of = |f: &RunFacts| {
        f.models
            .iter()
            .find(|m| {
                m.name
                    .as_deref()
                    .is_some_and(|n| crate::ModelName::parse(n).canonical() == canonical)
            })
            .cloned()
            .unwrap_or_default()
    };
    let (b, a) = (of(before), of(after));
    let text = |v: Option<u64>| v.map(|n| n.to_string());
    let flag = |v: Option<bool>| v.map(|on| if on { "on" } else { "off" }.to_string());
    diff(format!("{model} digest"), b.digest, a.digest);
    diff(
        format!("{model} quantization"),
        b.quantization,
        a.quantization,
    );
    diff(
        format!("{model} context length"),
        text(b.context_length),
        text(a.context_length),
    );
    diff(
        format!("{model} parallel"),
        text(b.parallel),
        text(a.parallel),
    );
    diff(
        format!("{model} flash attention"),
        flag(b.flash_attention),
        flag(a.flash_attention),
    );
    diff(
        format!("{model} KV cache"),
        b.kv_cache_type,
        a.kv_cache_type,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{GpuFacts, ModelFacts, OllamaFacts};

    fn summary(rate: f64, version: &str, digest: &str) -> Summary {
        let text = serde_json::json!({
            "checks": [{"id": "perf.generation", "status": "pass", "figures": [
                {"quantity": "generation_rate", "model": "my-coder", "value": rate}
            ]}],
            "facts": {
                "ollama": {"version": version},
                "gpus": [{"name": "NVIDIA GeForce RTX 3060", "driver": "560.94"}],
                "models": [{"name": "my-coder:latest", "digest": digest, "parallel": 1}]
            },
            "passed": 1
        });
        Summary::parse(&text.to_string()).unwrap()
    }

    #[test]
    fn a_slowdown_beyond_the_tolerance_is_found() {
        let base = summary(65.0, "0.17.1", "abc");
        let at = |rate| Figure::new(Quantity::GenerationRate, rate).model("my-coder");
        assert_eq!(
            compare(&base, "perf.generation", &at(52.0), 10.0),
            Finding::Slower {
                before: 65.0,
                after: 52.0,
                change_percent: -20.0
            }
        );
        assert!(matches!(
            compare(&base, "perf.generation", &at(60.0), 10.0),
            Finding::Held { .. }
        ));
        assert!(matches!(
            compare(&base, "perf.generation", &at(90.0), 10.0),
            Finding::Held { .. }
        ));
        // Another model, or a check the baseline lacks: nothing to compare with.
        let other = Figure::new(Quantity::GenerationRate, 52.0).model("other");
        assert_eq!(
            compare(&base, "perf.generation", &other, 10.0),
            Finding::Missing
        );
        assert_eq!(
            compare(&base, "perf.prompt", &at(1.0), 10.0),
            Finding::Missing
        );
    }

    #[test]
    fn a_longer_wait_is_a_slowdown() {
        let text = r#"{"checks":[{"id":"perf.load_warm","figures":[{"quantity":"warm_load","value":0.1}]}]}"#;
        let base = Summary::parse(text).unwrap();
        let wait = Figure::new(Quantity::WarmLoad, 0.2);
        assert!(matches!(
            compare(&base, "perf.load_warm", &wait, 10.0),
            Finding::Slower { change_percent, .. } if (change_percent + 100.0).abs() < 1e-9
        ));
        // Milliseconds more are the host's noise, not a slowdown, however large in percent.
        let tiny = r#"{"checks":[{"id":"perf.load_warm","figures":[{"quantity":"warm_load","value":0.0001}]}]}"#;
        let tiny = Summary::parse(tiny).unwrap();
        let wait = Figure::new(Quantity::WarmLoad, 0.004);
        assert!(matches!(
            compare(&tiny, "perf.load_warm", &wait, 10.0),
            Finding::Held { .. }
        ));
        assert!(!compared(Quantity::VramTotal) && !compared(Quantity::DecodeLimit));
        assert!(compared(Quantity::FirstToken) && !compared(Quantity::ClientRate));
    }

    #[test]
    fn the_facts_that_changed_are_named() {
        let before = summary(65.0, "0.17.1", "abc").facts;
        let mut after = summary(50.0, "0.18.0", "def").facts;
        assert_eq!(changed_facts(&before, &before, Some("my-coder")), vec![]);
        after.gpus = vec![GpuFacts {
            driver: Some("570.10".into()),
            ..before.gpus[0].clone()
        }];
        after.models[0] = ModelFacts {
            flash_attention: Some(true),
            ..after.models[0].clone()
        };
        let changes = changed_facts(&before, &after, Some("my-coder"));
        let named: Vec<(&str, &str, &str)> = changes
            .iter()
            .map(|c| (c.what.as_str(), c.before.as_str(), c.after.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("Ollama version", "0.17.1", "0.18.0"),
                ("driver", "560.94", "570.10"),
                ("my-coder digest", "abc", "def"),
                ("my-coder flash attention", "unknown", "on"),
            ]
        );
        let no_ollama = RunFacts {
            ollama: Some(OllamaFacts::default()),
            ..before.clone()
        };
        assert_eq!(changed_facts(&before, &no_ollama, None)[0].after, "unknown");
    }

    #[test]
    fn what_is_not_a_summary_is_refused() {
        assert!(Summary::parse("[1, 2]")
            .unwrap_err()
            .contains("not a summary JSON"));
        assert!(Summary::parse("{}").unwrap().checks.is_empty());
    }
}
