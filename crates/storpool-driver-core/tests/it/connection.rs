//! Connection info: client ids from storpool.conf host sections.

use serde_json::json;
use storpool_driver_core::{DriverOptions, ErrorKind, FALLBACK_CLIENT_ID};

use crate::env;

#[tokio::test]
async fn connection_info_has_the_cinder_shape_and_the_hosts_client_id() {
    let env = env();
    for (client_id, volume, host) in [(1, "42", "s01"), (2, "616", "s02"), (65, "1610", "none")] {
        let info = env.driver.connection_info(volume, host).await.unwrap();
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"driver_volume_type": "storpool",
                   "data": {"client_id": client_id, "volume": volume, "access_mode": "rw"}})
        );
        assert!(env.driver.validate_connector(host).unwrap());
    }
    assert_eq!(FALLBACK_CLIENT_ID, 65);
}

#[tokio::test]
async fn an_invalid_client_id_is_a_configuration_error_naming_section_and_variable() {
    let env = env();
    let err = env.driver.connection_info("1", "sbad").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.is_user_error());
    let text = err.to_string();
    assert!(
        text.contains("SP_OURID") && text.contains("[sbad]"),
        "{text}"
    );
    assert!(env.driver.validate_connector("sbad").is_err());
}

#[tokio::test]
async fn the_drivers_own_host_reads_the_nodes_section() {
    let env = env();
    let driver = env.driver_with(
        DriverOptions::new()
            .own_hosts(vec!["cinder@storpool".to_owned(), "cinder".to_owned()])
            .node_name("this-node"),
    );
    for host in ["cinder@storpool", "cinder"] {
        let info = driver.connection_info("1", host).await.unwrap();
        assert_eq!(info.data.client_id, 7);
    }
    assert_eq!(
        driver
            .connection_info("1", "s02")
            .await
            .unwrap()
            .data
            .client_id,
        2
    );
}

#[tokio::test]
async fn a_missing_configuration_file_is_a_configuration_error() {
    let env = env();
    let driver = env
        .driver
        .clone()
        .with_host_config(storpool_conf::Loader::new(
            env.conf_file.with_file_name("missing.conf"),
        ));
    let err = driver.connection_info("1", "s01").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("[s01]"), "{err}");
}

#[tokio::test]
async fn from_conf_takes_endpoint_token_and_prefix_from_storpool_conf() {
    let sim = storpool_sim::Sim::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("storpool.conf");
    let text = format!(
        "{}SP_OPENSTACK_VOLUME_PREFIX=lab\n[s05]\nSP_OURID=5\n",
        sim.storpool_conf(None)
    );
    std::fs::write(&file, text).unwrap();
    let loader = storpool_conf::Loader::new(&file).use_env(false);
    let config = loader.load().unwrap();
    let driver = storpool_driver_core::Driver::from_conf(
        &config,
        &loader,
        DriverOptions::new().volume_prefix("ignored"),
    )
    .unwrap();
    assert_eq!(driver.naming().prefix(), "lab");
    assert!(driver.client().is_multi_cluster());
    let volume = driver
        .create_volume("1", 1, &storpool_driver_core::Specs::new())
        .await
        .unwrap();
    assert_eq!(volume.name, "lab--volume-1");
    assert_eq!(
        driver
            .connection_info("1", "s05")
            .await
            .unwrap()
            .data
            .client_id,
        5
    );

    let no_token = dir.path().join("no-token.conf");
    std::fs::write(&no_token, "SP_API_HTTP_HOST=127.0.0.1\n").unwrap();
    let loader = storpool_conf::Loader::new(&no_token).use_env(false);
    let err = storpool_driver_core::Driver::from_conf(
        &loader.load().unwrap(),
        &loader,
        DriverOptions::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("SP_AUTH_TOKEN"),
        "{err}"
    );
}
