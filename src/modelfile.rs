//! Modelfile parsing: `FROM`, `PARAMETER`, `SYSTEM`, `TEMPLATE`, `ADAPTER`, `LICENSE`,
//! `MESSAGE`; instructions are case-insensitive, `#` starts a comment line, and a value
//! may be bare, `"quoted"` or `"""triple-quoted"""` across lines.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Modelfile {
    pub from: String,
    /// In file order; `stop` may repeat.
    pub parameters: Vec<(String, String)>,
    pub system: Option<String>,
    pub template: Option<String>,
    pub adapter: Option<String>,
    pub license: Vec<String>,
    pub messages: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Modelfile line {line}: {message}")]
pub struct ModelfileError {
    pub line: usize,
    pub message: String,
}

/// Parameters whose values are integers in Ollama's options.
const INT_PARAMS: &[&str] = &[
    "num_ctx",
    "num_predict",
    "num_keep",
    "num_batch",
    "num_gpu",
    "num_thread",
    "top_k",
    "repeat_last_n",
    "seed",
    "mirostat",
];
/// Parameters whose values are floats.
const FLOAT_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "mirostat_tau",
    "mirostat_eta",
];
/// Parameters whose values are lists.
const LIST_PARAMS: &[&str] = &["stop"];

impl Modelfile {
    pub fn parse(text: &str) -> Result<Modelfile, ModelfileError> {
        let mut mf = Modelfile::default();
        let mut from = None;
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let lineno = i + 1;
            let line = lines[i].trim();
            i += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| ModelfileError {
                line: lineno,
                message,
            };
            let (instruction, rest) = line
                .split_once(char::is_whitespace)
                .map(|(a, b)| (a, b.trim_start()))
                .unwrap_or((line, ""));
            let value = |rest: &str, i: &mut usize| read_value(rest, &lines, i, lineno);
            match instruction.to_ascii_uppercase().as_str() {
                "FROM" => from = Some(value(rest, &mut i)?),
                "ADAPTER" => mf.adapter = Some(value(rest, &mut i)?),
                "SYSTEM" => mf.system = Some(value(rest, &mut i)?),
                "TEMPLATE" => mf.template = Some(value(rest, &mut i)?),
                "LICENSE" => mf.license.push(value(rest, &mut i)?),
                "PARAMETER" => {
                    let (name, v) = rest
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| err(format!("PARAMETER needs a name and a value, got `{rest}`")))?;
                    let name = name.to_ascii_lowercase();
                    let v = value(v.trim_start(), &mut i)?;
                    typed_value(&name, &v).map_err(err)?;
                    mf.parameters.push((name, v));
                }
                "MESSAGE" => {
                    let (role, v) = rest
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| err(format!("MESSAGE needs a role and a text, got `{rest}`")))?;
                    let role = role.to_ascii_lowercase();
                    if !["system", "user", "assistant"].contains(&role.as_str()) {
                        return Err(err(format!(
                            "MESSAGE role must be system, user or assistant, got `{role}`"
                        )));
                    }
                    mf.messages.push((role, value(v.trim_start(), &mut i)?));
                }
                other => {
                    return Err(err(format!(
                        "unknown instruction `{other}`; expected FROM, PARAMETER, SYSTEM, TEMPLATE, ADAPTER, LICENSE or MESSAGE"
                    )))
                }
            }
        }
        mf.from = from.filter(|f| !f.is_empty()).ok_or(ModelfileError {
            line: lines.len().max(1),
            message: "no FROM line: a Modelfile must name its base model (`FROM qwen2.5-coder:7b`)"
                .into(),
        })?;
        Ok(mf)
    }

    /// All values of one parameter, in order.
    pub fn parameter(&self, name: &str) -> Vec<&str> {
        self.parameters
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The parameters as `/api/create` takes them: numbers typed, `stop` a list.
    pub fn parameters_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (name, v) in &self.parameters {
            // Validated during parsing, so typing cannot fail here.
            let Ok(typed) = typed_value(name, v) else {
                continue;
            };
            if LIST_PARAMS.contains(&name.as_str()) {
                let entry = map
                    .entry(name.clone())
                    .or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(items) = entry {
                    items.push(typed);
                }
            } else {
                map.insert(name.clone(), typed);
            }
        }
        map
    }
}

/// A parameter value as JSON: integers and floats for known numeric parameters.
pub fn typed_value(name: &str, v: &str) -> Result<Value, String> {
    if INT_PARAMS.contains(&name) {
        v.parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("PARAMETER {name} must be an integer, got `{v}`"))
    } else if FLOAT_PARAMS.contains(&name) {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from)
            .ok_or_else(|| format!("PARAMETER {name} must be a number, got `{v}`"))
    } else if v == "true" || v == "false" {
        Ok(Value::Bool(v == "true"))
    } else {
        Ok(Value::String(v.to_string()))
    }
}

