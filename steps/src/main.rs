//! `ollama-verify`: verifies an Ollama install (the 14 checks of features/), or serves
//! the built-in Ollama emulator (`ollama-verify emulator`).
//!
//! Exit codes (all listed in `ollama_verify_steps::run::exit`): 0 no check failed
//! (warnings allowed), 1 a check failed, 2 usage or configuration error, 3 a report
//! could not be written, 130 / 143 interrupted by SIGINT / SIGTERM.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ollama_verify::emulator::{Emulator, EmulatorConfig};
use ollama_verify::probe::gpu::GpuSource;
use ollama_verify::report::printable;
use ollama_verify::session::{DockerSettings, SessionOptions, Target};
use ollama_verify::Timeouts;
use ollama_verify_steps::run::exit;
use ollama_verify_steps::{run, RunOptions};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ollama-verify",
    version,
    about = "Verify a local Ollama install on an NVIDIA GPU: GPU, service, models, API, speed",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    verify: VerifyArgs,
}

#[derive(Args)]
struct VerifyArgs {
    /// What to verify: native (the server at OLLAMA_HOST and this machine), docker (a
    /// container this run starts, provisions and removes) or emulator
    /// (the built-in stand-in).
    #[arg(long, env = "OLLAMA_VERIFY_TARGET", default_value = "native")]
    target: Target,
    /// The server's address, as OLLAMA_HOST takes it (default: OLLAMA_HOST, else
    /// http://127.0.0.1:11434).
    #[arg(long, env = "OLLAMA_VERIFY_HOST")]
    host: Option<String>,
    /// Where GPU facts come from: nvml, nvidia-smi (run on the target's host: inside
    /// the container for docker), emulated or none (default: nvml natively, nvidia-smi
    /// on the docker target, emulated on the emulator target).
    #[arg(long, env = "OLLAMA_VERIFY_GPU")]
    gpu: Option<GpuSource>,
    /// A folder of .feature files to run instead of the built-in ones.
    #[arg(long, env = "OLLAMA_VERIFY_FEATURES")]
    features: Option<PathBuf>,
    /// Only scenarios matching this tag expression, e.g. "@api and not @perf".
    #[arg(long)]
    tags: Option<String>,
    /// A check that cannot run (skipped) fails the run.
    #[arg(long)]
    strict: bool,
    /// Let perf.load_cold unload the model to time a cold load (changes the server's
    /// state: the model is loaded again afterwards with the server's default keep-alive,
    /// or forever if it was loaded forever).
    #[arg(long)]
    allow_unload: bool,
    /// Write a JUnit XML report here: one test case per check, skipped ones as skipped.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// List the checks that --features and --tags select (id, severity, scenario) and
    /// exit, without running them.
    #[arg(long)]
    list: bool,
    /// Print cucumber's step-by-step output instead of a line per check (it shows
    /// skipped and warned checks' steps as passed; the closing table is exact).
    #[arg(long)]
    steps: bool,
    /// Write cucumber's JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the summary JSON ({"checks": [...], "passed", ...}) here.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Write the summary as a Markdown table (for a CI job summary) here.
    #[arg(long)]
    summary_md: Option<PathBuf>,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 3.0, value_parser = seconds)]
    connect_timeout: f64,
    /// Seconds a metadata request (/api/tags, /api/ps, ...) may take.
    #[arg(long, default_value_t = 15.0, value_parser = seconds)]
    request_timeout: f64,
    /// Seconds a generation may wait for its answer to begin: a cold load happens then,
    /// and a non-streamed answer begins only once it is complete.
    #[arg(long, default_value_t = 120.0, value_parser = seconds)]
    load_timeout: f64,
    /// Seconds a generation may take in all (cold loads of big models are slow).
    #[arg(long, default_value_t = 600.0, value_parser = seconds)]
    generation_timeout: f64,
    /// Seconds the whole run may take, starting the target included: past it, the run
    /// stops and every check not yet decided fails ("not finished within the
    /// --deadline"), but perf.load_cold skips without --allow-unload as always; the JUnit and summary reports are still written, cucumber's
    /// --json one is then incomplete.
    #[arg(long, value_parser = seconds)]
    deadline: Option<f64>,
    /// docker target: the image to run (default: setup/docker-compose.yml's).
    #[arg(long)]
    image: Option<String>,
    /// docker target: GPUs to pass in: auto (all when NVML sees one here), none, all, or
    /// a count.
    #[arg(long, default_value = "auto")]
    gpus: String,
    /// docker target: the named volume for /root/.ollama, kept between runs so models
    /// are pulled once.
    #[arg(long, default_value = "ollama-verify-models")]
    volume: String,
    /// docker target: start from an empty volume of this run's own (removed afterwards).
    #[arg(long)]
    fresh_volume: bool,
    /// docker target: leave the container running afterwards, and say how to reach it.
    #[arg(long)]
    keep: bool,
    /// docker target: another compose file than setup/docker-compose.yml (its `ollama`
    /// service gives image, environment, port, volume, restart policy, healthcheck).
    #[arg(long)]
    compose_file: Option<PathBuf>,
    /// docker target: do not pull or create models in the container.
    #[arg(long)]
    no_provision: bool,
    /// A file of defaults for these flags (keys are the long flags' names); without
    /// it, `ollama-verify.toml` in the working folder if there is one.
    #[arg(long, env = "OLLAMA_VERIFY_CONFIG")]
    config: Option<PathBuf>,
    /// The emulator target's configuration (TOML; see the README).
    #[arg(long, env = "OLLAMA_VERIFY_EMULATOR_CONFIG")]
    emulator_config: Option<PathBuf>,
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

