//! `ollama pull`'s output read for a progress bar, through the CLI's redraws.

/// `ollama pull`'s output as it arrives, read for a progress bar. The real CLI draws
/// on stderr a frame of lines ("pulling manifest", a bar per layer, "verifying sha256
/// digest", ...) every 100 ms and redraws it in place with CSI sequences (ESC[A up,
/// ESC[1G to column 1, ESC[K erase, ESC[?2026h/l and ESC[?25l/h around each frame),
/// with no newline after a frame until the pull ends (ollama progress/progress.go); the
/// emulator's CLI prints plain lines. Text is cut at every CSI sequence, `\r` and `\n`, and read only once a cut
/// ends it (a piece may stop inside an escape or a UTF-8 character).
#[derive(Debug, Default)]
pub(super) struct PullProgress {
    pending: Vec<u8>,
    /// Each layer's bar as last drawn: its name, its size when read, its percentage.
    layers: Vec<(String, Option<u64>, u64)>,
    /// The newest line: a status, or a layer's name; no escapes, at most 50 characters.
    message: String,
}

impl PullProgress {
    pub(super) fn feed(&mut self, piece: &[u8]) {
        self.pending.extend_from_slice(piece);
        let mut lines = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < self.pending.len() {
            let cut = match self.pending[i] {
                b'\r' | b'\n' => Some(1),
                0x1b => match escape_len(&self.pending[i..]) {
                    Some(n) => Some(n),
                    // An escape the piece cut short: wait for the rest.
                    None => break,
                },
                _ => None,
            };
            match cut {
                Some(n) => {
                    lines.push(String::from_utf8_lossy(&self.pending[start..i]).into_owned());
                    i += n;
                    start = i;
                }
                None => i += 1,
            }
        }
        self.pending.drain(..start);
        for line in lines {
            self.line(&line);
        }
    }

    fn line(&mut self, line: &str) {
        // The spinner's braille frame goes; control characters never reach the bar.
        let text: String = line
            .chars()
            .filter(|c| !c.is_control() && !('\u{2800}'..='\u{28ff}').contains(c))
            .collect();
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let layer = text
            .find('%')
            .and_then(|p| text[..p].rfind(':').map(|c| (c, p)))
            .and_then(|(c, p)| Some((c, p, percent(text)?)));
        let shown = match layer {
            Some((colon, at, pct)) => {
                let name = text[..colon].trim().to_string();
                let size = layer_size(&text[at + 1..]);
                match self.layers.iter_mut().find(|l| l.0 == name) {
                    Some(l) => {
                        l.1 = size.or(l.1);
                        l.2 = pct;
                    }
                    None => self.layers.push((name.clone(), size, pct)),
                }
                name
            }
            None => text.to_string(),
        };
        self.message = shown.chars().take(50).collect();
    }

    /// The largest layer's percentage (the weights: what takes the time).
    pub(super) fn percent(&self) -> Option<u64> {
        let mut largest: Option<&(String, Option<u64>, u64)> = None;
        for layer in &self.layers {
            if largest.is_none_or(|l| layer.1 > l.1) {
                largest = Some(layer);
            }
        }
        largest.map(|l| l.2)
    }

    pub(super) fn message(&self) -> &str {
        &self.message
    }
}

/// The length of the escape sequence `bytes` starts with (ESC[ parameters, final byte;
/// or ESC and one byte), `None` while incomplete.
pub(super) fn escape_len(bytes: &[u8]) -> Option<usize> {
    match bytes.get(1)? {
        b'[' => {
            let mut j = 2;
            while (0x20..=0x3f).contains(bytes.get(j)?) {
                j += 1;
            }
            // The final byte (0x40..=0x7e); anything else ends a malformed one.
            Some(if (0x40..=0x7e).contains(&bytes[j]) {
                j + 1
            } else {
                j
            })
        }
        _ => Some(2),
    }
}

