//! `OLLAMA_ORIGINS` as Ollama and gin-contrib/cors read it: which entries keep the
//! server from starting, and which let every web page call it.

/// The schemes gin-contrib/cors (v1.7.2, as Ollama configures it: browser extensions
/// allowed) accepts in an origin without `*`.
const ORIGIN_SCHEMES: [&str; 6] = [
    "http://",
    "https://",
    "chrome-extension://",
    "safari-extension://",
    "moz-extension://",
    "ms-browser-extension://",
];

/// `OLLAMA_ORIGINS` as Ollama reads it (`envconfig.AllowedOrigins`): the value trimmed
/// of spaces, then quotes, split on `,`, each entry kept as written. Ollama adds its
/// own (localhost, 127.0.0.1, 0.0.0.0, app://, file://, tauri://, vscode-webview://
/// ...), none of which lets every page call it.
pub(super) fn origin_entries(value: &str) -> Vec<&str> {
    match crate::go::env_value(value) {
        "" => Vec::new(),
        v => v.split(',').collect(),
    }
}

/// An origin entry that keeps Ollama from starting: gin-contrib/cors panics in
/// `cors.New` on one without `*` and without an allowed scheme (`Validate`, checked
/// first), or with more than one `*` (`parseWildcardRules`).
#[derive(Debug, Clone, PartialEq)]
pub enum RefusedOrigin {
    /// Neither `*` nor an allowed scheme: the entry, as written.
    NoScheme(String),
    /// More than one `*`.
    Wildcards(String),
}

pub(super) fn refused_origin(entries: &[&str]) -> Option<RefusedOrigin> {
    if let Some(bad) = entries
        .iter()
        .find(|e| !e.contains('*') && !ORIGIN_SCHEMES.iter().any(|s| e.starts_with(s)))
    {
        return Some(RefusedOrigin::NoScheme(bad.to_string()));
    }
    entries
        .iter()
        .find(|e| e.matches('*').count() > 1)
        .map(|bad| RefusedOrigin::Wildcards(bad.to_string()))
}

impl RefusedOrigin {
    /// Why Ollama refuses it, as the rest of a sentence.
    pub(super) fn why(&self) -> String {
        let shown = |e: &str| match e {
            "" => "an empty entry (a trailing or doubled comma)".to_string(),
            e if e.starts_with(char::is_whitespace) => {
                format!("`{e}` (the space after the comma is part of it)")
            }
            e => format!("`{e}`"),
        };
        match self {
            RefusedOrigin::NoScheme(bad) => format!(
                "{}, which is not `*`, holds no `*` and does not start with {}: Ollama panics at startup with \"bad origin: origins must contain '*' or include {}\"",
                shown(bad),
                ORIGIN_SCHEMES.join(", "),
                ORIGIN_SCHEMES.join(",")
            ),
            RefusedOrigin::Wildcards(bad) => format!(
                "{}, with more than one `*`: Ollama panics at startup with \"only one * is allowed\"",
                shown(bad)
            ),
        }
    }
}

/// Whether an entry lets every web page call the API: `any_origin` (`*`), or a
/// wildcard gin-contrib/cors (`AllowWildcard`) matches against every page of a
/// scheme: one `*` at the end of a fixed part that is no more than the scheme
/// (`http://*`, `https://*`; `*` alone).
pub(super) fn every_origin(entry: &str, any_origin: &str) -> bool {
    if entry == any_origin {
        return true;
    }
    match entry.strip_suffix('*') {
        Some(fixed) if !fixed.contains('*') => {
            "http://".starts_with(fixed) || "https://".starts_with(fixed)
        }
        _ => false,
    }
}
