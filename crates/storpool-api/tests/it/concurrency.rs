//! 32 tasks sharing one client run volume lifecycles (create, snapshot, clone, resize, delete)
//! against one simulator at once: nothing is lost or duplicated, and every change gets its own
//! generation, strictly increasing along each task.

use std::collections::BTreeSet;

use storpool_api::{
    Client, RetryPolicy, SnapshotCreate, SnapshotName, SnapshotRef, VolumeCreate, VolumeName,
    VolumeRef, VolumeUpdate,
};
use storpool_sim::Sim;

const TASKS: usize = 32;
const ROUNDS: usize = 3;
const GIB: u64 = 1 << 30;

fn names(task: usize, round: usize) -> (VolumeName, SnapshotName, VolumeName) {
    (
        VolumeName::new(format!("t{task}-r{round}-volume")).unwrap(),
        SnapshotName::new(format!("t{task}-r{round}-snap")).unwrap(),
        VolumeName::new(format!("t{task}-r{round}-clone")).unwrap(),
    )
}

/// One task: `ROUNDS` lifecycles; the last round's volume (grown to 2 GiB, its parent the
/// snapshot) and snapshot stay. Returns the generation of every change, in order.
async fn lifecycles(client: Client, task: usize) -> Vec<u64> {
    let mut generations = Vec::new();
    for round in 0..ROUNDS {
        let (volume, snapshot, clone) = names(task, round);
        let vref = VolumeRef::from(&volume);
        let sref = SnapshotRef::from(&snapshot);
        let created = client
            .volumes()
            .create(&VolumeCreate {
                name: Some(volume.clone()),
                size: Some(GIB),
                replication: Some(3),
                ..VolumeCreate::default()
            })
            .await
            .unwrap();
        generations.push(created.generation);
        let snapped = client
            .snapshots()
            .create(
                &vref,
                &SnapshotCreate {
                    name: Some(snapshot.clone()),
                    ..SnapshotCreate::default()
                },
            )
            .await
            .unwrap();
        generations.push(snapped.generation);
        let cloned = client
            .volumes()
            .create(&VolumeCreate {
                name: Some(clone.clone()),
                parent: Some(sref.clone()),
                ..VolumeCreate::default()
            })
            .await
            .unwrap();
        generations.push(cloned.generation);
        for (target, size) in [(&vref, 2 * GIB), (&VolumeRef::from(&clone), 3 * GIB)] {
            let resized = client
                .volumes()
                .update(
                    target,
                    &VolumeUpdate {
                        size: Some(size),
                        ..VolumeUpdate::default()
                    },
                )
                .await
                .unwrap();
            generations.push(resized.generation);
        }
        let mut deletes = vec![client.volumes().delete(&VolumeRef::from(&clone)).await];
        if round + 1 < ROUNDS {
            deletes.push(client.volumes().delete(&vref).await);
            deletes.push(client.snapshots().delete(&sref).await);
        }
        generations.extend(deletes.into_iter().map(|d| d.unwrap().generation));
    }
    generations
}

async fn run(keep_alive: bool) {
    let sim = Sim::builder().keep_alive(keep_alive).start().unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let start_generation = sim.state().generation;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(lifecycles(client.clone(), task)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let generations = task.await.unwrap();
        assert!(
            generations.windows(2).all(|w| w[0] < w[1]),
            "generations along one task must strictly increase: {generations:?}"
        );
        all.extend(generations);
    }
    let changes = all.len();
    assert_eq!(changes, TASKS * (ROUNDS * 8 - 2));
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        changes,
        "two changes got the same generation"
    );
    assert!(distinct.first().is_some_and(|&g| g > start_generation));
    let end_generation = sim.state().generation;
    assert!(end_generation >= *distinct.last().unwrap());

    // Exactly the last round's volume and snapshot of every task, once each.
    let last = ROUNDS - 1;
    let volumes = client.volumes().list().await.unwrap();
    let mut listed: Vec<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    listed.sort_unstable();
    let mut expected: Vec<String> = (0..TASKS).map(|t| names(t, last).0.to_string()).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    for v in &volumes {
        assert_eq!(v.size, 2 * GIB, "{}", v.name);
        assert_eq!(v.parent_name, v.name.replace("-volume", "-snap"));
    }
    let snapshots = client.snapshots().list().await.unwrap();
    let mut listed: Vec<&str> = snapshots.iter().map(|s| s.name.as_str()).collect();
    listed.sort_unstable();
    let mut expected: Vec<String> = (0..TASKS).map(|t| names(t, last).1.to_string()).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    for s in &snapshots {
        assert_eq!(s.size, GIB, "{}", s.name);
    }
    // The simulator's own view agrees with what the API listed.
    let state = sim.state();
    assert_eq!(state.volumes.len(), TASKS);
    assert_eq!(state.snapshots.len(), TASKS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_lifecycles_lose_nothing_connection_close() {
    run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_lifecycles_lose_nothing_keep_alive() {
    run(true).await;
}
