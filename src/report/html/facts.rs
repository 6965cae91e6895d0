//! The host's facts (the summary's `facts` object, where a run gathered them): host,
//! GPUs, Ollama and the models measured, as key/value tables. Read as JSON, so any
//! shape of it is shown, each value as text.

use maud::{html, Markup};
use serde_json::Value;

/// The facts section, or nothing where the summary has none.
pub(super) fn facts(facts: Option<&Value>) -> Markup {
    let Some(Value::Object(groups)) = facts else {
        return html! {};
    };
    if groups.values().all(empty) {
        return html! {};
    }
    html! {
        section.facts {
            h2 { "The host" }
            @for (name, value) in groups.iter().filter(|(_, v)| !empty(v)) {
                (group(name, value))
            }
        }
    }
}

/// One group (`host`, `gpus`...): an object is a table; a list, a table per item.
fn group(name: &str, value: &Value) -> Markup {
    let items: Vec<&Value> = match value {
        Value::Array(list) => list.iter().collect(),
        other => vec![other],
    };
    html! {
        div.fact-group {
            h3 { (name) }
            @for item in items {
                (table(item))
            }
        }
    }
}

fn table(value: &Value) -> Markup {
    match value {
        Value::Object(map) => html! {
            table.facts {
                @for (key, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                    tr { th { (key) } td { (text(v)) } }
                }
            }
        },
        other => html! { p { (text(other)) } },
    }
}

/// A value as a reader reads it: a string without its quotes, a yes or no, numbers as
/// they are, anything nested as compact JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(Value::is_null),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_tables_and_absent_facts_nothing() {
        assert!(facts(None).into_string().is_empty());
        assert!(facts(Some(&serde_json::json!({"host": null})))
            .into_string()
            .is_empty());
        let v = serde_json::json!({
            "host": {"name": "<b>node</b>", "wsl2": true, "os": null},
            "gpus": [{"name": "RTX 4090"}, {"name": "RTX 3090"}]
        });
        let page = facts(Some(&v)).into_string();
        assert!(
            page.contains("<th>name</th><td>&lt;b&gt;node&lt;/b&gt;</td>"),
            "{page}"
        );
        assert!(
            page.contains("<td>yes</td>") && !page.contains(">os<"),
            "{page}"
        );
        assert_eq!(page.matches("<table").count(), 3);
    }
}
