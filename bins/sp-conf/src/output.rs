//! Everything `sp-conf` prints on stdout: data only (the error line is `storpool_cli`'s).

use std::collections::BTreeMap;
use std::io;

use storpool_cli::{emit, emit_json};
use storpool_conf::{Config, is_secret};

const REDACTED: &str = "<redacted>";

fn shown<'a>(name: &str, value: &'a str, show_secrets: bool) -> &'a str {
    if is_secret(name) && !show_secrets {
        REDACTED
    } else {
        value
    }
}

pub(crate) fn all(config: &Config, show_secrets: bool, json: bool) -> io::Result<()> {
    let pairs = config
        .iter()
        .map(|(name, setting)| (name, shown(name, setting.value(), show_secrets)));
    if json {
        emit_json(&pairs.collect::<BTreeMap<&str, &str>>())
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
        emit_json(value)
    } else {
        emit(&format!("{value}\n"))
    }
}

pub(crate) fn sections(sections: &[String], json: bool) -> io::Result<()> {
    if json {
        emit_json(sections)
    } else {
        let mut text = sections.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        emit(&text)
    }
}
