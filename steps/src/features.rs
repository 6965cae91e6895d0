//! The feature files compiled into the binary, so an installed `ollama-verify` works
//! anywhere; `--features DIR` replaces them.

pub const FEATURES: &[(&str, &str)] = &[
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
];

/// Writes the built-in feature files into a fresh temporary folder.
pub fn materialize() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("ollama-verify-features")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder for the feature files: {e}"))?;
    for (name, text) in FEATURES {
        std::fs::write(dir.path().join(name), text)
            .map_err(|e| format!("cannot write {name} to {}: {e}", dir.path().display()))?;
    }
    Ok(dir)
}
