//! Text as the reports and messages show what others wrote: made printable, cut to a
//! length, escaped for Markdown, put on one line; and the name a mistyped key meant.
//! A leaf: it imports nothing of this crate, so the client, the verdicts and the
//! reports can all use it.

/// A container id as `docker ps` shows it: its first 12 characters.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// `text` with nothing a terminal would obey or an XML 1.0 document cannot hold: a tab
/// or carriage return becomes a space, any other control character (C0 but the line
/// feed, DEL, C1: escape sequences start with them) and the non-characters U+FFFE and
/// U+FFFF become U+FFFD `�`, so that a reader sees something was there.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => '\n',
            '\t' | '\r' => ' ',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// `text` cut at `max` bytes (on a character boundary) with `…` and how much was left
/// out, where it is longer.
pub fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// `text` as Markdown that shows it literally, on one line of a table: the characters
/// Markdown and GFM give a meaning to are escaped (`<`, `>`, `&` as HTML entities, so
/// no tag reaches GitHub's sanitiser), a line break or a carriage return is a space.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` on one line (runs of whitespace as one space), cut at `max` characters with
/// `…` where it is longer.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// The name of `known` a mistyped `key` most likely meant: the nearest within two
/// edits, `-` and `_` counting alike (`fresh_volume` for `fresh-volume`).
pub fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let plain = |s: &str| s.replace('_', "-");
    let key = plain(key);
    known
        .iter()
        .copied()
        .map(|k| (strsim::levenshtein(&plain(k), &key), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("fresh_volume", Some("fresh-volume"))]
    #[case("fresh-volum", Some("fresh-volume"))]
    #[case("imagee", Some("image"))]
    #[case("enviroment", Some("environment"))]
    #[case("no_such_thing", None)]
    fn nearest_names_the_key_meant(#[case] key: &str, #[case] meant: Option<&str>) {
        let known = ["fresh-volume", "image", "environment", "volume"];
        assert_eq!(nearest(key, &known), meant);
    }

    #[rstest]
    #[case::nonchars("a\u{FFFE}b\u{FFFF}c", "a�b�c")]
    #[case::tab_and_return("a\tb\r\nc", "a b \nc")]
    #[case::escape_eats_nothing("\u{1b}[31mred\u{1b}[0m", "�[31mred�[0m")]
    #[case::c0_and_del("bell\u{7}nul\u{0}del\u{7f}", "bell�nul�del�")]
    #[case::c1("next\u{85}csi\u{9b}", "next�csi�")]
    #[case::kept("ünï 🦙 \u{E000} \u{10FFFF}", "ünï 🦙 \u{E000} \u{10FFFF}")]
    fn printable_text_keeps_what_it_can_and_marks_the_rest(
        #[case] text: &str,
        #[case] shown: &str,
    ) {
        assert_eq!(printable(text), shown);
    }

    #[test]
    fn cap_cuts_on_a_character_boundary() {
        assert_eq!(
            cap("ünï", 4),
            "ün… (2 more bytes)",
            "cut on a character boundary"
        );
        assert_eq!(cap("short", 5), "short");
    }
}
