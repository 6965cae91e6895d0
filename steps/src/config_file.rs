//! `ollama-verify.toml`: the flags' defaults, written down once for a machine or a CI
//! job. Keys are the long flags without `--` (`target = "docker"`, `summary-json =
//! "summary.json"`, `strict = true`); flags and `OLLAMA_VERIFY_*` variables still win.

use std::path::{Path, PathBuf};

/// The file looked for in the working folder when neither `--config` nor
/// `OLLAMA_VERIFY_CONFIG` names one.
pub const DEFAULT_FILE: &str = "ollama-verify.toml";

/// Which file to read: `--config PATH` (or `--config=PATH`) among `args`, else
/// `OLLAMA_VERIFY_CONFIG`, else `ollama-verify.toml` if it exists. `None` for the
/// `emulator` subcommand, which has its own `--config`.
pub fn locate(args: &[String], env: Option<String>) -> Option<(PathBuf, bool)> {
    if args.get(1).is_some_and(|a| a == "emulator") {
        return None;
    }
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        if arg == "--config" {
            return it.next().map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = arg.strip_prefix("--config=") {
            return Some((PathBuf::from(p), true));
        }
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let default = PathBuf::from(DEFAULT_FILE);
    default.exists().then_some((default, false))
}

/// The file's settings as (flag name, value) pairs, values as a flag would take them.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "{}: `{key}` must be a string, number or boolean, not {}",
                        path.display(),
                        other.type_str()
                    ))
                }
            };
            Ok((key, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_flag_then_the_variable_then_the_default_file() {
        let a = args(&["ollama-verify", "--config", "x.toml"]);
        assert_eq!(
            locate(&a, Some("y.toml".into())),
            Some(("x.toml".into(), true))
        );
        let a = args(&["ollama-verify", "--config=z.toml"]);
        assert_eq!(locate(&a, None), Some(("z.toml".into(), true)));
        let a = args(&["ollama-verify"]);
        assert_eq!(
            locate(&a, Some("y.toml".into())),
            Some(("y.toml".into(), true))
        );
        let a = args(&["ollama-verify", "emulator", "--config", "e.toml"]);
        assert_eq!(locate(&a, None), None);
    }

    #[test]
    fn values_read_as_flags_take_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "target = \"emulator\"\nstrict = true\nrequest-timeout = 5\n",
        )
        .unwrap();
        let mut got = read(&path).unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                ("request-timeout".to_string(), "5".to_string()),
                ("strict".into(), "true".into()),
                ("target".into(), "emulator".into())
            ]
        );
        std::fs::write(&path, "tags = [\"a\"]\n").unwrap();
        assert!(read(&path).unwrap_err().contains("`tags` must be"));
        assert!(read(&dir.path().join("none.toml"))
            .unwrap_err()
            .contains("cannot read"));
    }
}
