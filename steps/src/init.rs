//! `ollama-verify init [DIR]`: writes a spec folder for the install it finds, as goss's
//! `autoadd` does: the built-in feature files with its models, its custom model's
//! Modelfile (from `/api/show`), its service's settings where they can be read, and
//! speed targets a stated margin under what it measures now. The files run
//! (`--features DIR`) and pass on the install they were written from. Nothing is
//! overwritten without `--force`.

use crate::features::FEATURES;
use crate::usage::UsageError;
use cucumber::gherkin::{Feature, GherkinEnv};
use ollama_verify::client::types::ShowResponse;
use ollama_verify::emulator::EmulatorConfig;
use ollama_verify::perf::Spread;
use ollama_verify::probe::gpu::GpuSource;
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::session::{Session, SessionOptions, Target};
use ollama_verify::spec_writer::{self, Found, MODELFILE};
use std::path::PathBuf;

/// The flags of `init`: where to write, and the target as a run takes it.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to write the spec into (created where missing).
    #[arg(default_value = "ollama-verify-spec")]
    dir: PathBuf,
    /// Overwrite the files of an earlier spec in DIR.
    #[arg(long)]
    force: bool,
    /// How far under the speeds measured now the targets are set, in percent.
    #[arg(long, default_value = "20%", value_parser = margin)]
    margin: f64,
    /// The custom model to write the spec for (default: the first model built on
    /// another, found with /api/show).
    #[arg(long)]
    model: Option<String>,
    /// What to read: native (the server at OLLAMA_HOST and this machine) or emulator.
    #[arg(long, env = "OLLAMA_VERIFY_TARGET", default_value = "native")]
    target: Target,
    /// The server's address, as OLLAMA_HOST takes it.
    #[arg(long, env = "OLLAMA_VERIFY_HOST")]
    host: Option<String>,
    /// Where GPU facts come from: nvml, nvidia-smi, emulated or none.
    #[arg(long, env = "OLLAMA_VERIFY_GPU")]
    gpu: Option<GpuSource>,
    /// The emulator target's configuration (TOML).
    #[arg(long, env = "OLLAMA_VERIFY_EMULATOR_CONFIG")]
    emulator_config: Option<PathBuf>,
}

/// `--margin`: `20%` or `20`, from 0 up to (not including) 100.
fn margin(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').trim().parse::<f64>() {
        Ok(v) if (0.0..100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a percentage from 0 up to 100 such as 20%, got `{s}`"
        )),
    }
}

