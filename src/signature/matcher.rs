//! Matching a log against the catalogue, one line at a time, in bounded memory: the
//! same line said again is counted, not kept, and at most [`MAX_FINDINGS`] distinct
//! findings are kept, so a log of any length can be streamed through.

use super::catalogue::{When, CATALOGUE};
use super::{Finding, FindingKind};
use regex::{Regex, RegexSet};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Distinct findings kept; later ones are counted in [`Diagnosis::dropped`].
pub const MAX_FINDINGS: usize = 64;
/// Bytes of a line kept as evidence (cut on a character boundary, marked `…`).
pub const MAX_EVIDENCE: usize = 600;

struct Compiled {
    set: RegexSet,
    /// Per pattern of `set`: (signature, spelling) and the regex with its groups.
    each: Vec<(usize, usize, Regex)>,
    /// Per signature: the line that must also be there, and the one that must not.
    with: Vec<Option<Regex>>,
    unless: Vec<Option<Regex>>,
    prefix: Vec<Regex>,
    ollama: Regex,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        // The catalogue's regexes are constants, compiled in a test: a bad one is a
        // bug of this program, caught before release.
        let re = |p: &str| Regex::new(p).expect("catalogue regex (tested)");
        let each: Vec<(usize, usize, Regex)> = CATALOGUE
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.spellings
                    .iter()
                    .enumerate()
                    .map(move |(j, sp)| (i, j, sp.regex))
            })
            .map(|(i, j, p)| (i, j, re(p)))
            .collect();
        Compiled {
            set: RegexSet::new(each.iter().map(|(_, _, r)| r.as_str()))
                .expect("catalogue regexes (tested)"),
            each,
            with: CATALOGUE.iter().map(|s| s.with.map(re)).collect(),
            unless: CATALOGUE.iter().map(|s| s.unless.map(re)).collect(),
            prefix: [
                // journald: `Jan 08 19:28:33 host ollama[178990]: ` (host may be missing)
                r"^[A-Za-z]{3}\s+\d{1,2}\s+\d\d:\d\d:\d\d\s+(?:\S+\s+)?[^\s\[\]]+\[\d+\]:\s?",
                // docker compose: `ollama  | `, `ollama-1  | `
                r"^[\w.-]+\s+\|\s?",
                // `docker logs -t`: an RFC 3339 time first
                r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+",
            ]
            .into_iter()
            .map(re)
            .collect(),
            ollama: re(concat!(
                r#"level=(?:DEBUG|INFO|WARN|ERROR)\s+source=|\[GIN\]|msg="|"#,
                r"\b(?:llm_load_tensors|load_tensors|llama_model_loader|llama_context|ggml_\w+|llama_kv_cache):|",
                r"\b(?:gpu|routes|llama|server|sched|memory|images|download)\.go:\d+"
            )),
        }
    })
}

/// The line without what pasting it added: journald's or docker compose's prefix, a
/// `docker logs -t` time, indentation, a Windows line end.
pub fn strip_prefix(line: &str) -> &str {
    let c = compiled();
    let mut rest = line.trim_end_matches(['\r', '\n']).trim_start();
    // A prefix may wrap another (compose over journald); three rounds cover any mix.
    for _ in 0..3 {
        let before = rest.len();
        for p in &c.prefix {
            if let Some(m) = p.find(rest) {
                rest = rest[m.end()..].trim_start();
            }
        }
        if rest.len() == before {
            break;
        }
    }
    rest
}

/// What a log said, as findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// In the order their first line came.
    pub findings: Vec<Finding>,
    /// Lines read.
    pub lines: usize,
    /// Lines that look like an Ollama server's (or matched a signature).
    pub ollama_lines: usize,
    /// Distinct findings not kept past [`MAX_FINDINGS`].
    pub dropped: usize,
}

