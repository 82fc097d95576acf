//! Detaching by id and by device path, the open-device retry policy, idempotency.

use std::path::PathBuf;
use std::time::Duration;

use storpool_attach::{AccessMode, AttachError, DetachOptions, DetachRetry, ObjectKind, Target};
use storpool_sim::InjectedError;

use crate::{GIB, ID, Logs, OTHER, connector, env};

fn open_at(name: &str, times: u32, error: &str) -> InjectedError {
    InjectedError {
        call: Some("VolumesReassignWait".to_owned()),
        times,
        name: error.to_owned(),
        descr: format!("'{name}' is open at client {ID}"),
        transient: false,
        status: 500,
    }
}

#[tokio::test]
async fn disconnect_by_id_detaches_and_the_links_are_gone() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    let attached = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    let detached = env
        .connector
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert!(!detached.forced);
    assert_eq!(detached.attempts, 1);
    assert_eq!(detached.name, "os--volume-v1");
    assert_eq!(
        detached.global_id.as_deref(),
        Some(attached.global_id.as_str())
    );
    assert!(env.attachments_of("os--volume-v1").is_empty());
    assert!(attached.path.symlink_metadata().is_err());
    assert!(attached.name_path.symlink_metadata().is_err());
}

#[tokio::test]
async fn disconnect_by_by_id_path_and_by_name_path() {
    let env = env();
    env.volume("v1", GIB);
    env.volume("v2", GIB);
    let by_id = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    let by_name = env
        .connector
        .connect(&Target::volume("v2"), AccessMode::Ro)
        .await
        .unwrap();
    let detached = env
        .connector
        .disconnect_path(&by_id.path, DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert_eq!(detached.name, "os--volume-v1");
    let detached = env
        .connector
        .disconnect_path(&by_name.name_path, DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert!(env.sim.state().attachments.is_empty());
}

#[tokio::test]
async fn snapshots_detach_by_id_and_by_path() {
    let env = env();
    env.volume("v1", GIB);
    env.snapshot("v1", "s1");
    env.snapshot("v1", "s2");
    let s1 = env
        .connector
        .connect(&Target::snapshot("s1"), AccessMode::Ro)
        .await
        .unwrap();
    let s2 = env
        .connector
        .connect(&Target::snapshot("s2"), AccessMode::Ro)
        .await
        .unwrap();
    let detached = env
        .connector
        .disconnect(&Target::snapshot("s1"), DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert_eq!(detached.kind, ObjectKind::Snapshot);
    assert!(s1.path.symlink_metadata().is_err());
    for path in [s2.path.clone(), s2.name_path.clone()] {
        env.connector
            .connect(&Target::snapshot("s2"), AccessMode::Ro)
            .await
            .unwrap();
        let detached = env
            .connector
            .disconnect_path(&path, DetachOptions::default())
            .await
            .unwrap();
        assert!(detached.changed, "{}", path.display());
        assert_eq!(detached.kind, ObjectKind::Snapshot);
    }
    assert!(env.sim.state().attachments.is_empty());
}

#[tokio::test]
async fn detaching_what_is_not_attached_here_succeeds_and_changes_nothing() {
    let env = env();
    env.volume("v1", GIB);
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-v1", "rw": [OTHER]}])),
        )
        .unwrap();
    let generation = env.sim.state().generation;
    let root = env.sim.dev_root().to_owned();
    for detached in [
        env.connector
            .disconnect(&Target::volume("v1"), DetachOptions::default())
            .await
            .unwrap(),
        env.connector
            .disconnect(&Target::volume("never-created"), DetachOptions::default())
            .await
            .unwrap(),
        env.connector
            .disconnect_path(
                &root.join("storpool/os--volume-v1"),
                DetachOptions::default(),
            )
            .await
            .unwrap(),
        env.connector
            .disconnect_path(
                &root.join("storpool-byid/sim.a.zz"),
                DetachOptions::default(),
            )
            .await
            .unwrap(),
    ] {
        assert!(!detached.changed, "{detached:?}");
        assert_eq!(detached.attempts, 0);
    }
    assert_eq!(env.sim.state().generation, generation);
    assert_eq!(env.attachments_of("os--volume-v1"), [(OTHER, true)]);
}

#[tokio::test]
async fn detaching_twice_is_fine() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    let options = DetachOptions::default();
    assert!(
        env.connector
            .disconnect(&target, options)
            .await
            .unwrap()
            .changed
    );
    assert!(
        !env.connector
            .disconnect(&target, options)
            .await
            .unwrap()
            .changed
    );
}

#[tokio::test]
async fn paths_outside_the_storpool_folders_are_refused_naming_them() {
    let env = env();
    let root = env.sim.dev_root().to_owned();
    for path in [
        PathBuf::from("/dev/sda"),
        root.join("other/os--volume-v1"),
        root.join("storpool"),
        root.join("storpool/a/b"),
        PathBuf::from("/dev/storpool/os--volume-v1"),
    ] {
        let err = env
            .connector
            .disconnect_path(&path, DetachOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AttachError::UnexpectedDevicePath { path: p, .. } if *p == path),
            "{}: {err}",
            path.display()
        );
        assert!(err.is_usage());
        assert!(err.to_string().contains(&path.display().to_string()));
    }
    // In the right folder, but not a global id.
    let err = env
        .connector
        .disconnect_path(
            &root.join("storpool-byid/NOT_AN_ID"),
            DetachOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert!(format!("{err:?}").contains("NOT_AN_ID"), "{err:?}");
}

#[tokio::test]
async fn an_open_device_is_retried_and_the_last_attempt_forces_it() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    env.sim.set_device_open("os--volume-v1", ID, true);
    let (logs, _guard) = Logs::capture();
    let detached = env
        .connector
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert!(detached.forced);
    assert_eq!(detached.attempts, DetachRetry::default().max_attempts());
    assert!(env.attachments_of("os--volume-v1").is_empty());
    let logs = logs.text();
    let forced: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("forcing the detach"))
        .collect();
    assert_eq!(forced.len(), 1, "{logs}");
    assert!(forced[0].contains("WARN"), "{logs}");
    assert!(forced[0].contains("os--volume-v1"), "{logs}");
}

