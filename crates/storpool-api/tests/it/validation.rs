//! Bad values are refused before anything is sent (the catch-all mock proves no request).

use storpool_api::{
    ApiError, ClientId, GroupSnapshot, ReassignWait, SnapshotCreate, SnapshotRef, SnapshotUpdate,
    TemplateCreate, TemplateName, VolumeCreate, VolumeName, VolumeReassign, VolumeRef,
    VolumeUpdate,
};

use crate::{client, server};

fn field_of(err: &ApiError) -> &'static str {
    match err {
        ApiError::InvalidArgument { field, .. } => field,
        other => panic!("expected an invalid argument, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_requests_send_nothing_and_name_the_field() {
    let server = server().await;
    let client = client(&server);
    let v = VolumeRef::new("v").unwrap();

    let err = client
        .volumes()
        .create(&VolumeCreate {
            name: Some(VolumeName::new("v").unwrap()),
            size: Some(1000),
            ..VolumeCreate::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "size");
    assert_eq!(
        err.to_string(),
        "invalid size `1000`: must be a multiple of 512 bytes"
    );

    let err = client
        .volumes()
        .create(&VolumeCreate {
            size: Some(0),
            ..VolumeCreate::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "size");

    let err = client
        .volumes()
        .create(&VolumeCreate {
            replication: Some(0),
            ..VolumeCreate::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "replication");

    let err = client
        .volumes()
        .update(
            &v,
            &VolumeUpdate {
                tags: Some([("bad tag".to_owned(), "x".to_owned())].into()),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "tag name");

    let err = client
        .volumes()
        .update(
            &v,
            &VolumeUpdate {
                size_add: Some(100),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "sizeAdd");

    let err = client
        .snapshots()
        .create(
            &v,
            &SnapshotCreate {
                tags: Some([("k".to_owned(), "a/b".to_owned())].into()),
                ..SnapshotCreate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "tag value");

    let err = client
        .snapshots()
        .update(
            &SnapshotRef::new("s").unwrap(),
            &SnapshotUpdate {
                replication: Some(9),
                ..SnapshotUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "replication");

    let err = client
        .snapshots()
        .create_group(&GroupSnapshot::default())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "volumes");

    let err = client
        .templates()
        .create(&TemplateCreate {
            size: Some(511),
            ..TemplateCreate::new(TemplateName::new("t").unwrap())
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "size");

    let id = ClientId::new(5).unwrap();
    let entry = VolumeReassign {
        rw: Some(vec![id]),
        ro: Some(vec![id]),
        ..VolumeReassign::new(v.clone())
    };
    let err = client
        .attachments()
        .reassign_wait(&ReassignWait::new(vec![entry.clone().into()]))
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "client id");
    let err = client
        .attachments()
        .reassign(&[entry.into()])
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "client id");

    let err = client
        .volumes()
        .get(&VolumeRef::new("#system").unwrap())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "path argument");
    assert_eq!(err.attempts(), 0);
}

#[test]
fn bad_names_and_ids_are_refused_with_the_value() {
    let err = VolumeName::new("os volume").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid volume name `os volume`: character ` ` is not allowed: must be letters, digits, \
         `_`, `-`, `.`, `:` (with an optional leading `#`)"
    );
    assert_eq!(field_of(&ClientId::new(4096).unwrap_err()), "client id");
    assert_eq!(
        field_of(&TemplateName::new("a.b").unwrap_err()),
        "template name"
    );
    assert_eq!(
        field_of(&SnapshotRef::new("~x").unwrap_err()),
        "snapshot reference"
    );
    assert_eq!(
        field_of(&storpool_api::PlacementGroupName::new("list").unwrap_err()),
        "placement group name"
    );
}