impl Diagnosis {
    /// Whether any line looks like an Ollama server's log.
    pub fn is_ollama(&self) -> bool {
        self.ollama_lines > 0
    }

    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }

    pub fn of(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// The findings that say something is wrong, cause first.
    pub fn problems(&self) -> Vec<&Finding> {
        let mut p: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.kind.is_problem())
            .collect();
        p.sort_by_key(|f| (f.kind.rank(), f.line));
        p
    }

    /// The findings saying the server fell back to the CPU, cause first.
    pub fn cpu_fallback(&self) -> Vec<&Finding> {
        let mut p: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.kind.is_cpu_fallback())
            .collect();
        p.sort_by_key(|f| (f.kind.rank(), f.line));
        p
    }

    /// The last finding that counts the model's layers on the GPU (full or partial).
    pub fn last_layers(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.layers.is_some())
            .max_by_key(|f| f.last_line)
    }
}

type Key = (usize, usize, Option<String>, Option<(u32, u32)>);

/// Reads a log line by line ([`push`](Scanner::push)), then [`finish`](Scanner::finish).
#[derive(Default)]
pub struct Scanner {
    d: Diagnosis,
    index: HashMap<Key, usize>,
    /// Matches of signatures that depend on other lines, until the log ends.
    pending: Vec<Finding>,
    pending_index: HashMap<Key, usize>,
    with_seen: Vec<bool>,
    unless_seen: Vec<bool>,
}

impl Scanner {
    pub fn new() -> Self {
        Scanner {
            with_seen: vec![false; CATALOGUE.len()],
            unless_seen: vec![false; CATALOGUE.len()],
            ..Default::default()
        }
    }

    /// The next line of the log.
    pub fn push(&mut self, line: &str) {
        let c = compiled();
        self.d.lines += 1;
        let n = self.d.lines;
        let text = strip_prefix(line);
        for (seen, res) in [
            (&mut self.with_seen, &c.with),
            (&mut self.unless_seen, &c.unless),
        ] {
            for (i, r) in res.iter().enumerate() {
                if let Some(r) = r {
                    if !seen[i] && r.is_match(text) {
                        seen[i] = true;
                    }
                }
            }
        }
        let hits = c.set.matches(text);
        if hits.matched_any() || c.ollama.is_match(text) {
            self.d.ollama_lines += 1;
        }
        for k in hits.iter() {
            let (si, spi, re) = &c.each[k];
            let (sig, spelling) = (&CATALOGUE[*si], &CATALOGUE[*si].spellings[*spi]);
            let Some(caps) = re.captures(text) else {
                continue;
            };
            let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
            let layers = num("n").zip(num("m"));
            let counts = match spelling.when {
                When::Always => true,
                When::AllLayers => layers.is_some_and(|(n, m)| n == m && m > 0),
                When::SomeLayers => layers.is_some_and(|(n, m)| n < m),
                When::CapabilityBelow(major, minor) => caps
                    .name("cc")
                    .and_then(|cc| cc.as_str().split_once('.'))
                    .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
                    .is_some_and(|cc| cc < (major, minor)),
                When::OnlyCpuRunners => caps.name("list").is_some_and(|l| {
                    let mut runners = l
                        .as_str()
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|r| !r.is_empty())
                        .peekable();
                    runners.peek().is_some() && runners.all(|r| r.starts_with("cpu"))
                }),
            };
            if !counts {
                continue;
            }
            let code = caps.name("code").map(|m| m.as_str().to_string());
            let values: BTreeMap<String, String> = re
                .capture_names()
                .flatten()
                .filter(|g| !["n", "m", "code"].contains(g))
                .filter_map(|g| Some((g.to_string(), caps.name(g)?.as_str().to_string())))
                .collect();
            let key: Key = (*si, *spi, code.clone(), layers);
            let finding = || Finding {
                kind: sig.kind,
                signature: sig.id,
                evidence: evidence(line),
                line: n,
                code: code.clone(),
                layers,
                values: values.clone(),
                repeats: 0,
                last_line: n,
            };
            let (list, index) = match sig.with.is_some() || sig.unless.is_some() {
                true => (&mut self.pending, &mut self.pending_index),
                false => (&mut self.d.findings, &mut self.index),
            };
            match index.get(&key) {
                Some(&at) => {
                    list[at].repeats += 1;
                    list[at].last_line = n;
                }
                None if list.len() < MAX_FINDINGS => {
                    index.insert(key, list.len());
                    list.push(finding());
                }
                None => self.d.dropped += 1,
            }
        }
    }

    pub fn finish(mut self) -> Diagnosis {
        for f in std::mem::take(&mut self.pending) {
            let i = CATALOGUE.iter().position(|s| s.id == f.signature);
            let sig = i.map(|i| &CATALOGUE[i]);
            let counts = i.zip(sig).is_some_and(|(i, s)| {
                (s.with.is_none() || self.with_seen[i])
                    && (s.unless.is_none() || !self.unless_seen[i])
            });
            if counts {
                if self.d.findings.len() < MAX_FINDINGS {
                    self.d.findings.push(f);
                } else {
                    self.d.dropped += 1;
                }
            }
        }
        self.d.findings.sort_by_key(|f| f.line);
        self.d
    }
}