/// Reads one value starting at `rest`; a triple-quoted value may continue on following
/// lines, advancing `i`.
fn read_value(
    rest: &str,
    lines: &[&str],
    i: &mut usize,
    lineno: usize,
) -> Result<String, ModelfileError> {
    let rest = rest.trim();
    if let Some(body) = rest.strip_prefix("\"\"\"") {
        if let Some(end) = body.find("\"\"\"") {
            return Ok(body[..end].to_string());
        }
        let mut text = body.to_string();
        while *i < lines.len() {
            let line = lines[*i];
            *i += 1;
            text.push('\n');
            if let Some(end) = line.find("\"\"\"") {
                text.push_str(&line[..end]);
                return Ok(text);
            }
            text.push_str(line);
        }
        return Err(ModelfileError {
            line: lineno,
            message: "a \"\"\" string is never closed".into(),
        });
    }
    if rest.len() >= 2 && rest.starts_with('"') && rest.ends_with('"') {
        return Ok(unescape(&rest[1..rest.len() - 1]));
    }
    Ok(rest.to_string())
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(n @ ('"' | '\\'))) => {
                out.push(n);
                chars.next();
            }
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const CODER: &str = r#"# my-coder
FROM qwen2.5-coder:7b

# context window
PARAMETER num_ctx 16384
parameter temperature 0.3
PARAMETER top_p 0.9
PARAMETER repeat_penalty 1.1
PARAMETER stop "<|im_end|>"
PARAMETER stop <|endoftext|>

SYSTEM """You are a senior backend engineer.
Answer with code first.

Keep it short."""
"#;

    #[test]
    fn parses_a_full_modelfile() {
        let mf = Modelfile::parse(CODER).unwrap();
        assert_eq!(mf.from, "qwen2.5-coder:7b");
        assert_eq!(mf.parameter("num_ctx"), ["16384"]);
        assert_eq!(mf.parameter("stop"), ["<|im_end|>", "<|endoftext|>"]);
        assert_eq!(
            mf.system.as_deref(),
            Some("You are a senior backend engineer.\nAnswer with code first.\n\nKeep it short.")
        );
        let json = mf.parameters_json();
        assert_eq!(json["num_ctx"], Value::from(16384));
        assert_eq!(json["temperature"], Value::from(0.3));
        assert_eq!(
            json["stop"],
            serde_json::json!(["<|im_end|>", "<|endoftext|>"])
        );
    }

    #[rstest]
    #[case("FROM x\nSYSTEM \"\"\"one line\"\"\"", Some("one line"))]
    #[case("FROM x\nSYSTEM \"quoted \\\"inner\\\"\"", Some("quoted \"inner\""))]
    #[case("FROM x\nsystem bare words here", Some("bare words here"))]
    #[case(
        "FROM x\nSYSTEM \"\"\"\nstarts on next line\n\"\"\"",
        Some("\nstarts on next line\n")
    )]
    #[case("FROM x\n# SYSTEM commented out", None)]
    fn system_prompts(#[case] text: &str, #[case] system: Option<&str>) {
        assert_eq!(Modelfile::parse(text).unwrap().system.as_deref(), system);
    }

    #[test]
    fn template_and_messages() {
        let mf = Modelfile::parse(
            "FROM ./weights.gguf\nTEMPLATE \"\"\"{{ .System }}\n{{ .Prompt }}\"\"\"\nMESSAGE user hi\nMESSAGE assistant \"hello\"",
        )
        .unwrap();
        assert_eq!(mf.template.as_deref(), Some("{{ .System }}\n{{ .Prompt }}"));
        assert_eq!(
            mf.messages,
            [
                ("user".into(), "hi".into()),
                ("assistant".into(), "hello".into())
            ]
        );
    }

    #[rstest]
    #[case("PARAMETER num_ctx 1", 1, "no FROM")]
    #[case("", 1, "no FROM")]
    #[case("FROM x\nBOGUS y", 2, "unknown instruction `BOGUS`")]
    #[case("FROM x\nPARAMETER num_ctx", 2, "needs a name and a value")]
    #[case("FROM x\nPARAMETER num_ctx big", 2, "must be an integer")]
    #[case("FROM x\nPARAMETER temperature hot", 2, "must be a number")]
    #[case("FROM x\nSYSTEM \"\"\"never\nclosed", 2, "never closed")]
    #[case("FROM x\nMESSAGE robot hi", 2, "role must be")]
    fn errors_name_the_line(#[case] text: &str, #[case] line: usize, #[case] message: &str) {
        let e = Modelfile::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}
