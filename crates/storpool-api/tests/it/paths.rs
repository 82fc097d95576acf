//! `MultiCluster/`, `RemoteCommand/`, path arguments, and the raw escape hatch.

use serde_json::json;
use storpool_api::{
    ClusterName, Method, ReassignEntry, SnapshotCreate, SnapshotRef, SnapshotUpdate, TemplateName,
    VolumeCreate, VolumeRef,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, Request};

use crate::{AUTH, api_ok, builder, client, data, expect, server};

#[tokio::test]
async fn multi_cluster_mode_prefixes_only_the_calls_that_have_the_form() {
    let server = server().await;
    let client = builder(&server).multi_cluster(true).build().unwrap();
    assert!(client.is_multi_cluster());
    let v = VolumeRef::new("os--volume-1").unwrap();
    let s = SnapshotRef::new("os--snap--none--snapshot-1").unwrap();
    expect(
        &server,
        "GET",
        "MultiCluster/VolumesList",
        None,
        data(json!([])),
    )
    .await;
    expect(
        &server,
        "POST",
        "MultiCluster/VolumeCreate",
        Some(json!({"size": 512})),
        data(json!({"ok": true, "generation": 1})),
    )
    .await;
    expect(
        &server,
        "POST",
        "MultiCluster/VolumesReassign",
        Some(json!([{"volume": "os--volume-1", "detach": "all"}])),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "MultiCluster/VolumeDelete/os--volume-1",
        None,
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "MultiCluster/VolumeSnapshot/os--volume-1",
        Some(json!({})),
        data(json!({"ok": true, "generation": 1})),
    )
    .await;
    expect(
        &server,
        "POST",
        "MultiCluster/SnapshotDelete/os--snap--none--snapshot-1",
        None,
        api_ok(),
    )
    .await;
    expect(
        &server,
        "GET",
        "MultiCluster/AttachmentsList",
        None,
        data(json!([])),
    )
    .await;
    // No MultiCluster form: never prefixed.
    expect(
        &server,
        "POST",
        "SnapshotUpdate/os--snap--none--snapshot-1",
        Some(json!({"template": "t"})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "GET",
        "VolumeListSnapshots/os--volume-1",
        None,
        data(json!([])),
    )
    .await;
    expect(&server, "GET", "VolumeTemplatesList", None, data(json!([]))).await;
    expect(&server, "GET", "DisksList", None, data(json!({}))).await;

    client.volumes().list().await.unwrap();
    client
        .volumes()
        .create(&VolumeCreate {
            size: Some(512),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    client
        .attachments()
        .reassign(&[ReassignEntry::detach_volume_everywhere(v.clone())])
        .await
        .unwrap();
    client.volumes().delete(&v).await.unwrap();
    client
        .snapshots()
        .create(&v, &SnapshotCreate::default())
        .await
        .unwrap();
    client.snapshots().delete(&s).await.unwrap();
    client.attachments().list().await.unwrap();
    client
        .snapshots()
        .update(
            &s,
            &SnapshotUpdate {
                template: Some(TemplateName::new("t").unwrap()),
                ..SnapshotUpdate::default()
            },
        )
        .await
        .unwrap();
    client.volumes().list_snapshots(&v).await.unwrap();
    client.templates().list().await.unwrap();
    client.disks().list().await.unwrap();
}

#[tokio::test]
async fn remote_command_forwards_every_call_and_shares_the_pool() {
    let server = server().await;
    let local = client(&server);
    let remote = local.with_remote_cluster(Some(ClusterName::new("backup").unwrap()));
    let remote_mc = remote.with_multi_cluster(true);
    let by_id = local
        .with_remote_cluster(Some(ClusterName::new("~fir.b").unwrap()))
        .with_multi_cluster(true);
    expect(
        &server,
        "GET",
        "RemoteCommand/backup/DisksList",
        None,
        data(json!({})),
    )
    .await;
    expect(
        &server,
        "GET",
        "RemoteCommand/backup/MultiCluster/Volume/~d.n.a1z",
        None,
        data(json!([crate::fixture(include_str!(
            "fixtures/volumes_list.json"
        ))[0]
            .clone()])),
    )
    .await;
    expect(
        &server,
        "POST",
        "RemoteCommand/~fir.b/MultiCluster/VolumeDelete/v",
        None,
        api_ok(),
    )
    .await;
    expect(&server, "GET", "DisksList", None, data(json!({}))).await;
    remote.disks().list().await.unwrap();
    remote_mc
        .volumes()
        .get(&VolumeRef::new("~d.n.a1z").unwrap())
        .await
        .unwrap();
    by_id
        .volumes()
        .delete(&VolumeRef::new("v").unwrap())
        .await
        .unwrap();
    local.disks().list().await.unwrap();
    assert_eq!(remote.remote_cluster().unwrap().as_str(), "backup");
    assert!(local.remote_cluster().is_none());
}

#[tokio::test]
async fn the_builder_sets_multi_cluster_and_remote_cluster() {
    let server = server().await;
    let client = builder(&server)
        .multi_cluster(true)
        .remote_cluster(ClusterName::new("dr").unwrap())
        .build()
        .unwrap();
    expect(
        &server,
        "GET",
        "RemoteCommand/dr/MultiCluster/VolumesList",
        None,
        data(json!([])),
    )
    .await;
    client.volumes().list().await.unwrap();
}

#[tokio::test]
async fn path_arguments_keep_tilde_at_colon_and_star_raw() {
    let server = server().await;
    let client = client(&server);
    expect(
        &server,
        "POST",
        "SnapshotDelete/*os--snap:1@2",
        None,
        api_ok(),
    )
    .await;
    expect(&server, "POST", "VolumeDelete/a.b:c", None, api_ok()).await;
    client
        .snapshots()
        .delete(&SnapshotRef::new("*os--snap:1@2").unwrap())
        .await
        .unwrap();
    client
        .volumes()
        .delete(&VolumeRef::new("a.b:c").unwrap())
        .await
        .unwrap();
}

/// Matches the exact, still percent-encoded query string.
struct RawQuery(&'static str);

impl Match for RawQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == Some(self.0)
    }
}

#[tokio::test]
async fn raw_get_sends_json_as_the_percent_encoded_json_query_parameter() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/iSCSISessionsInfo"))
        .and(header("Authorization", AUTH))
        .and(RawQuery(
            "json=%7B%22controllerIds%22%3A%5B1%2C2%5D%2C%22msecsTimeout%22%3A500%7D",
        ))
        .and(crate::NoBody)
        .respond_with(data(json!({"sessions": []})))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .raw(
            Method::GET,
            "iSCSISessionsInfo",
            Some(&json!({"controllerIds": [1, 2], "msecsTimeout": 500})),
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({"sessions": []}));
}

#[tokio::test]
async fn raw_post_sends_the_body_and_returns_data() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "iSCSIConfig",
        Some(json!({"commands": [{"createTarget": {"volumeName": "v"}}]})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "GET",
        "RemoteCommand/b/MultiCluster/VolumesList",
        None,
        data(json!([{"name": "x"}])),
    )
    .await;
    let client = client(&server);
    let answer = client
        .raw(
            Method::POST,
            "iSCSIConfig",
            Some(&json!({"commands": [{"createTarget": {"volumeName": "v"}}]})),
        )
        .await
        .unwrap();
    assert_eq!(answer["ok"], json!(true));
    let remote = client.with_remote_cluster(Some(ClusterName::new("b").unwrap()));
    let list = remote
        .raw(Method::GET, "MultiCluster/VolumesList", None)
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "x");
}

#[tokio::test]
async fn raw_refuses_paths_that_are_not_a_call() {
    let server = server().await;
    let client = client(&server);
    for bad in [
        "",
        "/ctrl/1.0/VolumesList",
        "VolumesList?x=1",
        "Volume/#x",
        "a//b",
        "../x",
    ] {
        let err = client.raw(Method::GET, bad, None).await.unwrap_err();
        assert!(err.is_invalid_argument(), "{bad}: {err}");
    }
}
