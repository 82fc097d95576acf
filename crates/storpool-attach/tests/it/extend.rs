//! Following a resize on the cluster to the local device.

use std::fs::OpenOptions;
use std::time::Duration;

use serde_json::json;
use storpool_attach::{AccessMode, AttachError, Target, WaitOptions};

use crate::{GIB, env};

fn resize(env: &crate::Env, id: &str, size: u64) {
    env.sim
        .call(
            "POST",
            &format!("VolumeUpdate/os--volume-{id}"),
            Some(json!({"size": size})),
        )
        .unwrap();
}

#[tokio::test]
async fn extend_returns_the_size_the_local_device_shows() {
    let env = env();
    env.volume("v1", GIB);
    env.connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    resize(&env, "v1", 3 * GIB);
    let extended = env.connector.extend("v1").await.unwrap();
    assert_eq!(extended.size, 3 * GIB);
    assert_eq!(
        extended.path,
        env.sim.dev_root().join("storpool/os--volume-v1")
    );
    assert_eq!(
        storpool_attach::device::device_size(&extended.path).unwrap(),
        3 * GIB
    );
}

#[tokio::test]
async fn extend_waits_for_a_device_that_catches_up_later() {
    let env = env();
    env.volume("v1", GIB);
    let attached = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    resize(&env, "v1", 2 * GIB);
    // The local view lags: the device still shows the old size until "the kernel" catches up.
    let device = std::fs::canonicalize(&attached.path).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&device)
        .unwrap()
        .set_len(GIB)
        .unwrap();
    let connector = env.connector.clone().with_wait(WaitOptions {
        timeout: Duration::from_secs(20),
        // Only the file notification can wake it before the resize recheck interval.
        recheck: Duration::from_secs(20),
    });
    let catch_up = async {
        crate::until_watched(&device).await;
        OpenOptions::new()
            .write(true)
            .open(&device)
            .unwrap()
            .set_len(2 * GIB)
            .unwrap();
    };
    let (extended, ()) = tokio::join!(connector.extend("v1"), catch_up);
    assert_eq!(extended.unwrap().size, 2 * GIB);
}

#[tokio::test]
async fn a_device_that_never_catches_up_is_an_error_with_both_sizes() {
    let env = env();
    env.volume("v1", GIB);
    let attached = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    resize(&env, "v1", 2 * GIB);
    OpenOptions::new()
        .write(true)
        .open(&attached.path)
        .unwrap()
        .set_len(GIB)
        .unwrap();
    let err = env
        .connector
        .clone()
        .with_wait(WaitOptions {
            timeout: Duration::from_millis(150),
            recheck: Duration::from_millis(50),
        })
        .extend("v1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AttachError::SizeMismatch { expected, local: Some(local), .. }
            if expected == 2 * GIB && local == GIB),
        "{err:?}"
    );
    assert!(err.is_timeout() && !err.is_usage());
}

#[tokio::test]
async fn extending_a_volume_not_attached_here_fails() {
    let env = env();
    env.volume("v1", GIB);
    let err = env.connector.extend("v1").await.unwrap_err();
    assert!(matches!(err, AttachError::NotAttached { .. }), "{err:?}");
    assert!(!err.is_usage());
    let err = env.connector.extend("missing").await.unwrap_err();
    assert!(
        err.api_error()
            .is_some_and(storpool_api::ApiError::is_object_not_found),
        "{err:?}"
    );
    let err = env.connector.extend("a b").await.unwrap_err();
    assert!(err.is_usage(), "{err:?}");
}
