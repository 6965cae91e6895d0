//! The spec `ollama-verify init` writes for an install it found: the built-in feature
//! files with the install's own values put in their sentences (its models, the
//! service's settings, speed targets a margin under what it measured), and the custom
//! model's Modelfile as the server shows it. Pure: the facts come in, the files' text
//! goes out.

use crate::client::types::ShowResponse;

/// The file the custom model's Modelfile is written to, beside the feature files.
pub const MODELFILE: &str = "custom-model.Modelfile";

/// What was found on the install, as the sentences need it. `None`: not found here;
/// the built-in sentence stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub base: String,
    pub custom: String,
    /// The spec folder's own name: the Modelfile's path is written from the folder
    /// above it, where a run looks for it ([`crate::session::Session::resolve`]).
    pub folder: String,
    /// The least generation and prompt speeds to ask for (tok/s).
    pub generation: Option<f64>,
    pub prompt: Option<f64>,
    /// The address the service binds (`OLLAMA_HOST`, no port) and its
    /// `OLLAMA_FLASH_ATTENTION`.
    pub bind: Option<String>,
    pub flash_attention: Option<String>,
    /// The comment above each file: where and when it was written.
    pub header: String,
}

/// A sentence of the built-in files and what takes its place, where found.
fn replacements(found: &Found) -> Vec<(&'static str, Option<String>)> {
    let quoted = |s: &str| format!("\"{s}\"");
    vec![
        ("\"my-coder\"", Some(quoted(&found.custom))),
        ("\"qwen2.5-coder:7b\"", Some(quoted(&found.base))),
        (
            "\"setup/coding-assistant.Modelfile\"",
            Some(quoted(&format!("{}/{MODELFILE}", found.folder))),
        ),
        (
            "The Modelfile is the one shipped in setup/ (a relative path is looked\n  up from the working folder, then from the folder above the feature files).",
            Some("The Modelfile is the one `ollama-verify init` wrote beside these files from\n  the server's /api/show (its path is read from the folder above this one).".to_string()),
        ),
        (
            "generation speed is at least 40 tokens",
            found.generation.map(|t| format!("generation speed is at least {} tokens", number(t))),
        ),
        (
            "processing speed is at least 100 tokens",
            found.prompt.map(|t| format!("processing speed is at least {} tokens", number(t))),
        ),
        (
            "OLLAMA_HOST to bind \"0.0.0.0\"",
            found.bind.as_ref().map(|b| format!("OLLAMA_HOST to bind {}", quoted(b))),
        ),
        (
            "OLLAMA_FLASH_ATTENTION to \"1\"",
            found
                .flash_attention
                .as_ref()
                .map(|v| format!("OLLAMA_FLASH_ATTENTION to {}", quoted(v))),
        ),
    ]
}

/// The feature files: each of `templates` (name, built-in text) with the install's
/// values in place. Every sentence replaced must be in some template: one that is in
/// none means the built-in files changed under this writer, an error.
pub fn feature_files(
    templates: &[(&str, &str)],
    found: &Found,
) -> Result<Vec<(String, String)>, String> {
    let replacements = replacements(found);
    for (from, _) in &replacements {
        if !templates.iter().any(|(_, text)| text.contains(from)) {
            return Err(format!("no built-in feature file says `{from}`"));
        }
    }
    Ok(templates
        .iter()
        .map(|(name, text)| {
            let mut text = text.to_string();
            for (from, to) in &replacements {
                if let Some(to) = to {
                    text = text.replace(from, to);
                }
            }
            let header: String = found.header.lines().map(|l| format!("# {l}\n")).collect();
            (name.to_string(), format!("{header}{text}"))
        })
        .collect())
}

/// The custom model and its base among the installed models and their `/api/show`:
/// the first model that names a parent (`details.parent_model`); else the first that
/// shares its weights blob (the `FROM` of the shown Modelfile) with another and sets
/// more (a system prompt, more parameters), that other being its base.
pub fn custom_and_base(models: &[(String, ShowResponse)]) -> Option<(String, String)> {
    if let Some((name, show)) = models
        .iter()
        .find(|(_, s)| !s.details.parent_model.trim().is_empty())
    {
        return Some((name.clone(), show.details.parent_model.trim().to_string()));
    }
    let blob = |s: &ShowResponse| {
        s.modelfile
            .lines()
            .find_map(|l| l.trim().strip_prefix("FROM "))
            .map(|f| f.trim().to_string())
    };
    let sets = |s: &ShowResponse| {
        (
            s.system.as_deref().is_some_and(|p| !p.is_empty()),
            s.parameters.lines().count(),
        )
    };
    for (name, show) in models {
        let Some(own) = blob(show) else { continue };
        let base = models.iter().find(|(other, s)| {
            other != name && blob(s).as_deref() == Some(own.as_str()) && sets(s) < sets(show)
        });
        if let Some((base, _)) = base {
            return Some((name.clone(), base.clone()));
        }
    }
    None
}

/// The custom model's Modelfile as the server shows it: built `FROM` the base model,
/// with its parameters (`/api/show`'s `parameters`, one `key value` a line, values
/// as Ollama prints them) and its system prompt.
pub fn modelfile(base: &str, show: &ShowResponse, header: &str) -> String {
    let mut text: String = header.lines().map(|l| format!("# {l}\n")).collect();
    text.push_str(&format!("FROM {base}\n"));
    for line in show.parameters.lines() {
        let mut parts = line.trim().splitn(2, char::is_whitespace);
        if let (Some(key), Some(value)) = (parts.next(), parts.next()) {
            text.push_str(&format!("PARAMETER {key} {}\n", value.trim()));
        }
    }
    // A prompt holding the closing quotes could not be quoted: it is left out, and the
    // base model's stands in the check.
    if let Some(system) = show.system.as_deref().filter(|s| !s.contains("\"\"\"")) {
        text.push_str(&format!("SYSTEM \"\"\"{system}\"\"\"\n"));
    }
    text
}

