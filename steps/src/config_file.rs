//! `ollama-verify.toml`: the flags' defaults, written down once for a machine or a CI
//! job. Keys are the long flags without `--` (`target = "docker"`, `summary-json =
//! "summary.json"`, `strict = true`); flags and `OLLAMA_VERIFY_*` variables still win.
//! Every mistake in the file (an unknown key, a value of the wrong type, a value its
//! flag would refuse) stops the run with the file and line named, also when a flag
//! gives the setting anew.

use crate::usage::UsageError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file looked for in the working folder when neither `--config` nor
/// `OLLAMA_VERIFY_CONFIG` names one.
pub const DEFAULT_FILE: &str = "ollama-verify.toml";

/// The long flags that are no settings of the file.
const NOT_SETTINGS: [&str; 3] = ["config", "help", "version"];

/// One `key = value` of the file, its value as a flag would take it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// The value as the file writes it (`5`, `"fast"`), for messages.
    pub written: String,
    /// The line of the key, from 1.
    pub line: usize,
}

/// Which file to read: `--config PATH` (or `--config=PATH`) among `args`, else
/// `OLLAMA_VERIFY_CONFIG`, else `ollama-verify.toml` if it exists. `None` for the
/// `emulator` subcommand, which has its own `--config`, and for an empty `--config`
/// (which clap then refuses).
pub fn locate(args: &[String], env: Option<String>) -> Option<(PathBuf, bool)> {
    if args.get(1).is_some_and(|a| a == "emulator") {
        return None;
    }
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return it
                .next()
                .filter(|p| !p.is_empty())
                .map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = arg.strip_prefix("--config=") {
            return (!p.is_empty()).then(|| (PathBuf::from(p), true));
        }
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let default = PathBuf::from(DEFAULT_FILE);
    default.exists().then_some((default, false))
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The file's settings, in the file's order, values as a flag would take them.
pub fn read(path: &Path) -> Result<Vec<Setting>, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(format!(
            "cannot read the config file {}: {e}. Fix it, name another with --config FILE, or use --config /dev/null to run without one",
            path.display()
        ))
    })?;
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(&text)
        .map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(":{}", line_of(&text, s.start)))
                .unwrap_or_default();
            // Valid TOML that is no flat table: a dotted key (`docker.image = "x"`)
            // makes a table, which the parser of spans refuses in words of its own.
            if let Some(key) = text
                .parse::<toml::Table>()
                .ok()
                .and_then(|t| t.iter().find(|(_, v)| v.is_table()).map(|(k, _)| k.clone()))
            {
                return UsageError::new(format!(
                    "{}{at}: `{key}.…` is a dotted key, which makes `{key}` a table, and the settings are not grouped: write each as `key = value` at the top of the file, keys being the long flags' names",
                    path.display()
                ));
            }
            let why = e.message().lines().collect::<Vec<_>>().join("; ");
            UsageError::new(format!(
                "{}{at}: not valid TOML: {why}. Each setting is `key = value` on a line of its own, a string in quotes (`target = \"docker\"`)",
                path.display()
            ))
        })?;
    let mut settings = table
        .into_iter()
        .map(|(key, value)| {
            let line = line_of(&text, key.span().start);
            let key = key.into_inner();
            let value = value.into_inner();
            let written = value.to_string();
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Table(_) => {
                    return Err(UsageError::new(format!(
                        "{}:{line}: `[{key}]` is a table, and the settings are not grouped: write each as `key = value` at the top of the file, keys being the long flags' names",
                        path.display()
                    )))
                }
                other => {
                    return Err(UsageError::new(format!(
                        "{}:{line}: `{key}` must be a string, number or boolean, not {}",
                        path.display(),
                        other.type_str()
                    )))
                }
            };
            Ok(Setting {
                key,
                value,
                written,
                line,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    settings.sort_by_key(|s| s.line);
    Ok(settings)
}

/// `command` with the file's settings as its flags' defaults, so that a flag or its
/// `OLLAMA_VERIFY_*` variable still wins. Each setting must name a long flag and hold
/// a value that flag takes; the first that does not is the error, with file and line.
pub fn apply(
    mut command: clap::Command,
    path: &Path,
    settings: &[Setting],
) -> Result<clap::Command, UsageError> {
    for setting in settings {
        let at = format!("{}:{}", path.display(), setting.line);
        let key = setting.key.as_str();
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key) && !NOT_SETTINGS.contains(&key))
            .cloned()
        else {
            return Err(unknown_key(&command, &at, key));
        };
        check_value(&arg, &setting.value).map_err(|why| {
            UsageError::new(format!(
                "{at}: `{key} = {}`: {why}. The file's settings take what the flags take (`--{key}`)",
                setting.written
            ))
        })?;
        // clap keeps defaults for the program's life.
        let value: &'static str = Box::leak(setting.value.clone().into_boxed_str());
        command = command.mut_arg(arg.get_id().as_str(), |a| a.default_value(value));
    }
    Ok(command)
}

