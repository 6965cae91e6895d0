//! Leak-proof cleanup: everything a run makes carries its label, and is removed (or,
//! with `--keep`, listed) by the label however the run ends, within a bound.

use super::daemon::docker;
use crate::text::short_id as short;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, RemoveContainerOptions, RemoveVolumeOptions,
};

/// The label every container and volume this tool creates carries.
pub const LABEL: &str = "org.ollama-verify.target";
/// The label naming the run that created a container or volume (`<pid>-<millis>`):
/// what is removed after the run, also after a failed or abandoned start.
pub const RUN_LABEL: &str = "org.ollama-verify.run";

/// A Docker daemon that stops answering must not hold the run's exit.
pub(super) const REMOVE_WAIT: Duration = Duration::from_secs(30);

/// What a run made (its labelled containers, its fresh volume), removed when this is
/// dropped still armed: a start that failed, or a run stopped (Ctrl-C, SIGTERM,
/// `--deadline`) while the target started or was provisioned. With `--keep` nothing is
/// removed: what is there is listed, with how to reach it and how to remove it. Drop
/// cannot await, so this runs on a thread of its own with its own runtime, bounded by
/// [`REMOVE_WAIT`], and is waited for.
///
/// The container is created and started on a thread of its own (`starting`) that a stop
/// does not interrupt: a create request the daemon was already handling would otherwise
/// make a container after the run's containers were listed, and nobody would remove it.
/// Whatever ends the run first waits (within [`REMOVE_WAIT`]) for that thread to end,
/// then lists the run's containers.
#[derive(Debug)]
pub(super) struct Cleanup {
    run_id: String,
    /// The fresh volume, removed after the containers.
    volume: Option<String>,
    /// `--keep`: leave what the run made, and say where it is.
    keep: bool,
    /// The thread creating and starting the container, while it may still run.
    pub(super) starting: Option<std::thread::JoinHandle<()>>,
    armed: bool,
}

impl Cleanup {
    pub(super) fn new(run_id: String, volume: Option<String>, keep: bool) -> Self {
        Cleanup {
            run_id,
            volume,
            keep,
            starting: None,
            armed: true,
        }
    }

    /// Removes what the run made now, or with `--keep` finds it: a note for the user
    /// (what was left and how to remove it by hand, or what was kept), if any. `late`:
    /// the container's create and start had not ended within [`REMOVE_WAIT`], so the
    /// daemon may still make a container after this.
    pub(super) async fn now(
        &mut self,
        docker: &testcontainers::bollard::Docker,
        late: bool,
    ) -> Option<String> {
        self.armed = false;
        let (run_id, volume) = (self.run_id.clone(), self.volume.clone());
        if self.keep {
            return kept(docker, &run_id, volume.as_deref(), late).await;
        }
        let mut left = remove_run(docker, &run_id, volume.as_deref()).await.left;
        if late {
            left.push(still_creating(&run_id));
        }
        (!left.is_empty()).then(|| format!("not removed, remove by hand: {}", left.join("; ")))
    }

    /// Leaves everything as it is.
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }
}

