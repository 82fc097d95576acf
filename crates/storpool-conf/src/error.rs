//! The one error type of this crate.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where the effective value of a variable came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The built-in defaults ([`crate::DEFAULTS`]).
    Default,
    /// A configuration file.
    File {
        /// The file.
        path: PathBuf,
        /// The section, `None` for the unnamed (global) part before the first header.
        section: Option<String>,
        /// 1-based line of the assignment (its first line when it is continued).
        line: usize,
    },
    /// An environment variable of the same name.
    Env,
    /// Given directly by the program (see [`crate::Config::from_vars`]).
    Given,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the built-in defaults"),
            Origin::File {
                path,
                section: None,
                line,
            } => write!(f, "the global section of {} line {line}", path.display()),
            Origin::File {
                path,
                section: Some(section),
                line,
            } => write!(f, "section `[{section}]` of {} line {line}", path.display()),
            Origin::Env => f.write_str("the environment"),
            Origin::Given => f.write_str("the program's own settings"),
        }
    }
}

/// Why a line of a configuration file could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxError {
    /// A line that is neither a comment, a `[section]` header nor a `name=value` assignment.
    UnexpectedLine,
    /// A variable name not followed by `=`.
    MissingEquals,
    /// A section header without a name, or with something after its `]`.
    BadSectionHeader,
    /// Two backslashes in a row, or a backslash before the continuation backslash.
    BadBackslash,
    /// The last line of the file ends in a continuation backslash.
    ContinuationAtEnd,
    /// The bytes of the line are not UTF-8.
    NotUtf8,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyntaxError::UnexpectedLine => {
                "expected a comment, a `[section]` header or a `NAME=value` assignment"
            }
            SyntaxError::MissingEquals => "expected `=` after the variable name",
            SyntaxError::BadSectionHeader => {
                "a section header is `[name]` with a non-empty name and nothing after the `]`"
            }
            SyntaxError::BadBackslash => {
                "a backslash in a value must be followed by a character other than a backslash"
            }
            SyntaxError::ContinuationAtEnd => {
                "the value is continued with `\\` but the file ends there"
            }
            SyntaxError::NotUtf8 => "the line is not valid UTF-8",
        })
    }
}

/// Everything that can go wrong while reading storpool.conf.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// The main file does not exist and `missing_ok` is off.
    #[error("the StorPool configuration file {} does not exist", path.display())]
    MissingMainFile {
        /// The main file that was looked for.
        path: PathBuf,
    },

    /// A file or the drop-in folder exists but could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A file to read is not a regular file (a FIFO, a device, a folder, a socket): it is not
    /// read at all, so a FIFO never blocks and `/dev/zero` never fills the memory.
    #[error("{} is not a regular file but {kind}", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is instead: `a FIFO`, `a character device`, `a block device`, `a socket`,
        /// `a folder`.
        kind: &'static str,
    },

    /// A file is larger than [`crate::MAX_FILE_SIZE`]: it is not read.
    #[error(
        "{} is larger than {limit} bytes, the limit for a configuration file",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, [`crate::MAX_FILE_SIZE`].
        limit: u64,
    },

    /// A line of a file breaks the syntax. The line's text is not repeated: it may hold a secret.
    #[error("{}:{line}: {reason}{}", path.display(), in_variable(variable.as_deref()))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: SyntaxError,
        /// The variable being set on that line, when there is one.
        variable: Option<String>,
    },

    /// A variable is set to a value its typed accessor cannot accept.
    #[error(
        "invalid {variable} value {} (from {origin}): {reason}",
        shown_value(variable, value)
    )]
    InvalidValue {
        /// The variable.
        variable: String,
        /// Its value (not shown in the message for secrets).
        value: String,
        /// Where the value was set: file, section and line, or the environment.
        origin: Box<Origin>,
        /// What is expected instead.
        reason: String,
    },

    /// A variable the caller needs is not set anywhere.
    #[error("{variable} is not set in the StorPool configuration (section `[{section}]`)")]
    Missing {
        /// The variable.
        variable: String,
        /// The section that was read (the node name unless the caller chose one).
        section: String,
    },
}

/// Values and names longer than this many characters are cut when an error shows them.
const SHOWN_CHARS: usize = 80;

/// `text` in backticks, cut after [`SHOWN_CHARS`] characters with `...` and its length, so
/// that an error line stays one readable line however long the value is.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => format!("`{text}`"),
        Some((end, _)) => format!(
            "`{}...` ({} characters)",
            &text[..end],
            text.chars().count()
        ),
    }
}

fn shown_value(variable: &str, value: &str) -> String {
    if crate::is_secret(variable) {
        "<redacted>".to_owned()
    } else {
        quoted(value)
    }
}

fn in_variable(variable: Option<&str>) -> String {
    variable.map_or_else(String::new, |name| format!(" (variable {})", quoted(name)))
}
