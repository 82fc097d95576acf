//! The storpool.conf syntax: confget's INI format, as the official StorPool reader parses it.
//!
//! Pure functions from text to [`ConfFile`]; no I/O.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ConfError, SyntaxError};

/// One variable assignment in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The value, with continuation lines joined.
    pub value: String,
    /// 1-based line where the assignment starts.
    pub line: usize,
}

/// The variables of one section of one file (later assignments replace earlier ones).
pub type Section = BTreeMap<String, Assignment>;

/// One parsed configuration file: its unnamed (global) part and its named sections.
///
/// A section that appears twice in a file is merged, the later values winning, as the official
/// reader does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfFile {
    path: PathBuf,
    global: Section,
    sections: BTreeMap<String, Section>,
}

impl ConfFile {
    /// The path the file was read from (as given to [`parse`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The variables set before the first section header.
    pub fn global(&self) -> &Section {
        &self.global
    }

    /// The variables of the section `name`, if the file has that section.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.get(name)
    }

    /// The names of the named sections, sorted.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }
}

/// Python's `str.isspace()`: Unicode white space plus the ASCII separators 0x1C..=0x1F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The blanks confget skips between tokens: spaces and tabs only.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits one value segment (a line's text after the `=` or after the leading blanks of a
/// continuation line) into its text and whether it continues on the next line.
fn value_segment(segment: &str) -> Result<(&str, bool), SyntaxError> {
    let (body, continued) = match segment.strip_suffix('\\') {
        Some(body) => (body, true),
        None => (segment, false),
    };
    if body.contains("\\\\") || body.ends_with('\\') {
        return Err(SyntaxError::BadBackslash);
    }
    Ok((body, continued))
}

/// Parses a file's bytes; text that is not UTF-8 is an error naming its first bad line.
pub fn parse_bytes(path: impl Into<PathBuf>, bytes: &[u8]) -> Result<ConfFile, ConfError> {
    let path = path.into();
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(path, text),
        Err(err) => {
            let line = 1 + bytes[..err.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n' || b == b'\r')
                .count();
            Err(ConfError::Syntax {
                path,
                line,
                reason: SyntaxError::NotUtf8,
                variable: None,
            })
        }
    }
}

/// Parses the text of one configuration file.
///
/// `path` is only used to name the file in errors. Line ends may be `\n`, `\r\n` or `\r` (the
/// official reader opens files in Python's universal-newline mode); a missing final newline is
/// accepted.
pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<ConfFile, ConfError> {
    let mut file = ConfFile {
        path: path.into(),
        ..ConfFile::default()
    };
    let mut current: Option<String> = None;
    // An assignment continued with a backslash: (name, value so far, first line).
    let mut pending: Option<(String, String, usize)> = None;
    let mut lineno = 0;

    let syntax = |file: &ConfFile, line, reason, variable: Option<&str>| ConfError::Syntax {
        path: file.path.clone(),
        line,
        reason,
        variable: variable.map(str::to_owned),
    };

    for raw in lines(text) {
        lineno += 1;
        let leading = raw.len() - raw.trim_start_matches(is_blank).len();
        let line = &raw[leading..];

        if let Some((name, mut value, first)) = pending.take() {
            let (body, continued) =
                value_segment(line).map_err(|reason| syntax(&file, lineno, reason, Some(&name)))?;
            value.push_str(&raw[..leading]);
            if continued {
                value.push_str(body);
                pending = Some((name, value, first));
            } else {
                value.push_str(body.trim_end_matches(is_py_space));
                file.set(current.as_deref(), name, value, first);
            }
            continue;
        }

        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }

        if let Some(rest) = line.strip_prefix('[') {
            let rest = rest.trim_start_matches(is_blank);
            let name = rest
                .find(']')
                .map(|end| (&rest[..end], &rest[end + 1..]))
                .filter(|(name, after)| {
                    !name.is_empty() && after.trim_start_matches(is_blank).is_empty()
                })
                .map(|(name, _)| name.trim_end_matches(is_py_space));
            let Some(name) = name else {
                return Err(syntax(&file, lineno, SyntaxError::BadSectionHeader, None));
            };
            // A name of nothing but non-ASCII white space trims to "", which the official
            // reader merges into the unnamed section.
            current = (!name.is_empty()).then(|| name.to_owned());
            if let Some(name) = &current {
                file.sections.entry(name.clone()).or_default();
            }
            continue;
        }

        let name_len = line
            .find(|c: char| is_blank(c) || matches!(c, '[' | '#' | ';' | '='))
            .unwrap_or(line.len());
        if name_len == 0 {
            return Err(syntax(&file, lineno, SyntaxError::UnexpectedLine, None));
        }
        let name = &line[..name_len];
        let Some(after_eq) = line[name_len..]
            .trim_start_matches(is_blank)
            .strip_prefix('=')
        else {
            return Err(syntax(
                &file,
                lineno,
                SyntaxError::MissingEquals,
                Some(name),
            ));
        };
        let (body, continued) = value_segment(after_eq.trim_start_matches(is_blank))
            .map_err(|reason| syntax(&file, lineno, reason, Some(name)))?;
        if continued {
            pending = Some((name.to_owned(), body.to_owned(), lineno));
        } else {
            let value = body.trim_end_matches(is_py_space).to_owned();
            file.set(current.as_deref(), name.to_owned(), value, lineno);
        }
    }

    if let Some((name, _, _)) = pending {
        return Err(syntax(
            &file,
            lineno,
            SyntaxError::ContinuationAtEnd,
            Some(&name),
        ));
    }
    Ok(file)
}