/// The least speed to ask for: `margin_percent` under `measured`, whole above 10 tok/s,
/// to a tenth below (never 0).
pub fn target(measured: f64, margin_percent: f64) -> f64 {
    let t = measured * (1.0 - margin_percent / 100.0);
    if t >= 10.0 {
        t.floor()
    } else {
        ((t * 10.0).floor() / 10.0).max(0.1)
    }
}

/// A number as a sentence gives it: `55`, `7.5`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Found {
        Found {
            base: "llama3.2:3b".into(),
            custom: "helper".into(),
            folder: "spec".into(),
            generation: Some(55.0),
            prompt: None,
            bind: Some("127.0.0.1".into()),
            flash_attention: None,
            header: "Written by ollama-verify init.".into(),
        }
    }

    #[test]
    fn sentences_take_the_installs_values() {
        let templates = [
            ("a.feature", "Feature: A\n  Then the custom model \"my-coder\" is installed\n  Then the base model \"qwen2.5-coder:7b\" is installed\n  And the Modelfile \"setup/coding-assistant.Modelfile\"\n  The Modelfile is the one shipped in setup/ (a relative path is looked\n  up from the working folder, then from the folder above the feature files).\n"),
            ("b.feature", "Then the median generation speed is at least 40 tokens per second\nThen the median prompt processing speed is at least 100 tokens per second\nThen the unit sets OLLAMA_HOST to bind \"0.0.0.0\"\nThen the unit sets OLLAMA_FLASH_ATTENTION to \"1\"\n"),
        ];
        let files = feature_files(&templates, &found()).unwrap();
        let a = &files[0].1;
        assert!(
            a.starts_with("# Written by ollama-verify init.\nFeature: A"),
            "{a}"
        );
        assert!(
            a.contains("model \"helper\" is") && a.contains("\"llama3.2:3b\""),
            "{a}"
        );
        assert!(
            a.contains("the Modelfile \"spec/custom-model.Modelfile\""),
            "{a}"
        );
        let b = &files[1].1;
        assert!(b.contains("at least 55 tokens per second"), "{b}");
        assert!(
            b.contains("at least 100 tokens per second"),
            "unmeasured: kept"
        );
        assert!(
            b.contains("bind \"127.0.0.1\"") && b.contains("ATTENTION to \"1\""),
            "{b}"
        );
        let e = feature_files(&templates[1..], &found()).unwrap_err();
        assert!(e.contains("\"my-coder\""), "{e}");
    }

    #[test]
    fn the_modelfile_is_the_servers() {
        let show: ShowResponse = serde_json::from_value(serde_json::json!({
            "parameters": "num_ctx                        16384\nstop                           \"<|im_end|>\"\ntemperature                    0.3",
            "system": "You write Go.\nBriefly.",
            "details": {}
        }))
        .unwrap();
        let text = modelfile("qwen2.5-coder:7b", &show, "from init");
        let parsed = crate::modelfile::Modelfile::parse(&text).unwrap();
        assert_eq!(parsed.from, "qwen2.5-coder:7b");
        assert_eq!(parsed.parameter("num_ctx"), ["16384"]);
        assert_eq!(parsed.parameter("stop"), ["<|im_end|>"]);
        assert_eq!(parsed.system.as_deref(), Some("You write Go.\nBriefly."));
    }

    #[test]
    fn the_custom_model_is_the_one_built_on_another() {
        let show = |parent: &str, from: &str, system: Option<&str>| -> ShowResponse {
            serde_json::from_value(serde_json::json!({
                "modelfile": format!("# Modelfile\nFROM {from}\nTEMPLATE x\n"),
                "system": system,
                "details": {"parent_model": parent}
            }))
            .unwrap()
        };
        let named = |list: Vec<(&str, ShowResponse)>| -> Vec<(String, ShowResponse)> {
            list.into_iter().map(|(n, s)| (n.to_string(), s)).collect()
        };
        let by_parent = named(vec![
            ("base:1", show("", "/blobs/sha256-a", None)),
            (
                "mine:latest",
                show("base:1", "/blobs/sha256-a", Some("be brief")),
            ),
        ]);
        assert_eq!(
            custom_and_base(&by_parent),
            Some(("mine:latest".into(), "base:1".into()))
        );
        let by_blob = named(vec![
            ("base:1", show("", "/blobs/sha256-a", None)),
            ("other:1", show("", "/blobs/sha256-b", None)),
            ("mine:latest", show("", "/blobs/sha256-a", Some("be brief"))),
        ]);
        assert_eq!(
            custom_and_base(&by_blob),
            Some(("mine:latest".into(), "base:1".into()))
        );
        assert_eq!(
            custom_and_base(&by_blob[..2]),
            None,
            "nothing built on another"
        );
    }

    #[test]
    fn targets_leave_the_margin() {
        assert_eq!(target(69.6, 20.0), 55.0);
        assert_eq!(target(5.0, 20.0), 4.0);
        assert_eq!(target(0.01, 20.0), 0.1);
        assert_eq!(number(55.0), "55");
        assert_eq!(number(7.5), "7.5");
    }
}
