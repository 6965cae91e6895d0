//! Provisioning: the base model pulled and the custom model created inside the
//! container, each only when the models' volume lacks it.

use super::error::DockerError;
use super::exec::ContainerHost;
use super::options::DockerOptions;
use super::progress::PullProgress;
use crate::probe::host::Host;

/// Pulls the base model and creates the custom one inside the container, each only
/// when the volume lacks it. Returns what it did, a line per step.
pub(super) async fn models(
    host: &ContainerHost,
    opts: &DockerOptions,
) -> Result<Vec<String>, DockerError> {
    let list = host
        .run("ollama", &["list"], opts.exec_timeout)
        .await
        .map_err(|e| DockerError::Exec(e.to_string()))?;
    let installed = |model: &str| {
        let name = crate::ModelName::parse(model);
        list.stdout
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .any(|n| name.matches(n))
    };
    let mut done = Vec::new();
    if installed(&opts.base_model) {
        done.push(format!("{}: already in the volume", opts.base_model));
    } else {
        pull(host, &opts.base_model, opts).await?;
        done.push(format!("{}: pulled", opts.base_model));
    }
    if installed(&opts.custom_model) {
        done.push(format!("{}: already in the volume", opts.custom_model));
    } else {
        let path = opts
            .compose
            .modelfile_path
            .clone()
            .ok_or_else(|| DockerError::NoModelfile {
                model: opts.custom_model.clone(),
            })?;
        let out = host
            .run(
                "ollama",
                &["create", &opts.custom_model, "-f", &path],
                opts.exec_timeout,
            )
            .await
            .map_err(|e| DockerError::Exec(e.to_string()))?;
        if !out.success() {
            let said = if out.stderr.trim().is_empty() {
                &out.stdout
            } else {
                &out.stderr
            };
            return Err(DockerError::CreateFailed {
                model: opts.custom_model.clone(),
                path,
                said: said.as_bytes().to_vec(),
            });
        }
        done.push(format!("{}: created from {path}", opts.custom_model));
    }
    Ok(done)
}

/// `ollama pull` in the container, its percentages drawn as a progress bar.
async fn pull(host: &ContainerHost, model: &str, opts: &DockerOptions) -> Result<(), DockerError> {
    let bar = if opts.progress {
        indicatif::ProgressBar::new(100)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>3}% {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("pulling {model}"));
    let mut seen = PullProgress::default();
    let on_output = |piece: &[u8], _stderr: bool| {
        seen.feed(piece);
        if let Some(pct) = seen.percent() {
            bar.set_position(pct);
        }
        if !seen.message().is_empty() {
            bar.set_message(seen.message().to_string());
        }
    };
    let command = vec!["ollama".to_string(), "pull".into(), model.into()];
    let work = async {
        let (stdout, stderr, code) = host
            .exec(command, on_output)
            .await
            .map_err(DockerError::Exec)?;
        match code {
            Some(0) => Ok(()),
            _ => Err(DockerError::PullFailed {
                model: model.to_string(),
                code,
                said: if stderr.is_empty() { stdout } else { stderr },
            }),
        }
    };
    let result = tokio::time::timeout(opts.pull_timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(DockerError::PullSlow {
                model: model.to_string(),
                secs: opts.pull_timeout.as_secs_f64(),
            })
        });
    bar.finish_and_clear();
    result
}
