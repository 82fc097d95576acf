//! No public signature of the libraries names the HTTP or TLS stack (issue 15): upgrading or
//! replacing hyper, hyper-util, a TLS crate or the URL parser must never be a breaking change
//! of ours.
//!
//! What this checks, and why it is enough: rustdoc's JSON output (what `cargo public-api`
//! reads) needs a nightly toolchain, and its HTML does not spell out external paths, so the
//! check reads the sources instead, under three rules that together close every way such a
//! name could become public:
//!
//! 1. the transport crates are written (as `crate::` paths) only in an allow-list of files;
//! 2. each of those files is a private module (`mod x;`, never `pub mod`), so its items are
//!    public only if re-exported, and the crates' `unreachable_pub` lint (denied in CI) makes
//!    `pub` there mean "re-exported";
//! 3. in those files, no `pub` item's signature (up to its `{` or `;`), public field or trait
//!    impl names a transport crate.
//!
//! A type alias or a `use` would have to be written in an allowed file (rule 1), where it is
//! checked by rule 3 when public. What this cannot see: a generic parameter bound by a trait of
//! those crates without naming them, which no code here does.

use std::fs;
use std::path::{Path, PathBuf};

/// The crates whose paths must not appear in a public signature.
const TRANSPORT: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper_util",
    "hyper_rustls",
    "hyper_tls",
    "rustls",
    "native_tls",
    "tokio_native_tls",
    "http",
    "http_body",
    "http_body_util",
    "url",
];

/// The library crates and the files allowed to name the transport.
const LIBRARIES: &[(&str, &[&str])] = &[
    ("storpool-conf", &[]),
    ("storpool-api", &["src/transport.rs"]),
    ("storpool-driver-core", &[]),
    ("storpool-attach", &[]),
    ("storpool-image", &[]),
    ("storpool-sim", &["src/server.rs"]),
    ("storpool-cli", &[]),
];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The transport crates `text` names as paths (`hyper::...`), outside comments.
fn transport_paths(text: &str) -> Vec<&'static str> {
    let code = text.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    for (i, _) in code.match_indices("::") {
        let before = &code[..i];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |p| p + 1);
        let ident = &before[start..];
        if let Some(name) = TRANSPORT.iter().find(|name| **name == ident)
            && !code[..start].ends_with("::")
        {
            found.push(*name);
        }
    }
    found
}

/// The first identifier of `text`.
fn ident(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Public items of `text` (not `pub(crate)`/`pub(super)`) with their line numbers: each
/// signature up to its first `{` or `;` (a field's up to its `,`), the whole body of a public
/// enum (its variants are public), and the headers of trait impls for the file's public types.
fn public_signatures(text: &str) -> Vec<(usize, String)> {
    let code = |line: &str| line.split("//").next().unwrap_or("").to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let public_types: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("pub struct ")
                .or_else(|| l.strip_prefix("pub enum "))
                .map(ident)
        })
        .collect();
    let mut out = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_start();
        let indent = raw.len() - line.len();
        let trait_impl = line.starts_with("impl")
            && line
                .split_once(" for ")
                .is_some_and(|(_, ty)| public_types.contains(&ident(ty)));
        if !(line.starts_with("pub ") || trait_impl) {
            continue;
        }
        let mut signature = String::new();
        if line.starts_with("pub enum") {
            // Up to the enum's closing brace, at its own indentation.
            for next in &lines[i..] {
                signature.push_str(&code(next));
                signature.push(' ');
                if next.len() > indent && next[indent..].starts_with('}') {
                    break;
                }
            }
        } else {
            let is_fn = line.contains("fn ");
            for next in &lines[i..] {
                let part = code(next);
                signature.push_str(&part);
                signature.push(' ');
                let field_end = !is_fn && part.trim_end().ends_with(',');
                if part.contains('{') || part.contains(';') || field_end {
                    break;
                }
            }
        }
        out.push((i + 1, signature));
    }
    out
}

#[test]
fn no_public_signature_of_the_libraries_names_the_http_or_tls_stack() {
    let mut problems = Vec::new();
    for (krate, allowed) in LIBRARIES {
        let root = crates_dir().join(krate);
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        assert!(!files.is_empty(), "no sources under {}", root.display());
        let lib = fs::read_to_string(root.join("src/lib.rs")).unwrap();
        for file in files {
            let relative = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = fs::read_to_string(&file).unwrap();
            if allowed.contains(&relative.as_str()) {
                // Rule 2: a private module.
                let module = Path::new(&relative).file_stem().unwrap().to_string_lossy();
                assert!(
                    lib.lines().any(|l| l.trim() == format!("mod {module};")),
                    "{krate}/{relative} may name the transport only as a private module \
                     (`mod {module};` in lib.rs)"
                );
                // Rule 3: no public signature, field or trait impl names it.
                for (line, signature) in public_signatures(&text) {
                    let names = transport_paths(&signature);
                    if !names.is_empty() {
                        problems.push(format!(
                            "{krate}/{relative}:{line}: public item names {names:?}: {}",
                            signature.trim()
                        ));
                    }
                }
            } else {
                // Rule 1: not named at all.
                for (number, line) in text.lines().enumerate() {
                    let names = transport_paths(line);
                    if !names.is_empty() {
                        problems.push(format!(
                            "{krate}/{relative}:{}: names {names:?} outside the transport \
                             module: {}",
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checks_see_what_they_must() {
    assert_eq!(transport_paths("pub use reqwest::Method;"), ["reqwest"]);
    assert_eq!(
        transport_paths("    source: hyper_util::client::legacy::Error,"),
        ["hyper_util"]
    );
    assert!(transport_paths("crate::http::x; // hyper::Error").is_empty());
    assert!(transport_paths("let http = Transport::new(url);").is_empty());
    let text = "pub fn f(\n    a: u8,\n) -> hyper::Error {\n}\nimpl From<hyper::Error> for E {}\n\
                impl hyper::body::Body for Private {}\n\
                pub(crate) fn g() -> hyper::Error {}\npub enum E {\n    A,\n    B(http::Error),\n}\n\
                pub struct S {\n    pub f: url::Url,\n    g: hyper::Error,\n}\n";
    let signatures = public_signatures(text);
    assert_eq!(signatures.len(), 5, "{signatures:?}");
    let named: Vec<bool> = signatures
        .iter()
        .map(|(_, s)| !transport_paths(s).is_empty())
        .collect();
    // `pub struct S {` itself names nothing; its public field does; the private one is not
    // looked at.
    assert_eq!(named, [true, true, true, false, true], "{signatures:?}");
}
