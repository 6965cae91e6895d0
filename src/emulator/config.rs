//! What the emulator pretends to be: version, speed, placement, installed models, and
//! the faults it injects. Readable from TOML (`ollama-verify emulator --config`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The Modelfile shipped in setup/, used for the default `my-coder`.
pub const SETUP_MODELFILE: &str = include_str!("../../setup/coding-assistant.Modelfile");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// What `/api/version` and `ollama --version` report.
    pub version: String,
    /// Generation speed in tokens/s.
    pub token_rate: f64,
    /// A noisy GPU: each answer's generation speed differs from `token_rate` by up to
    /// this fraction either way (0.1: ±10%), drawn from the answer's number, so a run
    /// repeats exactly. 0: every answer at `token_rate`.
    pub token_rate_jitter: f64,
    /// Prompt processing speed in tokens/s.
    pub prompt_rate: f64,
    /// Requests a loaded model generates for at once (`OLLAMA_NUM_PARALLEL`); more wait
    /// for a free slot, first come first served, their wait counted in `total_duration`
    /// only. 1 is Ollama's default (envconfig's `Uint("OLLAMA_NUM_PARALLEL", 1)` since
    /// mid-2025; before, 0 let the server pick 4 or 1 by free memory).
    /// `OLLAMA_NUM_PARALLEL` in `env`, which the server reads, takes its place.
    pub num_parallel: usize,
    /// How much each stream slows for every other one generating beside it: with k at
    /// once each runs at `token_rate / (1 + parallel_slowdown × (k − 1))`, so together
    /// they make more tokens than one, but fewer than k times as many, as batched
    /// decoding on a GPU does. 0: no slowdown; 1: no gain at all. The default, 0.1
    /// (4 streams make about 3 times one's tokens), is the emulator's choice, not a
    /// measurement.
    pub parallel_slowdown: f64,
    /// Time a cold model takes to load, in milliseconds.
    pub load_time_ms: u64,
    /// Tokens in an answer when `num_predict` does not cap it.
    pub answer_tokens: u64,
    /// Answer lengths for particular prompts, first match wins; `answer_tokens` for
    /// the rest. A real model says two words to "Say: ready" and pages to "Write…".
    pub answers: Vec<Answer>,
    /// A thinking model (qwen3, deepseek-r1): the first this many tokens of a chat's
    /// answer arrive in `message.thinking`, with `content` empty, unless the request
    /// sends `"think": false`; as Ollama does for a model that can think when `think`
    /// is not set. 0: a model that does not think.
    pub thinking_tokens: u64,
    /// Fraction of a loaded model's weights in VRAM (1.0 = `100% GPU`).
    pub gpu_offload: f64,
    /// Catalog models installed at start.
    pub installed: Vec<String>,
    /// Models created at start from a Modelfile, as `ollama create` would.
    pub custom: Vec<CustomModel>,
    /// Time a `pull` takes, in milliseconds.
    pub pull_time_ms: u64,
    pub faults: Vec<Fault>,
    /// Whether the server finds the emulated GPU at start. `false` logs the CPU
    /// fallback (`inference compute id=cpu library=cpu`) and loads every
    /// model on the CPU, as the real server does.
    pub gpu_discovered: bool,
    /// Whether the emulated GPU shows the server holding the VRAM `/api/ps` claims.
    /// `false` emulates the known `/api/ps` misreport: 100% GPU by the API, no
    /// memory held by the server on the GPU.
    pub vram_held: bool,
    /// The `OLLAMA_*` settings the emulated server runs with, as the environment
    /// would give them (`OLLAMA_FLASH_ATTENTION = "1"`); logged normalised in its
    /// `server config` line. `ollama-emulator serve` adds its own environment's.
    pub env: std::collections::BTreeMap<String, String>,
    /// Extra lines the server logs after it starts (`runtime OOM detected`,
    /// `truncating input prompt`), as given.
    pub log_lines: Vec<String>,
}

/// How long the answer to a prompt containing `prompt_contains` is, uncapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub prompt_contains: String,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomModel {
    pub name: String,
    /// Modelfile text; the built-in setup/ Modelfile when neither this nor `path` is given.
    #[serde(default)]
    pub modelfile: Option<String>,
    #[serde(default)]
    pub path: Option<std::path::PathBuf>,
}

