//! A report's file written so that a reader (a CI step, a dashboard) never sees half
//! of it: staged in a temporary file beside it and renamed over it, or, for a file
//! that several writers share, appended to.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Adds `text` to the end of the file at `path`.
pub(crate) fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// Writes `text` to `path`, whole or not at all as a reader sees it ([`Staged`]).
pub(crate) fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let staged = Staged::new(path)?;
    staged.writer().write_all(text.as_bytes())?;
    staged.commit()
}

/// A report being written: into a temporary file in its folder, which takes the
/// report's place when [`Staged::commit`] renames it there, so that a reader sees the
/// previous file or the whole new one, never half of one; dropped uncommitted, it
/// leaves the report as it was. The new file keeps the permissions of the one it
/// replaces (a new one gets what `File::create` gives). A path that is not a regular
/// file (`/dev/stdout`, a pipe) or a link to nothing yet is written in place, through
/// it, as it was named; a link to a file replaces that file.
pub(crate) struct Staged {
    file: std::fs::File,
    /// The temporary file and where it goes; none when written in place.
    rename: Option<(tempfile::TempPath, PathBuf)>,
}

impl Staged {
    pub(crate) fn new(path: &Path) -> std::io::Result<Staged> {
        let target = match std::fs::canonicalize(path) {
            Ok(real) if real.is_file() => real,
            Ok(_) => return Self::in_place(path),
            // A link whose target does not exist yet.
            Err(_) if std::fs::symlink_metadata(path).is_ok() => return Self::in_place(path),
            Err(_) => path.to_path_buf(),
        };
        let folder = match target.parent() {
            Some(f) if !f.as_os_str().is_empty() => f,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".ollama-verify-")
            .suffix(".part")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(folder)?;
        if let Ok(previous) = std::fs::metadata(&target) {
            temp.as_file().set_permissions(previous.permissions())?;
        }
        let (file, temp) = temp.into_parts();
        Ok(Staged {
            file,
            rename: Some((temp, target)),
        })
    }

    fn in_place(path: &Path) -> std::io::Result<Staged> {
        Ok(Staged {
            file: std::fs::File::create(path)?,
            rename: None,
        })
    }

    /// A handle that writes into the report.
    pub(crate) fn writer(&self) -> std::fs::File {
        self.file
            .try_clone()
            .expect("a file's handle can be duplicated")
    }

    /// Puts the report in place: synced, then renamed over the path.
    pub(crate) fn commit(self) -> std::io::Result<()> {
        let Some((temp, target)) = self.rename else {
            return Ok(());
        };
        self.file.sync_all()?;
        temp.persist(&target).map_err(|e| e.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    /// A report replaces its file by a rename (a reader sees the old file or the new
    /// one whole), keeps its permissions, and leaves no temporary file behind.
    #[test]
    fn reports_replace_their_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        std::fs::write(&path, "previous").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::metadata(&path).unwrap();
        replace(&path, "new").unwrap();
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_ne!(before.ino(), after.ino(), "a new file, renamed into place");
        assert_eq!(after.permissions().mode() & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.json"]);
        // A staged report dropped before its commit leaves the file as it was.
        let staged = Staged::new(&path).unwrap();
        staged.writer().write_all(b"half").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
