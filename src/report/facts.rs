//! The run's facts in each report: a line for the console, a short table for the
//! Markdown summary, properties for JUnit (the summary JSON carries them as they are).

use super::Summary;
use crate::facts::{gpu_text, model_text, RunFacts};
use crate::text::{markdown_text, printable};

impl Summary {
    /// The console's one line of facts before the closing summary
    /// (`on gpu-node-3: NVIDIA GeForce RTX 4090, driver 560.94, Ollama 0.5.7`).
    pub fn facts_line(&self) -> Option<String> {
        self.facts.as_ref()?.line().map(|l| printable(&l))
    }

    /// The facts as JUnit properties (`facts.host.name`, `facts.gpu.0.name`, ...).
    pub(crate) fn facts_properties(&self) -> Vec<(String, String)> {
        self.facts
            .as_ref()
            .map(|f| {
                f.pairs()
                    .into_iter()
                    .map(|(k, v)| (k, printable(&v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The facts as a two-column Markdown table under a heading, or nothing when none
/// is known.
pub(crate) fn facts_markdown(facts: &RunFacts) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.extend(facts.host_text().map(|h| ("host".to_string(), h)));
    for (i, g) in facts.gpus.iter().enumerate() {
        rows.push((format!("GPU {i}"), gpu_text(g)));
    }
    if let Some(o) = &facts.ollama {
        let version = o
            .version
            .clone()
            .unwrap_or_else(|| "version unknown".into());
        let text = match &o.target {
            Some(t) => format!("{version} ({t} target)"),
            None => version,
        };
        rows.push(("Ollama".into(), text));
    }
    for m in &facts.models {
        let name = m.name.clone().unwrap_or_else(|| "a model".into());
        rows.push((format!("model {name}"), model_text(m)));
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Facts\n\n| fact | value |\n|---|---|\n");
    for (k, v) in rows {
        out.push_str(&format!(
            "| {} | {} |\n",
            markdown_text(&k),
            markdown_text(&v)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::facts::{HostFacts, ModelFacts, OllamaFacts, RunFacts};
    use crate::report::tests::sample;

    fn facts() -> RunFacts {
        RunFacts {
            host: Some(HostFacts {
                name: Some("gpu-node-3".into()),
                os: Some("Ubuntu 24.04.1 LTS".into()),
                kernel: Some("6.8.0-49-generic".into()),
                wsl2: Some(false),
            }),
            gpus: vec![(&crate::gpu::emulated()).into()],
            ollama: Some(OllamaFacts {
                version: Some("0.5.7".into()),
                target: Some("native".into()),
            }),
            models: vec![ModelFacts {
                name: Some("my-coder:latest".into()),
                quantization: Some("Q4_K_M".into()),
                context_length: Some(8192),
                flash_attention: Some(true),
                ..Default::default()
            }],
        }
    }

    #[test]
    fn every_report_shows_the_facts() {
        let s = sample().with_facts(Some(facts()));
        let v: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(v["facts"]["host"]["name"], "gpu-node-3");
        assert_eq!(v["facts"]["gpus"][0]["cuda"], "12.6");
        assert_eq!(v["facts"]["models"][0]["context_length"], 8192);
        assert!(v["facts"]["models"][0].get("digest").is_none());
        let md = s.to_markdown();
        assert!(
            md.contains("| host | gpu-node-3 (Ubuntu 24.04.1 LTS, kernel 6.8.0-49-generic) |"),
            "{md}"
        );
        assert!(
            md.contains("| model my-coder:latest | Q4\\_K\\_M, context 8192, flash attention on |"),
            "{md}"
        );
        let report = quick_junit::Report::deserialize_from_str(&s.to_junit()).unwrap();
        for suite in &report.test_suites {
            let props: Vec<(&str, &str)> = suite
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str()))
                .collect();
            assert!(
                props.contains(&("facts.host.name", "gpu-node-3")),
                "{props:?}"
            );
            assert!(props.contains(&("facts.gpu.0.name", "NVIDIA GeForce RTX 3060")));
            assert!(props.contains(&("facts.ollama.version", "0.5.7")));
        }
        assert_eq!(
            s.facts_line().as_deref(),
            Some("on gpu-node-3: NVIDIA GeForce RTX 3060, driver 560.94, Ollama 0.5.7")
        );
    }

    #[test]
    fn no_facts_no_trace() {
        let s = sample();
        assert!(!s.to_json().contains("facts"));
        assert!(!s.to_markdown().contains("Facts"));
        assert_eq!(s.facts_line(), None);
    }

    #[test]
    fn facts_are_masked() {
        let mut f = facts();
        f.host.as_mut().unwrap().name = Some("HF_TOKEN=hf_live".into());
        let s = sample().with_facts(Some(f));
        assert!(!s.to_json().contains("hf_live"));
        assert_eq!(s.facts.unwrap().host_name(), Some("HF_TOKEN=****"));
    }
}
