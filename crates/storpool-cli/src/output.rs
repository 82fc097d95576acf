//! Writing data to stdout.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// Set once the command runs on the embedded simulator: every JSON document says so.
static EMBEDDED: AtomicBool = AtomicBool::new(false);

/// Makes every later [`emit_json`] document carry `"cluster": "embedded"` as its first
/// member (what [`crate::Cluster::announce`] does on the embedded simulator).
pub(crate) fn mark_embedded() {
    EMBEDDED.store(true, Ordering::Relaxed);
}

/// A remark on stderr, `BIN: TEXT` (not data).
pub fn note(bin: &str, text: &str) {
    write_stderr(&format!("{bin}: {text}\n"));
}

/// Writes `text` to stdout and flushes it. A closed pipe (`sp-attach list | head -1`) is not
/// an error: the reader has what it wanted.
pub fn emit(text: &str) -> io::Result<()> {
    emit_to(&mut io::stdout().lock(), text)
}

/// [`emit`] to any writer.
pub fn emit_to(out: &mut impl Write, text: &str) -> io::Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `value` to stdout as one JSON document on one line. On the embedded simulator
/// (see [`crate::Cluster::announce`]) an object gets `"cluster": "embedded"` as its first
/// member.
pub fn emit_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    emit_json_to(&mut io::stdout().lock(), value)
}

/// [`emit_json`] to any writer, in one pass: serialized straight into a 64 KiB buffer that
/// goes out whenever it fills, so a listing of 100,000 volumes (25 MB of JSON) is never held
/// as a whole. A closed pipe is not an error, as with [`emit`].
pub fn emit_json_to<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let buffered = io::BufWriter::with_capacity(1 << 16, out);
    match write_document(buffered, value, EMBEDDED.load(Ordering::Relaxed)) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The text [`emit_json`] prints: one line, with `"cluster": "embedded"` first in an object
/// when `embedded`.
pub fn json_document<T: Serialize + ?Sized>(value: &T, embedded: bool) -> io::Result<String> {
    let mut text = Vec::new();
    write_document(&mut text, value, embedded)?;
    String::from_utf8(text).map_err(io::Error::other)
}

/// Serializes `value` and a line break into `out` and flushes it, with the embedded member
/// put in front of an object's first one on the way.
fn write_document<W: Write, T: Serialize + ?Sized>(
    mut out: W,
    value: &T,
    embedded: bool,
) -> io::Result<()> {
    if embedded {
        let mut member = EmbeddedMember {
            out: &mut out,
            state: Insert::AtOpeningBrace,
        };
        serde_json::to_writer(&mut member, value).map_err(io::Error::from)?;
    } else {
        // Straight into the buffer: serde_json writes every token with `write_all`, and going
        // through the adapter's `write` cost 13 % of `sp-volume --json list`'s time.
        serde_json::to_writer(&mut out, value).map_err(io::Error::from)?;
    }
    out.write_all(b"\n")?;
    out.flush()
}

/// Where [`EmbeddedMember`] is in putting `"cluster":"embedded"` into an object.
#[derive(Clone, Copy)]
enum Insert {
    /// Before the document's first byte: an object's `{` gets the member after it.
    AtOpeningBrace,
    /// The member is written; a comma follows unless the object is empty.
    BeforeFirstMember,
    /// Nothing more to do.
    Done,
}

/// A writer that adds `"cluster":"embedded"` as the first member of the document's top-level
/// object as `serde_json` writes it, so that the document still streams.
struct EmbeddedMember<W> {
    out: W,
    state: Insert,
}

