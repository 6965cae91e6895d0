//! A problem with how the run was asked for: a flag, the config file, the feature
//! files. Found before anything runs, it ends the process with exit code 2.

/// A problem with how the run was asked for (exit code 2).
pub type UsageError = String;