/// The line as evidence: its end trimmed, cut to [`MAX_EVIDENCE`] bytes.
fn evidence(line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.len() <= MAX_EVIDENCE {
        return line.to_string();
    }
    let mut end = MAX_EVIDENCE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// The findings of a whole log held as text.
pub fn scan(text: &str) -> Diagnosis {
    let mut s = Scanner::new();
    text.lines().for_each(|l| s.push(l));
    s.finish()
}

/// The findings of a log's lines (a [`ServerLog`](crate::probe::logs::ServerLog)'s).
pub fn scan_lines<S: AsRef<str>>(lines: &[S]) -> Diagnosis {
    let mut s = Scanner::new();
    lines.iter().for_each(|l| s.push(l.as_ref()));
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn every_catalogue_regex_compiles() {
        let c = compiled();
        assert_eq!(
            c.each.len(),
            CATALOGUE.iter().map(|s| s.spellings.len()).sum::<usize>()
        );
    }

    // Prefixes from the fixtures: journald with and without a host, docker compose,
    // markdown indentation.
    #[rstest]
    #[case(
        "Jan 08 19:28:33 XDFAF ollama[178990]: 2024/01/08 19:28:33 gpu.go:39: x",
        "2024/01/08 19:28:33 gpu.go:39: x"
    )]
    #[case(
        "jun 18 13:23:19 ollama[22256]: time=2024-06-18T13:23:19.008+02:00 level=ERROR",
        "time=2024-06-18T13:23:19.008+02:00 level=ERROR"
    )]
    #[case(
        "ollama  | time=2025-01-16T04:29:50.395Z level=WARN",
        "time=2025-01-16T04:29:50.395Z level=WARN"
    )]
    #[case(
        "    cuda driver library failed to get device context 800",
        "cuda driver library failed to get device context 800"
    )]
    #[case(
        "llm_load_tensors: offloaded 43/43 layers to GPU\r",
        "llm_load_tensors: offloaded 43/43 layers to GPU"
    )]
    fn pasting_prefixes_are_stripped(#[case] line: &str, #[case] bare: &str) {
        assert_eq!(strip_prefix(line), bare);
    }

    #[test]
    fn repeated_lines_are_counted_not_kept() {
        let line = "    cuda driver library failed to get device context 800time=2025-07-11T07:00:00.476Z level=WARN source=gpu.go:434 msg=\"error looking up nvidia GPU memory\"";
        let d = scan_lines(&vec![line; 1000]);
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.findings[0].repeats, 999);
        assert_eq!(d.findings[0].last_line, 1000);
        assert_eq!(d.findings[0].code.as_deref(), Some("800"));
    }

    #[test]
    fn text_of_another_program_is_not_an_ollama_log() {
        let d = scan("hello world\nthe quick brown fox\n");
        assert!(!d.is_ollama());
        assert!(d.findings.is_empty());
    }

    #[test]
    fn evidence_is_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_EVIDENCE);
        let e = evidence(&long);
        assert!(e.len() <= MAX_EVIDENCE + '…'.len_utf8());
        assert!(e.ends_with('…'));
    }
}
