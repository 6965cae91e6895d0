//! `ollama-verify`: verifies an Ollama install; `ollama-verify emulator` serves the
//! built-in Ollama stand-in.

use clap::{Parser, Subcommand};
use ollama_verify::emulator::{Emulator, EmulatorConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ollama-verify",
    version,
    about = "Verify a local Ollama install on an NVIDIA GPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in Ollama emulator until interrupted.
    Emulator {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:11434")]
        listen: SocketAddr,
        /// TOML file with the emulator's configuration (speed, models, faults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Emulator { listen, config }) => emulator(listen, config).await,
        None => {
            eprintln!("ollama-verify: the verification run is not built yet; only `ollama-verify emulator` works in this version");
            ExitCode::from(2)
        }
    }
}

async fn emulator(listen: SocketAddr, config: Option<PathBuf>) -> ExitCode {
    let config = match config {
        Some(path) => EmulatorConfig::from_file(&path),
        None => Ok(EmulatorConfig::default()),
    };
    let started = match config {
        Ok(config) => Emulator::bind(config, listen).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(emulator) => {
            eprintln!("ollama emulator listening on http://{}", emulator.addr());
            emulator.wait().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ollama-verify emulator: {e}");
            ExitCode::from(2)
        }
    }
}
