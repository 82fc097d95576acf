//! The blocking facades (issue 15): the driver, the connector and the API client from plain
//! threads without a runtime, and a clear refusal, never a panic, inside one.

use std::sync::Arc;

use storpool_api::{VolumeCreate, VolumeName};
use storpool_attach::{AccessMode, DetachOptions, Target};
use storpool_driver_core::{ErrorKind, Specs, SpecsExt as _};
use storpool_sim::Faults;
use storpool_tests::{Node, pattern, read_at, write_at};

/// The node's driver, connector and client behind the blocking facades.
struct Blocking {
    node: Node,
    driver: storpool_driver_core::blocking::Driver,
    connector: storpool_attach::blocking::Connector,
    client: storpool_api::blocking::Client,
}

fn blocking() -> Blocking {
    let node = Node::start(Faults::default(), 0).unwrap();
    let driver = storpool_driver_core::blocking::Driver::from_async(node.driver.clone()).unwrap();
    let connector =
        storpool_attach::blocking::Connector::from_async(node.connector.clone()).unwrap();
    let client = storpool_api::blocking::Client::new(node.driver.client().clone()).unwrap();
    Blocking {
        node,
        driver,
        connector,
        client,
    }
}

#[test]
fn a_lifecycle_runs_from_a_plain_thread_without_a_runtime() {
    let Blocking {
        node,
        driver,
        connector,
        client,
    } = blocking();
    let ssd = Specs::from_pairs([("storpool_template", "ssd")]);
    let volume = driver.create_volume("v1", 1, &ssd).unwrap();
    assert_eq!(volume.template.as_deref(), Some("ssd"));

    let target = Target::volume("v1");
    let attached = connector.connect(&target, AccessMode::Rw).unwrap();
    let data = pattern(7, 4096);
    write_at(&attached.path, 8192, &data).unwrap();
    assert_eq!(connector.list().unwrap().len(), 1);
    connector
        .disconnect(&target, DetachOptions::default())
        .unwrap();

    driver.create_snapshot("v1", "s1").unwrap();
    driver
        .create_volume_from_snapshot("v2", "s1", 2, &Specs::new())
        .unwrap();
    let snapshots = driver.list_snapshots(None).unwrap();
    assert_eq!(snapshots.len(), 1);
    let ids: Vec<String> = driver
        .list_volumes()
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, ["v1", "v2"]);

    // The data written through the first volume is in the child.
    let child = Target::volume("v2");
    let attached = connector.connect(&child, AccessMode::Ro).unwrap();
    assert_eq!(read_at(&attached.path, 8192, data.len()).unwrap(), data);
    connector
        .disconnect(&child, DetachOptions::default())
        .unwrap();

    // The API client runs any call of the async one.
    let api = client.as_async();
    let names: Vec<String> = client
        .call(api.volumes().list())
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["os--volume-v1", "os--volume-v2"]);

    for id in ["v2", "v1"] {
        assert!(driver.delete_volume(id).unwrap().existed);
    }
    driver.delete_snapshot("s1").unwrap();
    let state = node.sim.state();
    assert!(state.volumes.is_empty() && state.snapshots.is_empty());
}

#[test]
fn clones_share_the_runtime_across_threads() {
    let Blocking { node, client, .. } = blocking();
    let client = Arc::new(client);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let client = (*client).clone();
            std::thread::spawn(move || {
                let api = client.as_async();
                for i in 0..10 {
                    let name = VolumeName::new(format!("t{t}-{i}")).unwrap();
                    client
                        .call(api.volumes().create(&VolumeCreate {
                            name: Some(name.clone()),
                            size: Some(1 << 30),
                            replication: Some(1),
                            ..VolumeCreate::default()
                        }))
                        .unwrap();
                    client.call(api.volumes().delete(&name.into())).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(node.sim.state().volumes.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn inside_a_runtime_every_facade_refuses_and_dropping_them_does_not_panic() {
    let Blocking {
        node,
        driver,
        connector,
        client,
    } = blocking();
    let err = driver.list_volumes().unwrap_err();
    assert!(
        matches!(&err, storpool_driver_core::DriverError::Blocking(e) if e.is_inside_runtime()),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("blocking"), "{err}");

    let err = connector.list().unwrap_err();
    assert!(err.is_usage(), "{err:?}");
    assert!(matches!(err, storpool_attach::AttachError::Blocking(_)));

    let err = client.call(client.as_async().volumes().list()).unwrap_err();
    assert!(
        matches!(err, storpool_api::ApiError::Blocking(_)),
        "{err:?}"
    );
    // Nothing was sent; the async driver works as usual here.
    assert!(node.driver.list_volumes().await.unwrap().is_empty());
    drop((driver, connector, client));
}

#[test]
fn threads_of_a_runtimes_blocking_pool_are_refused_too_and_use_its_handle() {
    let Blocking { node, driver, .. } = blocking();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listed = runtime
        .block_on(runtime.spawn_blocking(move || {
            let refused = driver.list_volumes().unwrap_err();
            assert!(matches!(
                refused,
                storpool_driver_core::DriverError::Blocking(_)
            ));
            // What to do there instead: the async driver on the runtime's handle.
            tokio::runtime::Handle::current().block_on(driver.as_async().list_volumes())
        }))
        .unwrap()
        .unwrap();
    assert!(listed.is_empty());
    drop(node);
}
