//! Markdown for a CI job summary (`--summary-md`, `$GITHUB_STEP_SUMMARY`): one table
//! row per check.

use super::Summary;
use crate::check::Status;
use crate::text::markdown_text;

impl Summary {
    /// A Markdown table fit for `$GITHUB_STEP_SUMMARY`. Values and details are text,
    /// never markup ([`markdown_text`]): `HF_TOKEN=****` does not turn bold, and an
    /// HTML page a server answered shows as text instead of vanishing in GitHub's
    /// sanitiser. Diagnosis lines follow the detail after a `<br>`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "## ollama-verify\n\n| check | status | value | detail |\n|---|---|---|---|\n",
        );
        for c in &self.checks {
            let icon = match c.status {
                Status::Pass => "✅",
                Status::Fail => "❌",
                Status::Warn => "⚠️",
                Status::Skip => "⏭️",
            };
            let mut detail = markdown_text(&c.detail);
            for d in &c.diagnosis {
                detail.push_str("<br>why: ");
                detail.push_str(&markdown_text(d));
            }
            out.push_str(&format!(
                "| {} | {icon} {} | {} | {detail} |\n",
                markdown_code(&c.id),
                c.status.label(),
                markdown_text(c.value.as_deref().unwrap_or("")),
            ));
        }
        out.push_str(&format!("\n**{}**\n", self.counts_line()));
        if let Some(facts) = &self.facts {
            out.push_str(&super::facts::facts_markdown(facts));
        }
        out
    }
}

/// A check's id as a Markdown code span; one a code span cannot hold (a backtick in
/// it) as escaped text. A `|` is escaped in either, as GFM tables want.
fn markdown_code(id: &str) -> String {
    match id.contains('`') {
        true => markdown_text(id),
        false => format!("`{}`", id.replace('|', "\\|")),
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{CheckResult, Outcome};
    use crate::report::tests::sample;
    use crate::report::Summary;

    #[test]
    fn markdown_escapes_pipes() {
        let md = sample().to_markdown();
        assert!(md.contains("no systemd \\| here"));
        assert!(md.contains("| `perf.generation` | ✅ PASS | 63.3 tok/s |"));
    }

    #[rstest::rstest]
    #[case::masked_secrets(
        "HF_TOKEN=****, AWS_SECRET=****",
        "HF\\_TOKEN=\\*\\*\\*\\*, AWS\\_SECRET=\\*\\*\\*\\*"
    )]
    #[case::emphasis("*PASSWORD* ~~x~~ `code`", "\\*PASSWORD\\* \\~\\~x\\~\\~ \\`code\\`")]
    #[case::html(
        "<!DOCTYPE html><html> & co",
        "&lt;!DOCTYPE html&gt;&lt;html&gt; &amp; co"
    )]
    #[case::rows("a\rb\nc | d", "a b c \\| d")]
    #[case::links_and_escapes("[x](http://e) C:\\dir", "\\[x\\](http://e) C:\\\\dir")]
    fn markdown_shows_text_as_text(#[case] detail: &str, #[case] shown: &str) {
        let md = Summary::new(vec![CheckResult::new(
            "api.root",
            "root",
            Outcome::fail(detail).with_value(detail),
        )])
        .to_markdown();
        assert!(
            md.contains(&format!("| `api.root` | ❌ FAIL | {shown} | {shown} |\n")),
            "{md}"
        );
    }
}
