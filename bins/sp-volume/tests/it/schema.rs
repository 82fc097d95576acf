//! The published JSON Schemas (`docs/schemas/TOOL/COMMAND.json`): made from the strict test
//! types (`deny_unknown_fields`: no member may be added silently), checked against the files,
//! and every `--json` document of the suite is validated against its type's schema.
//! `UPDATE_SCHEMAS=1 cargo test -p TOOL --test it schema` rewrites the files.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde_json::{Value, json};

/// The schema of documents of type `T`: the type's own, plus the optional
/// `"cluster": "embedded"` member every document of a run on the simulator carries.
pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "cluster".to_owned(),
            json!({
                "description": "Present, and `embedded`, when the command ran on the embedded \
                                simulator (see docs/json.md)",
                "const": "embedded"
            }),
        );
    }
    schema
}

/// Checks `text` (one JSON document) against the schema of `T`, and that no number in it is
/// written with an exponent.
pub(crate) fn validate<T: JsonSchema>(text: &str) {
    let schema = schema_of::<T>();
    let document: Value = serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|err| format!("{err} at {}", err.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{text}\ndoes not match the schema of {}: {errors:#?}",
        T::schema_name()
    );
    assert!(!has_exponent(text), "a number with an exponent: {text}");
}

/// Whether a number outside the strings of a JSON text has an exponent (`1e-5`).
fn has_exponent(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut previous = ' ';
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if matches!(c, 'e' | 'E') && previous.is_ascii_digit() {
            return true;
        }
        previous = c;
    }
    false
}

/// Compares `schema` with the published file `docs/schemas/TOOL/COMMAND.json`, or writes it
/// with `UPDATE_SCHEMAS=1`. Returns what differs.
pub(crate) fn check_published(tool: &str, command: &str, schema: &Value) -> Option<String> {
    let file = published(tool, command);
    let text = format!("{}\n", serde_json::to_string_pretty(schema).unwrap());
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &text).unwrap();
        return None;
    }
    match std::fs::read_to_string(&file) {
        Ok(published) if published == text => None,
        Ok(_) => Some(format!("{} differs", file.display())),
        Err(err) => Some(format!("{}: {err}", file.display())),
    }
}

fn published(tool: &str, command: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(tool)
        .join(format!("{command}.json"))
}

#[test]
fn numbers_with_exponents_are_found_outside_strings_only() {
    assert!(has_exponent(r#"{"a":1e-5}"#));
    assert!(has_exponent(r#"{"a":2E3}"#));
    assert!(!has_exponent(r#"{"a":"sim.a.1e2","b":0.001}"#));
    assert!(!has_exponent(r#"{"a":"x\"1e2","b":true}"#));
}
