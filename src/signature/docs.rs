//! The signature catalogue as a Markdown page (docs/src/signatures.md), generated so
//! the page cannot drift from the code (a test compares them).

use super::{FindingKind, CATALOGUE};

/// The page: every signature with its spellings, the releases they were seen in and
/// their proof, then how to add one.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Log signatures\n\n\
         <!-- Generated from src/signature/catalogue.rs by `signature::docs::markdown`; \
         regenerate with `UPDATE_DOCS=1 cargo test -p ollama-verify --lib signatures_page`. -->\n\n\
         `ollama-verify explain` and the `diagnose.*` checks read an Ollama server log through \
         these signatures. Each one yields a finding of one kind; each spelling is a regex \
         matched anywhere in a line (so journald, docker compose and other prefixes do not \
         matter), seen in the releases listed and proven by a real log under \
         `tests/fixtures/logs/` (or recorded in the project's Ollama facts).\n",
    );
    for kind in FindingKind::ALL {
        let sigs: Vec<_> = CATALOGUE.iter().filter(|s| s.kind == kind).collect();
        out.push_str(&format!("\n## `{kind}`\n\n"));
        if sigs.is_empty() {
            out.push_str("No signature yet: no real log line of it is among the fixtures.\n");
            continue;
        }
        for s in sigs {
            out.push_str(&format!(
                "Signature `{}`. Cause: {}. Quoted: {}. Next: {}.\n\n",
                s.id, s.cause, s.quote, s.next
            ));
            out.push_str("| pattern | seen in | proof |\n|---|---|---|\n");
            for sp in s.spellings {
                out.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    sp.regex.replace('|', "\\|"),
                    sp.versions.replace('|', "\\|"),
                    sp.proof
                ));
            }
            if let Some(w) = s.with {
                out.push_str(&format!(
                    "\nCounts only where another line matches `{}`.\n",
                    w.replace('|', "\\|")
                ));
            }
            if !s.codes.is_empty() {
                out.push_str("\n| code | name | cause | next | proof |\n|---|---|---|---|---|\n");
                for c in s.codes {
                    out.push_str(&format!(
                        "| {} | {} | {} | {} | {} |\n",
                        c.code, c.name, c.cause, c.next, c.proof
                    ));
                }
            }
            out.push('\n');
        }
    }
    out.push_str(
        "## Adding a signature\n\n\
         1. Add the real log excerpt as a fixture under `tests/fixtures/logs/` (its README \
         says how), with a `[[findings]]` entry naming the kind and the evidence.\n\
         2. Add one entry (or one spelling of an entry) to `src/signature/catalogue.rs`: \
         the regex, the releases it was seen in, and the fixture as its proof; for an error \
         code, its own cause and next step where the thread settled them.\n\
         3. Run `cargo test -p ollama-verify --test log_fixtures` (every fixture's findings \
         must be found) and regenerate this page as its comment says.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// docs/src/signatures.md is the catalogue as it is now.
    #[test]
    fn signatures_page_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/signatures.md");
        let page = super::markdown();
        if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &page).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == page,
            "{} is not the catalogue's page: run `UPDATE_DOCS=1 cargo test -p ollama-verify --lib signatures_page` and commit it",
            path.display()
        );
    }
}
