//! The docker target's errors: what went wrong, what was seen, and what to do about it.
//! One variant per way a start, a readiness wait or a provisioning fails; the words
//! are in their `Display`.

use super::options::split_image;
use super::progress::escape_len;
use crate::text::short_id as short;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DockerError {
    /// No client of the daemon could be made.
    #[error(
        "cannot reach the Docker daemon: {0}. Is Docker installed and running (`docker info`)?"
    )]
    Unreachable(String),
    /// The daemon's ping did not come back within `secs`.
    #[error("the Docker daemon did not answer within {secs} s")]
    Silent { secs: u64 },
    /// The daemon answered the ping with an error.
    #[error("the Docker daemon does not answer: {0}. Is it running (`docker info`)?")]
    NotAnswering(String),
    #[error("expected to create the fresh volume {volume} (--fresh-volume), Docker refused: {said}. See `docker volume ls`, or run without --fresh-volume")]
    VolumeRefused { volume: String, said: String },
    #[error("expected to create the fresh volume {volume} (--fresh-volume), the Docker daemon did not answer within {secs} s: is it overloaded (`docker info`)?")]
    VolumeSilent { volume: String, secs: u64 },
    /// The image is neither here nor pulled.
    #[error("{}", not_here(image, said))]
    ImageMissing { image: String, said: String },
    #[error("the image {image} is not here, and pulling it did not finish within {secs:.0} s: pull it first (`docker pull {image}`), or name another with --image")]
    ImagePullSlow { image: String, secs: f64 },
    #[error("cannot start a thread to start the container on: {0}")]
    NoThread(String),
    #[error("expected the Docker daemon to create and start the container from {image} within {secs} s, it has not answered: is it overloaded or stuck (`docker info`, `docker ps -a --filter label={label}={run_id}`)?")]
    StartSilent {
        image: String,
        secs: u64,
        label: &'static str,
        run_id: String,
    },
    /// nvidia-container-cli found the toolkit and the driver, not the GPUs asked for.
    #[error("the container asked for GPUs this machine does not have: {said}. The NVIDIA Container Toolkit works, but the GPU count or index is wrong: see which GPUs there are with `nvidia-smi -L`, then pass --gpus with a count no larger, --gpus all, or --gpus none")]
    GpusMissing { said: String },
    #[error("the container could not get the GPU: {said}. The Docker daemon lacks the NVIDIA runtime: install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`; or run without GPUs (--gpus none)")]
    NoGpuRuntime { said: String },
    /// `from` is where the image's name came from (`--image`, or the compose file's
    /// `image:`).
    #[error("expected an image name Docker takes from {from}, got `{image}`: {said}. Write it as [registry/]name[:tag] in lowercase, without spaces (e.g. ollama/ollama:0.17.1); `docker images` lists the images here")]
    BadImageName {
        image: String,
        from: &'static str,
        said: String,
    },
    #[error("the container from {image} did not start: {said}. Docker's answer says why; run with --keep to keep the container it created, for `docker inspect`")]
    NotStarted { image: String, said: String },
    /// `docker inspect` failed, or the container is gone.
    #[error("{0}")]
    Inspect(String),
    /// The container stopped running before its API answered; `keep`: it stays to be
    /// looked at.
    #[error("{}", stopped(image, id, why, log, *keep))]
    Stopped {
        image: String,
        id: String,
        why: String,
        log: String,
        keep: bool,
    },
    #[error("expected the container {}'s port {port} published on 127.0.0.1, Docker reports {published}: see `docker port {}`", short(id), short(id))]
    NotPublished {
        id: String,
        port: u16,
        published: String,
    },
    /// The API did not answer within the readiness wait.
    #[error("{}", not_ready(id, base_url, *secs, last, log, *port, *keep))]
    NotReady {
        id: String,
        base_url: String,
        secs: f64,
        /// The client's last error.
        last: String,
        log: String,
        port: u16,
        keep: bool,
    },
    /// A command in the container could not run.
    #[error("{0}")]
    Exec(String),
    /// `ollama pull` in the container failed: its exit code and its own last words.
    #[error("`ollama pull {model}` in the container failed (exit code {}): {}. Check the model's name, and that the container reaches the registry (network, proxy); or run with --no-provision and a --volume that already holds it", code.map_or("unknown".to_string(), |c| c.to_string()), last_words(said))]
    PullFailed {
        model: String,
        code: Option<i64>,
        said: Vec<u8>,
    },
    #[error("`ollama pull {model}` did not finish within {secs:.0} s: is the network slow, or does the container not reach the registry (a proxy)? Or run with --no-provision and a --volume that already holds it")]
    PullSlow { model: String, secs: f64 },
    #[error("expected the compose file to mount a Modelfile (a volume whose source ends in Modelfile) to create {model} from, it mounts none. Add setup/docker-compose.yml's `- ./coding-assistant.Modelfile:/modelfiles/coding-assistant.Modelfile:ro` to the service's volumes, or run with --no-provision and a --volume that already holds {model}")]
    NoModelfile { model: String },
    #[error("`ollama create {model} -f {path}` in the container failed: {}. Check the Modelfile the compose file mounts there (its FROM, PARAMETER and TEMPLATE lines)", last_words(said))]
    CreateFailed {
        model: String,
        path: String,
        said: Vec<u8>,
    },
    /// An error with its cleanup's note: what it could not remove, or what it kept.
    #[error("{error}\n{note}")]
    Noted {
        error: Box<DockerError>,
        note: String,
    },
}

