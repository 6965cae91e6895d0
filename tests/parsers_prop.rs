//! Parsers under stress: whatever a server, a unit file, a Modelfile or a user hands
//! them, they return (a value or an error) and never panic; where text is rendered
//! from values, it parses back to the same values. The NDJSON stream decoder is
//! crate-private, so it is driven through the client against a socket that answers a
//! chat with arbitrary bytes: the stream must end, on a final chunk or an error.

use futures_util::StreamExt;
use ollama_verify::client::types::{ChatRequest, Message};
use ollama_verify::client::{bind_addr, parse_ollama_host};
use ollama_verify::modelfile::Modelfile;
use ollama_verify::probe::cli::parse_version;
use ollama_verify::probe::service::{parse_environment, parse_environment_file, parse_show};
use ollama_verify::text::{cap, markdown_text, printable};
use ollama_verify::{Client, ModelName, Timeouts};
use proptest::prelude::*;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

// ---- no panics on arbitrary input ----

proptest! {
    #[test]
    fn parse_environment_file_never_panics(text in "(?s).{0,400}") {
        for (k, _) in parse_environment_file(&text) {
            prop_assert!(!k.is_empty());
        }
    }

    /// What a server sends reaches a terminal or an XML report without a control
    /// character but the line feed, and a cut keeps to character boundaries.
    #[test]
    fn server_text_is_made_printable_and_cut_safely(text in "(?s).{0,200}", max in 0usize..64) {
        let shown = printable(&text);
        prop_assert!(shown.chars().all(|c| c == '\n' || !c.is_control()), "{:?}", shown);
        prop_assert_eq!(shown.chars().count(), text.chars().count());
        let cut = cap(&text, max);
        if text.len() <= max {
            prop_assert_eq!(&cut, &text);
        } else {
            let kept = cut.split("… (").next().unwrap_or_default();
            prop_assert!(text.starts_with(kept) && kept.len() <= max, "{:?}", cut);
        }
        let md = markdown_text(&text);
        prop_assert!(!md.contains('\n') && !md.contains('<') && !md.contains('>'), "{:?}", md);
        // Every `|` is escaped, so no cell of a table ends early.
        let bytes = md.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'|' {
                prop_assert!(i > 0 && bytes[i - 1] == b'\\', "{:?}", md);
            }
        }
    }

    #[test]
    fn modelfile_parse_never_panics(text in "(?s).{0,400}") {
        let _ = Modelfile::parse(&text);
    }

    /// Lines that look like Modelfile instructions reach deeper than random text.
    #[test]
    fn modelfile_parse_never_panics_on_instruction_soup(
        lines in prop::collection::vec(
            (
                prop::sample::select(vec!["FROM", "PARAMETER", "SYSTEM", "TEMPLATE", "ADAPTER", "LICENSE", "MESSAGE", "parameter", "#", ""]),
                "[ \t]{0,2}",
                prop::sample::select(vec!["num_ctx", "temperature", "stop", "user", "\"\"\"", "\"", "system", "x"]),
                "[ \t]{0,2}",
                "(?s).{0,24}",
            ),
            0..12,
        )
    ) {
        let text: String = lines
            .iter()
            .map(|(i, s1, a, s2, rest)| format!("{i}{s1}{a}{s2}{rest}\n"))
            .collect();
        if let Ok(mf) = Modelfile::parse(&text) {
            // A parsed file is usable: its parameters type.
            let _ = mf.parameters_json();
            prop_assert!(!mf.from.is_empty());
        }
    }

    #[test]
    fn parse_show_never_panics(text in "(?s).{0,400}") {
        let s = parse_show("ollama", &text);
        let _ = s.exists();
        let _ = s.env("OLLAMA_HOST");
    }

    #[test]
    fn parse_environment_never_panics(text in "(?s).{0,300}") {
        for (k, _) in parse_environment(&text) {
            prop_assert!(!k.contains('='), "keys stop at the first `=`: {k}");
        }
    }

    #[test]
    fn host_parsers_never_panic(text in "(?s).{0,80}") {
        if let Ok(url) = parse_ollama_host(&text) {
            prop_assert!(matches!(url.scheme(), "http" | "https"), "{url}");
            prop_assert!(url.port_or_known_default().is_some(), "{url}");
        }
        let _ = bind_addr(&text);
    }

    /// Host-like input: schemes, brackets, colons and ports in every order.
    #[test]
    fn host_parsers_never_panic_on_host_like_text(
        text in "(https?://)?\\[?[0-9a-f:.]{0,20}\\]?(:[0-9]{0,6})?(/[a-z]{0,4})?"
    ) {
        let _ = parse_ollama_host(&text);
        let _ = bind_addr(&text);
    }

    /// Any text, and name-like text where separators and spaces crowd together.
    #[test]
    fn model_names_never_panic_and_are_stable(
        text in prop_oneof!["(?s).{0,60}", "[a-zA-Z:/@. \t]{0,16}"]
    ) {
        let name = ModelName::parse(&text);
        let canonical = name.canonical();
        let _ = name.display_name();
        let _ = name.to_string();
        prop_assert!(name.matches(&text));
        // The canonical form names the same model.
        prop_assert_eq!(ModelName::parse(&canonical).canonical(), canonical);
    }

    #[test]
    fn parse_version_never_panics(text in "(?s).{0,200}") {
        let v = parse_version(&text);
        // Without a server line the client version is the only one known, or none.
        if v.server.is_some() && !text.contains("Warning: client version is ") {
            prop_assert_eq!(v.client, v.server);
        }
    }
}