impl Default for EmulatorConfig {
    /// The seed's healthy install: `qwen2.5-coder:7b` and `my-coder`, all on the GPU,
    /// at 65 tok/s.
    fn default() -> Self {
        EmulatorConfig {
            version: "0.17.1".into(),
            token_rate: 65.0,
            token_rate_jitter: 0.0,
            prompt_rate: 1500.0,
            num_parallel: 1,
            parallel_slowdown: 0.1,
            load_time_ms: 1500,
            answer_tokens: 96,
            answers: vec![],
            thinking_tokens: 0,
            gpu_offload: 1.0,
            installed: vec!["qwen2.5-coder:7b".into()],
            custom: vec![CustomModel {
                name: "my-coder".into(),
                modelfile: None,
                path: None,
            }],
            pull_time_ms: 300,
            faults: vec![],
            gpu_discovered: true,
            vram_held: true,
            env: Default::default(),
            log_lines: vec![],
        }
    }
}

impl EmulatorConfig {
    /// The healthy install, fast: for tests that do not measure speed.
    pub fn fast() -> Self {
        EmulatorConfig {
            token_rate: 2000.0,
            prompt_rate: 20000.0,
            load_time_ms: 20,
            answer_tokens: 24,
            pull_time_ms: 20,
            ..Default::default()
        }
    }

    /// No models installed.
    pub fn empty() -> Self {
        EmulatorConfig {
            installed: vec![],
            custom: vec![],
            ..Self::fast()
        }
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        let config: EmulatorConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        // Bounded both ways: a token's time (1 / rate) must fit a timer.
        for (key, rate) in [
            ("token_rate", self.token_rate),
            ("prompt_rate", self.prompt_rate),
        ] {
            if !(MIN_RATE..=MAX_RATE).contains(&rate) {
                return Err(format!(
                    "{key} must be from {MIN_RATE} to {MAX_RATE:e} tokens per second, got {rate}"
                ));
            }
        }
        if let Some(a) = self.answers.iter().find(|a| a.prompt_contains.is_empty()) {
            return Err(format!(
                "[[answers]] with {} tokens has an empty prompt_contains, which matches every prompt; set answer_tokens instead",
                a.tokens
            ));
        }
        if !(0.0..1.0).contains(&self.token_rate_jitter) {
            return Err(format!(
                "token_rate_jitter is a fraction from 0.0 up to (not including) 1.0, got {}",
                self.token_rate_jitter
            ));
        }
        if !(1..=MAX_PARALLEL).contains(&self.num_parallel) {
            return Err(format!(
                "num_parallel is the number of requests a model answers at once, from 1 to {MAX_PARALLEL}, got {}",
                self.num_parallel
            ));
        }
        if !(0.0..=1.0).contains(&self.parallel_slowdown) {
            return Err(format!(
                "parallel_slowdown is a fraction from 0.0 (no slowdown) to 1.0 (no gain from parallel streams), got {}",
                self.parallel_slowdown
            ));
        }
        if !(0.0..=1.0).contains(&self.gpu_offload) {
            return Err(format!(
                "gpu_offload is a fraction from 0.0 to 1.0, got {}",
                self.gpu_offload
            ));
        }
        Ok(())
    }

    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Tokens in the uncapped answer to `prompt`.
    pub fn answer_tokens_for(&self, prompt: &str) -> u64 {
        self.answers
            .iter()
            .find(|a| prompt.contains(&a.prompt_contains))
            .map_or(self.answer_tokens, |a| a.tokens)
    }

    /// The generation speed of answer number `k` (from 1): `token_rate` moved by up to
    /// `token_rate_jitter` either way, by a hash of `k` (the same in every run).
    pub fn token_rate_of(&self, k: u64) -> f64 {
        use sha2::Digest;
        if self.token_rate_jitter == 0.0 {
            return self.token_rate;
        }
        let hash = sha2::Sha256::digest(k.to_le_bytes());
        let bits = u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"));
        let unit = bits as f64 / u64::MAX as f64 * 2.0 - 1.0;
        (self.token_rate * (1.0 + self.token_rate_jitter * unit)).max(MIN_RATE)
    }

    /// The parallel slots a load gets: `OLLAMA_NUM_PARALLEL` from `env` where it is a
    /// number (0 is 1, as the server has it since its default became 1), else
    /// `num_parallel`.
    pub fn parallel_slots(&self) -> usize {
        self.env
            .get("OLLAMA_NUM_PARALLEL")
            .and_then(|v| crate::go::env_value(v).parse::<usize>().ok())
            .map_or(self.num_parallel, |n| n.clamp(1, MAX_PARALLEL))
    }

