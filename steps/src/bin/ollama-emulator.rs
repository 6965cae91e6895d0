//! An `ollama`-like CLI for the emulator: `serve`, `list`, `ps`, `pull`, `create -f`,
//! `show`, `--version`. Clients talk HTTP to `OLLAMA_HOST` as the real CLI does, so this
//! binary can stand in for `ollama` on a PATH or in a container image.

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use ollama_verify::client::types::{CreateRequest, ProgressChunk};
use ollama_verify::client::{bind_addr, ChunkStream};
use ollama_verify::emulator::{Emulator, EmulatorConfig};
use ollama_verify::modelfile::Modelfile;
use ollama_verify::verdict::human_bytes;
use ollama_verify::{Client, ClientError};
use std::path::PathBuf;
use std::process::ExitCode;

/// The version this CLI reports as its own (the emulator's default server version).
const CLIENT_VERSION: &str = "0.17.1";

#[derive(Parser)]
#[command(
    name = "ollama",
    about = "Ollama emulator CLI (a subset of `ollama`)",
    disable_version_flag = true
)]
struct Cli {
    /// Show the client and server versions.
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the emulated server on OLLAMA_HOST (config: OLLAMA_EMULATOR_CONFIG, a TOML file).
    Serve,
    /// List installed models.
    #[command(alias = "ls")]
    List,
    /// List loaded models.
    Ps,
    /// Pull a model from the emulator's catalog.
    Pull { model: String },
    /// Create a model from a Modelfile.
    Create {
        model: String,
        #[arg(short = 'f', long = "file", default_value = "Modelfile")]
        file: PathBuf,
    },
    /// Remove a model.
    Rm { model: String },
    /// Show a model's information.
    Show {
        model: String,
        #[arg(long)]
        modelfile: bool,
        #[arg(long)]
        parameters: bool,
        #[arg(long)]
        system: bool,
        #[arg(long)]
        template: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match (cli.version, cli.command) {
        (true, _) => version().await,
        (false, Some(command)) => run(command).await,
        (false, None) => Err("no command given; try `ollama --help`".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn client() -> Result<Client, String> {
    Client::from_env().map_err(|e| e.to_string())
}

async fn version() -> Result<(), String> {
    match client()?.version().await {
        Ok(v) => {
            ollama_verify_steps::say!("ollama version is {}", v.version);
            if v.version != CLIENT_VERSION {
                ollama_verify_steps::say!("Warning: client version is {CLIENT_VERSION}");
            }
        }
        Err(_) => {
            ollama_verify_steps::say!("Warning: could not connect to a running Ollama instance");
            ollama_verify_steps::say!("Warning: client version is {CLIENT_VERSION}");
        }
    }
    Ok(())
}

/// What the real CLI prints for a failed request. Linux builds answer a refused
/// connection with this sentence (`cmd/start_default.go`); other errors as they are.
fn cli_error(e: ClientError) -> String {
    match e.kind() {
        ollama_verify::ErrorKind::ConnectionRefused => {
            "could not connect to ollama server, run 'ollama serve' to start it".to_string()
        }
        // The CLI talks to the server of this machine: a native install's next steps.
        _ => ollama_verify::target::Advice::Native.advise(e).to_string(),
    }
}

async fn run(command: Command) -> Result<(), String> {
    let e = cli_error;
    match command {
        Command::Serve => serve().await,
        Command::List => {
            let tags = client()?.tags().await.map_err(e)?;
            let rows = tags
                .models
                .iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        short_id(&m.digest),
                        human_bytes(m.size),
                        ago(&m.modified_at),
                    ]
                })
                .collect();
            print_table(&["NAME", "ID", "SIZE", "MODIFIED"], rows);
            Ok(())
        }
        Command::Ps => {
            let ps = client()?.ps().await.map_err(e)?;
            let rows = ps
                .models
                .iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        short_id(&m.digest),
                        human_bytes(m.size),
                        m.placement().to_string(),
                        m.context_length.map_or(String::new(), |c| c.to_string()),
                        m.expires_at.clone(),
                    ]
                })
                .collect();
            print_table(
                &["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"],
                rows,
            );
            Ok(())
        }
        Command::Rm { model } => {
            client()?.delete(&model).await.map_err(e)?;
            ollama_verify_steps::say!("deleted '{model}'");
            Ok(())
        }
        Command::Pull { model } => progress(client()?.pull(&model).await.map_err(e)?).await,
        Command::Create { model, file } => {
            let bytes = std::fs::read(&file)
                .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
            let mf = Modelfile::from_bytes(&bytes)
                .map_err(|err| format!("{}: {err}", file.display()))?;
            // As Ollama's CLI warns of what it drops.
            for name in &mf.deprecated {
                ollama_verify_steps::say!("warning: parameter {name} is deprecated");
            }
            let req = CreateRequest {
                model,
                from: Some(mf.from.clone()),
                parameters: Some(mf.parameters_json()).filter(|p| !p.is_empty()),
                system: mf.system.clone(),
                template: mf.template.clone(),
                ..Default::default()
            };
            progress(client()?.create(&req).await.map_err(e)?).await
        }
        Command::Show {
            model,
            modelfile,
            parameters,
            system,
            template,
        } => {
            let show = client()?.show(&model).await.map_err(e)?;
            if modelfile {
                ollama_verify_steps::say!("{}", show.modelfile);
            } else if parameters {
                ollama_verify_steps::say!("{}", show.parameters);
            } else if system {
                ollama_verify_steps::say!("{}", show.system.unwrap_or_default());
            } else if template {
                ollama_verify_steps::say!("{}", show.template);
            } else {
                let d = &show.details;
                ollama_verify_steps::say!("  Model");
                ollama_verify_steps::say!("    architecture        {}", d.family);
                ollama_verify_steps::say!("    parameters          {}", d.parameter_size);
                ollama_verify_steps::say!("    quantization        {}", d.quantization_level);
                ollama_verify_steps::say!();
                ollama_verify_steps::say!("  Capabilities");
                for c in &show.capabilities {
                    ollama_verify_steps::say!("    {c}");
                }
                if !show.parameters.is_empty() {
                    ollama_verify_steps::say!();
                    ollama_verify_steps::say!("  Parameters");
                    for line in show.parameters.lines() {
                        ollama_verify_steps::say!("    {line}");
                    }
                }
            }
            Ok(())
        }
    }
}

