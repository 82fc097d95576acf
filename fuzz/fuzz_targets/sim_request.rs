//! Fuzz the simulator's request decoding and handlers: a sequence of requests against one
//! in-memory cluster must never panic and never break its invariants.
//!
//! Input: requests separated by NUL bytes; each is `METHOD CALL/ARGS\nBODY`.
//! Run with `cargo +nightly fuzz run sim_request` from the workspace root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storpool_sim::fuzzing::FuzzCluster;

fuzz_target!(|data: &[u8]| {
    let mut cluster = FuzzCluster::new();
    for req in data.split(|b| *b == 0).take(64) {
        let (head, body) = match req.iter().position(|b| *b == b'\n') {
            Some(i) => (&req[..i], &req[i + 1..]),
            None => (req, &[][..]),
        };
        let head = String::from_utf8_lossy(head);
        let (method, path) = head.split_once(' ').unwrap_or(("POST", &head));
        let path = format!("/ctrl/1.0/{path}");
        let (_status, out) = cluster.request(method, &path, body);
        assert!(serde_json_is_object(&out));
        if let Err(e) = cluster.check_invariants() {
            panic!("invariant broken after {method} {path}: {e}");
        }
    }
});

fn serde_json_is_object(out: &[u8]) -> bool {
    out.first() == Some(&b'{') && out.last() == Some(&b'}')
}
