//! Emulator configurations built in Rust: the quick settings every test starts from,
//! changed field by field, and written as the TOML file `--emulator-config` and
//! `ollama-emulator serve` read. A misspelt key is a compile error, not a
//! configuration the emulator refuses at run time.

use ollama_verify::emulator::{CustomModel, EmulatorConfig, Fault, FaultKind};
use std::path::{Path, PathBuf};

/// A configuration being built: the quick settings unless changed.
#[derive(Debug, Clone)]
pub struct EmulatorConfigBuilder(EmulatorConfig);

/// The healthy install as the emulator emulates it unless told otherwise
/// (`EmulatorConfig::default()`).
pub fn healthy() -> EmulatorConfigBuilder {
    EmulatorConfigBuilder(EmulatorConfig::default())
}

/// The healthy install, answering quickly: short answers
/// (24 tokens) at 70 tok/s, a speed the emulated GPU's memory bandwidth allows (~77
/// tok/s), 20 ms loads, 10 ms pulls.
pub fn fast() -> EmulatorConfigBuilder {
    EmulatorConfigBuilder(EmulatorConfig {
        token_rate: 70.0,
        load_time_ms: 20,
        answer_tokens: 24,
        pull_time_ms: 10,
        ..EmulatorConfig::default()
    })
}

impl EmulatorConfigBuilder {
    /// Any other change, field by field.
    pub fn with(mut self, change: impl FnOnce(&mut EmulatorConfig)) -> Self {
        change(&mut self.0);
        self
    }

    pub fn version(self, version: &str) -> Self {
        self.with(|c| c.version = version.to_string())
    }

    pub fn token_rate(self, rate: f64) -> Self {
        self.with(|c| c.token_rate = rate)
    }

    pub fn answer_tokens(self, tokens: u64) -> Self {
        self.with(|c| c.answer_tokens = tokens)
    }

    pub fn gpu_offload(self, fraction: f64) -> Self {
        self.with(|c| c.gpu_offload = fraction)
    }

    pub fn installed(self, models: &[&str]) -> Self {
        self.with(|c| c.installed = models.iter().map(|m| m.to_string()).collect())
    }

    /// The custom models created at start: none, or these (name, Modelfile text).
    pub fn custom(self, models: &[(&str, Option<&str>)]) -> Self {
        self.with(|c| {
            c.custom = models
                .iter()
                .map(|(name, modelfile)| CustomModel {
                    name: name.to_string(),
                    modelfile: modelfile.map(str::to_string),
                    path: None,
                })
                .collect()
        })
    }

    /// One more fault, at `path` (`*` for every endpoint).
    pub fn fault(self, path: &str, kind: FaultKind) -> Self {
        self.with(|c| c.faults.push(Fault::new(path, kind)))
    }

    pub fn build(self) -> EmulatorConfig {
        self.0
    }

    /// As the TOML file the emulator reads.
    pub fn toml(&self) -> String {
        toml_of(&self.0)
    }

    /// Written as `emulator.toml` in `dir`; its path.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        let file = dir.join("emulator.toml");
        std::fs::write(&file, self.toml()).unwrap();
        file
    }
}

/// `config` as the TOML the emulator reads; it reads back the same.
pub fn toml_of(config: &EmulatorConfig) -> String {
    let text = toml::to_string(config).expect("an emulator configuration serialises to TOML");
    assert_eq!(
        EmulatorConfig::from_toml(&text).as_ref(),
        Ok(config),
        "the TOML reads back as written:\n{text}"
    );
    text
}

/// A status fault: Ollama's `{"error": message}` with this status.
pub fn status(status: u16, message: &str) -> FaultKind {
    FaultKind::Status {
        status,
        message: message.to_string(),
    }
}
