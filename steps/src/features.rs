//! The spec compiled into the binary, so an installed `ollama-verify` works anywhere;
//! `--features DIR` replaces it.

use crate::usage::UsageError;
use std::path::{Path, PathBuf};

/// Feature file name and text.
type File = (&'static str, &'static str);

pub const FEATURES: &[File] = &[
    ("gpu.feature", include_str!("../../features/gpu.feature")),
    (
        "service.feature",
        include_str!("../../features/service.feature"),
    ),
    (
        "models.feature",
        include_str!("../../features/models.feature"),
    ),
    ("api.feature", include_str!("../../features/api.feature")),
    (
        "performance.feature",
        include_str!("../../features/performance.feature"),
    ),
    (
        "modelfile.feature",
        include_str!("../../features/modelfile.feature"),
    ),
    (
        "security.feature",
        include_str!("../../features/security.feature"),
    ),
    (
        "diagnostics.feature",
        include_str!("../../features/diagnostics.feature"),
    ),
];

/// Files of setup/ the built-in features name, laid out beside them.
const SETUP: &[File] = &[(
    "coding-assistant.Modelfile",
    ollama_verify::emulator::SETUP_MODELFILE,
)];

/// Writes the built-in spec into a fresh temporary folder: `features/` and the
/// `setup/` files they name. The feature files are in `<dir>/features`.
pub fn materialize() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("ollama-verify-spec")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder for the feature files: {e}"))?;
    for (sub, files) in [("features", FEATURES), ("setup", SETUP)] {
        let folder = dir.path().join(sub);
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        for (name, text) in files {
            std::fs::write(folder.join(name), text)
                .map_err(|e| format!("cannot write {name} to {}: {e}", folder.display()))?;
        }
    }
    Ok(dir)
}

/// The folder of feature files: `--features DIR`, or the built-in ones laid out in a
/// temporary folder that lives as long as the handle returned with it.
pub fn features_dir(
    dir: Option<&Path>,
) -> Result<(Option<tempfile::TempDir>, PathBuf), UsageError> {
    match dir {
        Some(dir) => match features_folder(dir) {
            Ok(()) => Ok((None, dir.to_path_buf())),
            Err(why) => Err(UsageError::new(format!(
                "--features {}: {why}",
                dir.display()
            ))),
        },
        None => {
            let builtin = materialize().map_err(UsageError::new)?;
            let path = builtin.path().join("features");
            Ok((Some(builtin), path))
        }
    }
}

/// Why `dir` is no folder of feature files to give `--features`, if it is not one.
pub fn features_folder(dir: &Path) -> Result<(), UsageError> {
    match dir {
        dir if dir.is_dir() => Ok(()),
        file if file.is_file() => Err(UsageError::new(format!(
            "that is a file; give the folder of .feature files that holds it (`--features {}`), and choose scenarios with --tags",
            file.parent().map_or(".".into(), |p| if p.as_os_str().is_empty() { ".".into() } else { p.display().to_string() })
        ))),
        _ => Err(UsageError::new("no such folder of .feature files; give --features the folder that holds yours, or leave it out to run the built-in ones")),
    }
}
