//! storpool.conf parsing never panics, and what it accepts holds no line breaks in values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = storpool_conf::parse_bytes("fuzz.conf", data) {
        for (name, assignment) in file.global() {
            assert!(!name.is_empty());
            assert!(!assignment.value.contains(['\n', '\r']));
        }
    }
});
