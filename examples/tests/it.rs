//! Testing code that uses storpool-rs against the simulator: no cluster, no mocks of our
//! own, real bytes through the emulated devices, faults on demand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;

use storpool_attach::{ClientId, Connector, DeviceRoot};
use storpool_driver_core::{Client, Driver, DriverOptions, RetryPolicy, Specs, SpecsExt as _};
use storpool_examples::{marker, provision_instances, provision_instances_blocking};
use storpool_sim::{InjectedError, Sim};

/// A simulator serving this node as client 1, with a golden snapshot, and a driver and
/// connector on it. Retries without waiting, so that injected faults cost no time.
fn cluster() -> (Sim, Driver, Connector) {
    let sim = Sim::builder().serve_client(1).start().unwrap();
    sim.seed_template("ssd", Some(3), None).unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::immediate(3))
        .build()
        .unwrap();
    let driver = Driver::new(client.clone(), DriverOptions::new()).unwrap();
    let connector = Connector::new(&client, ClientId::new(1).unwrap())
        .with_device_root(DeviceRoot::new(sim.dev_root()));
    (sim, driver, connector)
}

fn ssd() -> Specs {
    Specs::from_pairs([("storpool_template", "ssd")])
}

/// The bytes at offset 4096 of a volume, read from the simulator's data file.
fn marker_of(sim: &Sim, name: &str, len: usize) -> Vec<u8> {
    let mut file = std::fs::File::open(sim.data_path(name).unwrap()).unwrap();
    let mut data = vec![0; 4096 + len];
    file.read_exact(&mut data).unwrap();
    data.split_off(4096)
}

#[tokio::test]
async fn every_instance_gets_its_marker_and_nothing_stays_attached() {
    let (sim, driver, connector) = cluster();
    driver.create_volume("golden", 1, &ssd()).await.unwrap();
    driver.create_snapshot("golden", "g1").await.unwrap();

    let volumes = provision_instances(&driver, &connector, "g1", &["a", "b"], 2, &ssd())
        .await
        .unwrap();

    assert_eq!(volumes.len(), 2);
    let state = sim.state();
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
    for id in ["a", "b"] {
        let name = format!("os--volume-{id}");
        assert_eq!(marker_of(&sim, &name, marker(id).len()), marker(id));
    }
}

#[tokio::test]
async fn transient_cluster_errors_are_retried_without_the_caller_noticing() {
    let (sim, driver, connector) = cluster();
    driver.create_volume("golden", 1, &ssd()).await.unwrap();
    driver.create_snapshot("golden", "g1").await.unwrap();
    // The next two volume creations fail with a transient error, as a busy cluster answers.
    sim.inject_error(InjectedError::transient(Some("VolumeCreate"), 2));

    provision_instances(&driver, &connector, "g1", &["a"], 1, &ssd())
        .await
        .unwrap();
    assert!(sim.state().volumes.iter().any(|v| v.name == "os--volume-a"));
}

#[test]
fn the_blocking_version_does_the_same_from_a_plain_test() {
    let (sim, driver, connector) = cluster();
    let driver = storpool_driver_core::blocking::Driver::from_async(driver).unwrap();
    let connector = storpool_attach::blocking::Connector::from_async(connector).unwrap();
    driver.create_volume("golden", 1, &ssd()).unwrap();
    driver.create_snapshot("golden", "g1").unwrap();

    provision_instances_blocking(&driver, &connector, "g1", &["c"], 1, &ssd()).unwrap();
    assert_eq!(
        marker_of(&sim, "os--volume-c", marker("c").len()),
        marker("c")
    );
}