/// Waits for the thread that creates and starts the container to end, at most
/// [`REMOVE_WAIT`]; whether it did. Says so when the wait is noticeable.
pub(super) fn await_start(starting: Option<std::thread::JoinHandle<()>>) -> bool {
    let Some(starting) = starting else {
        return true;
    };
    let began = Instant::now();
    let mut said = false;
    while !starting.is_finished() {
        if began.elapsed() >= REMOVE_WAIT {
            return false;
        }
        if !said && began.elapsed() >= Duration::from_secs(2) {
            eprintln!(
                "docker: waiting (at most {} s) for the Docker daemon to answer the container's create and start, so that what it makes is not left behind",
                REMOVE_WAIT.as_secs()
            );
            said = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What is left when the container's create and start did not end in time.
fn still_creating(run_id: &str) -> String {
    format!(
        "a container the Docker daemon may still create: it did not answer the create and start within {} s (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`)",
        REMOVE_WAIT.as_secs()
    )
}

/// The command that removes every container of the run, and its fresh volume.
fn remove_by_hand(run_id: &str, volume: Option<&str>) -> String {
    format!(
        "`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`{}",
        volume.map_or(String::new(), |v| format!(", then `docker volume rm {v}`"))
    )
}

/// What a run kept with `--keep`, found by its label: the containers, how to look at
/// them and how to remove them with the fresh volume; `late` when the container's
/// create and start had not ended (what they make yet is kept too). `None` when the
/// run made nothing.
async fn kept(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
    volume: Option<&str>,
    late: bool,
) -> Option<String> {
    let find = format!("`docker ps -a --filter label={RUN_LABEL}={run_id}`");
    let late = if late {
        format!(
            "; its create and start had not ended within {} s, what they make stays too: look again with {find}",
            REMOVE_WAIT.as_secs()
        )
    } else {
        String::new()
    };
    let ids = match tokio::time::timeout(REMOVE_WAIT, list_run(docker, run_id)).await {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            return Some(format!(
                "kept what the run made (--keep), but cannot list it: {e}. Find it with {find}; remove it with {}",
                remove_by_hand(run_id, volume)
            ))
        }
        Err(_) => {
            return Some(format!(
                "kept what the run made (--keep), but the Docker daemon did not answer within {} s to list it. Find it with {find}; remove it with {}",
                REMOVE_WAIT.as_secs(),
                remove_by_hand(run_id, volume)
            ))
        }
    };
    let volume_rm = volume.map_or(String::new(), |v| format!(" && docker volume rm {v}"));
    match (ids.first(), volume) {
        (Some(first), _) => {
            let shorts: Vec<&str> = ids.iter().map(|id| short(id)).collect();
            Some(format!(
                "kept container {}{} (--keep): see its log with `docker logs {}` and its state with `docker inspect {}` (the run's containers: {find}); remove {} with `docker rm -f {}{volume_rm}`{late}",
                shorts.join(", "),
                volume.map_or(String::new(), |v| format!(" and the volume {v}")),
                short(first),
                short(first),
                if ids.len() > 1 || volume.is_some() { "them" } else { "it" },
                shorts.join(" "),
            ))
        }
        (None, Some(v)) => Some(format!(
            "kept the volume {v} (--keep); no container was made ({find} lists none); remove it with `docker volume rm {v}`{late}"
        )),
        (None, None) if !late.is_empty() => Some(format!("kept what the run made (--keep), nothing yet{late}")),
        (None, None) => None,
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let run_id = self.run_id.clone();
        let volume = self.volume.clone();
        let keep = self.keep;
        let starting = self.starting.take();
        let removal = std::thread::spawn(move || {
            // The daemon may still be creating the container: only once it answered does
            // the listing below see everything the run made.
            let started = await_start(starting);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("no runtime to remove them with: {e}"))?;
            runtime.block_on(async {
                let docker = docker().map_err(|e| e.to_string())?;
                if keep {
                    let note = kept(&docker, &run_id, volume.as_deref(), !started).await;
                    return Ok::<_, String>(Ended::Kept(note));
                }
                let mut done = tokio::time::timeout(
                    REMOVE_WAIT,
                    remove_run(&docker, &run_id, volume.as_deref()),
                )
                .await
                .map_err(|_| {
                    format!(
                        "no answer from the Docker daemon within {} s",
                        REMOVE_WAIT.as_secs()
                    )
                })?;
                if !started {
                    done.left.push(still_creating(&run_id));
                }
                Ok(Ended::Removed(done))
            })
        });
        let what = format!(
            "containers labelled {RUN_LABEL}={}{}",
            self.run_id,
            self.volume
                .as_ref()
                .map_or(String::new(), |v| format!(" and the volume {v}"))
        );
        match removal.join() {
            Ok(Ok(Ended::Removed(done))) => {
                if !done.removed.is_empty() {
                    eprintln!(
                        "docker: the run stopped while its container was started or provisioned; removed {}",
                        done.removed.join(", ")
                    );
                }
                if !done.left.is_empty() {
                    eprintln!(
                        "docker: not removed, remove by hand: {}",
                        done.left.join("; ")
                    );
                }
            }
            Ok(Ok(Ended::Kept(note))) => eprintln!(
                "docker: the run stopped while its container was started or provisioned; {}",
                note.unwrap_or_else(|| "it had made nothing to keep (--keep)".into())
            ),
            Ok(Err(e)) if self.keep => eprintln!(
                "docker: kept the {what} (--keep), but could not list them: {e}. Find them with `docker ps -a --filter label={RUN_LABEL}={}`; remove them with {}",
                self.run_id,
                remove_by_hand(&self.run_id, self.volume.as_deref())
            ),
            Ok(Err(e)) => eprintln!(
                "docker: could not remove the {what}: {e}. Remove them by hand: {}",
                remove_by_hand(&self.run_id, self.volume.as_deref())
            ),
            Err(_) => eprintln!("docker: removing the {what} panicked; check `docker ps -a --filter label={RUN_LABEL}={}`", self.run_id),
        }
    }
}

/// How the cleanup of a dropped run ended.
enum Ended {
    Removed(Removed),
    /// `--keep`: what the run made, if anything.
    Kept(Option<String>),
}

/// The ids of the run's containers, stopped ones included.
async fn list_run(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
) -> Result<Vec<String>, testcontainers::bollard::errors::Error> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{RUN_LABEL}={run_id}")])]);
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await?;
    Ok(list.into_iter().filter_map(|c| c.id).collect())
}

