//! ollama-verify core library: the typed Ollama client, the Modelfile parser, model
//! names, and the built-in emulator. No cucumber in here: the steps crate binds
//! Gherkin sentences to these functions.

pub mod baseline;
pub mod catalog;
pub mod check;
pub mod client;
pub mod emulator;
pub mod facts;
pub mod figure;
pub mod fleet;
pub mod go;
pub mod gpu;
pub mod interval;
pub mod model_name;
pub mod modelfile;
pub mod perf;
pub mod probe;
pub mod provision;
pub mod report;
pub mod secrets;
pub mod server_log;
pub mod session;
pub mod signature;
pub mod spec_writer;
pub mod target;
pub mod text;
pub mod verdict;
pub mod version;

pub use client::{Client, ClientError, ErrorKind, Timeouts};
pub use model_name::ModelName;