// ---- round trips ----

/// A well-formed model name part: letters, digits, `.`, `_`, `-`.
fn name_part() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9._-]{0,11}"
}

proptest! {
    /// `ollama list`'s short form names the same model as the full name.
    #[test]
    fn display_names_parse_back(
        host in prop::option::of(prop::sample::select(vec!["registry.ollama.ai", "hf.co", "localhost:5000"])),
        namespace in prop::option::of(name_part()),
        model in name_part(),
        tag in prop::option::of(name_part()),
    ) {
        let namespace = if host.is_some() { namespace.or(Some("library".into())) } else { namespace };
        let raw = format!(
            "{}{}{model}{}",
            host.map(|h| format!("{h}/")).unwrap_or_default(),
            namespace.map(|n| format!("{n}/")).unwrap_or_default(),
            tag.as_ref().map(|t| format!(":{t}")).unwrap_or_default()
        );
        let name = ModelName::parse(&raw);
        prop_assert_eq!(name.model(), model.as_str());
        prop_assert_eq!(name.tag(), tag.as_deref().unwrap_or("latest"));
        prop_assert!(ModelName::parse(&name.display_name()).matches(&raw), "{} vs {raw}", name.display_name());
    }

    /// `version is X` lines give X back.
    #[test]
    fn version_lines_parse_back(server in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-rc[0-9])?", client in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}") {
        let v = parse_version(&format!("ollama version is {server}\nWarning: client version is {client}\n"));
        prop_assert_eq!(v.server.as_deref(), Some(server.as_str()));
        prop_assert_eq!(v.client.as_deref(), Some(client.as_str()));
        prop_assert!(v.warnings.is_empty());
    }
}

const INT_PARAMS: [&str; 4] = ["num_ctx", "num_predict", "top_k", "seed"];
const FLOAT_PARAMS: [&str; 4] = ["temperature", "top_p", "repeat_penalty", "min_p"];

/// A quoted Modelfile value as Ollama writes one: in `"` quotes, or `"""` ones where it
/// holds a `"` (there are no escapes).
fn quote(v: &str) -> String {
    if v.contains('"') {
        format!("\"\"\"{v}\"\"\"")
    } else {
        format!("\"{v}\"")
    }
}

/// A system prompt as the triple-quoted form can hold it: lines of words, no `"`.
fn system_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::collection::vec("[A-Za-z0-9.,:;!?'()<>|#{}-]{1,10}", 0..6).prop_map(|w| w.join(" ")),
        1..5,
    )
    .prop_map(|lines| lines.join("\n"))
}

