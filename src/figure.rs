//! The numbers a check measured, typed: what the reports chart, the metrics export and a
//! later run compares with. The sentence of a verdict says the same in words; a figure
//! keeps the number so no reader has to parse prose.

use serde::{Deserialize, Serialize};

/// What a figure measures; each has one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Generation speed as the server reports it (`eval_count / eval_duration`).
    GenerationRate,
    /// Prompt processing speed (`prompt_eval_count / prompt_eval_duration`).
    PromptRate,
    /// Generation speed as the client saw the tokens arrive.
    ClientRate,
    /// From the request to the first streamed token.
    FirstToken,
    /// A loaded model's `load_duration`.
    WarmLoad,
    /// Loading the model from disk.
    ColdLoad,
    /// The most tokens per second the GPU's memory bandwidth allows for the weights in VRAM.
    DecodeLimit,
    /// VRAM left free on the model's GPU.
    VramFree,
    /// All VRAM of the model's GPU.
    VramTotal,
    /// Tokens per second of several streams answered at once, all their tokens over the
    /// time from the first request to the last answer's end.
    AggregateRate,
    /// Generation speed of each of several streams answered at once, as the server
    /// reports it.
    StreamRate,
    /// From a request to its first token while other streams are answered at once.
    FirstTokenUnderLoad,
}

/// The unit of a [`Quantity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    TokensPerSecond,
    Seconds,
    Bytes,
}

impl Unit {
    /// The unit as reports write it.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::TokensPerSecond => "tok/s",
            Unit::Seconds => "s",
            Unit::Bytes => "B",
        }
    }
}

impl Quantity {
    pub const ALL: [Quantity; 12] = [
        Quantity::GenerationRate,
        Quantity::PromptRate,
        Quantity::ClientRate,
        Quantity::FirstToken,
        Quantity::WarmLoad,
        Quantity::ColdLoad,
        Quantity::DecodeLimit,
        Quantity::VramFree,
        Quantity::VramTotal,
        Quantity::AggregateRate,
        Quantity::StreamRate,
        Quantity::FirstTokenUnderLoad,
    ];

    pub fn unit(self) -> Unit {
        match self {
            Quantity::GenerationRate
            | Quantity::PromptRate
            | Quantity::ClientRate
            | Quantity::DecodeLimit
            | Quantity::AggregateRate
            | Quantity::StreamRate => Unit::TokensPerSecond,
            Quantity::FirstToken
            | Quantity::WarmLoad
            | Quantity::ColdLoad
            | Quantity::FirstTokenUnderLoad => Unit::Seconds,
            Quantity::VramFree | Quantity::VramTotal => Unit::Bytes,
        }
    }

    /// Whether more is better: a speed or free memory, not a wait.
    pub fn higher_is_better(self) -> bool {
        self.unit() != Unit::Seconds
    }

    /// The name in reports and metrics (`generation_rate`).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::GenerationRate => "generation_rate",
            Quantity::PromptRate => "prompt_rate",
            Quantity::ClientRate => "client_rate",
            Quantity::FirstToken => "first_token",
            Quantity::WarmLoad => "warm_load",
            Quantity::ColdLoad => "cold_load",
            Quantity::DecodeLimit => "decode_limit",
            Quantity::VramFree => "vram_free",
            Quantity::VramTotal => "vram_total",
            Quantity::AggregateRate => "aggregate_rate",
            Quantity::StreamRate => "stream_rate",
            Quantity::FirstTokenUnderLoad => "first_token_under_load",
        }
    }
}

/// One measured number, in its quantity's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub quantity: Quantity,
    /// The model measured, where the figure belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the verdict judged: the median of the samples, or the one reading.
    pub value: f64,
    /// Each sample, in the order taken; empty for a single reading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
    /// The spec's bound in the same unit (a least speed, a longest wait, a least free VRAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Where the median lies, `[low, high]`, at `confidence`: from samples taken until a
    /// stated precision (see `crate::interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
    /// The interval's confidence, as a fraction (0.95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The same figure of the baseline run (`--baseline`), where it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
}

impl Figure {
    pub fn new(quantity: Quantity, value: f64) -> Self {
        Figure {
            quantity,
            model: None,
            value,
            samples: Vec::new(),
            target: None,
            interval: None,
            confidence: None,
            baseline: None,
        }
    }

    /// The median's interval, with its confidence.
    pub fn interval(mut self, interval: &crate::interval::Interval) -> Self {
        self.interval = Some((interval.low, interval.high));
        self.confidence = Some(interval.confidence);
        self
    }

    pub fn samples(mut self, samples: Vec<f64>) -> Self {
        self.samples = samples;
        self
    }

    pub fn target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Whether the value meets the target, where there is one.
    pub fn meets_target(&self) -> Option<bool> {
        self.target.map(|t| {
            if self.quantity.higher_is_better() {
                self.value >= t
            } else {
                self.value <= t
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_round_trips_through_the_summary_json() {
        let f = Figure::new(Quantity::GenerationRate, 63.3)
            .samples(vec![62.0, 63.3, 64.1])
            .target(40.0)
            .model("my-coder:latest");
        let json_plain = serde_json::to_value(&f).unwrap();
        assert!(json_plain.get("interval").is_none());
        let i = crate::interval::Interval::of_median(&[62.0, 63.3, 64.1], 0.95).unwrap();
        let f = f.interval(&i);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["quantity"], "generation_rate");
        assert_eq!(json["samples"].as_array().unwrap().len(), 3);
        assert_eq!(json["interval"].as_array().unwrap().len(), 2);
        assert_eq!(json["confidence"], 0.95);
        let back: Figure = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        // A single reading leaves the optional fields out.
        let one = serde_json::to_value(Figure::new(Quantity::ColdLoad, 2.5)).unwrap();
        assert_eq!(
            one,
            serde_json::json!({"quantity": "cold_load", "value": 2.5})
        );
    }

    #[test]
    fn the_target_is_met_in_the_quantitys_direction() {
        let speed = Figure::new(Quantity::GenerationRate, 30.0).target(40.0);
        assert_eq!(speed.meets_target(), Some(false));
        let wait = Figure::new(Quantity::WarmLoad, 0.02).target(0.5);
        assert_eq!(wait.meets_target(), Some(true));
        assert_eq!(Figure::new(Quantity::VramFree, 1.0).meets_target(), None);
        for q in Quantity::ALL {
            let name = serde_json::to_value(q).unwrap();
            assert_eq!(name, q.name(), "serde and name() agree");
        }
    }
}
