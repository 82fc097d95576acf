//! How answers become errors.

use serde_json::json;
use storpool_api::{ApiError, ClientId, ReassignEntry, ReassignWait, VolumeRef, error_name};
use wiremock::ResponseTemplate;

use crate::{api_error, client, expect, server};

fn vref(name: &str) -> VolumeRef {
    VolumeRef::new(name).unwrap()
}

#[tokio::test]
async fn an_error_answer_keeps_status_name_descr_and_transient() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeDelete/os--volume-1",
        None,
        api_error(
            500,
            "objectDoesNotExist",
            "Volume os--volume-1 does not exist",
            false,
        ),
    )
    .await;
    let err = client(&server)
        .volumes()
        .delete(&vref("os--volume-1"))
        .await
        .unwrap_err();
    assert!(err.is_object_not_found());
    assert!(!err.is_transient() && !err.is_busy());
    let server_error = err.server().unwrap();
    assert_eq!(server_error.status, 500);
    assert_eq!(server_error.name, error_name::OBJECT_DOES_NOT_EXIST);
    assert_eq!(server_error.descr, "Volume os--volume-1 does not exist");
    assert_eq!(
        server_error.call,
        "POST /ctrl/1.0/VolumeDelete/os--volume-1"
    );
    assert_eq!(server_error.attempts, 1);
    assert_eq!(
        err.to_string(),
        "StorPool API call `POST /ctrl/1.0/VolumeDelete/os--volume-1` failed with HTTP 500 \
         `objectDoesNotExist`: Volume os--volume-1 does not exist"
    );
}

#[tokio::test]
async fn an_error_member_with_status_200_is_an_error() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "Volume/v",
        None,
        ResponseTemplate::new(200).set_body_json(json!({
            "error": {"name": "objectExists", "descr": "exists"},
            "data": {"odd": true}
        })),
    )
    .await;
    let err = client(&server).volumes().get(&vref("v")).await.unwrap_err();
    assert!(err.is_object_exists());
    assert_eq!(err.server().unwrap().status, 200);
}

#[tokio::test]
async fn missing_name_and_description_get_placeholders() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "VolumesList",
        None,
        ResponseTemplate::new(503).set_body_json(json!({"error": {}})),
    )
    .await;
    let err = client(&server).volumes().list().await.unwrap_err();
    let server_error = err.server().unwrap();
    assert_eq!(server_error.name, error_name::MISSING_NAME);
    assert_eq!(server_error.descr, error_name::MISSING_DESCRIPTION);
    assert!(!server_error.transient && !server_error.is_known());
}

#[tokio::test]
async fn a_non_json_body_is_a_decode_error_with_a_short_excerpt() {
    let server = server().await;
    let page = format!(
        "<html><body>502 Bad Gateway{}</body></html>",
        " ".repeat(5000)
    );
    expect(
        &server,
        "GET",
        "ServicesList",
        None,
        ResponseTemplate::new(502).set_body_string(page),
    )
    .await;
    let err = client(&server).services().list().await.unwrap_err();
    let ApiError::Decode {
        call,
        status,
        excerpt,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(call, "GET /ctrl/1.0/ServicesList");
    assert_eq!(*status, 502);
    assert!(excerpt.starts_with("<html><body>502 Bad Gateway"));
    assert!(excerpt.chars().count() <= 201, "{}", excerpt.len());
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn a_wrongly_typed_member_is_a_decode_error() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "AttachmentsList",
        None,
        crate::data(json!([{"volume": "v", "snapshot": false, "client": "three", "rights": "rw", "pos": 0}])),
    )
    .await;
    let err = client(&server).attachments().list().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Decode { status: 200, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn detach_of_an_open_device_and_unknown_clients_are_recognised() {
    let server = server().await;
    let body = json!({"reassign": [{"volume": "v", "detach": [3], "force": false}]});
    expect(
        &server,
        "POST",
        "VolumesReassignWait",
        Some(body),
        api_error(500, "busy", "'v' is open at client 3", false),
    )
    .await;
    let attach = json!({"reassign": [{"volume": "v", "rw": [9]}]});
    expect(
        &server,
        "POST",
        "VolumesReassignWait",
        Some(attach),
        api_error(500, "invalidParam", "No such client registered: 9", false),
    )
    .await;
    let client = client(&server);
    let id = |n| ClientId::new(n).unwrap();
    let err = client
        .attachments()
        .reassign_wait(&ReassignWait::new(vec![ReassignEntry::detach_volume(
            vref("v"),
            id(3),
            false,
        )]))
        .await
        .unwrap_err();
    assert!(err.is_busy() && err.is_open_at() && !err.is_no_such_client());
    let err = client
        .attachments()
        .reassign_wait(&ReassignWait::new(vec![ReassignEntry::attach_volume(
            vref("v"),
            id(9),
            storpool_api::Rights::Rw,
        )]))
        .await
        .unwrap_err();
    assert!(err.is_invalid_param() && err.is_no_such_client() && !err.is_open_at());
}