#[tokio::test]
async fn open_at_answers_are_retried_until_the_device_is_closed() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    // Older servers answer `invalidParam`, newer ones `busy`: both are "open".
    env.sim.inject_error(open_at("os--volume-v1", 2, "busy"));
    env.sim
        .inject_error(open_at("os--volume-v1", 2, "invalidParam"));
    let detached = env
        .connector
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap();
    assert_eq!(detached.attempts, 5);
    assert!(!detached.forced);
    assert!(env.attachments_of("os--volume-v1").is_empty());
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    env.sim.inject_error(InjectedError {
        descr: "no quorum".to_owned(),
        ..open_at("os--volume-v1", 1, "busy")
    });
    let err = env
        .connector
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap_err();
    assert!(!err.is_busy() && !err.is_usage(), "{err}");
    assert!(err.api_error().is_some_and(|e| e.attempts() == 1));
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, true)]);
}

#[tokio::test]
async fn without_forcing_a_device_that_stays_open_fails_naming_who_holds_it() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    let attached = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    env.sim.set_device_open("os--volume-v1", ID, true);
    // Hold the device open in this process, as qemu would.
    let holder = std::fs::File::open(&attached.path).unwrap();
    let err = env
        .connector
        .clone()
        .with_detach_retry(DetachRetry {
            retries: 3,
            delay: Duration::ZERO,
            force_last: false,
        })
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap_err();
    drop(holder);
    let AttachError::Busy {
        attempts, holders, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*attempts, 4);
    assert!(
        holders.iter().any(|h| h.pid == std::process::id()),
        "{holders:?}"
    );
    let message = err.to_string();
    assert!(message.contains("held open by"), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("is open at client 7"), "{cause}");
    assert!(err.is_busy() && !err.is_usage());
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, true)]);
    // No retries at all: one attempt.
    let err = env
        .connector
        .clone()
        .with_detach_retry(DetachRetry::none())
        .disconnect(&target, DetachOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AttachError::Busy { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn force_detaches_an_open_device_at_once() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    env.sim.set_device_open("os--volume-v1", ID, true);
    let detached = env
        .connector
        .clone()
        .with_detach_retry(DetachRetry::none())
        .disconnect(&target, DetachOptions { force: true })
        .await
        .unwrap();
    assert_eq!(detached.attempts, 1);
    assert!(detached.forced);
    assert!(env.attachments_of("os--volume-v1").is_empty());
}

#[tokio::test]
async fn links_that_stay_after_the_detach_time_out() {
    let env = env();
    let gid = env.volume("v1", GIB);
    let other = connector(&env.sim, OTHER).with_wait(storpool_attach::WaitOptions {
        timeout: Duration::from_millis(150),
        recheck: Duration::from_millis(50),
    });
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-v1", "rw": [OTHER]}])),
        )
        .unwrap();
    // Links the simulator does not own (as if storpool_block failed to remove them).
    let data = tempfile::NamedTempFile::new().unwrap();
    let link = env.sim.dev_root().join("storpool-byid").join(&gid);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(data.path(), &link).unwrap();
    let err = other
        .disconnect(&Target::volume("v1"), DetachOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains(&gid), "{err}");
    assert!(
        env.attachments_of("os--volume-v1").is_empty(),
        "the cluster detached"
    );
}
