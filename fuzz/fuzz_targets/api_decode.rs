//! Fuzz the API client's response decoding: any status and body, decoded as the response of
//! every modelled call, never panics and never decodes into something it is not (see
//! `storpool_api::fuzzing::decode_all`).
//!
//! Input: two bytes choosing the HTTP status, then the body.
//! Run with `cargo +nightly fuzz run api_decode` from the workspace root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[kind, code], body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = match kind % 4 {
        0 | 1 => 200,
        2 => 500,
        _ => u16::from_be_bytes([kind >> 2, code]),
    };
    if let Err(e) = storpool_api::fuzzing::decode_all(status, body) {
        panic!("HTTP {status}: {e}");
    }
});
