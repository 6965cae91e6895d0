//! Modelfile parsing, as Ollama's own parser (`parser/parser.go`) reads a file: the
//! same grammar, so that what this tool expects of a model is what `ollama create`
//! made of the file.
//!
//! - Instructions (`FROM`, `PARAMETER`, `SYSTEM`, `TEMPLATE`, `ADAPTER`, `LICENSE`,
//!   `MESSAGE`, and the newer `RENDERER`, `PARSER`, `REQUIRES`, `DRAFT`) are
//!   case-insensitive; a `#` where an instruction would start begins a comment line.
//! - A value runs to the end of its line, or on across lines until it reads as a whole
//!   `"quoted"` or `"""triple-quoted"""` string. Quotes are removed, nothing else:
//!   there are no escapes (`\"` stays a backslash and a quote).
//! - Characters Go does not print (no-break space, soft hyphen, zero-width joiner...)
//!   are dropped; spaces, tabs and the line breaks inside a value are kept.
//! - Parameter names and `MESSAGE` roles are case-sensitive; a parameter is typed as
//!   Ollama's options type it, a repeated one replaces the earlier value (`stop` adds to
//!   its list), and the parameters Ollama dropped in 0.5.5 are left out, as its CLI does.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Modelfile {
    pub from: String,
    /// In file order, repeats included; [`Modelfile::parameter`] gives what the model
    /// gets. Deprecated parameters are not here but in `deprecated`.
    pub parameters: Vec<(String, String)>,
    /// Parameters the file sets that Ollama's CLI drops with a warning since 0.5.5
    /// (`mirostat`, `use_mlock`, ...): the model does not get them.
    pub deprecated: Vec<String>,
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

/// How Ollama's options type a parameter (`api.Options`, `api.Runner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Bool,
    /// A list of strings: `stop`.
    List,
}

/// The parameters Ollama knows (0.5.5 on; `draft_num_predict` is newer).
const PARAMETERS: &[(&str, Kind)] = &[
    ("num_ctx", Kind::Int),
    ("num_batch", Kind::Int),
    ("num_gpu", Kind::Int),
    ("main_gpu", Kind::Int),
    ("use_mmap", Kind::Bool),
    ("num_thread", Kind::Int),
    ("num_keep", Kind::Int),
    ("seed", Kind::Int),
    ("num_predict", Kind::Int),
    ("top_k", Kind::Int),
    ("top_p", Kind::Float),
    ("min_p", Kind::Float),
    ("typical_p", Kind::Float),
    ("repeat_last_n", Kind::Int),
    ("temperature", Kind::Float),
    ("repeat_penalty", Kind::Float),
    ("presence_penalty", Kind::Float),
    ("frequency_penalty", Kind::Float),
    ("stop", Kind::List),
    ("draft_num_predict", Kind::Int),
];

/// Dropped by Ollama's CLI with "warning: parameter ... is deprecated" (0.5.5 on).
const DEPRECATED: &[&str] = &[
    "penalize_newline",
    "low_vram",
    "f16_kv",
    "logits_all",
    "vocab_only",
    "use_mlock",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
];