async fn serve() -> Result<(), String> {
    let host = std::env::var("OLLAMA_HOST").unwrap_or_default();
    let addr = bind_addr(&host).map_err(|e| e.to_string())?;
    let mut config = match std::env::var_os("OLLAMA_EMULATOR_CONFIG") {
        Some(path) => EmulatorConfig::from_file(std::path::Path::new(&path))?,
        None => EmulatorConfig::default(),
    };
    // The settings it runs with, as the real server reads them from its environment
    // (the configuration file's own win).
    for (k, v) in std::env::vars() {
        if k.starts_with("OLLAMA_") && k != "OLLAMA_EMULATOR_CONFIG" {
            config.env.entry(k).or_insert(v);
        }
    }
    let emulator = Emulator::bind(config, addr).await?;
    // Its log on stderr, as the real server's (`server config`, `Listening on ...`):
    // what a journal or a container log holds.
    emulator.echo_log_to_stderr();
    emulator.wait().await;
    Ok(())
}

/// Prints pull/create progress lines; a failed stream is an error.
async fn progress(mut stream: ChunkStream<ProgressChunk>) -> Result<(), String> {
    let mut last = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        match (chunk.completed, chunk.total) {
            // Like the real CLI: the layer's share done, what a progress bar reads.
            (Some(done), Some(total)) if total > 0 => ollama_verify_steps::say!(
                "{}: {:3}% {}/{}",
                chunk.status,
                done * 100 / total,
                human_bytes(done),
                human_bytes(total)
            ),
            _ if chunk.status != last => ollama_verify_steps::say!("{}", chunk.status),
            _ => {}
        }
        last = chunk.status;
    }
    Ok(())
}

fn short_id(digest: &str) -> String {
    digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect()
}

fn ago(timestamp: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(timestamp) else {
        return timestamp.to_string();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds();
    match secs {
        ..=59 => "Less than a minute ago".into(),
        60..=119 => "About a minute ago".into(),
        120..=3599 => format!("{} minutes ago", secs / 60),
        _ => format!("{} hours ago", secs / 3600),
    }
}

fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    ollama_verify_steps::say!("{}", ollama_verify::report::plain_table(headers, rows));
}
