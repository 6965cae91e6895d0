//! The exit codes of `ollama-verify`, all of them (the README's "Exit codes" and the CI
//! templates under ci/ list the same), and the policy that picks a run's.

use crate::stop::Stopped;

/// No check failed (warnings and skips allowed), every report written.
pub const PASSED: u8 = 0;
/// A check failed (or did not finish within `--deadline`), every report written.
pub const FAILED: u8 = 1;
/// A usage or configuration error, found before the run: nothing was asked of the
/// server, no report written or overwritten.
pub const USAGE: u8 = 2;
/// The run ended, but a report could not be written at the end (a full disk, a
/// folder removed meanwhile): the others were, and the table was printed, whatever
/// the checks found.
pub const UNWRITTEN: u8 = 3;
/// Interrupted by SIGINT (Ctrl-C), 128 + 2 as shells report it; reports written.
pub const SIGINT: u8 = 130;
/// Interrupted by SIGTERM, 128 + 15; reports written.
pub const SIGTERM: u8 = 143;

/// A run's exit code: an interruption's first (it is why the run ended), then a report
/// that could not be written (a pipeline must not read the last run's file as this
/// one's), then whether a check failed.
pub fn exit_code(failed: bool, stopped: Option<Stopped>, unwritten: bool) -> u8 {
    match stopped {
        Some(why @ Stopped::Signal(_)) => stopped_code(why),
        _ if unwritten => UNWRITTEN,
        Some(why) => stopped_code(why),
        None if failed => FAILED,
        None => PASSED,
    }
}

/// 1 for an expired deadline (checks failed); 128 + the signal's number otherwise,
/// as shells report a process a signal ended.
pub fn stopped_code(why: Stopped) -> u8 {
    match why {
        Stopped::Deadline(_) => FAILED,
        Stopped::Signal("SIGINT") => SIGINT,
        Stopped::Signal(_) => SIGTERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::time::Duration;

    #[rstest]
    #[case::passed(false, None, false, 0)]
    #[case::failed(true, None, false, 1)]
    #[case::deadline(true, Some(Stopped::Deadline(Duration::from_secs(1))), false, 1)]
    #[case::a_report_unwritten(false, None, true, 3)]
    #[case::failed_and_unwritten(true, None, true, 3)]
    #[case::deadline_and_unwritten(true, Some(Stopped::Deadline(Duration::from_secs(1))), true, 3)]
    #[case::sigint(true, Some(Stopped::Signal("SIGINT")), false, 130)]
    #[case::sigterm_and_unwritten(true, Some(Stopped::Signal("SIGTERM")), true, 143)]
    fn exit_codes(
        #[case] failed: bool,
        #[case] stopped: Option<Stopped>,
        #[case] unwritten: bool,
        #[case] code: u8,
    ) {
        assert_eq!(exit_code(failed, stopped, unwritten), code);
        assert_ne!(code, USAGE, "a run that ran is never a usage error");
    }

    #[test]
    fn a_signal_exits_as_shells_report_it() {
        assert_eq!(stopped_code(Stopped::Signal("SIGTERM")), 143);
        assert_eq!(stopped_code(Stopped::Signal("SIGINT")), 130);
    }
}
