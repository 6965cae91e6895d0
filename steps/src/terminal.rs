//! What the console is: whether it takes colour (`--color`, `NO_COLOR`) and how wide it
//! is. Leaf: imports nothing of the crate.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// The width a pipe or a file gets: a log viewer's, not a terminal's.
pub const PIPE_WIDTH: usize = 100;

/// The narrowest width wrapped to: below it, a terminal's own wrapping reads better.
const MIN_WIDTH: usize = 40;

/// `--color`: when the console's output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always, in a pipe or a file too (a CI log that shows colour).
    Always,
    /// Never.
    Never,
}

/// Whether to colour: `always` and `never` as said; `auto` on a terminal whose user
/// has not set `NO_COLOR` (to anything but nothing, as no-color.org defines it).
pub fn colored(choice: ColorChoice, terminal: bool, no_color: Option<&OsStr>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(OsStr::is_empty),
    }
}

/// Applies `choice` to this process's console output, stdout and stderr alike (the
/// `console` crate's styles, which cucumber's `--steps` output uses too); whether stdout
/// is coloured.
pub fn apply(choice: ColorChoice) -> bool {
    let no_color = std::env::var_os("NO_COLOR");
    let out = colored(choice, std::io::stdout().is_terminal(), no_color.as_deref());
    let err = colored(choice, std::io::stderr().is_terminal(), no_color.as_deref());
    console::set_colors_enabled(out);
    console::set_colors_enabled_stderr(err);
    out
}

/// The width to wrap stdout to: the terminal's, or [`PIPE_WIDTH`] in a pipe or a file.
pub fn width() -> usize {
    console::Term::stdout()
        .size_checked()
        .map_or(PIPE_WIDTH, |(_, cols)| usize::from(cols).max(MIN_WIDTH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case::auto_on_a_terminal(ColorChoice::Auto, true, None, true)]
    #[case::auto_in_a_pipe(ColorChoice::Auto, false, None, false)]
    #[case::no_color_on_a_terminal(ColorChoice::Auto, true, Some("1"), false)]
    #[case::an_empty_no_color(ColorChoice::Auto, true, Some(""), true)]
    #[case::always_in_a_pipe(ColorChoice::Always, false, None, true)]
    #[case::always_over_no_color(ColorChoice::Always, true, Some("1"), true)]
    #[case::never_on_a_terminal(ColorChoice::Never, true, None, false)]
    fn colour_follows_the_flag_the_terminal_and_no_color(
        #[case] choice: ColorChoice,
        #[case] terminal: bool,
        #[case] no_color: Option<&str>,
        #[case] expected: bool,
    ) {
        assert_eq!(
            colored(choice, terminal, no_color.map(OsStr::new)),
            expected
        );
    }
}
