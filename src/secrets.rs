//! Which variables hold secrets, and masking their values (and a URL's password) in
//! any text a report or a message shows. A leaf: it imports nothing of this crate.

/// Names of variables that hold secrets, as `*` patterns matched case-insensitively:
/// what reports mask and what `security.masking` looks for by default.
pub const SECRET_PATTERNS: [&str; 4] = ["*_KEY", "*_TOKEN", "*_SECRET", "*PASSWORD*"];

/// What a masked value shows.
pub const MASK: &str = "****";

/// Whether `name` matches the `*` pattern `pattern`, ignoring case.
pub fn name_matches(name: &str, pattern: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let pattern = pattern.to_ascii_uppercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty(); // no `*`: the whole name
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether a variable's name looks like it holds a secret ([`SECRET_PATTERNS`]).
pub fn looks_secret(name: &str) -> bool {
    SECRET_PATTERNS.iter().any(|p| name_matches(name, p))
}

/// `value` as a report may show it: masked when `name` looks like a secret's.
pub fn mask_value<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if looks_secret(name) && !value.is_empty() {
        MASK.into()
    } else {
        value.into()
    }
}

/// Masks the value of every `NAME=value` in `text` whose name looks like a secret's:
/// `HF_TOKEN=hf_abc` → `HF_TOKEN=****`. A value runs to the next space, quote or
/// separator; quoted ones (`NAME="a b"`, `"NAME=a b"`) to their closing quote.
pub fn mask_secrets(text: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while let Some(eq) = text[i..].find('=').map(|e| e + i) {
        let start = text[..eq]
            .char_indices()
            .rev()
            .take_while(|(_, c)| ident(*c))
            .last()
            .map_or(eq, |(s, _)| s);
        i = eq + 1;
        if start == eq || !looks_secret(&text[start..eq]) {
            continue;
        }
        let after = &text[eq + 1..];
        let quote_before = text[..start].ends_with('"').then_some('"');
        let (skip, end) = match (quote_before, after.chars().next()) {
            (Some(q), _) => (0, closing(after, q)),
            (None, Some(q @ ('"' | '\''))) => (1, 1 + closing(&after[1..], q)),
            _ => (
                0,
                after
                    .find(|c: char| c.is_whitespace() || "\"'`,;)]}".contains(c))
                    .unwrap_or(after.len()),
            ),
        };
        let (from, to) = (eq + 1 + skip, eq + 1 + end);
        if to > from {
            out.push_str(&text[copied..from]);
            out.push_str(MASK);
            copied = to;
        }
        i = to.max(i);
    }
    out.push_str(&text[copied..]);
    // And a password in a URL, whatever the name it is set under.
    mask_url_credentials(&out).unwrap_or(out)
}

/// `value` with the credentials of every URL in it masked (`http://user:pass@proxy`
/// is `http://****@proxy`), or `None` when no URL in it holds a password.
pub fn mask_url_credentials(value: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    let mut found = false;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | ',' | ';') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rsplit_once('@') {
            Some((userinfo, host))
                if userinfo
                    .split_once(':')
                    .is_some_and(|(_, pass)| !pass.is_empty()) =>
            {
                found = true;
                out.push_str(MASK);
                out.push('@');
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    found.then_some(out)
}

/// Where the quoted text starting at `s` ends: the first `q` not escaped by `\`.
fn closing(s: &str, q: char) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == q => return i,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("HF_TOKEN", true)]
    #[case("openai_api_key", true)]
    #[case("AWS_SECRET", true)]
    #[case("DB_PASSWORD_FILE", true)]
    #[case("PASSWORD", true)]
    #[case("OLLAMA_KEEP_ALIVE", false)]
    #[case("KEY", false)]
    #[case("TOKENIZER", false)]
    #[case("OLLAMA_HOST", false)]
    fn secret_names(#[case] name: &str, #[case] secret: bool) {
        assert_eq!(looks_secret(name), secret, "{name}");
    }

    #[rstest]
    #[case("HF_TOKEN=hf_abc123", "HF_TOKEN=****")]
    #[case(
        "HF_TOKEN=hf_abc OLLAMA_HOST=0.0.0.0",
        "HF_TOKEN=**** OLLAMA_HOST=0.0.0.0"
    )]
    #[case(
        "expected API_KEY=x, saw API_KEY=y.",
        "expected API_KEY=****, saw API_KEY=****"
    )]
    #[case("\"MY_SECRET=a b c\" X=1", "\"MY_SECRET=****\" X=1")]
    #[case("MY_SECRET='a b' X=1", "MY_SECRET='****' X=1")]
    #[case("DB_PASSWORD=\"p\\\"q\" X=1", "DB_PASSWORD=\"****\" X=1")]
    #[case("HF_TOKEN= empty", "HF_TOKEN= empty")]
    #[case("OLLAMA_ORIGINS=* a=b == =", "OLLAMA_ORIGINS=* a=b == =")]
    #[case("ünï HF_TOKEN=ß", "ünï HF_TOKEN=****")]
    fn masks_values_of_secret_names(#[case] text: &str, #[case] masked: &str) {
        assert_eq!(mask_secrets(text), masked);
    }
}
