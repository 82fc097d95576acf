//! 32 independent lifecycles at once against one simulator: no object is lost or duplicated,
//! and the cluster's generation only ever grows.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use storpool_sim::Faults;
use storpool_tests::Node;

use crate::template;

const TASKS: usize = 32;

async fn lifecycle(node: Arc<Node>, task: usize) {
    let driver = &node.driver;
    let (own, other) = if task.is_multiple_of(2) {
        ("hdd", "ssd")
    } else {
        ("ssd", "hdd")
    };
    let (specs, across) = (template(own), template(other));
    let id = |kind: &str| format!("{kind}{task}");
    let (volume, snapshot) = (id("v"), id("s"));
    let (clone, cross, child) = (id("c"), id("x"), id("f"));
    driver.create_volume(&volume, 1, &specs).await.unwrap();
    driver.create_snapshot(&volume, &snapshot).await.unwrap();
    driver
        .clone_volume(&clone, &volume, 1, &specs)
        .await
        .unwrap();
    driver
        .clone_volume(&cross, &volume, 1, &across)
        .await
        .unwrap();
    driver
        .create_volume_from_snapshot(&child, &snapshot, 2, &specs)
        .await
        .unwrap();
    driver.extend_volume(&volume, 3).await.unwrap();
    for gone in [&clone, &cross, &child] {
        assert!(driver.delete_volume(gone).await.unwrap().existed);
    }
    assert!(driver.delete_snapshot(&snapshot).await.unwrap().existed);
}

#[test]
fn thirty_two_lifecycles_at_once_lose_and_duplicate_nothing() {
    let node = Arc::new(Node::start(Faults::default(), 5).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let start = node.sim.state().generation;
    let done = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (node, done) = (node.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = vec![node.sim.state().generation];
            while !done.load(Ordering::Relaxed) {
                seen.push(node.sim.state().generation);
                std::thread::yield_now();
            }
            seen
        })
    };
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| tokio::spawn(lifecycle(node.clone(), i)))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    done.store(true, Ordering::Relaxed);
    let seen = monitor.join().unwrap();
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "generation went back"
    );

    let state = node.sim.state();
    assert!(state.generation > start);
    let mut volumes: Vec<_> = state.volumes.iter().map(|v| v.name.clone()).collect();
    volumes.sort_unstable();
    let mut expected: Vec<_> = (0..TASKS).map(|i| format!("os--volume-v{i}")).collect();
    expected.sort_unstable();
    assert_eq!(volumes, expected);
    assert!(state.volumes.iter().all(|v| v.size == 3 << 30));
    // What may remain are the snapshots the cluster made itself for `baseOn` clones, each
    // still the parent of one of the volumes.
    for snapshot in &state.snapshots {
        assert!(
            snapshot.transient || snapshot.bound,
            "a snapshot was left: {snapshot:?}"
        );
        assert!(!snapshot.children.is_empty(), "{snapshot:?}");
    }
}
