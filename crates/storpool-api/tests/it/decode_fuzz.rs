//! The fuzz property of `fuzz/fuzz_targets/api_decode.rs` on stable, for a fixed number of
//! deterministic inputs: realistic answers (the fixtures, error envelopes, edge cases) and
//! mutations of them, decoded as the response of every modelled call, never panic and never
//! decode into something they are not (`storpool_api::fuzzing::decode_all`).

use storpool_api::fuzzing::decode_all;

/// `splitmix64`: a tiny deterministic generator, so that a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const FIXTURES: &[&str] = &[
    include_str!("fixtures/volumes_list.json"),
    include_str!("fixtures/volume_describe.json"),
    include_str!("fixtures/volume_info.json"),
    include_str!("fixtures/volumes_status.json"),
    include_str!("fixtures/volumes_status_quick.json"),
    include_str!("fixtures/volumes_space.json"),
    include_str!("fixtures/snapshots_list.json"),
    include_str!("fixtures/snapshot_describe.json"),
    include_str!("fixtures/snapshot_info.json"),
    include_str!("fixtures/snapshots_space.json"),
    include_str!("fixtures/attachments_list.json"),
    include_str!("fixtures/templates_list.json"),
    include_str!("fixtures/templates_status.json"),
    include_str!("fixtures/disks_list.json"),
    include_str!("fixtures/disk_describe.json"),
    include_str!("fixtures/placement_groups_list.json"),
    include_str!("fixtures/services_list.json"),
    include_str!("fixtures/clients_config_dump.json"),
];

/// Whole answers besides the fixtures: small successes, error envelopes, odd shapes.
const BODIES: &[&str] = &[
    r#"{"generation":7,"data":{"ok":true,"generation":8}}"#,
    r#"{"generation":7,"data":{"ok":true,"generation":8,"globalId":"d.n.a1z","name":"v","autoName":"v@1"}}"#,
    r#"{"generation":7,"data":{"ok":true,"generation":8,"snapshotGlobalId":"d.n.b","snapshots":[{"volume":"v","name":"s","globalId":"d.n.c","volumeGlobalId":"d.n.a"}]}}"#,
    r#"{"generation":7,"data":[]}"#,
    r#"{"generation":7,"data":{}}"#,
    r#"{"generation":7,"data":null}"#,
    r#"{"generation":7}"#,
    r#"{"error":{"name":"objectDoesNotExist","descr":"Volume v does not exist","transient":false}}"#,
    r#"{"error":{"name":"busy","descr":"try again","transient":true}}"#,
    r#"{"error":{"descr":"no name"}}"#,
    r#"{"error":{"name":7,"descr":["x"],"transient":"yes"}}"#,
    r#"{"error":null,"data":[1]}"#,
    r#"{"error":{},"data":[]}"#,
    r#"{"data":[{"name":"v"}],"error":{"name":"invalidParam"}}"#,
    r#"{"data":1,"data":2}"#,
    "<html><body>502 Bad Gateway</body></html>",
    "",
    "null",
    "[]",
    "\"\u{1}\u{7f}\"",
    r#"{"generation":18446744073709551616,"data":[{"size":-1,"replication":300}]}"#,
];

const STATUSES: &[u16] = &[
    200,
    200,
    200,
    200,
    500,
    404,
    401,
    405,
    502,
    0,
    99,
    1000,
    u16::MAX,
];

fn envelope(data: &str) -> Vec<u8> {
    format!(r#"{{"generation":1234,"data":{data}}}"#).into_bytes()
}

fn mutate(rng: &mut Rng, mut b: Vec<u8>) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b",",
        b":",
        b"null",
        b"-",
        b"\"-\"",
        b"1e999",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"0.5",
        b"\\u0000",
        b"\\ud800",
        b"\xff",
        b"\"error\":{\"name\":\"busy\"},",
        b"[[[[[[[[[[",
    ];
    for _ in 0..=rng.below(4) {
        if b.is_empty() {
            b.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
            continue;
        }
        let i = rng.below(b.len());
        match rng.below(6) {
            0 => b[i] = u8::try_from(rng.below(256)).unwrap(),
            1 => {
                let end = (i + 1 + rng.below(16)).min(b.len());
                b.drain(i..end);
            }
            2 | 3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                b.splice(i..i, token.iter().copied());
            }
            4 => b.truncate(i),
            _ => {
                // Replace a digit run with an extreme number.
                let digits = b.iter().skip(i).take_while(|c| c.is_ascii_digit()).count();
                let numbers: [&[u8]; 4] = [b"0", b"-1", b"99999999999999999999", b"1.5"];
                let number = numbers[rng.below(numbers.len())];
                b.splice(i..i + digits, number.iter().copied());
            }
        }
    }
    b
}

#[test]
fn thousands_of_mutated_answers_decode_without_panics_into_what_they_are() {
    let mut rng = Rng(0x00a9_1dec);
    let mut seeds: Vec<Vec<u8>> = FIXTURES.iter().map(|f| envelope(f)).collect();
    seeds.extend(BODIES.iter().map(|b| b.as_bytes().to_vec()));
    // Unmodified seeds first, under every status.
    for seed in &seeds {
        for &status in STATUSES {
            decode_all(status, seed)
                .unwrap_or_else(|e| panic!("HTTP {status} {}: {e}", String::from_utf8_lossy(seed)));
        }
    }
    for _ in 0..2500 {
        let status = *rng.pick(STATUSES);
        let seed = rng.pick(&seeds).clone();
        let body = mutate(&mut rng, seed);
        decode_all(status, &body)
            .unwrap_or_else(|e| panic!("HTTP {status} {}: {e}", String::from_utf8_lossy(&body)));
    }
}

#[test]
fn deeply_nested_and_huge_answers_are_decode_errors_not_crashes() {
    let deep = format!(
        r#"{{"data":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    decode_all(200, deep.as_bytes()).unwrap();
    let unclosed = "[".repeat(1_000_000);
    decode_all(200, unclosed.as_bytes()).unwrap();
    let skipped = format!(
        r#"{{"data":{{"ok":true,"generation":1}},"x":{}}}"#,
        "[".repeat(10_000)
    );
    decode_all(200, skipped.as_bytes()).unwrap();
}