impl ConfFile {
    fn set(&mut self, section: Option<&str>, name: String, value: String, line: usize) {
        let vars = match section {
            None => &mut self.global,
            Some(section) => self.sections.entry(section.to_owned()).or_default(),
        };
        vars.insert(name, Assignment { value, line });
    }
}

/// The lines of `text`, split at `\r\n`, `\n` or a lone `\r` (Python's universal newlines).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = match rest.as_bytes().get(end) {
            Some(b'\r') if rest.as_bytes().get(end + 1) == Some(&b'\n') => 2,
            Some(_) => 1,
            None => 0,
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> ConfFile {
        parse("test.conf", text).unwrap()
    }

    fn global(text: &str, name: &str) -> String {
        vars(text).global()[name].value.clone()
    }

    fn error(text: &str) -> (usize, SyntaxError) {
        match parse("test.conf", text).unwrap_err() {
            ConfError::Syntax { line, reason, .. } => (line, reason),
            other => panic!("not a syntax error: {other:?}"),
        }
    }

    #[test]
    fn blanks_around_equals_and_at_the_end_are_trimmed() {
        assert_eq!(global("  A  =  one two  \t\n", "A"), "one two");
        assert_eq!(global("A=\n", "A"), "");
        assert_eq!(global("A =   \n", "A"), "");
    }

    #[test]
    fn quotes_and_trailing_comments_are_kept() {
        assert_eq!(
            global("A=\"x y\" # not a comment\n", "A"),
            "\"x y\" # not a comment"
        );
        assert_eq!(global("A='1'\n", "A"), "'1'");
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let file = vars("# c\n  ; c2\n\n \t \nA=1\n   # indented\n");
        assert_eq!(file.global().len(), 1);
    }

    #[test]
    fn crlf_lf_and_lone_cr_all_end_lines() {
        let file = vars("A=1\r\nB=2\rC=3\n");
        assert_eq!(file.global()["A"].value, "1");
        assert_eq!(file.global()["B"].value, "2");
        assert_eq!(file.global()["C"].value, "3");
        assert_eq!(file.global()["C"].line, 3);
    }

    #[test]
    fn a_missing_final_newline_is_accepted() {
        assert_eq!(global("A=1\nB=2", "B"), "2");
        assert_eq!(vars("[s]").section("s"), Some(&Section::new()));
    }

    #[test]
    fn continuation_keeps_inner_blanks_and_trims_the_end() {
        assert_eq!(global("A=one \\\n  two\n", "A"), "one   two");
        assert_eq!(global("A=a\\\n\tb \\\nc  \n", "A"), "a\tb c");
        assert_eq!(global("A=\\\n  x\n", "A"), "  x");
        assert_eq!(global("A=x\\\n\nB=2\n", "A"), "x");
        // A continued line may look like a comment or a header: it is still value text.
        assert_eq!(global("A=x \\\n# y\n", "A"), "x # y");
        assert_eq!(global("A=x\\\n[s]\n", "A"), "x[s]");
        assert_eq!(vars("A=x\\\n  y\nB=1\n").global()["B"].line, 3);
    }

    #[test]
    fn backslashes_inside_values_are_kept() {
        assert_eq!(global("A=C:\\path\\x\n", "A"), "C:\\path\\x");
        assert_eq!(global("A=a\\ \n", "A"), "a\\");
    }

    #[test]
    fn double_backslashes_are_refused_as_confget_does() {
        assert_eq!(error("A=a\\\\b\n"), (1, SyntaxError::BadBackslash));
        assert_eq!(error("A=1\nB=a\\\\\n"), (2, SyntaxError::BadBackslash));
        assert_eq!(error("A=x\\\ny\\\\z\n"), (2, SyntaxError::BadBackslash));
    }

    #[test]
    fn a_continuation_on_the_last_line_is_an_error() {
        assert_eq!(error("A=1\nB=x\\\n"), (2, SyntaxError::ContinuationAtEnd));
        assert_eq!(error("B=x\\"), (1, SyntaxError::ContinuationAtEnd));
    }

    #[test]
    fn sections_trim_their_names_and_merge_when_repeated() {
        let file = vars("G=0\n[ node-a ]\nA=1\nB=1\n[node-b]\nA=2\n[node-a]  \nB=3\n");
        assert_eq!(file.global()["G"].value, "0");
        let a = file.section("node-a").unwrap();
        assert_eq!(a["A"].value, "1");
        assert_eq!(a["B"].value, "3");
        assert_eq!(file.section("node-b").unwrap()["A"].value, "2");
        assert_eq!(
            file.section_names().collect::<Vec<_>>(),
            ["node-a", "node-b"]
        );
    }

    #[test]
    fn a_header_that_trims_to_nothing_continues_the_global_section() {
        let file = vars("[\u{a0}]\nA=1\n");
        assert_eq!(file.global()["A"].value, "1");
        assert_eq!(file.section_names().count(), 0);
    }

    #[test]
    fn the_later_value_wins_within_a_section() {
        assert_eq!(global("A=1\nA=2\n", "A"), "2");
    }

    #[test]
    fn names_are_case_sensitive_and_may_hold_odd_characters() {
        let file = vars("a=1\nA=2\nX.y-z]:=3\n");
        assert_eq!(file.global()["a"].value, "1");
        assert_eq!(file.global()["A"].value, "2");
        assert_eq!(file.global()["X.y-z]:"].value, "3");
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        assert_eq!(error("A=1\nJUSTANAME\n"), (2, SyntaxError::MissingEquals));
        assert_eq!(error("A B=1\n"), (1, SyntaxError::MissingEquals));
        assert_eq!(error("A#B=1\n"), (1, SyntaxError::MissingEquals));
        assert_eq!(error("=1\n"), (1, SyntaxError::UnexpectedLine));
        assert_eq!(error("[]\n"), (1, SyntaxError::BadSectionHeader));
        assert_eq!(error("[  ]\n"), (1, SyntaxError::BadSectionHeader));
        assert_eq!(error("[a] x\n"), (1, SyntaxError::BadSectionHeader));
        assert_eq!(error("[a\n"), (1, SyntaxError::BadSectionHeader));
    }

    #[test]
    fn syntax_errors_never_repeat_the_line() {
        let err = parse("/etc/storpool.conf", "SP_AUTH_TOKEN 99887766\n").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("99887766"), "{text}");
        assert_eq!(
            text,
            "/etc/storpool.conf:1: expected `=` after the variable name (variable `SP_AUTH_TOKEN`)"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_name_their_line() {
        let err = parse_bytes("x.conf", b"A=1\nB=\xff\n").unwrap_err();
        assert!(matches!(
            err,
            ConfError::Syntax {
                line: 2,
                reason: SyntaxError::NotUtf8,
                ..
            }
        ));
    }

    #[test]
    fn python_whitespace_is_trimmed_at_the_end_only() {
        assert_eq!(global("A=x\u{1f}\u{a0}\u{3000}\n", "A"), "x");
        assert_eq!(global("A=\u{a0}x\n", "A"), "\u{a0}x");
    }

    /// The fuzz target's property (`fuzz/fuzz_targets/conf_parse.rs`), run over a fixed set of
    /// deterministic pseudo-random inputs built from the syntax's interesting pieces.
    #[test]
    fn random_inputs_never_panic_and_values_hold_no_line_breaks() {
        const PIECES: &[&str] = &[
            "A", "SP_OURID", "=", " ", "\t", "\\", "\n", "\r\n", "\r", "[", "]", "#", ";", "x",
            "\u{a0}", "\u{1f}", "\"", "\u{ff}", "[s]\n", "A=1\n", "A=x \\\n", "  ", "\u{0}",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5000 {
            let len = next() % 40;
            let mut text = String::new();
            for _ in 0..len {
                let index = usize::try_from(next() % PIECES.len() as u64).unwrap();
                text.push_str(PIECES[index]);
            }
            let mut bytes = text.into_bytes();
            if next() % 8 == 0 && !bytes.is_empty() {
                let at = usize::try_from(next() % bytes.len() as u64).unwrap();
                bytes[at] = 0xff;
            }
            match parse_bytes("fuzz.conf", &bytes) {
                Ok(file) => {
                    let sections = file.section_names().filter_map(|n| file.section(n));
                    for vars in std::iter::once(file.global()).chain(sections) {
                        for (name, assignment) in vars {
                            assert!(!name.is_empty());
                            assert!(!assignment.value.contains(['\n', '\r']), "{bytes:?}");
                        }
                    }
                }
                Err(ConfError::Syntax { line, .. }) => {
                    assert!(line >= 1 && line <= bytes.len() + 1, "{bytes:?}");
                }
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
    }
}
