//! `ollama-verify explain [FILE|-]`: the diagnosis of a pasted Ollama server log,
//! offline. The log (journalctl, server.log, docker logs; any prefix) is streamed line
//! by line through the signature catalogue, so a log of any size is read in bounded
//! memory; no server, GPU or systemd is needed.
//!
//! Exit codes: 0 the log was read and shows no problem, 1 it shows a problem, 2 the
//! input could not be diagnosed (unreadable, empty, binary, not an Ollama log).

use crate::exit;
use ollama_verify::signature::{render, Scanner};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;

/// The log showed no problem.
pub const CLEAN: u8 = exit::PASSED;
/// The log showed a problem.
pub const PROBLEM: u8 = exit::FAILED;
/// Nothing to diagnose: the input could not be read, or is no Ollama log.
pub const UNREADABLE: u8 = exit::USAGE;

/// Bytes of one line that are read; the rest of a longer line is skipped, so a file
/// without line ends cannot fill the memory.
pub const MAX_LINE: usize = 64 * 1024;
/// Bytes looked at for a NUL to tell binary input from text.
const SNIFF: usize = 8 * 1024;

/// Explains the log at `file` (`-` or none: standard input) on `out` (text, or JSON
/// with `json`); says why on `err` when there is nothing to explain. Returns the exit
/// code.
pub fn run(file: Option<&Path>, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let stdin = file.is_none_or(|f| f.as_os_str() == "-");
    let (source, reader): (String, Box<dyn Read>) = if stdin {
        if std::io::stdin().is_terminal() {
            let _ = writeln!(
                err,
                "ollama-verify explain: reading the log from standard input; paste it, then Ctrl-D"
            );
        }
        ("standard input".into(), Box::new(std::io::stdin()))
    } else {
        let path = file.unwrap_or(Path::new("-"));
        match std::fs::File::open(path) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
                return fail(
                    err,
                    &format!(
                        "{} is a folder; expected a log file, or - for standard input",
                        path.display()
                    ),
                );
            }
            Ok(f) => (path.display().to_string(), Box::new(f)),
            Err(e) => {
                return fail(err, &format!("cannot read {}: {e}; expected a server log file (`journalctl -u ollama --no-pager > ollama.log`, `docker logs ollama > ollama.log 2>&1`, or Ollama's server.log), or - for standard input", path.display()));
            }
        }
    };
    explain(&source, reader, json, out, err)
}

/// Explains the log `reader` gives, named `source` in the report.
pub fn explain(
    source: &str,
    reader: impl Read,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    match reader.fill_buf() {
        Ok(head) if head[..head.len().min(SNIFF)].contains(&0) => {
            return fail(err, &format!("{source} is binary (it holds NUL bytes), not a log; expected the text of an Ollama server log, e.g. `journalctl -u ollama --no-pager`"));
        }
        Ok(_) => {}
        Err(e) => return fail(err, &format!("cannot read {source}: {e}")),
    }
    let mut scanner = Scanner::new();
    let mut buf = Vec::with_capacity(1024);
    let mut blank = true;
    loop {
        match read_line(&mut reader, &mut buf) {
            Ok(false) => break,
            Ok(true) => {
                let line = String::from_utf8_lossy(&buf);
                blank &= line.trim().is_empty();
                scanner.push(&line);
            }
            Err(e) => return fail(err, &format!("cannot read {source}: {e}")),
        }
    }
    let d = scanner.finish();
    if blank {
        return fail(err, &format!("{source} is empty: no log lines to explain; expected an Ollama server log (`journalctl -u ollama --no-pager`, `docker logs ollama`, or server.log)"));
    }
    if !d.is_ollama() {
        return fail(err, &format!("{source} does not look like an Ollama server log: none of its {} lines is one (expected lines such as `time=… level=INFO source=…` or `llm_load_tensors: …`); nothing explained", d.lines));
    }
    let written = if json {
        serde_json::to_string_pretty(&render::json(&d, source))
            .map_err(std::io::Error::other)
            .and_then(|j| writeln!(out, "{j}"))
    } else {
        write!(out, "{}", render::text(&d, source))
    };
    // A closed stdout (`| head`) is not the log's fault: the verdict stands.
    let _ = written;
    match d.problems().is_empty() {
        true => CLEAN,
        false => PROBLEM,
    }
}

fn fail(err: &mut dyn Write, message: &str) -> u8 {
    let _ = writeln!(err, "ollama-verify explain: {message}");
    UNREADABLE
}

/// The next line into `buf` (without its `\n`), at most [`MAX_LINE`] bytes of it;
/// false at the end of the input.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let room = MAX_LINE.saturating_sub(buf.len());
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                buf.extend_from_slice(&chunk[..i.min(room)]);
                r.consume(i + 1);
                return Ok(true);
            }
            None => {
                let n = chunk.len();
                buf.extend_from_slice(&chunk[..n.min(room)]);
                r.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8]) -> Vec<Vec<u8>> {
        let mut r = BufReader::with_capacity(16, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while read_line(&mut r, &mut buf).unwrap() {
            out.push(buf.clone());
        }
        out
    }

    #[test]
    fn lines_are_read_across_buffer_ends_and_cut_when_too_long() {
        assert_eq!(lines_of(b"a\nbb\n\nccc"), [&b"a"[..], b"bb", b"", b"ccc"]);
        let long = vec![b'x'; MAX_LINE * 2];
        let mut input = long.clone();
        input.extend_from_slice(b"\nnext\n");
        let got = lines_of(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE);
        assert_eq!(got[1], b"next");
    }
}
