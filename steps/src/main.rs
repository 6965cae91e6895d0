//! `ollama-verify`: verifies an Ollama install (the 14 checks of features/), or serves
//! the built-in Ollama emulator (`ollama-verify emulator`), or explains a pasted server
//! log (`ollama-verify explain`).
//!
//! Exit codes (all listed in `ollama_verify_steps::exit`): 0 no check failed
//! (warnings allowed), 1 a check failed, 2 usage or configuration error, 3 a report
//! could not be written, 130 / 143 interrupted by SIGINT / SIGTERM.

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ollama_verify::emulator::{Emulator, EmulatorConfig};
use ollama_verify::probe::gpu::GpuSource;
use ollama_verify::session::{DockerSettings, SessionOptions, Target};
use ollama_verify::text::printable;
use ollama_verify::Timeouts;
use ollama_verify_steps::exit;
use ollama_verify_steps::flag_values::*;
use ollama_verify_steps::list::ListFormat;
use ollama_verify_steps::terminal::{self, ColorChoice};
use ollama_verify_steps::{run, RunOptions, UsageError};
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
    #[arg(long, env = "OLLAMA_VERIFY_HOST", value_parser = address)]
    host: Option<String>,
    /// Where GPU facts come from: nvml, nvidia-smi (run on the target's host: inside
    /// the container for docker), emulated or none (default: nvml natively, nvidia-smi
    /// on the docker target, emulated on the emulator target).
    #[arg(long, env = "OLLAMA_VERIFY_GPU")]
    gpu: Option<GpuSource>,
    /// A folder of .feature files to run instead of the built-in ones.
    #[arg(long, env = "OLLAMA_VERIFY_FEATURES", value_parser = features_folder)]
    features: Option<PathBuf>,
    /// Only scenarios matching this tag expression, e.g. "@api and not @perf".
    #[arg(long, value_parser = tag_expression)]
    tags: Option<String>,
    /// A check that cannot run (skipped) fails the run.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    strict: bool,
    /// Let perf.load_cold unload the model to time a cold load (changes the server's
    /// state: the model is loaded again afterwards with the server's default keep-alive,
    /// or forever if it was loaded forever).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    allow_unload: bool,
    /// Write a JUnit XML report here: one test case per check, skipped ones as skipped.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// List the checks that --features and --tags select (id, severity, scenario) and
    /// exit, without running them.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    list: bool,
    /// How --list prints the checks: text (a table), json (an array of objects) or md
    /// (the Markdown table of the docs' check catalogue).
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    /// Print cucumber's step-by-step output instead of a line per check (it shows
    /// skipped and warned checks' steps as passed; the closing table is exact).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    steps: bool,
    /// After the check lines, print the full table of every check instead of the
    /// closing summary (the failures and warnings in full, the skips grouped by cause).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    verbose: bool,
    /// When to colour the console: auto (on a terminal, unless NO_COLOR is set), always
    /// or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Write cucumber's JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the summary JSON ({"checks": [...], "passed", ...}) here.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Write the summary as a Markdown table (for a CI job summary) here.
    #[arg(long)]
    summary_md: Option<PathBuf>,
    /// Write the verdict as Prometheus metrics here (node_exporter's textfile
    /// collector reads a folder of them).
    #[arg(long)]
    prometheus: Option<PathBuf>,
    /// Compare each speed figure with this earlier run's (its --summary-json): one worse
    /// than the spec's tolerance fails or warns, as the spec says, and names the facts
    /// that changed between the runs (Ollama version, driver, model digest, settings).
    /// Where the spec states no tolerance, a figure more than 10% worse warns.
    #[arg(long, value_name = "FILE", value_parser = baseline)]
    baseline: Option<std::sync::Arc<ollama_verify::baseline::Summary>>,
    /// Write the HTML report here: one self-contained page of the feature files with
    /// each check's verdict, the host's facts and charts of the measured figures.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 3.0, value_parser = seconds, allow_negative_numbers = true)]
    connect_timeout: f64,
    /// Seconds a metadata request (/api/tags, /api/ps, ...) may take.
    #[arg(long, default_value_t = 15.0, value_parser = seconds, allow_negative_numbers = true)]
    request_timeout: f64,
    /// Seconds a generation may wait for its answer to begin: a cold load happens then,
    /// and a non-streamed answer begins only once it is complete.
    #[arg(long, default_value_t = 120.0, value_parser = seconds, allow_negative_numbers = true)]
    load_timeout: f64,
    /// Seconds a generation may take in all (cold loads of big models are slow).
    #[arg(long, default_value_t = 600.0, value_parser = seconds, allow_negative_numbers = true)]
    generation_timeout: f64,
    /// Seconds the whole run may take, starting the target included: past it, the run
    /// stops and every check not yet decided fails ("not finished within the
    /// --deadline"), but perf.load_cold skips without --allow-unload as always; the JUnit and summary reports are still written, cucumber's
    /// --json one is then incomplete.
    #[arg(long, value_parser = seconds, allow_negative_numbers = true)]
    deadline: Option<f64>,
    /// docker target: the image to run (default: setup/docker-compose.yml's).
    #[arg(long, value_parser = image)]
    image: Option<String>,
    /// docker target: GPUs to pass in: auto (all when NVML sees one here), none, all, or
    /// a count.
    #[arg(long, default_value = "auto", value_parser = gpus, allow_negative_numbers = true)]
    gpus: String,
    /// docker target: the named volume for /root/.ollama, kept between runs so models
    /// are pulled once.
    #[arg(long, default_value = "ollama-verify-models", value_parser = volume)]
    volume: String,
    /// docker target: start from an empty volume of this run's own (removed afterwards).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    fresh_volume: bool,
    /// docker target: remove nothing (container, fresh volume), also after a failed or
    /// stopped start; say how to reach and remove what is left.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    keep: bool,
    /// docker target: another compose file than setup/docker-compose.yml (its `ollama`
    /// service gives image, environment, port, volume, restart policy, healthcheck).
    #[arg(long)]
    compose_file: Option<PathBuf>,
    /// docker target: do not pull or create models in the container.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set, value_name = "BOOL", hide_possible_values = true)]
    no_provision: bool,
    /// A file of defaults for these flags (keys are the long flags' names); without
    /// it, `ollama-verify.toml` in the working folder if there is one.
    #[arg(long, env = "OLLAMA_VERIFY_CONFIG")]
    config: Option<PathBuf>,
    /// The emulator target's configuration (TOML; see the book's "The emulator").
    #[arg(long, env = "OLLAMA_VERIFY_EMULATOR_CONFIG")]
    emulator_config: Option<PathBuf>,
    /// The long flags given on the command line (`--junit`), for `--list` to name
    /// those it does not read.
    #[arg(skip)]
    given: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in Ollama emulator until interrupted.
    Emulator {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:11434", value_parser = listen_address)]
        listen: SocketAddr,
        /// TOML file with the emulator's configuration (speed, models, faults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Explain a pasted Ollama server log offline: its findings, each with the cause,
    /// the quoted lines and the next step. Exit 0: no problem found; 1: a problem
    /// found; 2: nothing to explain (unreadable, empty, binary, not an Ollama log).
    Explain {
        /// The log (journalctl, server.log, docker logs); - or none: standard input.
        file: Option<PathBuf>,
        /// Print the findings as JSON, for tools.
        #[arg(long)]
        json: bool,
        /// Print the signature catalogue (Markdown) and exit.
        #[arg(long, conflicts_with_all = ["file", "json"])]
        signatures: bool,
    },
    /// Run the read-only checks every --interval and serve the last verdict: /metrics
    /// for Prometheus, /healthz (200 when no check fails, 503 naming those that do).
    /// Takes the run's flags too (--target, --host, --tags, timeouts, reports).
    Serve {
        #[command(flatten)]
        serve: ollama_verify_steps::serve::ServeArgs,
        #[command(flatten)]
        run: Box<VerifyArgs>,
    },
    /// Merge the summary JSONs of many hosts into one verdict. Exit 0: every host
    /// passed; 1: a host failed a check, or its report is missing or unreadable.
    Fleet(ollama_verify_steps::fleet::FleetArgs),
    /// Write a spec folder for the install found: its models, its custom model's
    /// Modelfile, its service's settings and speed targets under what it measures now.
    Init(ollama_verify_steps::init::InitArgs),
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
        Err(e) => {
            eprintln!("ollama-verify: {}", printable(e.message()));
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Some(Command::Emulator { listen, config }) => emulator(listen, config).await,
        Some(Command::Explain {
            file,
            json,
            signatures,
        }) => Ok(explain(file, json, signatures)),
        Some(Command::Serve { serve, run }) => match run_options(*run) {
            Ok((opts, _)) => ollama_verify_steps::serve::serve(opts, serve).await,
            Err(e) => Err(e),
        },
        Some(Command::Fleet(args)) => ollama_verify_steps::fleet::fleet(args),
        Some(Command::Init(args)) => ollama_verify_steps::init::init(args).await,
        None => verify(cli.verify).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ollama-verify: {}", printable(e.message()));
            e.exit_code()
        }
    }
}

