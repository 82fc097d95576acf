//! The os-brick-style entry points: connection data in, os-brick-shaped results out.

use serde_json::json;
use storpool_attach::{
    AccessMode, AttachError, ConnectionProperties, DetachOptions, DeviceInfo, Target,
};

use crate::{GIB, ID, Logs, env};

#[allow(clippy::needless_pass_by_value)] // called with `json!(...)` temporaries
fn props(data: serde_json::Value) -> ConnectionProperties {
    ConnectionProperties::from_json(&data).unwrap()
}

#[tokio::test]
async fn cinder_connection_data_connects_and_disconnects() {
    let env = env();
    let gid = env.volume("5f0c", GIB);
    let data = json!({"client_id": ID, "volume": "5f0c", "access_mode": "ro"});
    let attached = env
        .connector
        .connect_properties(&props(data.clone()))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(attached.device_info()).unwrap(),
        json!({"type": "block", "path": env.sim.dev_root().join("storpool-byid").join(&gid)})
    );
    assert_eq!(env.attachments_of("os--volume-5f0c"), [(ID, false)]);
    // No `device_path`: the path of the connect result is used, as os-brick does.
    let info: DeviceInfo =
        serde_json::from_value(serde_json::to_value(attached.device_info()).unwrap()).unwrap();
    let detached = env
        .connector
        .disconnect_properties(&props(data), Some(&info), DetachOptions::default())
        .await
        .unwrap();
    assert!(detached.changed);
    assert!(env.attachments_of("os--volume-5f0c").is_empty());
}

#[tokio::test]
async fn device_path_in_the_data_wins_over_the_connect_result() {
    let env = env();
    env.volume("a", GIB);
    env.volume("b", GIB);
    let a = env
        .connector
        .connect(&Target::volume("a"), AccessMode::Rw)
        .await
        .unwrap();
    let b = env
        .connector
        .connect(&Target::volume("b"), AccessMode::Rw)
        .await
        .unwrap();
    let data = json!({"client_id": ID, "device_path": a.name_path});
    env.connector
        .disconnect_properties(
            &props(data),
            Some(&b.device_info()),
            DetachOptions::default(),
        )
        .await
        .unwrap();
    assert!(env.attachments_of("os--volume-a").is_empty());
    assert_eq!(env.attachments_of("os--volume-b"), [(ID, true)]);
}

#[tokio::test]
async fn every_missing_field_is_named_before_anything_is_sent() {
    let env = env();
    env.volume("v", GIB);
    let full = json!({"client_id": ID, "volume": "v", "access_mode": "rw"});
    for field in ["client_id", "volume", "access_mode"] {
        let mut data = full.clone();
        data.as_object_mut().unwrap().remove(field);
        let err = env
            .connector
            .connect_properties(&props(data))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AttachError::MissingField { field: f } if f == field),
            "{field}: {err}"
        );
        assert!(err.is_usage());
    }
    let err = env
        .connector
        .disconnect_properties(
            &props(json!({"device_path": "/dev/storpool/os--volume-v"})),
            None,
            DetachOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AttachError::MissingField { field: "client_id" }),
        "{err}"
    );
    let err = env
        .connector
        .disconnect_properties(
            &props(json!({"client_id": ID})),
            None,
            DetachOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AttachError::MissingField {
                field: "device_path"
            }
        ),
        "{err}"
    );
    assert!(env.sim.state().attachments.is_empty());
}

#[tokio::test]
async fn another_client_id_in_the_data_is_a_warning_and_this_node_attaches() {
    let env = env();
    env.volume("v", GIB);
    let (logs, _guard) = Logs::capture();
    env.connector
        .connect_properties(&props(
            json!({"client_id": "3", "volume": "v", "access_mode": "rw"}),
        ))
        .await
        .unwrap();
    assert_eq!(env.attachments_of("os--volume-v"), [(ID, true)]);
    let logs = logs.text();
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains("another client id")),
        "{logs}"
    );
}
