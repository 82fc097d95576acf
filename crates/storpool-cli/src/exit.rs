//! Exit statuses and the one error line a failed run prints.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::output::{ERROR_STYLE, HINT_STYLE, stderr_colors, write_stderr};

/// The exit codes every binary uses, as `--help` lists them.
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  \
         0  done\n  \
         1  the operation failed (refused by the cluster, not found, busy, timed out)\n  \
         2  usage or configuration error, or an unexpected error"
    };
}

/// The exit-code section of every binary's `--help` (`#[command(after_help = ...)]`).
pub const EXIT_CODES_HELP: &str = exit_codes!();

/// [`EXIT_CODES_HELP`] for a binary that cleans up when a signal stops it
/// ([`ExitStatus::Signal`]).
pub const EXIT_CODES_SIGNALS_HELP: &str = concat!(
    exit_codes!(),
    "\n  129, 130, 143  stopped by SIGHUP, Ctrl-C (SIGINT) or SIGTERM, after cleaning up \
     (128 + the signal)"
);

/// How a run ended, as the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: the operation was tried and failed (refused, not found, busy, timed out).
    Failure,
    /// 2: bad usage or configuration, or an unexpected error (clap uses 2 for usage too).
    Error,
    /// 128 + the signal: a signal (SIGINT, SIGTERM, SIGHUP) stopped the command, which cleaned
    /// up first (the code a shell reports for a process killed by that signal).
    Signal(u8),
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match &self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Error => 2,
            Self::Signal(signal) => 128u8.saturating_add(*signal & 0x7f),
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// An error on its way out of `main`: the error with its causes, the exit status it maps to,
/// and hints for the user.
#[derive(Debug)]
pub struct Failure {
    status: ExitStatus,
    error: anyhow::Error,
    hints: Vec<String>,
}

impl Failure {
    /// A failure with an explicit status.
    pub fn new(status: ExitStatus, error: impl Into<anyhow::Error>) -> Self {
        Self {
            status,
            error: error.into(),
            hints: Vec::new(),
        }
    }

    /// The operation failed: exit 1.
    pub fn operation(error: impl Into<anyhow::Error>) -> Self {
        Self::new(ExitStatus::Failure, error)
    }

    /// Bad usage or configuration: exit 2.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self::new(ExitStatus::Error, error)
    }

    /// Adds a hint, printed on its own line after the error.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Adds context to the error (`CONTEXT: CAUSE`), keeping status and hints.
    #[must_use]
    pub fn context(self, context: impl std::fmt::Display + Send + Sync + 'static) -> Self {
        Self {
            error: self.error.context(context),
            ..self
        }
    }

    /// The same failure with another exit status.
    #[must_use]
    pub fn with_status(self, status: ExitStatus) -> Self {
        Self { status, ..self }
    }

    /// The exit status.
    pub fn status(&self) -> ExitStatus {
        self.status
    }

    /// The error.
    pub fn error(&self) -> &anyhow::Error {
        &self.error
    }

    /// The hints.
    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// The text printed on stderr: `BIN: error: CAUSE: CAUSE...` then `hint: ...` lines, with
    /// `error:` and `hint:` styled (`anstyle`) when `color` is set.
    pub fn render(&self, bin: &str, color: bool) -> String {
        let (error, hint) = if color {
            (ERROR_STYLE, HINT_STYLE)
        } else {
            (anstyle::Style::new(), anstyle::Style::new())
        };
        let mut text = String::new();
        // Several lines in one cause would break the one-line rule: fold them.
        let message = format!("{:#}", self.error).replace('\n', " ");
        let _ = writeln!(text, "{bin}: {error}error:{error:#} {message}");
        for line in &self.hints {
            let _ = writeln!(text, "{hint}hint:{hint:#} {line}");
        }
        text
    }

    /// Prints the error on stderr (coloured as [`crate::stderr_colors`] decides) and returns
    /// the exit code for `main`.
    pub fn report(&self, bin: &str) -> ExitCode {
        write_stderr(&self.render(bin, stderr_colors()));
        self.status.into()
    }
}

impl From<anyhow::Error> for Failure {
    /// An error nobody classified: exit 2.
    fn from(error: anyhow::Error) -> Self {
        Self::usage(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_workspace_convention() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Error.code(), 2);
        assert_eq!(ExitStatus::Signal(2).code(), 130);
        assert_eq!(ExitStatus::Signal(15).code(), 143);
        assert_eq!(ExitStatus::Signal(1).code(), 129);
        assert!(EXIT_CODES_HELP.contains("1  the operation failed"));
        assert!(EXIT_CODES_SIGNALS_HELP.starts_with(EXIT_CODES_HELP));
        assert!(EXIT_CODES_SIGNALS_HELP.ends_with("(128 + the signal)"));
    }

    #[test]
    fn the_error_is_one_line_with_its_causes_and_hints_follow() {
        let err = anyhow::anyhow!("device is open\nby qemu").context("cannot detach `v`");
        let failure = Failure::operation(err).with_hint("close it first");
        assert_eq!(failure.status(), ExitStatus::Failure);
        assert_eq!(
            failure.render("sp-attach", false),
            "sp-attach: error: cannot detach `v`: device is open by qemu\nhint: close it first\n"
        );
        let coloured = failure.render("sp-attach", true);
        assert!(
            coloured.starts_with(&format!("sp-attach: {ERROR_STYLE}error:{ERROR_STYLE:#} ")),
            "{coloured:?}"
        );
        assert!(coloured.contains("\x1b["), "{coloured:?}");
    }

    #[test]
    fn context_keeps_the_status() {
        let failure = Failure::usage(anyhow::anyhow!("bad")).context("reading");
        assert_eq!(failure.status(), ExitStatus::Error);
        assert_eq!(failure.render("x", false), "x: error: reading: bad\n");
        let unexpected: Failure = anyhow::anyhow!("boom").into();
        assert_eq!(unexpected.status(), ExitStatus::Error);
    }
}
