//! The fuzz property on stable: random and mutated requests never panic, always get an
//! envelope, and never break the cluster's invariants.

use storpool_sim::fuzzing::{FuzzCluster, handle_request};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[usize::try_from(self.next() % xs.len() as u64).unwrap()]
    }
}

const CALLS: &[&str] = &[
    "VolumeCreate",
    "VolumeUpdate/v1",
    "VolumeDelete/v1",
    "VolumeSnapshot/v1",
    "SnapshotDelete/s1",
    "SnapshotUpdate/s1",
    "VolumesReassign",
    "VolumesReassignWait",
    "VolumeRevert/v1",
    "VolumeTemplateCreate",
    "VolumeTemplateUpdate/t1",
    "PlacementGroupUpdate/p1",
    "VolumesGroupSnapshot",
    "VolumeFreeze/v2",
    "VolumeRebase/v1",
    "SnapshotDeleteById/sim.a.3",
    "VolumesList",
    "SnapshotsList",
    "DisksList",
    "VolumeTemplatesStatus",
    "Volume/~sim.a.1",
    "MultiCluster/VolumeCreate",
    "RemoteCommand/sim/VolumeCreate",
    "Nope",
    "",
];

const BODIES: &[&str] = &[
    r#"{"name":"v1","size":1073741824,"replication":3}"#,
    r#"{"name":"v2","size":512,"replication":1}"#,
    r#"{"name":"c1","parent":"s1"}"#,
    r#"{"name":"c2","baseOn":"v1"}"#,
    r#"{"name":"s1"}"#,
    r#"{"name":"s1","bind":true}"#,
    r#"[{"volume":"v1","rw":["1"]}]"#,
    r#"[{"volume":"v1","detach":"all"}]"#,
    r#"{"reassign":[{"snapshot":"s1","ro":[2]}],"attachTimeout":0}"#,
    r#"{"toSnapshot":"s1"}"#,
    r#"{"name":"t1","replication":2}"#,
    r#"{"addDisks":[101,"102"]}"#,
    r#"{"volumes":[{"volume":"v1"},{"volume":"v2","name":"g"}]}"#,
    r#"{"size":2147483648}"#,
    r#"{"rename":"v3"}"#,
    r#"{"tags":{"a":"b","c":""}}"#,
    r"{}",
    "",
    "null",
    "[]",
    r#"{"size":-1}"#,
    r#"{"name":null}"#,
];

fn mutate(rng: &mut Rng, s: &str) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    for _ in 0..(rng.next() % 4) {
        if b.is_empty() {
            b.push(u8::try_from(rng.next() % 256).unwrap());
            continue;
        }
        let i = usize::try_from(rng.next() % b.len() as u64).unwrap();
        match rng.next() % 4 {
            0 => b[i] = u8::try_from(rng.next() % 256).unwrap(),
            1 => {
                b.remove(i);
            }
            2 => b.insert(i, *rng.pick(b"{}[]\",:0123456789-~*@%")),
            _ => b.truncate(i),
        }
    }
    b
}

#[test]
fn thousands_of_random_requests_never_panic_or_corrupt_state() {
    let mut rng = Rng(0x5eed);
    let mut cluster = FuzzCluster::new();
    for i in 0..4000 {
        if i % 500 == 0 {
            cluster = FuzzCluster::new();
        }
        let method = if rng.next().is_multiple_of(3) {
            "GET"
        } else {
            "POST"
        };
        let call = rng.pick(CALLS);
        let mut path = format!("/ctrl/1.0/{call}");
        if rng.next().is_multiple_of(10) {
            path = String::from_utf8_lossy(&mutate(&mut rng, &path)).into_owned();
        }
        let body = if rng.next().is_multiple_of(2) {
            rng.pick(BODIES).as_bytes().to_vec()
        } else {
            let b = *rng.pick(BODIES);
            mutate(&mut rng, b)
        };
        let (status, out) = cluster.request(method, &path, &body);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON answer");
        if status == 200 {
            assert!(v.get("data").is_some() && v["generation"].is_u64(), "{v}");
        } else {
            assert!(
                v["error"]["name"].is_string() && v["error"]["descr"].is_string(),
                "{v}"
            );
        }
        cluster
            .check_invariants()
            .unwrap_or_else(|e| panic!("after {method} {path}: {e}"));
    }
}

#[test]
fn the_one_shot_entry_point_answers_garbage_with_an_envelope() {
    let (status, out) = handle_request("POST", "/ctrl/1.0/VolumeCreate", b"\xff\xfe{");
    assert_eq!(status, 500);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["error"]["name"], "invalidParam");
}
