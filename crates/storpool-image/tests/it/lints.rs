//! The crate copies the workspace's lints (it cannot inherit them: it denies `unsafe_code`
//! where the workspace forbids it); the copy must not drift.

use std::path::Path;

/// The `key = value` lines of the TOML tables named `tables`, in order.
fn table_lines(text: &str, tables: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = tables.contains(&line);
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            lines.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    lines
}

#[test]
fn the_crate_lints_are_the_workspace_lints_but_unsafe_code_is_deny() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = std::fs::read_to_string(here.join("Cargo.toml")).unwrap();
    let workspace = std::fs::read_to_string(here.join("../../Cargo.toml")).unwrap();
    let ours = table_lines(&ours, &["[lints.rust]", "[lints.clippy]"]);
    let workspace = table_lines(
        &workspace,
        &["[workspace.lints.rust]", "[workspace.lints.clippy]"],
    );
    assert!(workspace.contains(&"unsafe_code = \"forbid\"".to_owned()));
    let expected: Vec<String> = workspace
        .iter()
        .map(|line| line.replace("unsafe_code = \"forbid\"", "unsafe_code = \"deny\""))
        .collect();
    assert_eq!(ours, expected);
}