/// Writes the spec; what it found and the next command on stdout. A file in the way
/// (without `--force`) or an install that cannot be read is a usage error (exit 2).
pub async fn init(args: InitArgs) -> Result<u8, UsageError> {
    if args.target == Target::Docker {
        return Err(UsageError::new("init reads an install that is running: start the container, then give --target native --host <its address>"));
    }
    let dir = &args.dir;
    let names: Vec<&str> = FEATURES
        .iter()
        .map(|(n, _)| *n)
        .chain([MODELFILE])
        .collect();
    if !args.force {
        if let Some(there) = names.iter().map(|n| dir.join(n)).find(|p| p.exists()) {
            return Err(UsageError::new(format!(
                "{} exists; give --force to overwrite the spec there, or another folder",
                there.display()
            )));
        }
    }
    let emulator = match (&args.emulator_config, args.target) {
        (Some(path), Target::Emulator) => EmulatorConfig::from_file(path)
            .map_err(|e| UsageError::new(format!("--emulator-config: {e}")))?,
        _ => EmulatorConfig::default(),
    };
    let session = Session::start(SessionOptions {
        target: args.target,
        host: args.host.clone(),
        gpu: args.gpu,
        emulator,
        ..Default::default()
    })
    .await?;
    let found = survey(&session, &args).await;
    if let Some(note) = session.finish().await {
        eprintln!("{note}");
    }
    let (found, show, notes) = found?;
    let modelfile = spec_writer::modelfile(&found.base, &show, &found.header);
    let files = spec_writer::feature_files(FEATURES, &found).map_err(UsageError::new)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError::new(format!("cannot create {}: {e}", dir.display())))?;
    for (name, text) in files.iter().chain([&(MODELFILE.to_string(), modelfile)]) {
        let path = dir.join(name);
        crate::staged::replace(&path, text)
            .map_err(|e| UsageError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    crate::say!(
        "Wrote {} feature files and {MODELFILE} to {}:",
        files.len(),
        dir.display()
    );
    for note in notes {
        crate::say!("  {note}");
    }
    crate::say!("Run them: ollama-verify --features {}", dir.display());
    Ok(crate::exit::PASSED)
}

/// What the install is: its models, the custom model's `/api/show`, its service's
/// settings and its speed; with a line for each finding.
async fn survey(
    session: &Session,
    args: &InitArgs,
) -> Result<(Found, ShowResponse, Vec<String>), UsageError> {
    let tags = session.tags().await.as_ref().map_err(|e| {
        UsageError::new(format!(
            "cannot list the installed models: {e}. Start the server, or point --host at it"
        ))
    })?;
    let local: Vec<&str> = tags
        .models
        .iter()
        .filter(|m| m.remote.parts() == (None, None))
        .map(|m| m.name.as_str())
        .collect();
    let (custom, base) = models(session, &local, args.model.as_deref()).await?;
    let show = session.show(&custom).await.map_err(|e| {
        UsageError::new(format!("cannot read {custom}'s Modelfile (/api/show): {e}"))
    })?;
    let mut notes = vec![format!(
        "models: base {base}, custom {custom} (its Modelfile from /api/show: {MODELFILE})"
    )];
    let folder = args
        .dir
        .canonicalize()
        .ok()
        .or_else(|| std::path::absolute(&args.dir).ok())
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| args.dir.display().to_string());
    let mut found = Found {
        base,
        custom: custom.clone(),
        folder,
        header: format!(
            "Written by `ollama-verify init --target {}{}`; edit freely.",
            args.target,
            args.host
                .as_deref()
                .map_or(String::new(), |h| format!(" --host {h}"))
        ),
        ..Default::default()
    };
    let (bind, flash, note) = service(session).await;
    (found.bind, found.flash_attention) = (bind, flash);
    notes.push(note);
    notes.push(speed(session, &custom, args.margin, &mut found).await);
    Ok((found, show, notes))
}

/// The custom model (`wanted`, or the first model built on another:
/// [`spec_writer::custom_and_base`]) and its base; a lone model is both.
async fn models(
    session: &Session,
    local: &[&str],
    wanted: Option<&str>,
) -> Result<(String, String), UsageError> {
    if local.is_empty() {
        return Err(UsageError::new(
            "the server lists no local model: pull or create one (`ollama pull qwen2.5-coder:7b`), then run init again",
        ));
    }
    let parent = |show: &ShowResponse| {
        let p = show.details.parent_model.trim();
        (!p.is_empty()).then(|| p.to_string())
    };
    if let Some(name) = wanted {
        let show = session.show(name).await.map_err(|e| {
            UsageError::new(format!(
                "--model {name}: the server cannot show it: {e}. Installed: {}",
                local.join(", ")
            ))
        })?;
        return Ok((name.to_string(), parent(&show).unwrap_or(name.to_string())));
    }
    let mut shown = Vec::new();
    for name in local {
        if let Ok(show) = session.show(name).await {
            shown.push((name.to_string(), show));
        }
    }
    if let Some(pair) = spec_writer::custom_and_base(&shown) {
        return Ok(pair);
    }
    Ok((local[0].to_string(), local[0].to_string()))
}

/// The service's `OLLAMA_HOST` bind address and `OLLAMA_FLASH_ATTENTION`, where the
/// target shows them, and a line saying what was found.
async fn service(session: &Session) -> (Option<String>, Option<String>, String) {
    let env = |key: &str, facts: &ServiceFacts| -> Option<String> {
        let v = match facts {
            ServiceFacts::Unit(u) => u.env(key),
            ServiceFacts::Container(c) => c.env(key),
            ServiceFacts::Unavailable(_) => None,
        }?;
        Some(ollama_verify::go::env_value(v).to_string())
    };
    let read = session.service("ollama").await.map_err(|e| e.to_string());
    match read {
        Ok(ServiceFacts::Unavailable(why)) | Err(why) => (
            None,
            None,
            format!(
                "service: its settings cannot be read here ({why}); the built-in expectations stay"
            ),
        ),
        Ok(facts) => {
            // Unset, Ollama binds 127.0.0.1; the port is the address's business.
            let bind = env("OLLAMA_HOST", &facts)
                .filter(|v| !v.trim().is_empty())
                .map(|v| bind_host(&v))
                .unwrap_or_else(|| "127.0.0.1".into());
            let flash = env("OLLAMA_FLASH_ATTENTION", &facts).filter(|v| !v.is_empty());
            let said = match &flash {
                Some(v) => format!("OLLAMA_FLASH_ATTENTION={v}"),
                None => "OLLAMA_FLASH_ATTENTION unset (the spec still asks for 1: a warning until it is set)".into(),
            };
            let note = format!("service: binds {bind}, {said}");
            (Some(bind), flash, note)
        }
    }
}