/// `explain`: the log's findings on stdout, why there are none on stderr.
fn explain(file: Option<PathBuf>, json: bool, signatures: bool) -> u8 {
    if signatures {
        ollama_verify_steps::say!("{}", ollama_verify::signature::docs::markdown());
        return exit::PASSED;
    }
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    ollama_verify_steps::explain::run(file.as_deref(), json, &mut out, &mut err)
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
fn parse() -> Result<Cli, UsageError> {
    let args: Vec<String> = std::env::args().collect();
    let command = without_empty_variables(Cli::command(), |v| std::env::var_os(v));
    let located =
        ollama_verify_steps::config_file::locate(&args, std::env::var("OLLAMA_VERIFY_CONFIG").ok());
    let command = match &located {
        None => command,
        Some((path, _)) => {
            let applied = ollama_verify_steps::config_file::read(path)
                .and_then(|s| ollama_verify_steps::config_file::apply(command.clone(), path, &s));
            match applied {
                Ok(command) => command,
                // The help and the version are shown whatever the file holds.
                Err(e) if wants_help(&args) => {
                    eprintln!(
                        "ollama-verify: {} (set aside for --help and --version)",
                        printable(e.message())
                    );
                    command
                }
                Err(e) => return Err(e),
            }
        }
    };
    let matches = command
        .clone()
        .try_get_matches_from(&args)
        .unwrap_or_else(|e| e.exit());
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| UsageError::new(e.to_string()))?;
    cli.verify.given = given(&command, &matches);
    Ok(cli)
}

