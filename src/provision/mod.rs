//! How a target comes to exist. `native` is already running; `emulator` starts in
//! process (see `crate::emulator`); `docker` is started and provisioned here.

#[cfg(feature = "docker")]
pub mod compose;
#[cfg(feature = "docker")]
pub mod docker;
