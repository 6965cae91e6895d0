//! Findings in words: the cause, the quoted line and the next step. The one place a
//! finding becomes a sentence, for the `diagnose.*` verdicts and `explain` alike.

use super::{Diagnosis, Finding, FindingKind};
use serde_json::{json, Value};

/// A log line as a quote, cut to a readable length.
pub fn quote(line: &str) -> String {
    const MAX: usize = 240;
    let line = line.trim();
    if line.chars().count() <= MAX {
        format!("\"{line}\"")
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("\"{cut}…\"")
    }
}

/// What the finding means, with what its line names (layers, code, capability).
pub fn cause(f: &Finding) -> String {
    let sig = f.signature();
    let v = |k: &str| f.values.get(k).map(String::as_str);
    if let Some(meaning) = sig.code(f.code.as_deref()) {
        return meaning.cause.to_string();
    }
    let base = sig.cause;
    match (f.kind, f.layers) {
        (FindingKind::GpuFullOffload, Some((_, m))) => {
            return format!("all {m} layers of the model are on the GPU")
        }
        (FindingKind::OffloadPartial, Some((0, m))) => {
            return format!("none of the model's {m} layers is on the GPU: it runs on the CPU, which is several times slower")
        }
        (FindingKind::OffloadPartial, Some((n, m))) => {
            return format!("only {n} of the model's {m} layers are on the GPU; the other {} run on the CPU, which slows generation several-fold", m - n)
        }
        _ => {}
    }
    let mut extra = Vec::new();
    if let Some(code) = &f.code {
        extra.push(format!("error {code}"));
    }
    if let Some(cc) = v("cc") {
        extra.push(format!("compute capability {cc}"));
    }
    match (v("driver"), v("required")) {
        (Some(d), Some(r)) => extra.push(format!("driver {d}; the server requires {r}")),
        (Some(d), None) => extra.push(format!("driver {d}")),
        (None, Some(r)) => extra.push(format!("the server requires {r}")),
        _ => {}
    }
    if let (Some(limit), Some(prompt)) = (v("limit"), v("prompt")) {
        extra.push(format!("a {prompt}-token prompt cut to {limit} tokens"));
    }
    if let Some(how) = v("how") {
        extra.push(how.to_string());
    }
    if let Some(size) = v("size") {
        extra.push(format!("{size} of weights on the CPU"));
    }
    if let Some(list) = v("list") {
        extra.push(format!("runners [{list}]"));
    }
    match extra.is_empty() {
        true => base.to_string(),
        false => format!("{base} ({})", extra.join("; ")),
    }
}

/// What to do about it.
pub fn next(f: &Finding) -> String {
    let sig = f.signature();
    match sig.code(f.code.as_deref()) {
        Some(meaning) => meaning.next.to_string(),
        None => sig.next.to_string(),
    }
}

/// Where the finding's line is, with the count of lines that said the same.
pub fn at(f: &Finding) -> String {
    match f.repeats {
        0 => format!("line {}", f.line),
        r => format!(
            "line {} (and {r} more like it, the last at line {})",
            f.line, f.last_line
        ),
    }
}

/// One sentence: cause, quoted line, next step.
pub fn sentence(f: &Finding) -> String {
    let next = match f.kind.is_problem() {
        true => format!(" Next: {}", next(f)),
        false => String::new(),
    };
    format!("{}: {} ({}).{next}", cause(f), quote(&f.evidence), at(f))
}

/// The report `explain` prints for a log read from `source`.
pub fn text(d: &Diagnosis, source: &str) -> String {
    let problems = d.problems();
    let mut out = String::new();
    if problems.is_empty() {
        let full = d
            .of(FindingKind::GpuFullOffload)
            .last()
            .map(|f| format!(": {} ({})", cause(f), at(f)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{source}: no problem found in {} lines of an Ollama server log{full}.\n",
            d.lines
        ));
        return out;
    }
    // Findings of one kind and code share their cause and next step: said once, with
    // each line quoted.
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in &problems {
        match groups
            .iter_mut()
            .find(|g| g[0].kind == f.kind && g[0].code == f.code && cause(g[0]) == cause(f))
        {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    out.push_str(&format!(
        "{source}: {} problem(s) found in {} lines of an Ollama server log.\n",
        groups.len(),
        d.lines
    ));
    for (i, g) in groups.iter().enumerate() {
        out.push_str(&format!("\n{}. {} — {}\n", i + 1, g[0].kind, cause(g[0])));
        for f in g {
            out.push_str(&format!("   {}: {}\n", at(f), quote(&f.evidence)));
        }
        out.push_str(&format!("   next: {}\n", next(g[0])));
    }
    let healthy: Vec<String> = d
        .of(FindingKind::GpuFullOffload)
        .map(|f| format!("{} ({})", cause(f), at(f)))
        .collect();
    if !healthy.is_empty() {
        out.push_str(&format!("\nAlso seen: {}.\n", healthy.join("; ")));
    }
    if d.dropped > 0 {
        out.push_str(&format!(
            "\n{} more distinct finding(s) were not kept (at most {} are).\n",
            d.dropped,
            super::MAX_FINDINGS
        ));
    }
    out
}

/// The findings as JSON, for tools: every finding with its cause and next step.
pub fn json(d: &Diagnosis, source: &str) -> Value {
    let findings: Vec<Value> = d
        .findings
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("problem".into(), f.kind.is_problem().into());
                m.insert("cause".into(), cause(f).into());
                if f.kind.is_problem() {
                    m.insert("next".into(), next(f).into());
                }
            }
            v
        })
        .collect();
    json!({
        "source": source,
        "lines": d.lines,
        "ollama_lines": d.ollama_lines,
        "problems": d.problems().len(),
        "findings": findings,
        "dropped": d.dropped,
    })
}
