//! The driver's full lifecycle while the cluster fails: 10% transient errors, 5% dropped
//! connections, 2% answers lost after the change was made, and latency on every call. Every
//! operation must complete (the client retries what is retryable, the driver makes every step
//! repeatable), the data written through the devices must read back intact, and the cluster
//! must end with exactly the objects expected: nothing leaked, nothing lost.

use std::time::Duration;

use storpool_attach::{AccessMode, Target};
use storpool_sim::Faults;
use storpool_tests::{Node, pattern, read_at, write_at};

use crate::template;

const LEN: usize = 256 << 10;
/// A second region, past the first GiB, written only after the volume was extended.
const FAR: u64 = (1 << 30) + (64 << 20);

async fn write(node: &Node, target: &Target, offset: u64, seed: u8) {
    node.with_device(target, AccessMode::Rw, |dev| {
        write_at(dev, offset, &pattern(seed, LEN))
    })
    .await
    .unwrap();
}

async fn read(node: &Node, target: &Target, offset: u64) -> Vec<u8> {
    node.with_device(target, AccessMode::Ro, |dev| read_at(dev, offset, LEN))
        .await
        .unwrap()
}

async fn lifecycle(node: &Node) {
    let d = &node.driver;
    let (hdd, ssd) = (template("hdd"), template("ssd"));
    let (a, b, c) = (
        Target::volume("a"),
        Target::volume("b"),
        Target::volume("c"),
    );

    d.create_volume("a", 1, &hdd).await.unwrap();
    write(node, &a, 0, 1).await;
    d.create_snapshot("a", "s1").await.unwrap();
    write(node, &a, 0, 2).await;

    // A clone across templates (through a self-collecting snapshot) and one from the snapshot.
    let clone = d.clone_volume("b", "a", 1, &ssd).await.unwrap();
    assert_eq!(clone.template.as_deref(), Some("ssd"));
    d.create_volume_from_snapshot("c", "s1", 1, &hdd)
        .await
        .unwrap();

    // Extend, write past the old end, then revert: the snapshot's content and size come back.
    let grown = d.extend_volume("a", 2).await.unwrap();
    assert_eq!(grown.size_gib, 2);
    write(node, &a, FAR, 3).await;
    let reverted = d.revert_volume("a", "s1", false).await.unwrap();
    assert_eq!(reverted.size_gib, 1);

    // A migration that finishes with the three-way swap: `m` ends up holding `t`'s data.
    d.create_volume("m", 1, &hdd).await.unwrap();
    d.create_volume("t", 1, &ssd).await.unwrap();
    write(node, &Target::volume("m"), 0, 4).await;
    write(node, &Target::volume("t"), 0, 5).await;
    let update = d.finish_migration("m", "t", None).await.unwrap();
    assert_eq!(update.name_id, None);

    assert_eq!(read(node, &a, 0).await, pattern(1, LEN), "a after revert");
    assert_eq!(read(node, &b, 0).await, pattern(2, LEN), "the clone");
    assert_eq!(
        read(node, &c, 0).await,
        pattern(1, LEN),
        "from the snapshot"
    );
    assert_eq!(
        read(node, &Target::snapshot("s1"), 0).await,
        pattern(1, LEN),
        "the snapshot"
    );
    assert_eq!(read(node, &Target::volume("m"), 0).await, pattern(5, LEN));
    assert_eq!(read(node, &Target::volume("t"), 0).await, pattern(4, LEN));

    let state = node.sim.state();
    let mut volumes: Vec<_> = state.volumes.iter().map(|v| v.name.as_str()).collect();
    volumes.sort_unstable();
    let expected: Vec<String> = ["a", "b", "c", "m", "t"]
        .iter()
        .map(|id| format!("os--volume-{id}"))
        .collect();
    assert_eq!(volumes, expected, "volumes mid-way");
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);

    for id in ["a", "b", "c", "m", "t"] {
        assert!(d.delete_volume(id).await.unwrap().existed, "{id}");
    }
    assert!(d.delete_snapshot("s1").await.unwrap().existed);
    // Deleting again is still success.
    assert!(!d.delete_volume("a").await.unwrap().existed);
    assert!(!d.delete_snapshot("s1").await.unwrap().existed);
}

fn run(seed: u64) {
    let faults = Faults {
        seed,
        error_rate: 0.10,
        drop_rate: 0.05,
        lost_answer_rate: 0.02,
        latency: Duration::from_millis(1),
        ..Faults::default()
    };
    let node = Node::start(faults, 12).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(lifecycle(&node));
    let state = node.sim.state();
    assert!(
        state.volumes.is_empty(),
        "leaked volumes: {:?}",
        state.volumes
    );
    assert!(
        state.snapshots.is_empty(),
        "leaked snapshots: {:?}",
        state.snapshots
    );
    assert!(state.attachments.is_empty());
    let links = std::fs::read_dir(node.sim.dev_root().join("storpool")).map_or(0, Iterator::count);
    assert_eq!(links, 0, "device links left behind");
}

#[test]
fn the_full_lifecycle_survives_transient_errors_drops_and_lost_answers() {
    for seed in 1..=4 {
        run(seed);
    }
}
