//! A problem with how the run was asked for: a flag, the config file, the feature
//! files. Found before anything runs, it ends the process with [`exit::USAGE`].

use crate::exit;

/// A usage or configuration error: its message, shown as it is (`ollama-verify: ` is
/// put before it where it is printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    message: String,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the process exits with: always [`exit::USAGE`].
    pub fn exit_code(&self) -> u8 {
        exit::USAGE
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// A target that cannot start is found before any check runs: the run was asked for
/// something this machine cannot give (an address, Docker, a compose file).
impl From<ollama_verify::target::StartError> for UsageError {
    fn from(e: ollama_verify::target::StartError) -> Self {
        UsageError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_shows_its_message_and_exits_with_2() {
        let e = UsageError::new("--tags \"@api(\" is not a tag expression");
        assert_eq!(e.to_string(), "--tags \"@api(\" is not a tag expression");
        assert_eq!(e.message(), e.to_string());
        assert_eq!(e.exit_code(), 2);
    }
}
