//! What the Ollama server's log says of itself, shared by the emulator that writes
//! such a log and the probe that reads one: how many lines are kept, and each setting
//! as the `server config` map prints it (and whether a set value is what it printed).

use crate::go;

/// How many lines of the log are read: enough for a start and a few model loads.
pub const TAIL_LINES: usize = 2000;

/// Settings the server reads as booleans and logs as `true`/`false`.
pub const BOOL_SETTINGS: [&str; 11] = [
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_SCHED_SPREAD",
    "OLLAMA_NOPRUNE",
    "OLLAMA_NOHISTORY",
    "OLLAMA_MULTIUSER_CACHE",
    "OLLAMA_NEW_ENGINE",
    "OLLAMA_INTEL_GPU",
    "OLLAMA_VULKAN",
    "OLLAMA_NO_CLOUD",
    "OLLAMA_GO_TEMPLATE",
    "OLLAMA_DEBUG_LOG_REQUESTS",
];

/// A boolean setting as Ollama's `envconfig.Bool` reads it: spaces and quotes trimmed,
/// empty is false, Go's `strconv.ParseBool` words are what they say, and anything else
/// is **true** (`yes` turns the setting on).
pub fn ollama_bool(v: &str) -> bool {
    !matches!(
        go::env_value(v),
        "" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    )
}

/// `OLLAMA_DEBUG` as the server logs it since 0.7.0 (`envconfig.LogLevel`, printed as
/// a `slog.Level`): a Go boolean that is true is `DEBUG`, another whole number `i` is
/// the level `-4 i` (`2` is `DEBUG-4`), and anything else `INFO`.
fn log_level(value: &str) -> String {
    let v = go::env_value(value);
    let level: i64 = match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => -4,
        _ => v.parse::<i64>().map_or(0, |i| i.saturating_mul(-4)),
    };
    let named = |base: &str, offset: i64| match offset {
        0 => base.to_string(),
        o => format!("{base}{o:+}"),
    };
    match level {
        l if l < 0 => named("DEBUG", l + 4),
        l if l < 4 => named("INFO", l),
        l if l < 8 => named("WARN", l - 4),
        l => named("ERROR", l - 8),
    }
}

/// A duration setting in seconds as the server reads it (`f64::INFINITY`: forever;
/// `OLLAMA_LOAD_TIMEOUT` of 0 or less is no timeout).
fn setting_secs(key: &str, value: &str) -> f64 {
    go::env_duration(value, 300.0, key == "OLLAMA_LOAD_TIMEOUT")
}

/// What the server logs in its `server config` map for a setting given as `value`:
/// booleans as true/false, the host as a URL, durations in Go's form.
pub fn normalise_setting(key: &str, value: &str) -> String {
    match key {
        "OLLAMA_GO_TEMPLATE" if go::env_value(value).is_empty() => "true".into(),
        k if BOOL_SETTINGS.contains(&k) => ollama_bool(value).to_string(),
        "OLLAMA_HOST" => match crate::client::bind_addr(value) {
            Ok(addr) => format!("http://{addr}"),
            Err(_) => value.to_string(),
        },
        "OLLAMA_KEEP_ALIVE" | "OLLAMA_LOAD_TIMEOUT" => {
            go::format_duration(setting_secs(key, value))
        }
        "OLLAMA_DEBUG" => log_level(value),
        "OLLAMA_ORIGINS" => {
            let mut list: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .collect();
            list.extend(["http://localhost", "https://localhost", "http://127.0.0.1"]);
            format!("[{}]", list.join(" "))
        }
        _ => value.to_string(),
    }
}