/// Why `key` is no setting, with the name meant if one is near it.
fn unknown_key(command: &clap::Command, at: &str, key: &str) -> UsageError {
    let known: Vec<&str> = command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !NOT_SETTINGS.contains(l))
        .collect();
    let why = match key {
        "config" => "`config` is not a setting (a file cannot name another).".to_string(),
        "help" | "version" => format!("`{key}` is not a setting."),
        _ => match ollama_verify::text::nearest(key, &known) {
            Some(k) => format!("`{key}` is not a setting; did you mean `{k}`?"),
            None => format!("`{key}` is not a setting."),
        },
    };
    UsageError::new(format!(
        "{at}: {why} The keys are the long flags' names, with `-`: {}",
        known.join(", ")
    ))
}

/// Whether `arg` takes `value`, by parsing `--LONG=VALUE` with it alone (no variable,
/// no default); why not, as its value parser says it.
fn check_value(arg: &clap::Arg, value: &str) -> Result<(), String> {
    use clap::error::{ContextKind, ContextValue};
    let long = arg.get_long().unwrap_or_default();
    let alone = arg.clone().env(None).default_value(None).required(false);
    let flag = format!("--{long}={value}");
    let Err(e) = clap::Command::new("ollama-verify")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(alone)
        .try_get_matches_from([flag.as_str()])
    else {
        return Ok(());
    };
    if let Some(source) = std::error::Error::source(&e) {
        return Err(source.to_string());
    }
    match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => Err(format!("expected {}", valid.join(" or "))),
        _ => Err(e
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string()),
    }
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

    /// `--config ""` is clap's to refuse ("a value is required"), not a file named "".
    #[test]
    fn an_empty_config_flag_names_no_file() {
        for a in [
            args(&["ollama-verify", "--config", ""]),
            args(&["ollama-verify", "--config="]),
        ] {
            assert_eq!(locate(&a, Some("y.toml".into())), None, "{a:?}");
        }
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn setting(key: &str, value: &str, line: usize) -> Setting {
        Setting {
            key: key.into(),
            value: value.into(),
            written: format!("{value:?}"),
            line,
        }
    }

    #[test]
    fn values_read_as_flags_take_them() {
        let (dir, path) =
            file("target = \"emulator\"\n\n# a comment\nstrict = true\nrequest-timeout = 5\n");
        let got: Vec<(String, String, String, usize)> = read(&path)
            .unwrap()
            .into_iter()
            .map(|s| (s.key, s.value, s.written, s.line))
            .collect();
        let want = |k: &str, v: &str, w: &str, l| (k.to_string(), v.to_string(), w.to_string(), l);
        assert_eq!(
            got,
            [
                want("target", "emulator", "\"emulator\"", 1),
                want("strict", "true", "true", 4),
                want("request-timeout", "5", "5", 5),
            ]
        );
        std::fs::write(&path, "target = \"emulator\"\ntags = [\"a\"]\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.ends_with("c.toml:2: `tags` must be a string, number or boolean, not array"),
            "{e}"
        );
        let e = read(&dir.path().join("none.toml")).unwrap_err().to_string();
        assert!(
            e.contains("cannot read") && e.contains("--config /dev/null"),
            "{e}"
        );
    }

    /// A syntax error, and a table, are named with their line.
    #[test]
    fn toml_mistakes_name_the_line() {
        let (_dir, path) = file("target = \"emulator\"\nstrict = \n");
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("c.toml:2: not valid TOML: "), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        let (_dir, path) = file("target = \"docker\"\n\n[docker]\nimage = \"x\"\n");
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("c.toml:3: `[docker]` is a table"), "{e}");
        let (_dir, path) = file("target = \"docker\"\ndocker.image = \"x\"\n");
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.contains("c.toml:2: `docker.…` is a dotted key, which makes `docker` a table"),
            "{e}"
        );
    }

    fn command() -> clap::Command {
        fn seconds(s: &str) -> Result<f64, String> {
            match s.parse::<f64>() {
                Ok(v) if v > 0.0 => Ok(v),
                _ => Err(format!("expected a number of seconds, got `{s}`")),
            }
        }
        clap::Command::new("ollama-verify")
            .arg(
                clap::Arg::new("connect_timeout")
                    .long("connect-timeout")
                    .value_parser(seconds)
                    .default_value("3"),
            )
            .arg(clap::Arg::new("tags").long("tags"))
            .arg(
                clap::Arg::new("strict")
                    .long("strict")
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
                    .default_value("false")
                    .value_parser(clap::value_parser!(bool)),
            )
            .arg(clap::Arg::new("config").long("config"))
    }

    fn applied(settings: &[Setting]) -> Result<clap::ArgMatches, String> {
        apply(command(), Path::new("c.toml"), settings)
            .map(|c| c.try_get_matches_from(["ollama-verify"]).unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn settings_become_the_flags_defaults() {
        let m = applied(&[
            setting("connect-timeout", "5", 1),
            setting("strict", "true", 2),
        ])
        .unwrap();
        assert_eq!(m.get_one::<f64>("connect_timeout"), Some(&5.0));
        assert_eq!(m.get_one::<bool>("strict"), Some(&true));
        // A flag still wins, a boolean one too.
        let c = apply(
            command(),
            Path::new("c.toml"),
            &[setting("strict", "true", 2)],
        )
        .unwrap();
        let m = c
            .try_get_matches_from(["ollama-verify", "--strict=false"])
            .unwrap();
        assert_eq!(m.get_one::<bool>("strict"), Some(&false));
    }

    /// Keys are the long flags' names, exactly: `connect_timeout` is named for what it
    /// is (it would escape the checks of the value's source), a typo gets its nearest.
    #[rstest::rstest]
    #[case::underscores(
        "connect_timeout",
        "c.toml:4: `connect_timeout` is not a setting; did you mean `connect-timeout`?"
    )]
    #[case::a_typo("tagz", "c.toml:4: `tagz` is not a setting; did you mean `tags`?")]
    #[case::far_from_any("colour", "c.toml:4: `colour` is not a setting. The keys")]
    #[case::config(
        "config",
        "c.toml:4: `config` is not a setting (a file cannot name another). The keys"
    )]
    #[case::help("help", "c.toml:4: `help` is not a setting. The keys")]
    fn unknown_keys_are_named_with_the_line(#[case] key: &str, #[case] message: &str) {
        let e = applied(&[setting(key, "1", 4)]).unwrap_err();
        assert!(e.starts_with(message), "{e}");
        assert!(e.ends_with("connect-timeout, tags, strict"), "{e}");
    }

    /// A value the flag would refuse is refused here, with the line, in one message.
    #[rstest::rstest]
    #[case::not_seconds("connect-timeout", "fast", "c.toml:7: `connect-timeout = \"fast\"`: expected a number of seconds, got `fast`. The file's settings take what the flags take (`--connect-timeout`)")]
    #[case::negative(
        "connect-timeout",
        "-1",
        "c.toml:7: `connect-timeout = \"-1\"`: expected a number of seconds, got `-1`."
    )]
    #[case::not_a_boolean(
        "strict",
        "yes",
        "c.toml:7: `strict = \"yes\"`: expected true or false."
    )]
    fn bad_values_are_named_with_the_line(
        #[case] key: &str,
        #[case] value: &str,
        #[case] message: &str,
    ) {
        let e = applied(&[setting("tags", "@api", 1), setting(key, value, 7)]).unwrap_err();
        assert!(e.starts_with(message), "{e}");
    }
}