proptest! {
    /// A Modelfile rendered from parameters and a system prompt parses back to them.
    #[test]
    fn rendered_modelfiles_parse_back(
        from in name_part(),
        ints in prop::collection::vec((prop::sample::select(INT_PARAMS.to_vec()), any::<i64>()), 0..4),
        floats in prop::collection::vec((prop::sample::select(FLOAT_PARAMS.to_vec()), any::<f32>().prop_filter("finite", |f| f.is_finite())), 0..4),
        // Characters Go prints: the others are dropped, as Ollama's parser drops them.
        stops in prop::collection::vec(("[ -~\u{e4}\u{e9}\u{20ac}\u{4e2d}\u{1f600}]{1,12}", any::<bool>()), 0..4),
        system in prop::option::of(system_text()),
        lower in any::<bool>(),
    ) {
        let keyword = |k: &str| if lower { k.to_ascii_lowercase() } else { k.to_string() };
        let mut text = format!("# rendered\n{} {from}\n\n", keyword("FROM"));
        let mut expected: Vec<(String, String)> = Vec::new();
        for (name, v) in &ints {
            text.push_str(&format!("{} {name} {v}\n", keyword("PARAMETER")));
            expected.push((name.to_string(), v.to_string()));
        }
        for (name, v) in &floats {
            text.push_str(&format!("{} {name} {v}\n", keyword("PARAMETER")));
            expected.push((name.to_string(), v.to_string()));
        }
        for (v, quoted) in &stops {
            // A bare value reads back if it has no spaces at its ends and opens no quote.
            let bare = v.trim() == v && !v.starts_with('"');
            let rendered = if *quoted || !bare { quote(v) } else { v.clone() };
            text.push_str(&format!("{} stop {rendered}\n", keyword("PARAMETER")));
            expected.push(("stop".into(), v.clone()));
        }
        if let Some(s) = &system {
            text.push_str(&format!("{} \"\"\"{s}\"\"\"\n", keyword("SYSTEM")));
        }
        let mf = Modelfile::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&mf.from, &from);
        prop_assert_eq!(&mf.parameters, &expected, "{}", text);
        prop_assert_eq!(&mf.system, &system);
        // Typed as /api/create sends them: the same numbers.
        let json = mf.parameters_json();
        for (name, v) in &floats {
            if floats.iter().rev().find(|(n, _)| n == name).map(|(_, last)| last) == Some(v) {
                // A float32, sent with its shortest digits as Go sends it.
                let sent: f64 = v.to_string().parse().unwrap();
                prop_assert_eq!(&json[*name], &Value::from(sent));
            }
        }
        for (name, v) in &ints {
            if ints.iter().rev().find(|(n, _)| n == name).map(|(_, last)| last) == Some(v) {
                prop_assert_eq!(&json[*name], &Value::from(*v));
            }
        }
        if !stops.is_empty() {
            let listed: Vec<Value> = stops.iter().map(|(v, _)| Value::from(v.as_str())).collect();
            prop_assert_eq!(&json["stop"], &Value::Array(listed));
        }
    }

    /// An `Environment=` value with systemd's quoting parses back to its entries.
    #[test]
    fn rendered_environments_parse_back(
        entries in prop::collection::vec(("[A-Z_][A-Z0-9_]{0,15}", "[^\\x00-\\x1f\\x7f]{0,20}"), 0..6)
    ) {
        let rendered: Vec<String> = entries
            .iter()
            .map(|(k, v)| {
                let plain = v.chars().all(|c| c.is_ascii_alphanumeric() || "_./:,-+@%=".contains(c));
                if plain {
                    format!("{k}={v}")
                } else {
                    format!("\"{k}={}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
                }
            })
            .collect();
        let line = rendered.join(" ");
        let parsed = parse_environment(&line);
        prop_assert_eq!(&parsed, &entries, "{}", line);
        let unit = parse_show("ollama", &format!("LoadState=loaded\nEnvironment={line}\n"));
        if let Some((k, v)) = entries.last() {
            prop_assert_eq!(unit.env(k), Some(v.as_str()));
        }
    }

    /// `host:port` from an address and a port gives that address back; bind-all
    /// addresses connect to loopback, and bind as given.
    #[test]
    fn ipv4_host_port_parses_back(ip in any::<[u8; 4]>(), port in any::<u16>(), scheme in any::<bool>()) {
        let ip = Ipv4Addr::from(ip);
        let text = if scheme { format!("http://{ip}:{port}") } else { format!("{ip}:{port}") };
        let url = parse_ollama_host(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let connect = if ip.is_unspecified() { Ipv4Addr::LOCALHOST } else { ip };
        prop_assert_eq!(url.host(), Some(url::Host::Ipv4(connect)));
        prop_assert_eq!(url.port_or_known_default(), Some(port));
        prop_assert_eq!(url.scheme(), "http");
        prop_assert_eq!(bind_addr(&text).ok(), Some(SocketAddr::from((ip, port))));
    }

    #[test]
    fn ipv6_host_port_parses_back(ip in any::<[u16; 8]>(), port in any::<u16>()) {
        let ip = Ipv6Addr::from(ip);
        let text = format!("[{ip}]:{port}");
        let url = parse_ollama_host(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let connect = if ip.is_unspecified() { Ipv6Addr::LOCALHOST } else { ip };
        prop_assert_eq!(url.host(), Some(url::Host::Ipv6(connect)));
        prop_assert_eq!(url.port_or_known_default(), Some(port));
        prop_assert_eq!(bind_addr(&text).ok(), Some(SocketAddr::from((ip, port))));
    }
}

// ---- the NDJSON stream decoder, through the client ----

/// Pieces a chat stream body is made of: real chunks, error lines, garbage.
fn stream_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[a-z ]{0,8}".prop_map(|c| format!(
            "{{\"model\":\"m\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"{c}\"}},\"done\":false}}\n"
        ).into_bytes()),
        1 => Just(b"{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"eval_count\":3,\"eval_duration\":1000}\n".to_vec()),
        1 => "[a-z ]{0,12}".prop_map(|m| format!("{{\"error\":\"{m}\"}}\n").into_bytes()),
        1 => Just(b"\n  \n".to_vec()),
        1 => Just(b"{\"model\": 5, \"done\": \"yes\"}\n".to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Serves one HTTP exchange on a loopback port: reads the request, answers 200 with
/// `body` as an NDJSON stream, then closes.
async fn one_shot(body: Vec<u8>) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        // Read the head and the (small) request body; the client sends its length.
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let Ok(n) = socket.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        let _ = socket.write_all(&body).await;
        let _ = socket.shutdown().await;
    });
    addr
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever bytes come back, the stream yields items and ends: on a final chunk
    /// (`done: true`) or on one error, never on a silent end, never hanging.
    #[test]
    fn chat_streams_end_on_any_bytes(pieces in prop::collection::vec(stream_piece(), 0..12)) {
        let body: Vec<u8> = pieces.concat();
        let items = runtime().block_on(async {
            let addr = one_shot(body).await;
            let url = url::Url::parse(&format!("http://{addr}")).unwrap();
            let client = Client::with_timeouts(url, Timeouts::default().capped(Duration::from_secs(5)));
            let req = ChatRequest {
                model: "m".into(),
                messages: vec![Message::user("hi")],
                ..Default::default()
            };
            tokio::time::timeout(Duration::from_secs(20), async {
                let mut stream = client.chat_stream(&req).await.map_err(|e| e.to_string())?;
                let mut items = Vec::new();
                while let Some(item) = stream.next().await {
                    items.push(item);
                }
                Ok::<_, String>(items)
            })
            .await
        });
        let items = items
            .map_err(|_| TestCaseError::fail("the stream did not end within 20 s"))?
            .map_err(|e| TestCaseError::fail(format!("the request itself failed: {e}")))?;
        prop_assert!(!items.is_empty(), "an empty body still ends with an error");
        let (last, before) = items.split_last().unwrap();
        prop_assert!(before.iter().all(|i| matches!(i, Ok(c) if !c.done)),
            "only chunks that are not final come before the end: {:?}", items);
        match last {
            Ok(chunk) => prop_assert!(chunk.done, "a stream that ends on a chunk ends on the final one"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