/// What [`remove_run`] removed and what it left (with why and the command to do it).
#[derive(Debug, Default)]
struct Removed {
    removed: Vec<String>,
    left: Vec<String>,
}

/// Force-removes every container labelled with `run_id` (with its anonymous volumes),
/// then `volume`; each step within [`REMOVE_WAIT`]. A container or volume already gone
/// counts as removed.
async fn remove_run(
    docker: &testcontainers::bollard::Docker,
    run_id: &str,
    volume: Option<&str>,
) -> Removed {
    let mut done = Removed::default();
    let ids = match tokio::time::timeout(REMOVE_WAIT, list_run(docker, run_id)).await {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            done.left.push(format!(
                "the run's containers (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`): cannot list them: {e}"
            ));
            Vec::new()
        }
        Err(_) => {
            done.left.push(format!(
                "the run's containers (`docker ps -aq --filter label={RUN_LABEL}={run_id} | xargs -r docker rm -f`): no answer from the Docker daemon within {} s",
                REMOVE_WAIT.as_secs()
            ));
            Vec::new()
        }
    };
    for id in ids {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        let what = format!("container {} (`docker rm -f {}`)", short(&id), short(&id));
        match bounded(
            what,
            gone_is_fine(docker.remove_container(&id, Some(options))),
        )
        .await
        {
            Some(left) => done.left.push(left),
            None => done.removed.push(format!("container {}", short(&id))),
        }
    }
    if let Some(volume) = volume {
        let what = format!("volume {volume} (`docker volume rm {volume}`)");
        let removal = docker.remove_volume(volume, None::<RemoveVolumeOptions>);
        match bounded(what, gone_is_fine(removal)).await {
            Some(left) => done.left.push(left),
            None => done.removed.push(format!("volume {volume}")),
        }
    }
    done
}

/// A removal answered 404 (already gone, or never made) succeeded.
async fn gone_is_fine(
    removal: impl std::future::Future<Output = Result<(), testcontainers::bollard::errors::Error>>,
) -> Result<(), testcontainers::bollard::errors::Error> {
    match removal.await {
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }) => Ok(()),
        other => other,
    }
}

/// Awaits a removal within [`REMOVE_WAIT`]; what was left behind, and why, if anything.
async fn bounded<E: std::fmt::Display>(
    what: String,
    removal: impl std::future::Future<Output = Result<(), E>>,
) -> Option<String> {
    match tokio::time::timeout(REMOVE_WAIT, removal).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{what}: {e}")),
        Err(_) => Some(format!(
            "{what}: no answer from the Docker daemon within {} s",
            REMOVE_WAIT.as_secs()
        )),
    }
}