/// `command` without the variables that are set but empty, so that one reads as
/// unset (as an empty `OLLAMA_VERIFY_CONFIG` does): `OLLAMA_VERIFY_HOST=` leaves
/// `OLLAMA_HOST` in charge instead of meaning 127.0.0.1:11434, and an empty
/// `OLLAMA_VERIFY_FEATURES` is not clap's "a value is required for '--features'",
/// which would name a flag nobody gave.
fn without_empty_variables(
    mut command: clap::Command,
    var: impl Fn(&std::ffi::OsStr) -> Option<std::ffi::OsString>,
) -> clap::Command {
    let empty: Vec<String> = command
        .get_arguments()
        .filter(|a| a.get_env().and_then(&var).is_some_and(|v| v.is_empty()))
        .map(|a| a.get_id().to_string())
        .collect();
    for id in empty {
        command = command.mut_arg(id, |a| a.env(None));
    }
    command
}

/// Whether the command line asks for the help or the version.
fn wants_help(args: &[String]) -> bool {
    args.get(1).is_some_and(|a| a == "help")
        || args
            .iter()
            .skip(1)
            .take_while(|a| *a != "--")
            .any(|a| matches!(a.as_str(), "-h" | "--help" | "-V" | "--version"))
}

/// The long flags the command line itself gave (not a variable, not a default).
fn given(command: &clap::Command, matches: &clap::ArgMatches) -> Vec<String> {
    command
        .get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .filter(|a| {
            matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// The flags given with `--list` that it does not read: it runs nothing.
fn ignored_by_list(given: &[String]) -> Vec<&str> {
    given
        .iter()
        .map(String::as_str)
        .filter(|f| {
            !matches!(
                *f,
                "--list" | "--format" | "--features" | "--tags" | "--config"
            )
        })
        .collect()
}

/// The emulator's configuration from the file `flag` names, or the default one.
fn emulator_config(path: Option<&PathBuf>, flag: &str) -> Result<EmulatorConfig, UsageError> {
    path.map_or(Ok(EmulatorConfig::default()), |p| {
        EmulatorConfig::from_file(p).map_err(|e| {
            UsageError::new(format!("{e}\nGive {flag} an emulator configuration (TOML, see the book's \"The emulator\", docs/src/emulator.md), or leave it out for the default emulator"))
        })
    })
}

async fn verify(args: VerifyArgs) -> Result<u8, UsageError> {
    terminal::apply(args.color);
    if args.list {
        for flag in ignored_by_list(&args.given) {
            eprintln!(
                "ollama-verify: {flag} does not apply to --list, which runs nothing; it is ignored"
            );
        }
        ollama_verify_steps::say!(
            "{}",
            ollama_verify_steps::list::list_as(
                args.features.as_deref(),
                args.tags.as_deref(),
                args.format
            )?
        );
        return Ok(0);
    }
    if args.format != ListFormat::Text {
        eprintln!(
            "ollama-verify: --format is the form of --list, which was not given; it is ignored"
        );
    }
    let verbose = args.verbose;
    let (opts, color) = run_options(args)?;
    let report = run(opts).await?;
    let width = terminal::width();
    let closing = match verbose {
        true => report
            .summary
            .to_table(color, u16::try_from(width).unwrap_or(u16::MAX)),
        false => ollama_verify_steps::closing::closing(&report.summary, width),
    };
    if let Some(facts) = report.summary.facts_line() {
        ollama_verify_steps::say!("{facts}");
    }
    ollama_verify_steps::say!("\n{closing}");
    // Last, so that the log ends with why the exit code is 3.
    for why in &report.unwritten {
        eprintln!("ollama-verify: {}", printable(why));
    }
    Ok(report.exit_code)
}

/// What a run is asked for, from its flags (a run's or `serve`'s); notes on stderr the
/// flags that do not apply to the target. Also says whether the console has colour.
fn run_options(args: VerifyArgs) -> Result<(RunOptions, bool), UsageError> {
    let color = terminal::apply(args.color);
    for flag in ignored_flags(&args) {
        eprintln!(
            "ollama-verify: {flag} does not apply to --target {}; it is ignored",
            args.target
        );
    }
    if let Some(note) = volume_ignored(&args) {
        eprintln!("ollama-verify: {note}");
    }
    let defaults = Timeouts::default();
    let generation = Duration::from_secs_f64(args.generation_timeout);
    let session = SessionOptions {
        target: args.target,
        host: args.host,
        gpu: args.gpu,
        strict: args.strict,
        allow_unload: args.allow_unload,
        baseline: args.baseline,
        timeouts: Timeouts {
            connect: Duration::from_secs_f64(args.connect_timeout),
            request: Duration::from_secs_f64(args.request_timeout),
            first_byte: Duration::from_secs_f64(args.load_timeout).min(generation),
            idle: defaults.idle.min(generation),
            generation,
        },
        // Read only where it is used: elsewhere it is named as ignored above.
        emulator: match args.target {
            Target::Emulator => {
                emulator_config(args.emulator_config.as_ref(), "--emulator-config")?
            }
            _ => EmulatorConfig::default(),
        },
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
    let opts = RunOptions {
        session,
        features: args.features,
        tags: args.tags,
        junit: args.junit,
        json: args.json,
        summary_json: args.summary_json,
        summary_md: args.summary_md,
        prometheus: args.prometheus,
        html: args.html,
        steps: args.steps,
        verbose: args.verbose,
        deadline: args.deadline.map(Duration::from_secs_f64),
        quiet: false,
    };
    Ok((opts, color))
}

/// `--volume` beside `--fresh-volume`, which uses a volume of the run's own instead.
fn volume_ignored(args: &VerifyArgs) -> Option<String> {
    (args.target == Target::Docker && args.fresh_volume && args.volume != "ollama-verify-models")
        .then(|| format!(
            "--volume {} does not apply with --fresh-volume, which starts from an empty volume of the run's own; it is ignored (leave out --fresh-volume to use the models in {})",
            args.volume, args.volume
        ))
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

async fn emulator(listen: SocketAddr, config: Option<PathBuf>) -> Result<u8, UsageError> {
    let emulator = Emulator::bind(emulator_config(config.as_ref(), "--config")?, listen)
        .await
        .map_err(|e| {
            UsageError::new(format!("{e}. Give --listen a free port on an address of this machine (port 0 picks a free one); `ss -ltnp` shows what listens where"))
        })?;
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

    fn parsed(args: &[&str]) -> Result<Cli, clap::Error> {
        let command = without_empty_variables(Cli::command(), |_| None);
        let matches = command.try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }

    fn refused(args: &[&str]) -> String {
        match parsed(args) {
            Ok(_) => panic!("{args:?} was taken"),
            Err(e) => e.to_string(),
        }
    }

    /// A negative number is the value's to refuse, not taken for a flag; a value that
    /// timers would round to no time at all is refused too.
    #[rstest::rstest]
    #[case::negative("-1")]
    #[case::zero("0")]
    #[case::below_a_millisecond("1e-12")]
    #[case::not_a_number("nan")]
    #[case::past_a_week("604801")]
    fn seconds_outside_the_range_are_refused(#[case] value: &str) {
        for flag in ["--deadline", "--connect-timeout", "--generation-timeout"] {
            let e = refused(&["ollama-verify", flag, value]);
            assert!(
                e.contains(&format!("invalid value '{value}' for '{flag} <"))
                    && e.contains("expected a number of seconds from 0.001 (a millisecond) to 604800 (a week)"),
                "{e}"
            );
        }
        let cli = parsed(&["ollama-verify", "--deadline", "0.001"]).unwrap();
        assert_eq!(cli.verify.deadline, Some(0.001));
    }

    /// `--host ""` would mean 127.0.0.1:11434 and hide OLLAMA_HOST.
    #[test]
    fn an_empty_host_is_refused() {
        for host in ["", "  "] {
            let e = refused(&["ollama-verify", "--host", host]);
            assert!(
                e.contains("got an empty address; leave --host out to use OLLAMA_HOST"),
                "{e}"
            );
        }
    }

    #[test]
    fn gpus_and_listen_are_checked_when_parsed() {
        let e = refused(&["ollama-verify", "--gpus", "bogus"]);
        assert!(
            e.contains("--gpus takes auto, none, all or a number, not `bogus`"),
            "{e}"
        );
        assert_eq!(
            parsed(&["ollama-verify", "--gpus", "2"])
                .unwrap()
                .verify
                .gpus,
            "2"
        );
        // A negative count is the value's to refuse, not taken for a flag.
        let e = refused(&["ollama-verify", "--gpus", "-1"]);
        assert!(
            e.contains("--gpus takes auto, none, all or a number, not `-1`"),
            "{e}"
        );
        for listen in ["localhost:11434", "127.0.0.1:99999", "11434"] {
            let e = refused(&["ollama-verify", "emulator", "--listen", listen]);
            assert!(
                e.contains("expected an IP address and a port such as 127.0.0.1:11434"),
                "{e}"
            );
        }
    }

    /// An empty image or volume (an unset variable in a script) is refused, and so is
    /// a volume name Docker refuses: not an anonymous volume, nor a failed start.
    #[test]
    fn image_and_volume_are_checked_when_parsed() {
        for image in ["", " ", "ollama/ollama :1"] {
            let e = refused(&["ollama-verify", "--image", image]);
            assert!(
                e.contains("expected an image such as ollama/ollama:0.17.1"),
                "{e}"
            );
        }
        for volume in ["", "5", "a/b", "/data/models", "_x", "a b"] {
            let e = refused(&["ollama-verify", "--volume", volume]);
            assert!(e.contains("expected a Docker volume name"), "{e}");
        }
        let cli = parsed(&[
            "ollama-verify",
            "--volume",
            "my_models.v2",
            "--image",
            "x:1",
        ])
        .unwrap();
        assert_eq!(cli.verify.volume, "my_models.v2");
    }

    /// A tag expression and the features folder are checked when parsed, so that the
    /// config file's line is named when the value comes from it.
    #[test]
    fn tags_and_features_are_checked_when_parsed() {
        let e = refused(&["ollama-verify", "--tags", "@api("]);
        assert!(
            e.contains(
                "invalid value '@api(' for '--tags <TAGS>': \"@api(\" is not a tag expression"
            ),
            "{e}"
        );
        let e = refused(&["ollama-verify", "--features", "/nonexistent"]);
        assert!(e.contains("no such folder"), "{e}");
    }

    /// `--volume` beside `--fresh-volume` is named as ignored.
    #[test]
    fn a_volume_beside_a_fresh_one_is_ignored() {
        let cli = parsed(&[
            "ollama-verify",
            "--target",
            "docker",
            "--fresh-volume",
            "--volume",
            "mine",
        ])
        .unwrap();
        let note = volume_ignored(&cli.verify).unwrap();
        assert!(
            note.starts_with("--volume mine does not apply with --fresh-volume"),
            "{note}"
        );
        let cli = parsed(&["ollama-verify", "--target", "docker", "--fresh-volume"]).unwrap();
        assert_eq!(volume_ignored(&cli.verify), None);
    }

    /// Every flag takes a value (`--strict=false` too), so that the config file can
    /// set each and the command line can set each back.
    #[test]
    fn every_flag_can_be_set_and_set_back() {
        let command = Cli::command();
        for arg in command.get_arguments() {
            if matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            assert!(
                arg.get_action().takes_values(),
                "--{:?} takes no value",
                arg.get_long()
            );
        }
        let cli = parsed(&["ollama-verify", "--strict", "--keep=false", "--list=true"]).unwrap();
        assert!(cli.verify.strict && !cli.verify.keep && cli.verify.list);
        let e = refused(&["ollama-verify", "--strict=yes"]);
        assert!(
            e.contains("invalid value 'yes' for '--strict[=<BOOL>]'"),
            "{e}"
        );
    }

    /// A variable set to nothing is as if unset: OLLAMA_HOST decides the address, no
    /// "a value is required for '--features'" for a flag nobody gave.
    #[test]
    fn empty_variables_read_as_unset() {
        let empty = |v: &std::ffi::OsStr| {
            v.to_str()
                .is_some_and(|v| v.starts_with("OLLAMA_VERIFY_"))
                .then(std::ffi::OsString::new)
        };
        let command = without_empty_variables(Cli::command(), empty);
        let envs: Vec<_> = command
            .get_arguments()
            .filter_map(|a| a.get_env())
            .collect();
        assert!(envs.is_empty(), "{envs:?}");
        let command = without_empty_variables(Cli::command(), |_| Some("x".into()));
        assert_eq!(
            command.get_arguments().filter_map(|a| a.get_env()).count(),
            6
        );
    }

    #[test]
    fn help_and_version_are_asked_for() {
        let ask = |a: &[&str]| wants_help(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ask(&["ollama-verify", "--help"]));
        assert!(ask(&["ollama-verify", "--list", "-h"]));
        assert!(ask(&["ollama-verify", "-V"]));
        assert!(ask(&["ollama-verify", "help"]));
        assert!(!ask(&["ollama-verify", "--list"]));
        assert!(!ask(&["ollama-verify", "--", "--help"]));
    }

    /// `--list` names the flags of the command line it does not read.
    #[test]
    fn list_names_what_it_ignores() {
        let args = [
            "ollama-verify",
            "--list",
            "--tags",
            "@api",
            "--junit",
            "j.xml",
            "--strict",
        ];
        let command = Cli::command();
        let matches = command.clone().try_get_matches_from(args).unwrap();
        let given = given(&command, &matches);
        assert_eq!(given, ["--tags", "--strict", "--junit", "--list"]);
        assert_eq!(ignored_by_list(&given), ["--strict", "--junit"]);
    }
}