/// The host part of an `OLLAMA_HOST` value (`0.0.0.0:11434` → `0.0.0.0`).
fn bind_host(v: &str) -> String {
    let v = v.trim();
    let v = v.split_once("://").map_or(v, |(_, rest)| rest);
    let v = v.split('/').next().unwrap_or(v);
    match v.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.is_empty() => {
            host.trim_matches(['[', ']']).to_string()
        }
        _ => v.trim_matches(['[', ']']).to_string(),
    }
}

/// The speeds measured now as the performance feature measures them (its benchmark
/// prompt, 3 answers of at most 128 tokens), and the targets `margin` under them.
async fn speed(session: &Session, model: &str, margin: f64, found: &mut Found) -> String {
    let Some(prompt) = benchmark_prompt() else {
        return "speed: the built-in performance feature has no benchmark prompt; its targets stay"
            .into();
    };
    if let Err(e) = session.chat(model).await {
        return format!("speed: {model} could not answer a chat ({e}); the built-in targets stay");
    }
    let samples = match session.samples(model, &prompt, 3, 128).await {
        Ok(s) => s,
        Err(e) => return format!("speed: not measured ({e}); the built-in targets stay"),
    };
    let generation = Spread::of(samples.iter().filter_map(|s| s.server.generation_rate()));
    let prompt = Spread::of(samples.iter().filter_map(|s| s.server.prompt_rate()));
    let mut said = Vec::new();
    if let Some(g) = generation {
        let t = spec_writer::target(g.median, margin);
        found.generation = Some(t);
        said.push(format!("generation {:.1} tok/s, so at least {t}", g.median));
    }
    if let Some(p) = prompt {
        let t = spec_writer::target(p.median, margin);
        found.prompt = Some(t);
        said.push(format!("prompt {:.1} tok/s, so at least {t}", p.median));
    }
    match said.is_empty() {
        true => "speed: the answers carried no speeds; the built-in targets stay".into(),
        false => format!(
            "speed (medians of 3, targets {margin}% under): {}",
            said.join("; ")
        ),
    }
}

/// The benchmark prompt of the built-in performance feature, as its step reads it.
fn benchmark_prompt() -> Option<String> {
    let (_, text) = FEATURES.iter().find(|(n, _)| *n == "performance.feature")?;
    let feature = Feature::parse(text, GherkinEnv::default()).ok()?;
    feature
        .background?
        .steps
        .into_iter()
        .find(|s| s.value.starts_with("the benchmark prompt"))?
        .docstring
        // As the step trims it.
        .map(|p| p.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_files_take_the_values() {
        let found = Found {
            base: "b:1".into(),
            custom: "c".into(),
            folder: "spec".into(),
            generation: Some(12.0),
            ..Default::default()
        };
        let files = spec_writer::feature_files(FEATURES, &found).unwrap();
        let perf = files
            .iter()
            .find(|(n, _)| n == "performance.feature")
            .unwrap();
        assert!(
            perf.1.contains("at least 12 tokens per second"),
            "{}",
            perf.1
        );
        assert!(benchmark_prompt()
            .unwrap()
            .starts_with("Write a thread-safe counter"));
    }

    #[test]
    fn bind_addresses_lose_their_port_and_scheme() {
        for (v, host) in [
            ("0.0.0.0", "0.0.0.0"),
            ("0.0.0.0:11434", "0.0.0.0"),
            ("http://127.0.0.1:8080", "127.0.0.1"),
            ("[::]:11434", "::"),
        ] {
            assert_eq!(bind_host(v), host, "{v}");
        }
        assert_eq!(margin("20%"), Ok(20.0));
        assert!(margin("100").is_err() && margin("x").is_err());
    }
}
