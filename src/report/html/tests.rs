use super::*;
use crate::check::{CheckResult, Outcome};
use crate::figure::{Figure, Quantity};

fn spec() -> Vec<SpecFeature> {
    vec![SpecFeature {
        file: "performance.feature".into(),
        name: "Performance".into(),
        description: "As a user\nI want a fast model".into(),
        scenarios: vec![
            SpecScenario {
                name: "Generation speed".into(),
                checks: vec!["perf.generation".into()],
                steps: vec![
                    "Given the model \"m\" is loaded".into(),
                    "Then it generates at least 40 tokens per second".into(),
                ],
            },
            SpecScenario {
                name: "The API answers".into(),
                checks: vec!["api.root".into()],
                steps: vec!["Then the API answers".into()],
            },
        ],
    }]
}

fn summary() -> Summary {
    Summary::new(vec![
        CheckResult::new(
            "perf.generation",
            "Generation speed",
            Outcome::fail("expected at least 40 tok/s, measured 35.0. Is the model on the GPU?")
                .with_value("35.0 tok/s")
                .with_figure(
                    Figure::new(Quantity::GenerationRate, 35.0)
                        .samples(vec![34.0, 35.0, 36.5])
                        .target(40.0),
                ),
        ),
        CheckResult::new(
            "api.root",
            "The API answers",
            Outcome::pass("HTTP 200: <script>alert(1)</script>"),
        ),
        CheckResult::new("x.feature:12", "untagged", Outcome::fail("a step failed")),
    ])
}

/// A server's text is text: no tag of it reaches the page.
#[test]
fn server_text_is_escaped() {
    let page = summary().to_html(&spec());
    assert!(!page.contains("<script"), "a script tag got through");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !page.contains("src=") && !page.contains("href=\"http"),
        "nothing is fetched"
    );
}

#[test]
fn charts_are_drawn_where_figures_exist() {
    let page = summary().to_html(&spec());
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 1, "{page}");
    let bare = Summary::new(vec![CheckResult::new(
        "perf.generation",
        "Generation speed",
        Outcome::pass("fast").with_value("50 tok/s"),
    )]);
    assert!(!bare.to_html(&spec()).contains("<svg class=\"chart\""));
}

/// Every check appears: those the scenarios decide in place, the rest after them; a
/// scenario without a result says it was not run.
#[test]
fn every_result_appears() {
    let page = summary().to_html(&spec());
    for id in [
        "check-perf.generation",
        "check-api.root",
        "check-x.feature:12",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let only_one = Summary::new(vec![CheckResult::new("api.root", "r", Outcome::pass("ok"))]);
    assert!(only_one
        .to_html(&spec())
        .contains("<details class=\"scenario notrun\">"));
}

/// The page's body, a tag a line (the style sheet is left out: it is no wording).
#[test]
fn a_small_page() {
    let page = summary().to_html(&spec());
    let body = &page[page.find("<body>").expect("a body")..];
    insta::assert_snapshot!(body.replace('>', ">\n"));
}
