//! Building the connector from storpool.conf.

use storpool_attach::{AccessMode, AttachError, Connector, DeviceRoot, Target};
use storpool_conf::Config;

use crate::{GIB, ID, client, sim};

#[test]
fn sp_ourid_is_required_and_the_error_names_it_and_the_section() {
    let sim = sim();
    let config = Config::from_vars([("SP_AUTH_TOKEN", "1")]);
    let err = Connector::from_conf(&config, &client(&sim)).unwrap_err();
    assert!(matches!(err, AttachError::Config(_)), "{err:?}");
    assert!(err.is_usage());
    let message = anyhow_like(&err);
    assert!(message.contains("SP_OURID is not set"), "{message}");
}

#[test]
fn an_invalid_sp_ourid_or_prefix_is_a_configuration_error() {
    let sim = sim();
    for (ourid, prefix, needle) in [
        ("0", "os", "SP_OURID"),
        ("4096", "os", "SP_OURID"),
        ("x", "os", "SP_OURID"),
        ("3", "o s", "SP_OPENSTACK_VOLUME_PREFIX"),
        ("3", "", "SP_OPENSTACK_VOLUME_PREFIX"),
    ] {
        let config =
            Config::from_vars([("SP_OURID", ourid), ("SP_OPENSTACK_VOLUME_PREFIX", prefix)]);
        let err = Connector::from_conf(&config, &client(&sim)).unwrap_err();
        assert!(err.is_usage(), "{err}");
        let message = anyhow_like(&err);
        assert!(message.contains(needle), "{ourid} {prefix}: {message}");
    }
}

#[tokio::test]
async fn the_configuration_gives_the_client_id_and_the_prefix() {
    let sim = sim();
    sim.seed_volume("lab--volume-1", GIB, None).unwrap();
    let config = Config::from_vars([
        ("SP_OURID", ID.to_string().as_str()),
        ("SP_OPENSTACK_VOLUME_PREFIX", "lab"),
    ]);
    let connector = Connector::from_conf(&config, &client(&sim))
        .unwrap()
        .with_device_root(DeviceRoot::new(sim.dev_root()));
    assert_eq!(connector.our_id().get(), ID);
    assert_eq!(connector.prefix(), "lab");
    let attached = connector
        .connect(&Target::volume("1"), AccessMode::Rw)
        .await
        .unwrap();
    assert_eq!(attached.name, "lab--volume-1");
    // The default prefix is `os`.
    let config = Config::from_vars([("SP_OURID", "5")]);
    assert_eq!(
        Connector::from_conf(&config, &client(&sim))
            .unwrap()
            .prefix(),
        "os"
    );
}

#[test]
fn the_connector_uses_multicluster_paths_like_os_brick() {
    let sim = sim();
    let connector = crate::connector(&sim, ID);
    assert!(connector.client().is_multi_cluster());
}

/// The error and its causes, as `{:#}` of anyhow prints them.
fn anyhow_like(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
