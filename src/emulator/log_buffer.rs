//! The emulated server's log as it keeps it: the last lines, bounded, in memory;
//! `ollama-emulator serve` also prints it to stderr so a journal or a container log
//! holds it.

use crate::server_log::TAIL_LINES;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: Mutex<VecDeque<String>>,
    echo: AtomicBool,
}

impl LogBuffer {
    pub fn push(&self, line: String) {
        if self.echo.load(Ordering::Relaxed) {
            eprintln!("{line}");
        }
        let mut lines = self.lines.lock().unwrap();
        if lines.len() >= TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().iter().cloned().collect()
    }

    /// Prints what is logged so far to stderr, and every later line as it comes.
    pub fn echo_to_stderr(&self) {
        let lines = self.lines.lock().unwrap();
        for l in lines.iter() {
            eprintln!("{l}");
        }
        self.echo.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded() {
        let log = LogBuffer::default();
        for i in 0..TAIL_LINES + 10 {
            log.push(format!("line {i}"));
        }
        let lines = log.lines();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "line 10");
    }
}
