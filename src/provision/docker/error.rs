//! The wording of the docker target's errors: what went wrong and what to do about it.

use super::options::split_image;
use super::progress::escape_len;
use crate::text::short_id as short;

/// Why the container did not start, and what to do about it; `source` is where the
/// image's name came from (`--image`, or the compose file's `image:`).
pub(super) fn start_error(image: &str, source: &str, e: &str) -> String {
    if e.contains("unknown device") || e.contains("device error") {
        // nvidia-container-cli found the toolkit and the driver, not the GPUs asked for.
        format!("the container asked for GPUs this machine does not have: {e}. The NVIDIA Container Toolkit works, but the GPU count or index is wrong: see which GPUs there are with `nvidia-smi -L`, then pass --gpus with a count no larger, --gpus all, or --gpus none")
    } else if e.contains("could not select device driver") || e.contains("nvidia-container-cli") {
        format!("the container could not get the GPU: {e}. The Docker daemon lacks the NVIDIA runtime: install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`; or run without GPUs (--gpus none)")
    } else if e.contains("No such image")
        || e.contains("pull access denied")
        || e.contains("manifest unknown")
    {
        not_here(image, e)
    } else if e.contains("invalid reference format") {
        format!("expected an image name Docker takes from {source}, got `{image}`: {e}. Write it as [registry/]name[:tag] in lowercase, without spaces (e.g. ollama/ollama:0.17.1); `docker images` lists the images here")
    } else {
        format!("the container from {image} did not start: {e}. Docker's answer says why; run with --keep to keep the container it created, for `docker inspect`")
    }
}

/// An image that is neither here nor pulled: what to do, and where to look for the
/// tags that are here (a name without a tag means `:latest`).
pub(super) fn not_here(image: &str, e: &str) -> String {
    let (name, tag) = split_image(image);
    let latest = match image.ends_with(&format!(":{tag}")) {
        true => String::new(),
        false => " (a name without a tag means :latest)".to_string(),
    };
    format!(
        "the image {image} is not here{latest} and could not be pulled: {e}. Pull or build it first (`docker images {name}` lists the tags here), or name another with --image"
    )
}

/// The error of a container that stopped running before its API answered; `keep`:
/// it stays to be looked at.
pub(super) fn stopped(image: &str, id: &str, why: &str, log: &str, keep: bool) -> String {
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

/// Why `ollama pull` failed in the container: its exit code and its own last words
/// (the line that says `Error:`, without the progress frames drawn before it).
pub(super) fn pull_failed(model: &str, code: Option<i64>, said: &[u8]) -> String {
    let code = code.map_or("unknown".to_string(), |c| c.to_string());
    format!(
        "`ollama pull {model}` in the container failed (exit code {code}): {}. Check the model's name, and that the container reaches the registry (network, proxy); or run with --no-provision and a --volume that already holds it",
        last_words(said)
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

/// A start error with its cleanup's note: what it could not remove, or what it kept.
pub(super) fn with_note(message: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{message}\n{note}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_name_the_fix() {
        let e = start_error(
            "ollama/ollama:latest",
            "--image",
            "could not select device driver \"nvidia\" with capabilities: [[gpu]]",
        );
        assert!(
            e.contains("NVIDIA Container Toolkit") && e.contains("--gpus none"),
            "{e}"
        );
        let e = start_error("x:1", "--image", "No such image: x:1");
        assert!(e.contains("--image"), "{e}");
        assert!(start_error("x:1", "--image", "boom").contains("did not start: boom"));
    }

    #[test]
    fn a_wrong_gpu_count_is_not_a_missing_toolkit() {
        for said in [
            "failed to create task for container: nvidia-container-cli: device error: 2: unknown device: unknown",
            "nvidia-container-cli: device error: GPU-1234: unknown device",
        ] {
            let e = start_error("ollama/ollama:latest", "--image", said);
            assert!(
                e.contains("count or index is wrong") && e.contains("nvidia-smi -L"),
                "{e}"
            );
            assert!(!e.contains("install the NVIDIA Container Toolkit"), "{e}");
        }
    }

    /// A name Docker refuses is named with where it came from and how it is written;
    /// any other refusal still says what to try.
    #[test]
    fn a_start_error_says_what_to_try() {
        let e = start_error(
            "Bad_Image",
            "--image",
            "failed to create a container: Docker responded with status code 400: invalid reference format: repository name must be lowercase",
        );
        assert!(
            e.starts_with("expected an image name Docker takes from --image, got `Bad_Image`")
                && e.contains("in lowercase"),
            "{e}"
        );
        let e = start_error("x:1", "--image", "failed to start a container: boom");
        assert!(e.contains("boom") && e.contains("--keep"), "{e}");
    }

    /// A failed pull says its exit code as a number and the CLI's error line, not its
    /// progress frames.
    #[test]
    fn a_failed_pull_says_why_in_a_line() {
        let said = b"\x1b[?25lpulling manifest \xe2\xa0\x8b \x1b[K\x1b[?25h\x1b[?2026l\rError: pull model manifest: file does not exist\n";
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
}