impl<W: Write> Write for EmbeddedMember<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(&first) = buf.first() else {
            return Ok(0);
        };
        match self.state {
            Insert::Done => self.out.write(buf),
            Insert::AtOpeningBrace if first == b'{' => {
                self.out.write_all(b"{\"cluster\":\"embedded\"")?;
                self.state = Insert::BeforeFirstMember;
                Ok(1)
            }
            Insert::AtOpeningBrace => {
                self.state = Insert::Done;
                self.out.write(buf)
            }
            Insert::BeforeFirstMember => {
                if first != b'}' {
                    self.out.write_all(b",")?;
                }
                self.state = Insert::Done;
                self.out.write(buf)
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if matches!(self.state, Insert::Done) {
            return self.out.write_all(buf);
        }
        let mut rest = buf;
        while !rest.is_empty() {
            match self.write(rest)? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                written => rest = &rest[written..],
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Seconds as every JSON document gives them (`*_seconds`): rounded to the millisecond, so
/// that they never print in exponent notation (`1e-5`).
pub fn json_seconds(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A text table with a header line: every column but the last padded to its widest cell,
/// two spaces between columns, no trailing blanks.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Whether colours may be used: on a terminal, unless `NO_COLOR` is set to a non-empty value
/// (<https://no-color.org>). `no_color` is the variable's value, if set. (What
/// [`stderr_colors`] decides for the process, for a given environment.)
pub fn color_allowed(no_color: Option<&OsStr>, is_terminal: bool) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Whether stderr gets colours, as `anstream` decides for every binary (and clap for its
/// help): never with `NO_COLOR` set, always with `CLICOLOR_FORCE`, never with `CLICOLOR=0`
/// or `TERM=dumb`, else on a terminal.
pub fn stderr_colors() -> bool {
    anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never
}

/// The style of `error:` in the error line (bold red).
pub(crate) const ERROR_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));

/// The style of `hint:` and `warning:` (bold yellow).
pub(crate) const HINT_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));

/// Writes `text` (which may hold ANSI styles) to stderr through `anstream`, which drops the
/// styles when colours are off ([`stderr_colors`]).
pub fn write_stderr(text: &str) {
    let mut stderr = anstream::stderr().lock();
    // Nothing sensible is left to do if stderr itself is gone.
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// `BIN: warning: TEXT` on stderr, `warning:` in bold yellow when colours are on.
pub fn warning(bin: &str, text: &str) {
    write_stderr(&format!(
        "{bin}: {HINT_STYLE}warning:{HINT_STYLE:#} {text}\n"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_is_one_line_written_through_a_buffer_and_a_closed_pipe_is_success() {
        let mut buffer = Vec::new();
        let many: Vec<u32> = (0..100_000).collect();
        emit_json_to(&mut buffer, &many).unwrap();
        let (last, text) = buffer.split_last().unwrap();
        assert_eq!(*last, b'\n');
        assert!(!text.contains(&b'\n'));
        assert_eq!(serde_json::from_slice::<Vec<u32>>(&buffer).unwrap(), many);
        assert!(emit_json_to(&mut ClosedPipe, &many).is_ok());
        assert!(emit_json_to(&mut Full, &many).is_err());
    }

    #[test]
    fn a_closed_pipe_is_success_and_other_errors_are_not() {
        assert!(emit_to(&mut ClosedPipe, "data\n").is_ok());
        assert!(emit_to(&mut Full, "data\n").is_err());
        let mut buffer = Vec::new();
        emit_to(&mut buffer, "data\n").unwrap();
        assert_eq!(buffer, b"data\n");
    }

    #[test]
    fn documents_of_the_embedded_simulator_say_so_first() {
        let value = serde_json::json!({"id": "v"});
        assert_eq!(json_document(&value, false).unwrap(), "{\"id\":\"v\"}\n");
        assert_eq!(
            json_document(&value, true).unwrap(),
            "{\"cluster\":\"embedded\",\"id\":\"v\"}\n"
        );
        assert_eq!(
            json_document(&serde_json::json!({}), true).unwrap(),
            "{\"cluster\":\"embedded\"}\n"
        );
        assert_eq!(json_document(&[1], true).unwrap(), "[1]\n");
        let nested = serde_json::json!({"a": {"b": []}, "c": "{"});
        assert_eq!(
            json_document(&nested, true).unwrap(),
            "{\"cluster\":\"embedded\",\"a\":{\"b\":[]},\"c\":\"{\"}\n"
        );
    }

    #[test]
    fn seconds_are_rounded_to_the_millisecond_and_never_exponents() {
        for (secs, text) in [
            (0.000_012, "0.0"),
            (0.0004, "0.0"),
            (0.0016, "0.002"),
            (12.345_67, "12.346"),
        ] {
            let value = json_seconds(secs);
            assert_eq!(serde_json::to_string(&value).unwrap(), text, "{secs}");
        }
    }

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let text = table(
            ["A", "BB", "C"],
            &[["xxx".to_owned(), "y".to_owned(), "z".to_owned()]],
        );
        assert_eq!(text, "A    BB  C\nxxx  y   z\n");
    }

    #[test]
    fn no_color_wins_unless_empty() {
        assert!(color_allowed(None, true));
        assert!(color_allowed(Some(OsStr::new("")), true));
        assert!(!color_allowed(Some(OsStr::new("1")), true));
        assert!(!color_allowed(None, false));
    }
}