impl DockerError {
    /// Why the container did not start, from Docker's answer `said`; `source` is where
    /// the image's name came from (`--image`, or the compose file's `image:`).
    pub fn not_started(image: &str, source: &'static str, said: &str) -> DockerError {
        let (image, said) = (image.to_string(), said.to_string());
        if said.contains("unknown device") || said.contains("device error") {
            DockerError::GpusMissing { said }
        } else if said.contains("could not select device driver")
            || said.contains("nvidia-container-cli")
        {
            DockerError::NoGpuRuntime { said }
        } else if said.contains("No such image")
            || said.contains("pull access denied")
            || said.contains("manifest unknown")
        {
            DockerError::ImageMissing { image, said }
        } else if said.contains("invalid reference format") {
            DockerError::BadImageName {
                image,
                from: source,
                said,
            }
        } else {
            DockerError::NotStarted { image, said }
        }
    }

    /// The same error with the cleanup's note, if there is one.
    pub fn noted(self, note: Option<String>) -> DockerError {
        match note {
            Some(note) => DockerError::Noted {
                error: Box::new(self),
                note,
            },
            None => self,
        }
    }

    /// The error itself, without a cleanup's note.
    pub fn cause(&self) -> &DockerError {
        match self {
            DockerError::Noted { error, .. } => error.cause(),
            e => e,
        }
    }
}

/// An image that is neither here nor pulled: what to do, and where to look for the
/// tags that are here (a name without a tag means `:latest`).
fn not_here(image: &str, e: &str) -> String {
    let (name, tag) = split_image(image);
    let latest = match image.ends_with(&format!(":{tag}")) {
        true => String::new(),
        false => " (a name without a tag means :latest)".to_string(),
    };
    format!(
        "the image {image} is not here{latest} and could not be pulled: {e}. Pull or build it first (`docker images {name}` lists the tags here), or name another with --image"
    )
}

fn stopped(image: &str, id: &str, why: &str, log: &str, keep: bool) -> String {
    let log = if log.trim().is_empty() {
        "(it logged nothing)".to_string()
    } else {
        log.to_string()
    };
    let id = short(id);
    let look = if keep {
        format!("look at the container it kept (`docker logs {id}`, `docker inspect {id}`)")
    } else {
        "run with --keep to look at the container (`docker logs`, `docker inspect`)".to_string()
    };
    format!(
        "expected the container {id} from {image} to keep running until its API answers, but {why}. Its last log lines:\n{log}\nFix what the log says (the image, or the compose file's environment and volumes), or {look}"
    )
}

fn not_ready(
    id: &str,
    base_url: &str,
    secs: f64,
    last: &str,
    log: &str,
    port: u16,
    keep: bool,
) -> String {
    let look = match keep {
        true => format!(
            "look at the container it kept (`docker logs {}`)",
            short(id)
        ),
        false => "run with --keep to look at the container".to_string(),
    };
    let log = match log {
        log if log.trim().is_empty() => "(it logged nothing)",
        log => log,
    };
    format!(
        "the container {} did not answer at {base_url} within {secs:.0} s (last error: {last}). Its last log lines:\n{log}\nExpected the server to listen on port {port} inside the container (the compose file's `ports:`): if the log says it listens on another, give OLLAMA_HOST in the compose file's environment and its `ports:` the same port; otherwise fix what the log says, or {look}",
        short(id)
    )
}