/// A layer's size from what its bar shows after the percentage: `▏ 1.9 GB/4.7 GB  50
/// MB/s  1m2s` while it downloads, `▏ 4.7 GB` once done (ollama's format.HumanBytes).
fn layer_size(after: &str) -> Option<u64> {
    let sizes = after.rsplit('▏').next().unwrap_or(after);
    let total = match sizes.split_once('/') {
        Some((_, total)) => total,
        None => sizes,
    };
    let mut words = total.split_whitespace();
    let number: f64 = words.next()?.parse().ok()?;
    let unit = match words.next()? {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((number * unit) as u64)
}

fn percent(line: &str) -> Option<u64> {
    let i = line.find('%')?;
    let digits: String = line[..i]
        .chars()
        .rev()
        .skip_while(|c| *c == ' ')
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .ok()
        .filter(|p| *p <= 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("pulling dae161e27b0e:  42% ▕████  ▏ 1.9 GB/4.7 GB", Some(42))]
    #[case("pulling manifest", None)]
    #[case("100%", Some(100))]
    #[case("disk 250% full", None)]
    fn percentages(#[case] line: &str, #[case] pct: Option<u64>) {
        assert_eq!(percent(line), pct);
    }

    /// Frames as the real CLI draws them (ollama progress.go and bar.go): synchronised
    /// output around each, the cursor moved up and to column 1, each line erased to
    /// its end, no newline until the end.
    fn frame(lines: &[&str], up: usize) -> String {
        let mut f = String::from("\x1b[?2026h\x1b[?25l");
        f.push_str(&"\x1b[A".repeat(up));
        f.push_str("\x1b[1G");
        f.push_str(
            &lines
                .iter()
                .map(|l| format!("{l}\x1b[K"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        f.push_str("\x1b[?25h\x1b[?2026l");
        f
    }

    #[test]
    fn the_pull_progress_reads_the_real_cli_redraws() {
        const WEIGHTS: &str = "pulling 60e05f210007:";
        let bar = |pct: u32, done: &str| {
            format!(
                "{WEIGHTS} {pct:3}% ▕{:<40}▏ {done}/4.7 GB   53 MB/s   1m17s",
                "█".repeat(pct as usize * 40 / 100)
            )
        };
        let small = "pulling 66b9ea09bd5b: 100% ▕████████████████████████████████████████▏   68 B                         ";
        let stream = [
            frame(&["pulling manifest ⠋"], 0),
            frame(&["pulling manifest ⠙"], 0),
            frame(&["pulling manifest ", &bar(3, "141 MB")], 0),
            frame(&["pulling manifest ", &bar(42, "1.9 GB")], 1),
            // A small layer done after the weights' bar: the bar stays on the weights.
            frame(&["pulling manifest ", &bar(57, "2.7 GB"), small], 1),
            frame(
                &[
                    "pulling manifest ",
                    &format!(
                        "{WEIGHTS} 100% ▕{}▏ 4.7 GB                         ",
                        "█".repeat(40)
                    ),
                    small,
                    "verifying sha256 digest ⠹",
                ],
                2,
            ),
        ]
        .concat()
            + "\n";
        let bytes = stream.as_bytes();
        // Cut into pieces that stop inside escapes and inside multi-byte characters.
        let mut progress = PullProgress::default();
        let mut percents = Vec::new();
        let mut messages = Vec::new();
        for piece in bytes.chunks(7) {
            progress.feed(piece);
            percents.extend(progress.percent());
            messages.push(progress.message().to_string());
        }
        percents.dedup();
        assert_eq!(percents, vec![3, 42, 57, 100]);
        for m in &messages {
            assert!(
                !m.contains('\x1b') && !m.contains('['),
                "an escape reached the bar: {m:?}"
            );
            assert!(!m.chars().any(char::is_control), "{m:?}");
            assert!(m.chars().count() <= 50, "{m:?}");
        }
        assert!(
            messages.contains(&"pulling manifest".to_string()),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"pulling 60e05f210007".to_string()),
            "{messages:?}"
        );
        assert_eq!(progress.message(), "verifying sha256 digest");
        assert!(progress.pending.is_empty());
    }

    #[test]
    fn the_pull_progress_reads_plain_lines_too() {
        // The emulator's CLI, and an old CLI that redrew with \r.
        let mut progress = PullProgress::default();
        progress.feed(b"pulling manifest\npulling dae161e27b0e:  40% 1.9 GB/4.7 GB\n");
        assert_eq!(progress.percent(), Some(40));
        progress
            .feed(b"pulling dae161e27b0e:  80% 3.8 GB/4.7 GB\rpulling 0123456789ab: 100% 487 B\n");
        assert_eq!(progress.percent(), Some(80));
        progress.feed(b"success\n");
        assert_eq!(progress.message(), "success");
    }

    #[rstest]
    #[case(" ▕██▏ 1.9 GB/4.7 GB   53 MB/s   1m17s", Some(4_700_000_000))]
    #[case(" ▕██▏   68 B          ", Some(68))]
    #[case(" 141 MB/986 MB", Some(986_000_000))]
    #[case(" ▕██▏", None)]
    fn layer_sizes(#[case] after: &str, #[case] size: Option<u64>) {
        assert_eq!(layer_size(after), size);
    }

    #[test]
    fn escapes_are_measured_or_awaited() {
        assert_eq!(escape_len(b"\x1b[?2026hX"), Some(8));
        assert_eq!(escape_len(b"\x1b[A"), Some(3));
        assert_eq!(escape_len(b"\x1b[K"), Some(3));
        assert_eq!(escape_len(b"\x1b[?20"), None);
        assert_eq!(escape_len(b"\x1b"), None);
        assert_eq!(escape_len(b"\x1b7"), Some(2));
    }

    proptest::proptest! {
        /// Whatever bytes `ollama pull` writes, in whatever pieces they arrive, the
        /// reader neither panics nor passes a control character to the progress bar.
        #[test]
        fn the_pull_progress_takes_any_bytes(
            pieces in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), 0..20),
        ) {
            let mut p = PullProgress::default();
            for piece in &pieces {
                p.feed(piece);
                proptest::prop_assert!(p.message().chars().all(|c| !c.is_control()));
                proptest::prop_assert!(p.message().chars().count() <= 50);
                let _ = p.percent();
            }
        }
    }
}
