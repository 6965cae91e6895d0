//! Test images built here and tagged with a hash of their inputs: one tag per build,
//! so the older ones are removed once a newer one exists.

use testcontainers::bollard::query_parameters::{ListImagesOptions, RemoveImageOptions};
use testcontainers::bollard::Docker;

/// How long the Docker daemon may take to answer one list or removal.
const DAEMON_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Removes the tags of `repository` other than `current` (`repository:tag`), each only
/// if no container (running or stopped, this process's or another's) uses it: never
/// forced. What it did and what it could not do, a line each, starting with `who`
/// ("docker test").
pub async fn remove_older_tags(
    docker: &Docker,
    who: &str,
    repository: &str,
    current: &str,
) -> Vec<String> {
    let filters =
        std::collections::HashMap::from([("reference".to_string(), vec![repository.to_string()])]);
    let listed = docker.list_images(Some(ListImagesOptions {
        filters: Some(filters),
        ..Default::default()
    }));
    let images = match tokio::time::timeout(DAEMON_WAIT, listed).await {
        Ok(Ok(images)) => images,
        Ok(Err(e)) => return vec![format!("{who}: cannot list the older test images: {e}")],
        Err(_) => {
            return vec![format!(
                "{who}: cannot list the older test images: no answer from the Docker daemon within {} s",
                DAEMON_WAIT.as_secs()
            )]
        }
    };
    let mut said = Vec::new();
    let older = images
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .filter(|r| r.starts_with(&format!("{repository}:")) && r != current);
    for reference in older {
        let removal = docker.remove_image(&reference, None::<RemoveImageOptions>, None);
        said.push(match tokio::time::timeout(DAEMON_WAIT, removal).await {
            Ok(Ok(_)) => format!("{who}: removed the older test image {reference}"),
            Ok(Err(e)) => format!("{who}: kept the older test image {reference}: {e}"),
            Err(_) => format!(
                "{who}: kept the older test image {reference}: no answer from the Docker daemon within {} s",
                DAEMON_WAIT.as_secs()
            ),
        });
    }
    said
}