/// Whether the setting `set` (as the unit or container sets it) is what the server
/// logged (`logged`), compared by meaning: `1` is `true`, `0.0.0.0:11434` is
/// `http://0.0.0.0:11434`, `30m` is `30m0s`, origins are a list the server extends.
pub fn same_setting(key: &str, set: &str, logged: &str) -> bool {
    match key {
        // Set empty, a setting takes its default: true for GO_TEMPLATE, either for
        // VULKAN (false before 0.30, true after), false for the rest.
        k if BOOL_SETTINGS.contains(&k) && go::env_value(set).is_empty() => match k {
            "OLLAMA_VULKAN" => true,
            "OLLAMA_GO_TEMPLATE" => logged.trim() == "true",
            _ => logged.trim() == "false",
        },
        // Off by the environment, on by ~/.ollama/server.json: the server logs either.
        "OLLAMA_NO_CLOUD" if !ollama_bool(set) => true,
        k if BOOL_SETTINGS.contains(&k) => ollama_bool(set) == ollama_bool(logged),
        "OLLAMA_HOST" => {
            match (
                crate::client::bind_addr(set),
                crate::client::bind_addr(logged),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => set.trim() == logged.trim(),
            }
        }
        // Before 0.7.0 a boolean (`true`), since then a log level (`DEBUG`).
        "OLLAMA_DEBUG" => match logged.trim() {
            "true" | "false" => ollama_bool(set).to_string() == logged.trim(),
            level => log_level(set) == level,
        },
        "OLLAMA_KEEP_ALIVE" | "OLLAMA_LOAD_TIMEOUT" => match go::parse_duration(logged.trim()) {
            // What the server made of the setting, against what it printed (Go's
            // `Duration.String`; the largest duration for forever).
            Ok(printed) => {
                let printed = go::forever_or(printed);
                let meant = setting_secs(key, set);
                meant == printed || (meant - printed).abs() < 0.5
            }
            Err(_) => set.trim() == logged.trim(),
        },
        "OLLAMA_ORIGINS" => {
            let logged: Vec<&str> = logged
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .collect();
            set.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .all(|o| logged.contains(&o))
        }
        _ => set.trim() == logged.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("1", "DEBUG")]
    #[case("true", "DEBUG")]
    #[case("2", "DEBUG-4")]
    #[case("0", "INFO")]
    #[case("false", "INFO")]
    #[case("", "INFO")]
    #[case("yes", "INFO")]
    #[case("-1", "WARN")]
    #[case("-2", "ERROR")]
    fn debug_is_logged_as_a_level(#[case] set: &str, #[case] logged: &str) {
        assert_eq!(log_level(set), logged);
        assert_eq!(normalise_setting("OLLAMA_DEBUG", set), logged);
    }

    #[rstest]
    #[case("OLLAMA_FLASH_ATTENTION", "1", "true", true)]
    #[case("OLLAMA_FLASH_ATTENTION", "1", "false", false)]
    #[case("OLLAMA_FLASH_ATTENTION", "0", "false", true)]
    #[case("OLLAMA_HOST", "0.0.0.0:11434", "http://0.0.0.0:11434", true)]
    #[case("OLLAMA_HOST", "0.0.0.0", "http://0.0.0.0:11434", true)]
    #[case("OLLAMA_HOST", "0.0.0.0:11434", "http://127.0.0.1:11434", false)]
    #[case("OLLAMA_KEEP_ALIVE", "30m", "30m0s", true)]
    #[case("OLLAMA_KEEP_ALIVE", "30m", "5m0s", false)]
    #[case("OLLAMA_KEEP_ALIVE", "-1", "2562047h47m16.854775807s", true)]
    #[case("OLLAMA_KEEP_ALIVE", "300", "5m0s", true)] // whole seconds
    #[case("OLLAMA_KEEP_ALIVE", "1.5", "5m0s", true)] // unreadable: the default
    #[case("OLLAMA_KEEP_ALIVE", "soon", "5m0s", true)]
    #[case("OLLAMA_KEEP_ALIVE", "0", "0s", true)]
    #[case("OLLAMA_LOAD_TIMEOUT", "0", "2562047h47m16.854775807s", true)] // no timeout
    #[case("OLLAMA_LOAD_TIMEOUT", "10m", "5m0s", false)]
    #[case("OLLAMA_DEBUG", "1", "DEBUG", true)]
    #[case("OLLAMA_DEBUG", "1", "INFO", false)]
    #[case("OLLAMA_DEBUG", "1", "true", true)] // before 0.7.0
    #[case("OLLAMA_NO_CLOUD", "1", "true", true)]
    #[case("OLLAMA_NO_CLOUD", "1", "false", false)]
    #[case("OLLAMA_NO_CLOUD", "0", "true", true)] // server.json may turn it on
    #[case("OLLAMA_GO_TEMPLATE", "", "true", true)] // empty: its default
    #[case("OLLAMA_GO_TEMPLATE", "", "false", false)]
    #[case("OLLAMA_SCHED_SPREAD", "", "true", false)]
    #[case("OLLAMA_GO_TEMPLATE", "0", "true", false)]
    #[case("OLLAMA_ORIGINS", "*", "[* http://localhost https://localhost]", true)]
    #[case(
        "OLLAMA_ORIGINS",
        "http://a,http://b",
        "[http://a http://localhost]",
        false
    )]
    #[case("OLLAMA_NUM_PARALLEL", "4", "4", true)]
    #[case("OLLAMA_NUM_PARALLEL", "4", "1", false)]
    #[case("OLLAMA_FLASH_ATTENTION", "\"1\"", "true", true)]
    #[case("OLLAMA_FLASH_ATTENTION", "yes", "true", true)] // Ollama: not a Go bool, not empty: on
    #[case("OLLAMA_FLASH_ATTENTION", " ", "false", true)]
    fn settings_compare_by_meaning(
        #[case] key: &str,
        #[case] set: &str,
        #[case] logged: &str,
        #[case] same: bool,
    ) {
        assert_eq!(
            same_setting(key, set, logged),
            same,
            "{key}={set} vs {logged}"
        );
    }

    #[rstest]
    #[case("OLLAMA_FLASH_ATTENTION", "1")]
    #[case("OLLAMA_HOST", "0.0.0.0:11434")]
    #[case("OLLAMA_KEEP_ALIVE", "30m")]
    #[case("OLLAMA_KEEP_ALIVE", "-1")]
    #[case("OLLAMA_ORIGINS", "*")]
    #[case("OLLAMA_NUM_PARALLEL", "2")]
    fn a_normalised_setting_is_the_same_setting(#[case] key: &str, #[case] set: &str) {
        assert!(same_setting(key, set, &normalise_setting(key, set)));
    }
}