    pub fn load_time(&self) -> Duration {
        Duration::from_millis(self.load_time_ms)
    }

    /// The context a model without `num_ctx` loads with: OLLAMA_CONTEXT_LENGTH when set
    /// to a number above 0, else 4096. Since 0.15.5 the server picks that default by the
    /// GPUs' VRAM (4096 under 23 GiB, 32768 under 47 GiB, 262144 above); the emulated
    /// 12 GiB GPU, or none, gets 4096 either way.
    pub fn default_context(&self) -> u64 {
        self.env
            .get("OLLAMA_CONTEXT_LENGTH")
            .and_then(|v| crate::go::env_value(v).parse::<u64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(4096)
    }

    /// Whether the server picks its default context by VRAM (0.15.5 and later), and so
    /// logs that choice and shows OLLAMA_CONTEXT_LENGTH as 0 unless it is set.
    pub fn vram_based_context(&self) -> bool {
        let key = crate::version::version_key;
        match (key(&self.version), key("0.15.5")) {
            (Some(v), Some(since)) => v >= since,
            _ => true,
        }
    }

    /// The fraction of a model's weights a load puts in VRAM: none without a GPU.
    pub fn effective_offload(&self) -> f64 {
        if self.gpu_discovered {
            self.gpu_offload
        } else {
            0.0
        }
    }
}

/// A fault injected into the answers of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// The endpoint's path (`/api/chat`), or `*` for all.
    pub path: String,
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// The longest stall a fault may ask for.
pub const MAX_STALL_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// The slowest and fastest token rates the emulator paces.
const MIN_RATE: f64 = 0.001;
/// The most parallel slots the emulator keeps for a model.
const MAX_PARALLEL: usize = 512;
const MAX_RATE: f64 = 1e9;

/// By hand, because serde cannot deny unknown fields through `flatten`: `path` is
/// taken out, and the rest must be exactly one fault's fields, so a misspelt one
/// (`secs` for `seconds`) is refused rather than ignored.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let path = match fields.remove("path") {
            Some(serde_json::Value::String(p)) => p,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "a fault's `path` is a string such as \"/api/chat\" or \"*\", not {other}"
                )))
            }
            None => return Err(D::Error::missing_field("path")),
        };
        let kind = FaultKind::deserialize(serde_json::Value::Object(fields))
            .map_err(|e| D::Error::custom(format!("fault at {path}: {e}")))?;
        if let FaultKind::StallBefore { seconds } | FaultKind::StallDuring { seconds, .. } = kind {
            if !(0.0..=MAX_STALL_SECONDS).contains(&seconds) {
                return Err(D::Error::custom(format!(
                    "fault at {path}: `seconds` must be from 0 to {MAX_STALL_SECONDS} (a week), got {seconds}"
                )));
            }
        }
        Ok(Fault { path, kind })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer with this status and Ollama's `{"error": message}` body.
    Status { status: u16, message: String },
    /// A 200 whose body is not JSON.
    Malformed,
    /// A 200 with JSON of the wrong shape.
    WrongShape,
    /// A 200 with an HTML page, as a proxy or another service would answer.
    WrongContentType,
    /// Wait this long before answering at all.
    StallBefore { seconds: f64 },
    /// Send `after_bytes` of the body, then go quiet for this long.
    StallDuring { after_bytes: usize, seconds: f64 },
    /// Send `after_bytes` of the body, then close the connection.
    CloseMidBody { after_bytes: usize },
    /// After `after_chunks` stream lines, send `{"error": message}` and end.
    ErrorLine {
        after_chunks: usize,
        message: String,
    },
    /// After `after_chunks` stream lines, end without the final `done: true` chunk.
    EndEarly { after_chunks: usize },
    /// A 200 with a JSON body this many bytes long.
    HugeBody { bytes: usize },
}

impl Fault {
    pub fn new(path: &str, kind: FaultKind) -> Self {
        Fault {
            path: path.to_string(),
            kind,
        }
    }

    pub fn applies_to(&self, path: &str) -> bool {
        self.path == "*" || self.path == path
    }
}

