//! The values the command line's flags take, checked as clap parses them: each error
//! says what was expected and what was given.

use crate::usage::UsageError;
use ollama_verify::baseline::Summary;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The longest time a flag accepts: a week, far past any run, well inside what
/// `Duration` and `Instant` can hold.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// The shortest: a millisecond. Less would be rounded to no time at all by the
/// timers (`1e-12` is a `Duration` of 0), which every request would exceed.
pub const MIN_SECONDS: f64 = 0.001;

pub fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (MIN_SECONDS..=MAX_SECONDS).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of seconds from {MIN_SECONDS} (a millisecond) to {MAX_SECONDS} (a week), got `{s}`"
        )),
    }
}

/// `--host`: what the session parses as `OLLAMA_HOST` (naming the flag), but not
/// empty: Ollama reads an empty `OLLAMA_HOST` as 127.0.0.1:11434, and a `--host ""`
/// (an unset variable in a script) would hide the `OLLAMA_HOST` it overrides.
pub fn address(s: &str) -> Result<String, String> {
    match s.trim().is_empty() {
        true => Err("expected `host`, `host:port` or a URL such as `http://127.0.0.1:11434`, got an empty address; leave --host out to use OLLAMA_HOST".into()),
        false => Ok(s.to_string()),
    }
}

/// `--gpus`: checked as the docker target reads it, whatever the target.
pub fn gpus(s: &str) -> Result<String, String> {
    #[cfg(feature = "docker")]
    s.parse::<ollama_verify::provision::docker::GpuRequest>()?;
    Ok(s.to_string())
}

/// `--tags`: a tag expression, refused here (and in the config file, with its line)
/// as the run would refuse it.
pub fn tag_expression(s: &str) -> Result<String, UsageError> {
    crate::tags::tag_expression(s).map(|_| s.to_string())
}

/// `--features`: a folder that exists (its feature files are read when the run starts).
pub fn features_folder(s: &str) -> Result<PathBuf, UsageError> {
    let path = PathBuf::from(s);
    crate::features::features_folder(&path)?;
    Ok(path)
}

/// `--baseline`: an earlier run's summary JSON, read as the flag is parsed, so a run
/// that could not compare stops before it starts (exit 2).
pub fn baseline(s: &str) -> Result<std::sync::Arc<Summary>, String> {
    // A summary JSON is kilobytes; a bigger file is not one, and is not read whole.
    const LARGEST: u64 = 16 << 20;
    let wanted = "give the file an earlier run wrote with --summary-json";
    let size = std::fs::metadata(s)
        .map_err(|e| {
            format!(
                "expected an earlier run's summary JSON at `{s}`, could not read it: {e}; {wanted}"
            )
        })?
        .len();
    if size > LARGEST {
        return Err(format!(
            "expected an earlier run's summary JSON at `{s}`, found a file of {size} bytes (a summary JSON is far under {LARGEST}); {wanted}"
        ));
    }
    let text = std::fs::read_to_string(s).map_err(|e| {
        format!("expected an earlier run's summary JSON at `{s}`, could not read it: {e}; {wanted}")
    })?;
    Summary::parse(&text).map(std::sync::Arc::new).map_err(|e| {
        format!("expected an earlier run's summary JSON at `{s}`, it is {e}; {wanted}")
    })
}

/// `--image`: a name, not nothing (`--image ""` from an unset variable in a script).
/// Docker itself judges the rest of it.
pub fn image(s: &str) -> Result<String, String> {
    match s.trim().is_empty() || s.chars().any(char::is_whitespace) {
        true => Err(format!("expected an image such as ollama/ollama:0.17.1, got `{s}`; leave --image out to use the compose file's")),
        false => Ok(s.to_string()),
    }
}

/// `--volume`: a name Docker takes for a local volume. An empty one would be an
/// anonymous volume, removed with the container: the models pulled into it would go.
pub fn volume(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    match first && rest && s.len() >= 2 {
        true => Ok(s.to_string()),
        false => Err(format!(
            "expected a Docker volume name (two or more letters, digits, `_`, `.` or `-`, beginning with a letter or digit), got `{s}`; the docker target keeps models in a named volume (default ollama-verify-models), not in a folder of this machine"
        )),
    }
}

/// `emulator --listen`: an IP address and a port, as a socket binds them.
pub fn listen_address(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| {
        format!(
            "expected an IP address and a port such as 127.0.0.1:11434, [::1]:11434 or 0.0.0.0:11434 (every interface; port 0 picks a free one), got `{s}`; a name such as localhost is not looked up"
        )
    })
}