/// What the `ollama` CLI said last: its `Error:` line, else its last line, without the
/// progress frames (escape sequences, `\r` redraws) drawn before it.
pub(super) fn last_words(said: &[u8]) -> String {
    let mut plain = Vec::new();
    let mut i = 0;
    while i < said.len() {
        match said[i] {
            0x1b => i += escape_len(&said[i..]).unwrap_or(said.len() - i),
            b'\r' => {
                plain.push(b'\n');
                i += 1;
            }
            b => {
                plain.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&plain);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| l.contains("Error"))
        .or(lines.last())
        .map_or("(it printed nothing)".to_string(), |l| l.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// Docker's answer picks the variant: what the fix is, not only what it says.
    #[rstest]
    #[case::no_runtime(
        "could not select device driver \"nvidia\" with capabilities: [[gpu]]",
        "NoGpuRuntime"
    )]
    #[case::wrong_count(
        "failed to create task for container: nvidia-container-cli: device error: 2: unknown device: unknown",
        "GpusMissing"
    )]
    #[case::wrong_index(
        "nvidia-container-cli: device error: GPU-1234: unknown device",
        "GpusMissing"
    )]
    #[case::no_image("No such image: x:1", "ImageMissing")]
    #[case::denied("pull access denied for x", "ImageMissing")]
    #[case::bad_name(
        "failed to create a container: Docker responded with status code 400: invalid reference format: repository name must be lowercase",
        "BadImageName"
    )]
    #[case::other("failed to start a container: boom", "NotStarted")]
    fn dockers_answer_picks_the_error(#[case] said: &str, #[case] variant: &str) {
        let e = DockerError::not_started("x:1", "--image", said);
        assert!(format!("{e:?}").starts_with(variant), "{e:?}");
        assert!(e.to_string().contains(said), "{e}");
    }

    #[test]
    fn start_errors_name_the_fix() {
        let e = DockerError::not_started(
            "ollama/ollama:latest",
            "--image",
            "could not select device driver \"nvidia\" with capabilities: [[gpu]]",
        )
        .to_string();
        assert!(
            e.contains("NVIDIA Container Toolkit") && e.contains("--gpus none"),
            "{e}"
        );
        let e = DockerError::not_started("x:1", "--image", "No such image: x:1").to_string();
        assert!(e.contains("--image"), "{e}");
        assert!(DockerError::not_started("x:1", "--image", "boom")
            .to_string()
            .contains("did not start: boom"));
    }

    #[test]
    fn a_wrong_gpu_count_is_not_a_missing_toolkit() {
        let e = DockerError::not_started(
            "ollama/ollama:latest",
            "--image",
            "nvidia-container-cli: device error: GPU-1234: unknown device",
        )
        .to_string();
        assert!(
            e.contains("count or index is wrong") && e.contains("nvidia-smi -L"),
            "{e}"
        );
        assert!(!e.contains("install the NVIDIA Container Toolkit"), "{e}");
    }

    /// A name Docker refuses is named with where it came from and how it is written;
    /// any other refusal still says what to try.
    #[test]
    fn a_start_error_says_what_to_try() {
        let e = DockerError::not_started(
            "Bad_Image",
            "--image",
            "failed to create a container: Docker responded with status code 400: invalid reference format: repository name must be lowercase",
        )
        .to_string();
        assert!(
            e.starts_with("expected an image name Docker takes from --image, got `Bad_Image`")
                && e.contains("in lowercase"),
            "{e}"
        );
        let e = DockerError::not_started("x:1", "--image", "failed to start a container: boom")
            .to_string();
        assert!(e.contains("boom") && e.contains("--keep"), "{e}");
    }

    /// A failed pull says its exit code as a number and the CLI's error line, not its
    /// progress frames.
    #[test]
    fn a_failed_pull_says_why_in_a_line() {
        let said = b"\x1b[?25lpulling manifest \xe2\xa0\x8b \x1b[K\x1b[?25h\x1b[?2026l\rError: pull model manifest: file does not exist\n";
        let pull_failed = |model: &str, code, said: &[u8]| {
            DockerError::PullFailed {
                model: model.into(),
                code,
                said: said.to_vec(),
            }
            .to_string()
        };
        let e = pull_failed("qwen2.5-coder:7b", Some(1), said);
        assert!(
            e.starts_with("`ollama pull qwen2.5-coder:7b` in the container failed (exit code 1): Error: pull model manifest: file does not exist. "),
            "{e}"
        );
        assert!(!e.contains('\x1b') && !e.contains("Some("), "{e:?}");
        assert!(e.contains("--no-provision"), "{e}");
        assert!(pull_failed("m", None, b"").contains("(exit code unknown): (it printed nothing)"));
    }

    #[test]
    fn an_image_not_here_says_where_its_tags_are() {
        let e = not_here("ollama-verify-emulator", "no such host");
        assert!(
            e.starts_with("the image ollama-verify-emulator is not here (a name without a tag means :latest) and could not be pulled: no such host.")
                && e.contains("`docker images ollama-verify-emulator`"),
            "{e}"
        );
        let e = not_here("localhost:5000/o/x:1", "denied");
        assert!(
            !e.contains(":latest") && e.contains("`docker images localhost:5000/o/x`"),
            "{e}"
        );
    }

    #[test]
    fn a_stopped_server_shows_its_log_and_what_to_try() {
        let e = stopped(
            "ollama/ollama:0.17.1",
            "0123456789abcdef",
            "it exited with code 1",
            "Error: bad config",
            false,
        );
        for said in [
            "container 0123456789ab from ollama/ollama:0.17.1",
            "it exited with code 1",
            "\nError: bad config\n",
            "--keep",
        ] {
            assert!(e.contains(said), "{said:?} in {e}");
        }
        let kept = stopped(
            "x:1",
            "0123456789abcdef",
            "it exited with code 2",
            " \n",
            true,
        );
        assert!(kept.contains("(it logged nothing)"), "{kept}");
        assert!(kept.contains("`docker logs 0123456789ab`"), "{kept}");
        assert!(!kept.contains("--keep"), "{kept}");
    }

    /// A cleanup's note follows the error on its own line; the cause stays matchable.
    #[test]
    fn a_note_follows_the_error() {
        let e = DockerError::NoThread("no memory".into());
        let noted = e.clone().noted(Some("kept: container 0123".into()));
        assert_eq!(noted.to_string(), format!("{e}\nkept: container 0123"));
        assert_eq!(noted.cause(), &e);
        assert_eq!(e.clone().noted(None), e);
    }
}