/// The type of a parameter Ollama knows.
pub fn kind(name: &str) -> Option<Kind> {
    PARAMETERS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

pub fn is_deprecated(name: &str) -> bool {
    DEPRECATED.contains(&name)
}

/// One instruction as the lexer read it: Ollama's `Command`.
struct Command {
    /// `model` for FROM, the lowercased instruction, or a parameter's own name.
    name: String,
    args: String,
    line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Nil,
    Name,
    Value,
    Parameter,
    Message,
    Comment,
}

const INSTRUCTIONS: &[&str] = &[
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
];

impl Modelfile {
    /// A Modelfile's bytes as Ollama reads them: a UTF-8 byte-order mark dropped, a
    /// UTF-16 one (as Windows PowerShell writes files) decoding the rest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Modelfile, ModelfileError> {
        let utf16 = |be: bool| {
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|c| {
                    let pair = [c[0], *c.get(1).unwrap_or(&0)];
                    if be {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        };
        let text = match bytes {
            [0xfe, 0xff, ..] => utf16(true),
            [0xff, 0xfe, ..] => utf16(false),
            _ => String::from_utf8(bytes.to_vec()).map_err(|e| ModelfileError {
                line: 1 + bytes[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count(),
                message:
                    "the file is not UTF-8 (nor UTF-16 with a byte-order mark); save it as UTF-8"
                        .into(),
            })?,
        };
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Modelfile, ModelfileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let commands = lex(text)?;
        let mut mf = Modelfile::default();
        let mut from = None;
        for c in commands {
            let err = |message: String| ModelfileError {
                line: c.line,
                message,
            };
            match c.name.as_str() {
                "model" => from = Some(c.args),
                "adapter" => mf.adapter = Some(c.args),
                "template" => mf.template = Some(c.args),
                "system" => mf.system = Some(c.args),
                "license" => mf.license.push(c.args),
                "renderer" | "parser" | "requires" | "draft" => {}
                "message" => {
                    let (role, text) = c.args.split_once(": ").unwrap_or((&c.args, ""));
                    mf.messages.push((role.to_string(), text.to_string()));
                }
                name if is_deprecated(name) => mf.deprecated.push(c.name),
                name => {
                    typed_value(name, &c.args).map_err(err)?;
                    mf.parameters.push((c.name, c.args));
                }
            }
        }
        mf.from = from.filter(|f| !f.is_empty()).ok_or(ModelfileError {
            line: text.lines().count().max(1),
            message: "no FROM line: a Modelfile must name its base model (`FROM qwen2.5-coder:7b`)"
                .into(),
        })?;
        Ok(mf)
    }

    /// What the model gets for one parameter: every value of `stop`, in order; the
    /// last value of any other (a repeat replaces it); none if the file sets none.
    pub fn parameter(&self, name: &str) -> Vec<&str> {
        let mut values = self
            .parameters
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        if kind(name) == Some(Kind::List) {
            values.collect()
        } else {
            values.next_back().into_iter().collect()
        }
    }

    /// The parameters' names, each once, in the order they first appear.
    pub fn parameter_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (k, _) in &self.parameters {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
        names
    }

    /// The parameters as `/api/create` takes them: typed, `stop` a list.
    pub fn parameters_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (name, v) in &self.parameters {
            // Validated during parsing, so typing cannot fail here.
            let Ok(typed) = typed_value(name, v) else {
                continue;
            };
            match (map.get_mut(name), typed) {
                (Some(Value::Array(items)), Value::Array(more)) => items.extend(more),
                (_, typed) => {
                    map.insert(name.clone(), typed);
                }
            }
        }
        map
    }
}

/// A parameter value as Ollama's `api.FormatParams` types it: an integer
/// (`strconv.ParseInt`), a float32, a boolean (`strconv.ParseBool`: 1, t, T, TRUE,
/// true, True and their false forms) or a one-item list of strings. A name Ollama does
/// not know is refused, as `ollama create` refuses it.
pub fn typed_value(name: &str, v: &str) -> Result<Value, String> {
    match kind(name) {
        Some(Kind::Int) => v
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("PARAMETER {name} must be an integer, got `{v}`")),
        Some(Kind::Float) => v
            .parse::<f32>()
            .ok()
            .filter(|f| f.is_finite())
            // As Go encodes a float32: its shortest digits (0.3, not 0.30000001192...).
            .and_then(|f| f.to_string().parse::<f64>().ok())
            .map(Value::from)
            .ok_or_else(|| format!("PARAMETER {name} must be a number, got `{v}`")),
        Some(Kind::Bool) => parse_bool(v)
            .map(Value::Bool)
            .ok_or_else(|| format!("PARAMETER {name} must be true or false, got `{v}`")),
        Some(Kind::List) => Ok(Value::Array(vec![Value::String(v.to_string())])),
        None if name.is_empty() => Err(
            "PARAMETER without a name: Ollama reads exactly one space between PARAMETER and the name".into(),
        ),
        None => {
            let lower = name.to_ascii_lowercase();
            let hint = if kind(&lower).is_some() || is_deprecated(&lower) {
                format!(" (names are lowercase: `{lower}`)")
            } else {
                String::new()
            };
            Err(format!(
                "unknown parameter `{name}`{hint}: `ollama create` refuses it (\"unknown parameter '{name}'\")"
            ))
        }
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The instructions of `text`, read with the state machine of Ollama's `ParseFile`.
fn lex(text: &str) -> Result<Vec<Command>, ModelfileError> {
    let mut commands = Vec::new();
    let mut state = State::Nil;
    let mut buf = String::new();
    let mut name = String::new();
    let mut role = String::new();
    let mut line = 1;
    let mut start = 1; // the line the current instruction starts on
    let err = |line: usize, message: &str| ModelfileError {
        line,
        message: message.to_string(),
    };
    for c in text.chars() {
        let (next, keep) = match state {
            State::Nil => match c {
                '#' => (State::Comment, None),
                c if is_space(c) || is_newline(c) => (State::Nil, None),
                c => (State::Name, Some(c)),
            },
            State::Name => match c {
                c if c.is_ascii_alphabetic() => (State::Name, Some(c)),
                c if is_space(c) => (State::Value, None),
                _ => return Err(err(line, &unknown_instruction(&buf, c))),
            },
            State::Value => match c {
                c if is_newline(c) || is_space(c) => (State::Nil, Some(c)),
                c => (State::Value, Some(c)),
            },
            State::Parameter => match c {
                c if c.is_ascii_alphanumeric() || c == '_' => (State::Parameter, Some(c)),
                c if is_space(c) => (State::Value, None),
                c if is_newline(c) => {
                    return Err(err(
                        line,
                        &format!("PARAMETER {buf} needs a value on its line"),
                    ))
                }
                c => {
                    return Err(err(
                        line,
                        &format!("a parameter name has only letters, digits and _, got `{buf}{c}`"),
                    ))
                }
            },
            State::Message => match c {
                c if c.is_ascii_alphabetic() => (State::Message, Some(c)),
                c if is_space(c) => (State::Value, None),
                _ => {
                    return Err(err(
                        line,
                        &format!("MESSAGE {buf} needs a space and a text on its line"),
                    ))
                }
            },
            State::Comment => match c {
                c if is_newline(c) => (State::Nil, None),
                _ => (State::Comment, None),
            },
        };
        let mut next = next;
        if next != state {
            match state {
                State::Name => {
                    let instruction = buf.to_ascii_lowercase();
                    if !INSTRUCTIONS.contains(&instruction.as_str()) {
                        return Err(err(line, &unknown_instruction(&buf, c)));
                    }
                    match instruction.as_str() {
                        "from" => name = "model".into(),
                        "parameter" => next = State::Parameter,
                        "message" => {
                            next = State::Message;
                            name = instruction;
                        }
                        _ => name = instruction,
                    }
                }
                State::Parameter => name = buf.clone(),
                State::Message => {
                    if !["system", "user", "assistant"].contains(&buf.as_str()) {
                        return Err(err(
                            line,
                            &format!("MESSAGE role must be system, user or assistant (lowercase), got `{buf}`"),
                        ));
                    }
                    role = buf.clone();
                }
                State::Value => match unquote(buf.trim()) {
                    // The value goes on: inside quotes not yet closed, or past a space.
                    Some(_) if is_space(c) => {
                        buf.push(c);
                        continue;
                    }
                    None => {
                        buf.push(c);
                        if c == '\n' {
                            line += 1;
                        }
                        continue;
                    }
                    Some(value) => {
                        let args = match std::mem::take(&mut role) {
                            r if r.is_empty() => value.to_string(),
                            r => format!("{r}: {value}"),
                        };
                        commands.push(Command {
                            name: std::mem::take(&mut name),
                            args,
                            line: start,
                        });
                    }
                },
                State::Nil | State::Comment => start = line,
            }
            buf.clear();
            state = next;
        }
        if c == '\n' {
            line += 1;
        }
        if let Some(c) = keep.filter(|c| is_print(*c)) {
            buf.push(c);
        }
    }
    match state {
        State::Nil | State::Comment => {}
        State::Value => {
            let value = unquote(buf.trim()).ok_or_else(|| {
                err(
                    start,
                    "a quoted value is never closed: a \"\"\" or \" string needs its closing quotes at the end of a line",
                )
            })?;
            let args = if role.is_empty() {
                value.to_string()
            } else {
                format!("{role}: {value}")
            };
            commands.push(Command {
                name,
                args,
                line: start,
            });
        }
        State::Name | State::Parameter | State::Message => {
            return Err(err(
                start,
                &format!("`{buf}` ends the file without a value"),
            ))
        }
    }
    Ok(commands)
}

fn unknown_instruction(buf: &str, c: char) -> String {
    if is_newline(c) && INSTRUCTIONS.contains(&buf.to_ascii_lowercase().as_str()) {
        return format!("{buf} needs a space and a value on its line");
    }
    let word: String = buf.chars().chain(std::iter::once(c)).collect();
    let word = word.trim();
    format!(
        "unknown instruction `{word}`; expected FROM, PARAMETER, SYSTEM, TEMPLATE, ADAPTER, LICENSE, MESSAGE, RENDERER, PARSER, REQUIRES or DRAFT, then a space and a value"
    )
}

/// A value without its quotes, if it is whole: `"""..."""` (closing quotes at its end),
/// `"..."`, or bare. `None`: an opened quote is not closed yet.
fn unquote(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix("\"\"\"") {
        return (rest.len() >= 3 && rest.ends_with("\"\"\"")).then(|| &rest[..rest.len() - 3]);
    }
    if let Some(rest) = s.strip_prefix('"') {
        return rest.strip_suffix('"');
    }
    Some(s)
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

/// Go's `strconv.IsPrint`, closely: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Controls, other spaces, format characters (soft hyphen, zero-width
/// ones, bidi marks, the BOM), private-use characters and noncharacters are not.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    let nonchar = matches!(u, 0xFDD0..=0xFDEF) || u & 0xFFFE == 0xFFFE;
    !(format || private || nonchar)
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
    #[case::triple("FROM x\nSYSTEM \"\"\"one line\"\"\"", Some("one line"))]
    // No escapes: what is between the quotes is the value.
    #[case::no_escapes(
        "FROM x\nSYSTEM \"Reply with \\\"OK\\\".\"",
        Some("Reply with \\\"OK\\\".")
    )]
    #[case::bare("FROM x\nsystem bare words here", Some("bare words here"))]
    #[case::next_line(
        "FROM x\nSYSTEM \"\"\"\nstarts on next line\n\"\"\"",
        Some("\nstarts on next line\n")
    )]
    #[case::commented("FROM x\n# SYSTEM commented out", None)]
    // As `ollama show --modelfile` writes a multi-line text without quotes in it.
    #[case::quoted_lines(
        "FROM x\nSYSTEM \"line one\nline two\"\nPARAMETER top_k 5",
        Some("line one\nline two")
    )]
    // A """ string ends where a line ends with """.
    #[case::quote_before_close(
        "FROM x\nSYSTEM \"\"\"Always answer \"yes\"\"\"\"",
        Some("Always answer \"yes\"")
    )]
    #[case::inner_triple("FROM x\nSYSTEM \"\"\"a \"\"\" b\nc\"\"\"", Some("a \"\"\" b\nc"))]
    // Windows line ends: a one-line value loses its \r, a multi-line one keeps them.
    #[case::crlf_line("FROM x\r\nSYSTEM Be brief.\r\n", Some("Be brief."))]
    #[case::crlf_block("FROM x\r\nSYSTEM \"\"\"one\r\ntwo\"\"\"\r\n", Some("one\r\ntwo"))]
    // Characters Go does not print are dropped; a tab is kept.
    #[case::unprintable("FROM x\nSYSTEM a\u{a0}b\u{ad}c\u{200d}d\te", Some("abcd\te"))]
    #[case::empty("FROM x\nSYSTEM \"\"", Some(""))]
    #[case::last_wins("FROM x\nSYSTEM one\nSYSTEM two", Some("two"))]
    fn system_prompts(#[case] text: &str, #[case] system: Option<&str>) {
        assert_eq!(Modelfile::parse(text).unwrap().system.as_deref(), system);
    }

    #[test]
    fn template_messages_and_newer_instructions() {
        let mf = Modelfile::parse(
            "FROM ./weights.gguf\nTEMPLATE \"\"\"{{ .System }}\n{{ .Prompt }}\"\"\"\nMESSAGE user hi\nMESSAGE assistant \"hello\"\nREQUIRES 0.14.0\nRENDERER qwen3\nPARSER qwen3\n",
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

    #[test]
    fn parameters_are_typed_as_ollama_types_them() {
        let mf = Modelfile::parse(
            "FROM x\nPARAMETER temperature 0.3\nPARAMETER temperature 0.7\nPARAMETER use_mmap True\nPARAMETER stop true\nPARAMETER seed +5\nPARAMETER mirostat 2\n",
        )
        .unwrap();
        // A repeat replaces the value; `stop` is a list of strings whatever it says.
        assert_eq!(mf.parameter("temperature"), ["0.7"]);
        let json = mf.parameters_json();
        assert_eq!(json["temperature"], Value::from(0.7));
        assert_eq!(json["use_mmap"], Value::Bool(true));
        assert_eq!(json["stop"], serde_json::json!(["true"]));
        assert_eq!(json["seed"], Value::from(5));
        // Dropped by the CLI since 0.5.5.
        assert_eq!(mf.deprecated, ["mirostat"]);
        assert!(!json.contains_key("mirostat"));
        assert_eq!(
            mf.parameter_names(),
            ["temperature", "use_mmap", "stop", "seed"]
        );
    }

    #[test]
    fn byte_order_marks_are_read_as_ollama_reads_them() {
        let text = "FROM x\nSYSTEM hi\n";
        let mut utf8 = vec![0xef, 0xbb, 0xbf];
        utf8.extend_from_slice(text.as_bytes());
        let mut le = vec![0xff, 0xfe];
        let mut be = vec![0xfe, 0xff];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        for bytes in [utf8, le, be] {
            let mf = Modelfile::from_bytes(&bytes).unwrap();
            assert_eq!((mf.from.as_str(), mf.system.as_deref()), ("x", Some("hi")));
        }
        let e = Modelfile::from_bytes(b"FROM x\nSYSTEM \xff\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("not UTF-8"), "{e}");
    }

    #[rstest]
    #[case("PARAMETER num_ctx 1", 1, "no FROM")]
    #[case("", 1, "no FROM")]
    #[case("FROM x\nBOGUS y", 2, "unknown instruction `BOGUS`")]
    #[case("FROM x\nFROM\n", 2, "FROM needs a space and a value")]
    #[case(
        "FROM x\nPARAMETER num-ctx 1",
        2,
        "only letters, digits and _, got `num-`"
    )]
    #[case("FROM x\nPARAMETER num_ctx", 2, "ends the file without a value")]
    #[case("FROM x\nPARAMETER num_ctx\nSYSTEM a", 2, "needs a value")]
    #[case("FROM x\nPARAMETER num_ctx big", 2, "must be an integer")]
    #[case("FROM x\nPARAMETER temperature hot", 2, "must be a number")]
    #[case("FROM x\nPARAMETER use_mmap yes", 2, "must be true or false")]
    #[case(
        "FROM x\nPARAMETER Temperature 0.3",
        2,
        "names are lowercase: `temperature`"
    )]
    #[case(
        "FROM x\nPARAMETER temprature 0.3",
        2,
        "unknown parameter `temprature`"
    )]
    #[case("FROM x\nPARAMETER  temperature 0.3", 2, "without a name")]
    #[case("FROM x\nSYSTEM \"\"\"never\nclosed", 2, "never closed")]
    #[case("FROM x\nSYSTEM \"a\" b", 2, "never closed")]
    #[case("FROM x\nMESSAGE robot hi", 2, "role must be")]
    #[case("FROM x\nMESSAGE User hi", 2, "role must be")]
    fn errors_name_the_line(#[case] text: &str, #[case] line: usize, #[case] message: &str) {
        let e = Modelfile::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}