impl EmulatorConfig {
    /// Reads a TOML configuration file; the message names the file and the problem.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read emulator config {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("emulator config {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_books_example_parses() {
        let readme = include_str!("../../docs/src/emulator.md");
        let section = readme
            .find("```toml")
            .expect("the emulator page has a TOML example");
        let start = section
            + readme[section..]
                .find("```toml\n")
                .expect("the section has a TOML example")
            + 8;
        let end = start + readme[start..].find("```").unwrap();
        let config = EmulatorConfig::from_toml(&readme[start..end]).unwrap();
        assert_eq!(config.gpu_offload, 0.6);
        assert_eq!((config.num_parallel, config.parallel_slowdown), (1, 0.1));
        assert_eq!(config.answer_tokens_for("Say: ready"), 3);
        assert_eq!(config.answer_tokens_for("Write a counter"), 96);
        assert_eq!(
            config.faults,
            [Fault::new(
                "/api/chat",
                FaultKind::Status {
                    status: 500,
                    message: "runner died".into()
                }
            )]
        );
    }

    /// A noisy GPU: speeds spread within the jitter, the same in every run.
    #[test]
    fn jittered_speeds_repeat_and_stay_in_bounds() {
        let noisy = EmulatorConfig {
            token_rate_jitter: 0.2,
            ..Default::default()
        };
        let rates: Vec<f64> = (1..=50).map(|k| noisy.token_rate_of(k)).collect();
        assert!(rates.iter().all(|r| (52.0..=78.0).contains(r)), "{rates:?}");
        let spread = rates.iter().cloned().fold(f64::NAN, f64::max)
            - rates.iter().cloned().fold(f64::NAN, f64::min);
        assert!(spread > 13.0, "the speeds vary: {rates:?}");
        assert_eq!(rates[7], noisy.token_rate_of(8));
        assert_eq!(EmulatorConfig::default().token_rate_of(3), 65.0);
    }

    /// The slots a load gets: the server's OLLAMA_NUM_PARALLEL where it sets one.
    #[test]
    fn parallel_slots_follow_ollama_num_parallel() {
        let with = |v: &str| EmulatorConfig {
            num_parallel: 2,
            env: [("OLLAMA_NUM_PARALLEL".to_string(), v.to_string())].into(),
            ..Default::default()
        };
        assert_eq!(
            EmulatorConfig::default().parallel_slots(),
            1,
            "Ollama's default"
        );
        assert_eq!(with("4").parallel_slots(), 4);
        assert_eq!(
            with("\"3\"").parallel_slots(),
            3,
            "quotes trimmed, as envconfig"
        );
        assert_eq!(with("0").parallel_slots(), 1);
        assert_eq!(
            with("many").parallel_slots(),
            2,
            "not a number: num_parallel"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        for (text, reason) in [
            ("token_rate = 0.0", "token_rate"),
            ("prompt_rate = 1e-300", "prompt_rate must be from 0.001"),
            (
                "[[faults]]\npath = \"/api/chat\"\nfault = \"stall_before\"\nseconds = 1e20",
                "`seconds` must be from 0 to 604800",
            ),
            (
                "[[faults]]\npath = \"*\"\nfault = \"stall_during\"\nafter_bytes = 1\nseconds = -1.0",
                "`seconds` must be from 0",
            ),
            ("gpu_offload = 1.5", "gpu_offload"),
            ("num_parallel = 0", "num_parallel is the number of requests"),
            ("parallel_slowdown = 1.5", "parallel_slowdown is a fraction"),
            ("token_rate_jitter = 1.0", "token_rate_jitter"),
            ("tokens_rate = 1.0", "unknown field"),
            (
                "[[answers]]\nprompt_contains = \"\"\ntokens = 3",
                "empty prompt_contains",
            ),
            (
                "[[faults]]\npath = \"/\"\nfault = \"explode\"",
                "unknown variant",
            ),
            (
                "[[faults]]\npath = \"/api/chat\"\nfault = \"stall_before\"\nsecs = 3.0",
                "fault at /api/chat: unknown field `secs`, expected `seconds`",
            ),
            ("[[faults]]\nfault = \"malformed\"", "missing field `path`"),
            (
                "[[faults]]\npath = 3\nfault = \"malformed\"",
                "a fault's `path` is a string",
            ),
        ] {
            let e = EmulatorConfig::from_toml(text).unwrap_err();
            assert!(e.contains(reason), "{text}: {e}");
        }
    }
}
