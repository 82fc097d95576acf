//! Writing data to stdout.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

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

/// Writes `value` to stdout as one JSON document on one line.
pub fn emit_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    emit_json_to(&mut io::stdout().lock(), value)
}

/// [`emit_json`] to any writer, in one pass: serialized straight into a 64 KiB buffer that
/// goes out whenever it fills, so a listing of 100,000 volumes (25 MB of JSON) is never held
/// as a whole. A closed pipe is not an error, as with [`emit`].
pub fn emit_json_to<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    let written = serde_json::to_writer(&mut buffered, value)
        .map_err(io::Error::from)
        .and_then(|()| buffered.write_all(b"\n"))
        .and_then(|()| buffered.flush());
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
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
/// (<https://no-color.org>). `no_color` is the variable's value, if set.
pub fn color_allowed(no_color: Option<&OsStr>, is_terminal: bool) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
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
