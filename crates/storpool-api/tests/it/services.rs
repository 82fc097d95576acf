//! Service and client calls.

use serde_json::json;
use storpool_api::{ClientConfigStatus, ClientId, ClusterStatus, ConfigStatus};

use crate::{client, data, expect, fixture, server, strict};

const SERVICES: &str = include_str!("fixtures/services_list.json");
const CLIENTS: &str = include_str!("fixtures/clients_config_dump.json");

#[test]
fn fixtures_decode_with_every_member_known() {
    strict::<ClusterStatus>(SERVICES);
    strict::<Vec<ClientConfigStatus>>(CLIENTS);
}

#[tokio::test]
async fn services_and_servers_list() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "ServicesList",
        None,
        data(fixture(SERVICES)),
    )
    .await;
    let mut servers = fixture(SERVICES);
    servers.as_object_mut().unwrap().remove("clients");
    expect(&server, "GET", "ServersList", None, data(servers)).await;
    let client = client(&server);
    let status = client.services().list().await.unwrap();
    assert!(status.is_running());
    assert!(status.mgmt[&1].active.unwrap());
    assert!(status.clients[&1].is_running());
    assert_eq!(status.clients[&3].start_time, None);
    assert_eq!(
        status.servers[&2].missing_disks.as_deref(),
        Some(&[102][..])
    );
    assert_eq!(status.iscsi_targets[&1].status, "down");
    let servers = client.services().servers().await.unwrap();
    assert!(servers.clients.is_empty());
}

#[tokio::test]
async fn clients_config_dump_and_wait() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "ClientsConfigDump",
        None,
        data(fixture(CLIENTS)),
    )
    .await;
    expect(
        &server,
        "GET",
        "ClientConfigWait/3",
        None,
        data(json!([{"id": 3, "generation": 501, "clientGeneration": 501, "configStatus": "ok", "delay": 12}])),
    )
    .await;
    let client = client(&server);
    let dump = client.clients().config_dump().await.unwrap();
    assert_eq!(dump[1].config_status, ConfigStatus::Updating);
    assert_eq!(dump[2].config_status, ConfigStatus::Down);
    let waited = client
        .clients()
        .config_wait(ClientId::new(3).unwrap())
        .await
        .unwrap();
    assert_eq!(waited[0].delay, 12);
    assert_eq!(waited[0].client_generation, 501);
}
