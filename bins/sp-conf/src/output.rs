//! Everything `sp-conf` prints. stdout carries data only; the one error line goes to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

use storpool_conf::{Config, is_secret};

const REDACTED: &str = "<redacted>";

fn shown<'a>(name: &str, value: &'a str, show_secrets: bool) -> &'a str {
    if is_secret(name) && !show_secrets {
        REDACTED
    } else {
        value
    }
}

/// Writes to stdout; a closed pipe (`sp-conf | head -1`) is not an error.
fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

pub(crate) fn all(config: &Config, show_secrets: bool, json: bool) -> io::Result<()> {
    let pairs = config
        .iter()
        .map(|(name, setting)| (name, shown(name, setting.value(), show_secrets)));
    if json {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .map(|(name, value)| (name.to_owned(), value.into()))
            .collect();
        emit(&format!("{}\n", serde_json::Value::Object(map)))
    } else {
        let mut text = String::new();
        for (name, value) in pairs {
            text.push_str(name);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        }
        emit(&text)
    }
}

pub(crate) fn value(name: &str, value: &str, show_secrets: bool, json: bool) -> io::Result<()> {
    let value = shown(name, value, show_secrets);
    if json {
        emit(&format!("{}\n", serde_json::Value::from(value)))
    } else {
        emit(&format!("{value}\n"))
    }
}

pub(crate) fn sections(sections: &[String], json: bool) -> io::Result<()> {
    if json {
        emit(&format!("{}\n", serde_json::json!(sections)))
    } else {
        let mut text = sections.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        emit(&text)
    }
}

pub(crate) fn error(err: &anyhow::Error) {
    eprintln!("sp-conf: error: {err:#}");
}
