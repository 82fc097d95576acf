//! What is attached here: the cluster's view, the device folder, a volume's paths.

use serde_json::json;
use storpool_attach::{
    AccessMode, AttachError, ConnectionProperties, DetachOptions, ObjectKind, Target,
};

use crate::{GIB, OTHER, env};

/// Name, id, kind, rights, present.
type Row<'a> = (
    &'a str,
    Option<&'a str>,
    ObjectKind,
    Option<AccessMode>,
    bool,
);

#[tokio::test]
async fn list_shows_our_attachments_only_with_ids_paths_and_rights() {
    let env = env();
    let g1 = env.volume("v1", GIB);
    let g2 = env.volume("v2", GIB);
    env.snapshot("v1", "s1");
    env.sim.seed_volume("foreign", GIB, None).unwrap();
    let connector = &env.connector;
    connector
        .connect(&Target::volume("v2"), AccessMode::Rw)
        .await
        .unwrap();
    connector
        .connect(&Target::volume("v1"), AccessMode::Ro)
        .await
        .unwrap();
    connector
        .connect(&Target::snapshot("s1"), AccessMode::Ro)
        .await
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassignWait",
            Some(json!({"reassign": [{"volume": "foreign", "rw": [crate::ID]}]})),
        )
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": "os--volume-v1", "ro": [OTHER]}])),
        )
        .unwrap();
    let list = connector.list().await.unwrap();
    let rows: Vec<Row<'_>> = list
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.id.as_deref(),
                a.kind,
                a.access_mode,
                a.present,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "foreign",
                None,
                ObjectKind::Volume,
                Some(AccessMode::Rw),
                true
            ),
            (
                "os--snap--none--snapshot-s1",
                Some("s1"),
                ObjectKind::Snapshot,
                Some(AccessMode::Ro),
                true
            ),
            (
                "os--volume-v1",
                Some("v1"),
                ObjectKind::Volume,
                Some(AccessMode::Ro),
                true
            ),
            (
                "os--volume-v2",
                Some("v2"),
                ObjectKind::Volume,
                Some(AccessMode::Rw),
                true
            ),
        ]
    );
    let root = env.sim.dev_root();
    let v1 = &list[2];
    assert_eq!(v1.global_id.as_deref(), Some(g1.as_str()));
    assert_eq!(
        v1.path.as_deref(),
        Some(root.join("storpool-byid").join(&g1).as_path())
    );
    assert_eq!(
        v1.name_path.as_deref(),
        Some(root.join("storpool/os--volume-v1").as_path())
    );
    assert_eq!(list[3].global_id.as_deref(), Some(g2.as_str()));
    connector
        .disconnect(&Target::volume("v2"), DetachOptions::default())
        .await
        .unwrap();
    assert_eq!(connector.list().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_attachment_whose_device_is_missing_is_listed_as_not_present() {
    let env = env();
    env.volume("v1", GIB);
    let attached = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    std::fs::remove_file(&attached.name_path).unwrap();
    let list = env.connector.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(!list[0].present);
}

#[tokio::test]
async fn available_volumes_are_our_volume_links_in_the_device_folder() {
    let env = env();
    assert!(env.connector.available_volumes().unwrap().is_empty());
    env.volume("b", GIB);
    env.volume("a", GIB);
    env.snapshot("a", "s");
    env.sim.seed_volume("foreign", GIB, None).unwrap();
    for target in [
        Target::volume("b"),
        Target::volume("a"),
        Target::snapshot("s"),
    ] {
        env.connector
            .connect(&target, AccessMode::Ro)
            .await
            .unwrap();
    }
    env.sim
        .call(
            "POST",
            "VolumesReassignWait",
            Some(json!({"reassign": [{"volume": "foreign", "ro": [crate::ID]}]})),
        )
        .unwrap();
    // A folder with a volume-like name is not a device.
    std::fs::create_dir(env.sim.dev_root().join("storpool/os--volume-dir")).unwrap();
    assert_eq!(env.connector.available_volumes().unwrap(), ["a", "b"]);
    assert_eq!(
        env.connector.search_path(),
        env.sim.dev_root().join("storpool")
    );
}

#[tokio::test]
async fn volume_paths_are_the_name_link_and_a_different_device_path_is_an_error() {
    let env = env();
    env.volume("v1", GIB);
    env.volume("v2", GIB);
    let v1 = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    let v2 = env
        .connector
        .connect(&Target::volume("v2"), AccessMode::Rw)
        .await
        .unwrap();
    let props = |device_path: Option<&std::path::Path>| ConnectionProperties {
        volume: Some("v1".to_owned()),
        device_path: device_path.map(std::path::Path::to_owned),
        ..ConnectionProperties::default()
    };
    let expected = vec![v1.name_path.clone()];
    assert_eq!(env.connector.volume_paths(&props(None)).unwrap(), expected);
    assert_eq!(
        env.connector
            .volume_paths(&props(Some(&v1.name_path)))
            .unwrap(),
        expected
    );
    // The by-id link of the same device (what connect returns) is the same volume.
    assert_eq!(
        env.connector.volume_paths(&props(Some(&v1.path))).unwrap(),
        expected
    );
    for other in [&v2.path, &v2.name_path] {
        let err = env.connector.volume_paths(&props(Some(other))).unwrap_err();
        assert!(
            matches!(&err, AttachError::PathMismatch { given, .. } if given == other),
            "{err}"
        );
    }
    let err = env
        .connector
        .volume_paths(&ConnectionProperties::default())
        .unwrap_err();
    assert!(matches!(err, AttachError::MissingField { field: "volume" }));
}