/// The longest time a flag accepts: a week, far past any run, well inside what
/// `Duration` and `Instant` can hold.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= MAX_SECONDS => Ok(v),
        _ => Err(format!(
            "expected a number of seconds above 0 and at most {MAX_SECONDS} (a week), got `{s}`"
        )),
    }
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ollama-verify: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = runtime.block_on(cli());
    leave(runtime, code)
}

async fn cli() -> u8 {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("ollama-verify: {}", printable(&message));
            return exit::USAGE;
        }
    };
    let result = match cli.command {
        Some(Command::Emulator { listen, config }) => emulator(listen, config).await,
        None => verify(cli.verify).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ollama-verify: {}", printable(&message));
            exit::USAGE
        }
    }
}

/// The end of the process, once the reports are written and the table printed, on
/// every path: stdout and stderr flushed, and the runtime shut down without waiting for
/// its blocking threads. One may be stuck in a driver call (NVML) that a timeout gave
/// up on but cannot stop; a runtime dropped the usual way would wait for it forever.
fn leave(runtime: tokio::runtime::Runtime, code: u8) -> ExitCode {
    use std::io::Write as _;
    runtime.shutdown_background();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    ExitCode::from(code)
}

/// The command line over the defaults of `ollama-verify.toml` (flags and variables win).
fn parse() -> Result<Cli, String> {
    let args: Vec<String> = std::env::args().collect();
    let mut command = Cli::command();
    let located =
        ollama_verify_steps::config_file::locate(&args, std::env::var("OLLAMA_VERIFY_CONFIG").ok());
    let mut settings = Vec::new();
    if let Some((path, _)) = &located {
        settings = ollama_verify_steps::config_file::read(path)?;
        for (key, value) in settings.clone() {
            let id = key.replace('-', "_");
            if id == "config" || !command.get_arguments().any(|a| a.get_id() == id.as_str()) {
                let known: Vec<String> = command
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(str::to_string))
                    .filter(|l| l != "config" && l != "help" && l != "version")
                    .collect();
                return Err(format!(
                    "{}: `{key}` is not a setting; use the long flags' names: {}",
                    path.display(),
                    known.join(", ")
                ));
            }
            // A default, so that a flag or an OLLAMA_VERIFY_* variable still wins.
            let value: &'static str = Box::leak(value.into_boxed_str());
            command = command.mut_arg(id.as_str(), |a| a.default_value(value));
        }
    }
    let matches = match command.try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => match (&located, from_settings(&e, &settings)) {
            // A bad value of the config file's, given to clap as a default.
            (Some((path, _)), true) => {
                eprint!("{}", e.render());
                return Err(format!(
                    "the value comes from {}, whose settings are the flags' defaults",
                    path.display()
                ));
            }
            _ => e.exit(),
        },
    };
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

/// Whether clap's bad-value error is about a value that the config file set (and the
/// command line or the environment did not give instead).
fn from_settings(e: &clap::Error, settings: &[(String, String)]) -> bool {
    use clap::error::{ContextKind, ContextValue};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let (Some(arg), Some(value)) = (
        text(ContextKind::InvalidArg),
        text(ContextKind::InvalidValue),
    ) else {
        return false;
    };
    // `--strict` or `--connect-timeout <CONNECT_TIMEOUT>`.
    let flag = arg
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_start_matches("--");
    settings.iter().any(|(k, v)| k == flag && v == value)
}

fn emulator_config(path: Option<&PathBuf>) -> Result<EmulatorConfig, String> {
    path.map_or(Ok(EmulatorConfig::default()), |p| {
        EmulatorConfig::from_file(p)
    })
}

async fn verify(args: VerifyArgs) -> Result<u8, String> {
    if args.list {
        ollama_verify_steps::say!(
            "{}",
            ollama_verify_steps::list(args.features.as_deref(), args.tags.as_deref())?
        );
        return Ok(0);
    }
    for flag in ignored_flags(&args) {
        eprintln!(
            "ollama-verify: {flag} does not apply to --target {}; it is ignored",
            args.target
        );
    }
    let defaults = Timeouts::default();
    let generation = Duration::from_secs_f64(args.generation_timeout);
    let session = SessionOptions {
        target: args.target,
        host: args.host,
        gpu: args.gpu,
        strict: args.strict,
        allow_unload: args.allow_unload,
        timeouts: Timeouts {
            connect: Duration::from_secs_f64(args.connect_timeout),
            request: Duration::from_secs_f64(args.request_timeout),
            first_byte: Duration::from_secs_f64(args.load_timeout).min(generation),
            idle: defaults.idle.min(generation),
            generation,
        },
        emulator: emulator_config(args.emulator_config.as_ref())?,
        docker: DockerSettings {
            image: args.image,
            gpus: args.gpus,
            volume: args.volume,
            fresh_volume: args.fresh_volume,
            keep: args.keep,
            compose_file: args.compose_file,
            provision: !args.no_provision,
            progress: std::io::stderr().is_terminal(),
        },
        ..Default::default()
    };
    let report = run(RunOptions {
        session,
        features: args.features,
        tags: args.tags,
        junit: args.junit,
        json: args.json,
        summary_json: args.summary_json,
        summary_md: args.summary_md,
        steps: args.steps,
        deadline: args.deadline.map(Duration::from_secs_f64),
    })
    .await?;
    ollama_verify_steps::say!(
        "\n{}",
        report.summary.to_table(std::io::stdout().is_terminal())
    );
    // Last, so that the log ends with why the exit code is 3.
    for why in &report.unwritten {
        eprintln!("ollama-verify: {}", printable(why));
    }
    Ok(report.exit_code)
}

/// Flags set away from their defaults that the chosen target never reads.
fn ignored_flags(args: &VerifyArgs) -> Vec<&'static str> {
    let docker = [
        ("--image", args.image.is_some()),
        ("--gpus", args.gpus != "auto"),
        ("--volume", args.volume != "ollama-verify-models"),
        ("--fresh-volume", args.fresh_volume),
        ("--keep", args.keep),
        ("--compose-file", args.compose_file.is_some()),
        ("--no-provision", args.no_provision),
    ];
    let mut ignored: Vec<&str> = match args.target {
        Target::Docker => Vec::new(),
        _ => docker
            .iter()
            .filter(|(_, set)| *set)
            .map(|(f, _)| *f)
            .collect(),
    };
    if args.target != Target::Emulator && args.emulator_config.is_some() {
        ignored.push("--emulator-config");
    }
    if args.target != Target::Native && args.host.is_some() {
        ignored.push("--host");
    }
    ignored
}

async fn emulator(listen: SocketAddr, config: Option<PathBuf>) -> Result<u8, String> {
    let emulator = Emulator::bind(emulator_config(config.as_ref())?, listen).await?;
    eprintln!("ollama emulator listening on http://{}", emulator.addr());
    emulator.wait().await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A blocking thread that outlives the run (NVML that never answers) does not
    /// hold the exit back: the runtime is left, not waited for.
    #[test]
    fn a_blocked_thread_does_not_hold_the_exit() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (hold, blocked) = std::sync::mpsc::channel::<()>();
        runtime.spawn_blocking(move || blocked.recv_timeout(Duration::from_secs(10)));
        // Let the blocking thread start.
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let code = leave(runtime, 1);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "leaving waited {:?} for the blocked thread",
            started.elapsed()
        );
        assert_eq!(code, ExitCode::from(1));
        drop(hold);
    }
}
